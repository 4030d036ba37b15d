"""Chainlit e2e `elements` / `scoped_elements` / `remove_elements`: elements on messages."""

import chainlit as cl

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")


@cl.on_chat_start
async def start() -> None:
    image = cl.Image(name="dot", content=PNG, display="inline", mime="image/png")
    text = cl.Text(name="notes", content="Some notes", display="side")
    msg = cl.Message(content="Here are the notes and a dot", elements=[image, text])
    await msg.send()
    temporary = cl.Text(name="temp", content="soon gone", display="inline")
    await temporary.send(for_id=msg.id)
    await temporary.remove()
    await cl.Message(content="A file for you", elements=[
        cl.File(name="data.csv", content=b"a,b\n1,2\n", display="inline", mime="text/csv"),
    ]).send()
