"""Chainlit e2e `user_session`: values kept per chat across messages."""

import chainlit as cl


@cl.on_chat_start
async def start() -> None:
    cl.user_session.set("counter", 0)


@cl.on_message
async def reply(message: cl.Message) -> None:
    counter = cl.user_session.get("counter") + 1
    cl.user_session.set("counter", counter)
    await cl.Message(content=f"You sent {counter} message(s)!").send()
