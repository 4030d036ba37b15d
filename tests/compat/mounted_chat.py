"""The chat that mounted_app.py mounts under /chat (written against Chainlit's API), with a
route of its own on Chainlit's server app: both directions of custom routes at once."""

import hashlib

import chainlit as cl
from chainlit.server import app
from fastapi import Request


@app.post("/digest")
async def digest(request: Request) -> dict[str, object]:
    body = await request.body()
    return {"length": len(body), "sha256": hashlib.sha256(body).hexdigest()}


@cl.on_chat_start
async def start() -> None:
    await cl.Message(content="mounted chat ready").send()


@cl.on_message
async def echo(message: cl.Message) -> None:
    await cl.Message(content=f"echo: {message.content}").send()
