"""The chat that mounted_app.py mounts under /chat (written against Chainlit's API)."""

import chainlit as cl


@cl.on_chat_start
async def start() -> None:
    await cl.Message(content="mounted chat ready").send()


@cl.on_message
async def echo(message: cl.Message) -> None:
    await cl.Message(content=f"echo: {message.content}").send()
