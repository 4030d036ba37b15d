"""The chat widget: the front-end bundle as an anywidget, talking over the kernel comm.

Each displayed `ChatWidget` is its own chat session of the app (the default app unless
given). `on_chat_start` runs when its first view renders and says hello. Callbacks are looked
up on every event, so re-running the cell that defines `on_message` changes the replies of
widgets already on screen.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from nbchat.app import App, default_app
from nbchat.config import Config, load
from nbchat.data import NativeDataLayer, resolve_data_layer
from nbchat.data.plug import app_brings_layer
from nbchat.errors import ProtocolError
from nbchat.jupyter.kernel_stores import register
from nbchat.protocol import decode_host
from nbchat.protocol.host_messages import (
    AssetRequest,
    FileRequest,
    FileResponse,
    file_error,
    file_response,
)
from nbchat.runtime.builder import SessionBuilder
from nbchat.transports.comm import CommTransport
from nbchat.types import User
from nbchat.uploads.tickets import StagingTickets, staging_dir

log = logging.getLogger("nbchat")
STATIC = Path(__file__).parent.parent / "static"
BUNDLE = STATIC / "widget.js"
# Bundles the view loads on demand over the comm with an `asset_request` (anywidget's ESM
# has no URL to load a sibling file from).
ASSETS = {"plotly.js": "text/javascript"}


# One data layer per database and blob store for the whole kernel, shared by every widget;
# an app that brings its own (@cl.data_layer, nbchat.data._data_layer) has one per app.
_StoreKey = tuple[str | None, Path, str | None]
_data_layers: dict[_StoreKey | App, NativeDataLayer] = {}


def _data_layer(app: App, config: Config) -> NativeDataLayer:
    data = config.data
    key: _StoreKey | App = (
        app if app_brings_layer(app) else (data.url, config.app_dir, data.storage_url))
    if key not in _data_layers:
        layer = resolve_data_layer(app, data.url, config.app_dir, storage_url=data.storage_url)
        assert layer is not None  # enabled (the caller checks): always a layer
        _data_layers[key] = layer
    return _data_layers[key]


@functools.cache
def _upload_tickets() -> StagingTickets | None:
    """The kernel's desk for uploads sent over HTTP through the Jupyter server extension
    (nbchat.uploads.tickets), made once; None when its folder cannot be made (uploads go
    as events)."""
    try:
        return StagingTickets(staging_dir())
    except OSError as exc:
        log.warning("nbchat: uploads go over the comm only (%s)", exc)
        return None


def _history_store(config: Config) -> str:
    """The id under which the extension finds this kernel's chats ("" if not stored, or
    if the registration folder cannot be written: the History panel then shows the
    server root's store)."""
    if not config.data.enabled:
        return ""
    try:
        return register(config.data.url, config.app_dir, storage_url=config.data.storage_url)
    except OSError as exc:
        log.warning("nbchat: the History panel cannot find this notebook's chats (%s)", exc)
        return ""


def _bundle() -> str:
    if not BUNDLE.is_file():
        raise FileNotFoundError(
            f"the nbchat front end is not built ({BUNDLE} is missing). Install nbchat with "
            "pip (`pip install -e .` builds it), or build it by hand: "
            "`cd js && npm ci && npm run build`."
        )
    return BUNDLE.read_text(encoding="utf-8")


