"""An echo app for the served fork test."""

import nbchat as cl


@cl.on_message
async def on_message(message: cl.Message) -> None:
    await cl.Message(content=f"echo {message.content}").send()
