"""Chainlit e2e `upload_attachments` / `file_upload`: files attached to a message reach
`on_message` as elements whose `path` and `content` can be read."""

from pathlib import Path

import chainlit as cl


@cl.on_message
async def reply(message: cl.Message) -> None:
    files = [e for e in message.elements if isinstance(e, cl.File | cl.Image | cl.Text)]
    if not files:
        await cl.Message(content=f"no files with {message.content!r}").send()
        return
    lines = []
    for element in files:
        text = await cl.make_async(Path(str(element.path)).read_bytes)()
        lines.append(f"{element.name}: {len(text)} bytes, {element.mime}")
    await cl.Message(content="\n".join(lines)).send()
