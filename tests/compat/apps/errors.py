"""Chainlit e2e `error_handling`: an exception in a callback is shown; the chat goes on."""

import chainlit as cl


@cl.on_message
async def reply(message: cl.Message) -> None:
    if message.content == "boom":
        raise ValueError("this went wrong")
    await cl.ErrorMessage(content="an error message from the app").send()
    await cl.Message(content=f"echo: {message.content}").send()
