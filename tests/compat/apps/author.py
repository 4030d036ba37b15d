"""Chainlit e2e `author_rename` / `set_author_and_avatar`: authors renamed for display."""

import chainlit as cl


@cl.author_rename
async def rename(original: str) -> str:
    return {"Assistant": "Helper"}.get(original, original)


@cl.on_chat_start
async def start() -> None:
    await cl.Message(content="from the assistant").send()
    await cl.Message(content="from a tool", author="Tool").send()
