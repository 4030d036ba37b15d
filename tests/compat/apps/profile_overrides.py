"""Chainlit e2e `config_overrides`: a chat profile changes the config its chats see, written
with Chainlit's settings types; keys nbchat lacks (MCP here) are logged, not refused."""

import chainlit as cl
from chainlit.config import ChainlitConfigOverrides, FeaturesSettings, McpFeature, UISettings


@cl.set_chat_profiles
async def profiles(user: cl.User | None = None) -> list[cl.ChatProfile]:
    return [
        cl.ChatProfile(name="Default", markdown_description="Standard"),
        cl.ChatProfile(
            name="Renamed",
            markdown_description="Another name, no editing",
            config_overrides=ChainlitConfigOverrides(
                ui=UISettings(name="Renamed UI"),
                features=FeaturesSettings(edit_message=False, mcp=McpFeature(enabled=True)),
            ),
        ),
    ]


@cl.on_message
async def reply(message: cl.Message) -> None:
    profile = cl.user_session.get("chat_profile")
    await cl.Message(content=f"Chat using {profile} profile").send()
