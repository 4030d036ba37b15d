"""Chainlit e2e `sdk_availability`: the emitter from `get_emitter`, `asyncify` and `run_sync`;
the names apps import from `chainlit.types`, `chainlit.logger` and `chainlit.version`."""

import chainlit as cl
from chainlit.emitter import get_emitter
from chainlit.logger import logger
from chainlit.sync import asyncify, run_sync
from chainlit.types import AskFileResponse, ChatProfile, CommandDict, Starter
from chainlit.version import __version__

COMMAND: CommandDict = {"id": "Search", "description": "Find on the web", "icon": "globe"}


async def emitter_later() -> object:
    await cl.sleep(0)
    return get_emitter()


def from_a_thread() -> tuple[object, object]:
    return get_emitter(), run_sync(emitter_later())


@cl.set_chat_profiles
async def profiles(user: cl.User | None = None) -> list[ChatProfile]:
    return [ChatProfile(name="Only", markdown_description="the one",
                        starters=[Starter(label="Go", message="go")])]


@cl.on_chat_start
async def start() -> None:
    logger.info("sdk app started on version %s", __version__)
    if await emitter_later():
        await cl.Message(content="emitter from async found!").send()
    direct, nested = await asyncify(from_a_thread)()
    if direct and nested:
        await cl.Message(content="emitter from asyncify and async_from_sync found!").send()
    await get_emitter().set_commands([COMMAND])


@cl.on_message
async def reply(message: cl.Message) -> None:
    files = await cl.AskFileMessage(content="A file please", accept=["text/plain"]).send()
    if files and isinstance(files[0], AskFileResponse):
        await cl.Message(content=f"got an AskFileResponse named {files[0].name}").send()
