"""`chainlit.utils`: `mount_chainlit`, nbchat's chat inside the app's own FastAPI app.

    from fastapi import FastAPI
    from chainlit.utils import mount_chainlit

    app = FastAPI()
    mount_chainlit(app=app, target="chat.py", path="/chat")   # uvicorn main:app

The chat at `target` is served under `path` exactly as `nbchat serve --root-path path`
would serve it (nbchat.server.mounted), next to the app's own routes. It starts and stops
with the app's lifespan.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from nbchat.chainlit_compat.modules import not_offered_name
from nbchat.errors import AppLoadError


def check_file(target: str) -> None:
    """Chainlit's check: a `.py` file that exists (nbchat also serves `.ipynb`)."""
    path = Path(target)
    if path.suffix not in (".py", ".py3", ".ipynb"):
        raise AppLoadError(f"mount_chainlit: {target} is not a Python file or notebook")
    if not path.is_file():
        raise AppLoadError(f"mount_chainlit: file does not exist: {target}")


def mount_chainlit(app: Any, target: str, path: str = "/chainlit") -> None:
    """Serve the nbchat app in `target` under `path` of the FastAPI (Starlette) `app`."""
    from nbchat.server.mounted import MountedChat

    check_file(target)
    root = "/" + path.strip("/")
    chat = MountedChat(Path(target).resolve(), root_path=root)
    app.mount("" if root == "/" else root, chat)
    router = getattr(app, "router", None)
    previous = getattr(router, "lifespan_context", None)
    if router is None or previous is None:  # not Starlette: the chat starts on first use
        return

    @contextlib.asynccontextmanager
    async def lifespan(outer: Any) -> AsyncIterator[Any]:
        async with previous(outer) as state, chat.running():
            yield state

    router.lifespan_context = lifespan


OFFERED = "mount_chainlit and check_file"


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise not_offered_name("chainlit.utils", name, OFFERED)
