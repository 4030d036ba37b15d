"""A small app written for Chainlit (its documented API and module names), run unchanged."""

import chainlit as cl
import chainlit.data as cl_data
from chainlit.config import config
from chainlit.input_widget import Select
from chainlit.sync import make_async, run_sync
from chainlit.types import ThreadDict

DATA_MODULE = cl_data  # the test checks it is nbchat.data itself


@cl.on_chat_start
async def start() -> None:
    settings = await cl.ChatSettings(
        [Select(id="model", label="Model", values=["small", "large"], initial_index=1)]
    ).send()
    await cl.Message(content=f"{config.ui.name} ready, model {settings['model']}").send()


def shout(text: str) -> str:
    # A blocking library callback that reports progress from its worker thread.
    run_sync(cl.Message(content=f"working on {text}").send())
    return text.upper()


@cl.on_message
async def reply(message: cl.Message) -> None:
    result = await make_async(shout)(message.content)
    await cl.Message(content=f"done: {result}").send()


@cl.on_chat_resume
async def resume(thread: ThreadDict) -> None:
    await cl.Message(content=f"back to {thread['name']}").send()
