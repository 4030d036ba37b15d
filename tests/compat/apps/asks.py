"""Chainlit e2e `ask_user`, `ask_action`, `ask_file`: the chat waits on the user's answer."""

from pathlib import Path

import chainlit as cl


@cl.on_chat_start
async def start() -> None:
    name = await cl.AskUserMessage(content="What is your name?", timeout=30).send()
    if name:
        await cl.Message(content=f"Your name is: {name['output']}").send()
    choice = await cl.AskActionMessage(
        content="Continue?",
        actions=[
            cl.Action(name="yes", payload={"value": "yes"}, label="Yes"),
            cl.Action(name="no", payload={"value": "no"}, label="No"),
        ],
    ).send()
    if choice:
        await cl.Message(content=f"You chose {choice['payload']['value']}").send()
    files = await cl.AskFileMessage(content="Upload a text file", accept=["text/plain"]).send()
    if files:
        text = await cl.make_async(Path(files[0].path).read_text)(encoding="utf-8")
        await cl.Message(content=f"{files[0].name} has {len(text)} characters").send()
