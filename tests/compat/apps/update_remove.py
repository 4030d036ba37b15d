"""Chainlit e2e `update_message` / `remove_message`: a message is edited, then one disappears."""

import chainlit as cl


@cl.on_chat_start
async def start() -> None:
    first = cl.Message(content="Hello")
    await first.send()
    first.content = "Hello, edited"
    await first.update()
    gone = cl.Message(content="This will vanish")
    await gone.send()
    await gone.remove()
    await cl.Message(content="Still here").send()
