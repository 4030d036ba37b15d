"""Chainlit e2e `starters`: suggestions shown before the first message, sent as messages."""

import chainlit as cl


@cl.set_starters
async def starters(user: cl.User | None = None) -> list[cl.Starter]:
    return [
        cl.Starter(label="Say hi", message="hi there", icon="/public/hi.svg"),
        cl.Starter(label="Ask time", message="what time is it?"),
    ]


@cl.on_message
async def reply(message: cl.Message) -> None:
    await cl.Message(content=f"You said: {message.content}").send()