class ChatWidget(anywidget.AnyWidget):
    """A chat in a notebook cell output."""

    _esm = traitlets.Unicode().tag(sync=True)
    # Base URL of the Jupyter server extension's file route, when reachable; element bytes
    # are then fetched over HTTP instead of the comm.
    files_url = traitlets.Unicode("").tag(sync=True)
    # Initial height of the chat in pixels (the user can resize it).
    height = traitlets.Int(560).tag(sync=True)
    # The kernel's chat store as registered for the server extension (kernel_stores.py):
    # the History panel sends it with every API call. Empty: the server root's store.
    history_store = traitlets.Unicode("").tag(sync=True)

    def __init__(self, app: App | None = None, *, config: Config | None = None,
                 user: User | None = None, **kwargs: Any) -> None:
        super().__init__(_esm=_bundle(), **kwargs)
        self.transport = CommTransport(self)
        app = app or default_app
        config = config or load(Path.cwd())
        self._sessions = SessionBuilder(
            app, config, _data_layer(app, config) if config.data.enabled else None,
            tickets=_upload_tickets(), client_type="notebook",
            viewer_is_author=True)  # a notebook's chat is seen by who wrote its cells
        self.session = self._sessions.build(user, transport=self.transport)
        # A layer the app brings lives in this kernel only: the extension cannot open it
        # (and must not make a .nbchat/nbchat.db for it), so the panel shows the server's.
        self.history_store = "" if app_brings_layer(app) else _history_store(config)
        self._inbox: asyncio.Queue[tuple[dict[str, Any], list[bytes]]] | None = None
        self._reader: asyncio.Task[None] | None = None
        # The loop (and its thread) the chat runs on: the kernel's, where the cell ran.
        # ipykernel 7 may call comm handlers on a subshell thread with its own loop (it
        # routes a comm's messages to the subshell that last published on it); a task or
        # queue wake-up made there would wait until the main loop happens to wake up.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._owner = threading.get_ident()
        with contextlib.suppress(RuntimeError):
            self._loop = asyncio.get_running_loop()
        self.on_msg(self._on_msg)

    async def _reset(self) -> None:
        """Start a fresh chat in this widget (the history panel opens a stored thread by
        resetting, then saying hello with its id); the old chat ends."""
        old = self.session
        old.detach(self.transport)
        self.session = self._sessions.build(old.user, transport=self.transport)
        await old.close()

    def _on_msg(self, _widget: Any, content: Any, buffers: list[Any]) -> None:
        if not isinstance(content, dict):
            return
        data = [bytes(b) for b in buffers or []]
        if self._loop is not None and threading.get_ident() != self._owner:
            self._loop.call_soon_threadsafe(self._dispatch, content, data)
        else:
            self._dispatch(content, data)

    def _dispatch(self, content: dict[str, Any], data: list[bytes]) -> None:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._owner = threading.get_ident()
        if "host" in content:  # a host message (protocol/host_messages.py), not a chat event
            try:
                message = decode_host(content)
            except ProtocolError as exc:
                log.warning("nbchat: the widget's view sent a bad host message: %s", exc)
                request_id = content.get("requestId")
                if isinstance(request_id, str):  # a request still gets its answer
                    self._reply(file_error(request_id, str(exc)))
                return
            if message["host"] == "file_request":
                self._loop.create_task(self._send_file(message))
                return
            if message["host"] == "asset_request":
                self._loop.create_task(self._send_asset(message))
                return
            # a reset: in order with the chat events around it (the view's hello follows)
        if self._inbox is None:
            self._inbox = asyncio.Queue()
            self._reader = self._loop.create_task(self._read())
        self._inbox.put_nowait((content, data))

    async def _read(self) -> None:
        # One reader keeps client events in order even when a handler awaits.
        assert self._inbox is not None
        while True:
            content, buffers = await self._inbox.get()
            try:
                if "host" in content:  # decoded by _dispatch: only a reset comes this way
                    await self._reset()
                else:
                    await self.session.receive(content, buffers)
            except Exception:  # a bug in nbchat must not kill the widget
                log.exception("nbchat: handling a widget event failed")

    def _reply(self, reply: FileResponse, data: bytes | None = None) -> None:
        self.send(dict(reply), [data] if data is not None else None)

    async def _send_file(self, request: FileRequest) -> None:
        request_id = request["requestId"]
        blob = await self.session.read_blob(request["objectKey"])
        if blob is None:
            self._reply(file_error(request_id, "no such file in this chat"))
            return
        data, mime = blob
        self._reply(file_response(request_id, mime), data)

    async def _send_asset(self, request: AssetRequest) -> None:
        request_id, name = request["requestId"], request["name"]
        mime = ASSETS.get(name)
        if mime is None:
            self._reply(file_error(request_id, f"no bundle {name!r}; known: {', '.join(ASSETS)}"))
            return
        try:
            data = await asyncio.to_thread((STATIC / name).read_bytes)
        except OSError as exc:  # an install without the built bundle
            self._reply(file_error(
                request_id, f"{name} is not built in this nbchat install ({exc.strerror})"))
            return
        self._reply(file_response(request_id, mime), data)

    def close(self) -> None:
        """Close the widget and end its chat session (on_chat_end runs)."""
        if self._reader is not None:
            self._reader.cancel()
        with contextlib.suppress(RuntimeError):
            asyncio.get_running_loop().create_task(self.session.close())
        super().close()


def chat(app: App | None = None, **options: Any) -> ChatWidget | None:
    """Show a chat with the app's callbacks in the cell output.

    Under `nbchat serve`, `nbchat chat` and `ChatTestClient` (anything that loads the
    notebook as an app) this does nothing, so the same notebook works everywhere.
    """
    from nbchat.loader import loading

    if loading.get():
        return None
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython comes with the notebook extras
        return None
    shell = get_ipython()
    if shell is None or not hasattr(shell, "kernel"):
        print("nbchat.chat() shows a widget in a Jupyter notebook; outside one, run "
              "`nbchat chat <your file>` to talk to the app in a terminal.")
        return None
    widget = ChatWidget(app, **options)
    display(widget)  # type: ignore[no-untyped-call]
    return None
