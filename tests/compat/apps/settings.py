"""Chainlit e2e `chat_settings`: widgets with initial values; an update reaches the callback."""

import chainlit as cl
from chainlit.input_widget import Select, Slider, Switch, TextInput


@cl.on_chat_start
async def start() -> None:
    settings = await cl.ChatSettings([
        Select(id="Model", label="Model", values=["small", "large"], initial_index=0),
        Switch(id="Streaming", label="Stream tokens", initial=True),
        Slider(id="Temperature", label="Temperature", initial=1, min=0, max=2, step=0.1),
        TextInput(id="Prefix", label="Prefix", initial="> "),
    ]).send()
    await cl.Message(content=f"model={settings['Model']} stream={settings['Streaming']}").send()


@cl.on_settings_update
async def changed(settings: dict[str, object]) -> None:
    cl.user_session.set("settings", settings)
    await cl.Message(content=f"now model={settings['Model']} t={settings['Temperature']}").send()


@cl.on_message
async def reply(message: cl.Message) -> None:
    settings = cl.user_session.get("settings") or {"Prefix": "> "}
    await cl.Message(content=f"{settings['Prefix']}{message.content}").send()
