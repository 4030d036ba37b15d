"""Chainlit e2e `chat_profiles`: the chosen profile is in the user session."""

import chainlit as cl


@cl.set_chat_profiles
async def profiles(user: cl.User | None = None) -> list[cl.ChatProfile]:
    return [
        cl.ChatProfile(name="GPT-3.5", markdown_description="The fast one"),
        cl.ChatProfile(name="GPT-4", markdown_description="The **deep** one", default=True),
    ]


@cl.on_chat_start
async def start() -> None:
    profile = cl.user_session.get("chat_profile")
    await cl.Message(content=f"starting chat using the {profile} chat profile").send()
