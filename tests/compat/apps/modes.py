"""Chainlit e2e `modes`: mode pickers with defaults; the message carries the user's picks."""

import chainlit as cl


@cl.on_chat_start
async def start() -> None:
    await cl.context.emitter.set_modes([
        cl.Mode(id="model", name="Model", options=[
            cl.ModeOption(id="fast", name="Fast", default=True),
            cl.ModeOption(id="deep", name="Deep"),
        ]),
    ])


@cl.on_message
async def reply(message: cl.Message) -> None:
    modes = message.modes or {}
    await cl.Message(content=f"Model: {modes.get('model', 'none')} / {message.content}").send()
