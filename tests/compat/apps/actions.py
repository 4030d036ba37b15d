"""Chainlit e2e `action`: buttons under a message call `@cl.action_callback`; one removes itself."""

import chainlit as cl


@cl.action_callback("greet")
async def greet(action: cl.Action) -> None:
    await cl.Message(content=f"Hello, {action.payload['who']}!").send()


@cl.action_callback("once")
async def once(action: cl.Action) -> None:
    await cl.Message(content="Done once").send()
    await action.remove()


@cl.on_chat_start
async def start() -> None:
    actions = [
        cl.Action(name="greet", payload={"who": "Ada"}, label="Greet Ada"),
        cl.Action(name="once", payload={}, label="Only once"),
    ]
    await cl.Message(content="Pick an action", actions=actions).send()
