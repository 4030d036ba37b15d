"""Chainlit e2e `command`: commands set from `on_chat_start`, chosen per message, cleared."""

import chainlit as cl

COMMANDS = [
    {"id": "Picture", "icon": "image", "description": "Draw a picture"},
    {"id": "Search", "icon": "globe", "description": "Find on the web"},
]


@cl.on_chat_start
async def start() -> None:
    await cl.context.emitter.set_commands(COMMANDS)


@cl.on_message
async def reply(message: cl.Message) -> None:
    if message.command == "Picture":
        await cl.context.emitter.set_commands([])
    await cl.Message(content=f"Command: {message.command}").send()
