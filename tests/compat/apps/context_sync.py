"""Chainlit e2e `context`: the emitter is found from async code, `make_async` and `run_sync`."""

import chainlit as cl
from chainlit.context import context
from chainlit.sync import make_async, run_sync


async def emitter_later() -> object:
    await cl.sleep(0)
    return context.emitter


def from_a_thread() -> tuple[object, object]:
    return context.emitter, run_sync(emitter_later())


@cl.on_chat_start
async def start() -> None:
    if await emitter_later():
        await cl.Message(content="emitter from async found!").send()
    direct, nested = await make_async(from_a_thread)()
    if direct:
        await cl.Message(content="emitter from make_async found!").send()
    if nested:
        await cl.Message(content="emitter from async_from_sync found!").send()
