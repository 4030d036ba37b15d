"""An app for the connection-cut test: streams half a reply, waits until the test writes to
the `gate` FIFO beside this file, then streams the rest (so the cut always lands mid-reply)."""

import asyncio
from pathlib import Path

import nbchat as cl

GATE = Path(__file__).with_name("gate")
WORDS = 400


@cl.on_message
async def reply(message: cl.Message) -> None:
    msg = cl.Message(content="")
    for i in range(WORDS // 2):
        await msg.stream_token(f"w{i} ")
    await msg.stream_token("")  # flush what is pending
    await asyncio.to_thread(GATE.read_text)  # a FIFO: returns once the test writes to it
    for i in range(WORDS // 2, WORDS):
        await msg.stream_token(f"w{i} ")
    await msg.send()
