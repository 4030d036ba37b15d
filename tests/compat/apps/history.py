"""Chainlit e2e `message_history`: `cl.chat_context` holds the conversation in order."""

import chainlit as cl


@cl.on_message
async def reply(message: cl.Message) -> None:
    history = cl.chat_context.to_openai()
    roles = ",".join(turn["role"] for turn in history)
    await cl.Message(content=f"{len(history)} turns: {roles}").send()
