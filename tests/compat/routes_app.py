"""A Chainlit app with its own HTTP routes on Chainlit's server app (written for this
project against Chainlit's documented API): a public route, a route that needs the
signed-in user, a streamed response, and a route that hands out an API token."""

from collections.abc import AsyncIterator
from typing import Annotated

import chainlit as cl
from chainlit.auth import create_jwt, get_current_user
from chainlit.server import app
from fastapi import Depends, Request
from fastapi.responses import JSONResponse, StreamingResponse


@cl.password_auth_callback
def check(username: str, password: str) -> cl.User | None:
    if password != "pw":
        return None
    return cl.User(identifier=username, metadata={"role": "admin"})


@app.get("/custom/hello")
async def hello(request: Request) -> JSONResponse:
    return JSONResponse({"hello": request.query_params.get("name", "world")})


@app.get("/custom/me")
async def me(user: Annotated[cl.User, Depends(get_current_user)]) -> dict[str, object]:
    return {"identifier": user.identifier, "metadata": user.metadata}


@app.post("/custom/token")
async def token(request: Request,
                user: Annotated[cl.User, Depends(get_current_user)]) -> dict[str, str]:
    body = await request.json()
    return {"token": create_jwt(cl.User(identifier=body["for"]))}


@app.get("/custom/count")
async def count() -> StreamingResponse:
    async def numbers() -> AsyncIterator[str]:
        for n in range(3):
            yield f"{n}\n"

    return StreamingResponse(numbers(), media_type="text/plain")


@cl.on_chat_start
async def start() -> None:
    await cl.Message(content=f"hello {cl.user_session.get('user').identifier}").send()
