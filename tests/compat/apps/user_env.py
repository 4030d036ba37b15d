"""Chainlit e2e `user_env`: values each user gives (`project.user_env`) are in the session."""

import chainlit as cl


@cl.on_chat_start
async def start() -> None:
    env = cl.user_session.get("env") or {}
    key = env.get("TEST_API_KEY", "")
    await cl.Message(content=f"key ends with {key[-4:]}").send()
