"""Chainlit e2e `ask_multiple_files`: one ask takes up to three files of two types."""

import chainlit as cl


@cl.on_chat_start
async def start() -> None:
    files = await cl.AskFileMessage(
        content="Upload up to three text or CSV files",
        accept={"text/plain": [".txt"], "text/csv": [".csv"]},
        max_files=3,
        max_size_mb=1,
    ).send()
    names = ", ".join(sorted(f.name for f in files or []))
    await cl.Message(content=f"{len(files or [])} files uploaded: {names}").send()
