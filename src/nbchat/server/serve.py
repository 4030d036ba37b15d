"""Run `nbchat serve PATH`: load the app, wire host, data layer and API, listen, shut down.

    server = await start_server(ServeOptions(Path("app.ipynb"), port=0))
    print(server.url)
    ...
    await server.stop()   # on_app_shutdown, close sessions, flush the data layer

`serve(options)` does the same and waits for SIGINT or SIGTERM in between; `run(serve(…),
loop)` runs it on the event loop `nbchat serve --loop` names (uvloop when installed);
`serve_workers(options, n, loop)` runs n such processes on one port (server/workers.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO, TypeVar

import tornado.httpserver
import tornado.netutil
import tornado.web

from nbchat.app import App
from nbchat.chainlit_compat import alias as chainlit_alias
from nbchat.cluster import SharedState, shared_state
from nbchat.config import Config, load
from nbchat.errors import ConfigError
from nbchat.loader import load_app
from nbchat.runtime.hosting import ChatHost
from nbchat.server.auth import Identity, is_loopback
from nbchat.server.bodies import http_server_options
from nbchat.server.reload import AppReloader, run_hook
from nbchat.server.services import Services
from nbchat.server.standalone import auth_enabled, build_identity, make_app, normalize_root
from nbchat.transports.websocket import ChatSocketHandler
from nbchat.uploads.files import UploadLimits

log = logging.getLogger("nbchat")
T = TypeVar("T")
LOOPS = ("auto", "asyncio", "uvloop")

NO_AUTH_WARNING = """
!!! WARNING: nbchat is listening on {host}, which other machines can reach, and this app
!!! has no authentication: anyone who can connect chats as the one local user and sees
!!! every conversation. Bind 127.0.0.1 (the default), or add a password_auth_callback,
!!! header_auth_callback or oauth_callback to the app. (Without login it answers only
!!! localhost, IP addresses and the names in server.allowed_hosts: docs/serving.md.)
"""


@dataclass(frozen=True)
class ServeOptions:
    path: Path
    host: str = "127.0.0.1"
    port: int = 8000
    root_path: str = "/"
    headless: bool = False
    watch: bool = False
    watch_interval_ms: float = 500
    # Listen on this Unix socket instead of host:port: the private server behind an ASGI
    # mount (nbchat.server.mounted), whose requests all come through that mount.
    unix_socket: Path | None = None


def loop_factory(choice: str = "auto") -> Callable[[], asyncio.AbstractEventLoop]:
    """The event loop to serve on: `uvloop` (the `nbchat[fast]` extra), `asyncio`, or `auto`:
    uvloop when it is importable, else asyncio's own loop.

    Under load the loop's own work (timers, wake-ups, socket writes) is a large share of a
    served chat's CPU; uvloop does it in C (benchmarks/README.md, serve_load). Tornado runs
    on any asyncio loop: it wraps whichever loop is running, so choosing the loop that
    `asyncio.Runner` creates is all it takes (no policy, which Python 3.14 deprecates)."""
    if choice not in LOOPS:
        raise ConfigError(f"unknown event loop {choice!r}: choose one of {', '.join(LOOPS)}")
    if choice != "asyncio":
        try:
            import uvloop
        except ImportError:
            if choice == "uvloop":
                raise ConfigError("--loop uvloop: uvloop is not installed; "
                                  "pip install 'nbchat[fast]' (or uvloop)") from None
        else:
            return uvloop.new_event_loop
    return asyncio.new_event_loop


def loop_name(loop: asyncio.AbstractEventLoop | None = None) -> str:
    """`uvloop` or `asyncio`: what the running (or given) event loop is."""
    loop = loop or asyncio.get_running_loop()
    return "uvloop" if type(loop).__module__.startswith("uvloop") else "asyncio"


def run(main: Callable[[], Coroutine[Any, Any, T]], loop: str = "auto") -> T:
    """Run `main()` on a new event loop of the kind `loop` names (see `loop_factory`)."""
    with asyncio.Runner(loop_factory=loop_factory(loop)) as runner:
        return runner.run(main())


def _services(config: Config, host: ChatHost, identity: Identity) -> Services | None:
    from nbchat.data import blob_storage

    layer = host.data_layer
    if layer is None:
        return None
    return Services(layer, blob_storage(layer, config.app_dir), identity,
                    UploadLimits.from_config(config.features.spontaneous_file_upload),
                    live_uploads=host.upload_tickets)


@dataclass
class RunningServer:
    options: ServeOptions
    config: Config
    host: ChatHost
    identity: Identity
    application: tornado.web.Application
    http: tornado.httpserver.HTTPServer
    port: int
    connections: set[ChatSocketHandler] = field(default_factory=set)
    reloader: AppReloader | None = None
    shared: SharedState | None = None
    stopped: bool = False

    @property
    def url(self) -> str:
        host = self.options.host
        shown = f"[{host}]" if ":" in host else host
        if host in ("0.0.0.0", "::"):
            shown = "127.0.0.1"
        return f"http://{shown}:{self.port}{normalize_root(self.options.root_path)}"

    async def stop(self) -> None:
        """Stop listening, run on_app_shutdown, close sessions and flush the data layer."""
        if self.stopped:
            return
        self.stopped = True
        if self.reloader is not None:
            self.reloader.stop()
        self.http.stop()
        try:
            await run_hook(self.host.app, "on_app_shutdown")
        except Exception:
            log.exception("nbchat: on_app_shutdown failed")
        for handler in list(self.connections):
            handler.close(1001, "server shutting down")
        await self.host.close()  # closes sessions, then the data layer (flushes writes)
        if self.shared is not None:
            await self.shared.close()
        await self.http.close_all_connections()


def worker_name() -> str:
    """This process in the session directory and /health: host name and pid."""
    return f"{socket.gethostname()}-{os.getpid()}"


async def start_server(options: ServeOptions, out: TextIO = sys.stdout, *,
                       reuse_port: bool = False) -> RunningServer:
    """Load the app and listen; raises NbchatError (AppLoadError, ConfigError) on failure.
    `reuse_port`: bind with SO_REUSEPORT, beside the other workers (server.workers)."""
    from nbchat.data import resolve_data_layer

    path = options.path.resolve()
    config = load(path.parent)
    app: App = (await load_app(path, config))[0]
    identity = build_identity(app, config)
    # One layer per server, shared by the chats and the REST API: the app's own (its
    # @cl.data_layer function is called here, once) or data.url's.
    layer = resolve_data_layer(app, config.data.url, config.app_dir,
                               enabled=config.data.enabled, owner=True,
                               storage_url=config.data.storage_url)
    shared = shared_state(config.server, worker=worker_name())
    await shared.start()  # ConfigError when Redis does not answer
    host = ChatHost(app, config, layer, directory=shared.directory)
    if shared.bus is not None:
        host.bus = shared.bus
        shared.bus.serve(host)
    services = _services(config, host, identity)
    connections: set[ChatSocketHandler] = set()
    mounted = options.unix_socket is not None
    application = make_app(app, config, host=host, services=services, identity=identity,
                           root_path=options.root_path, headless=options.headless,
                           connections=connections, bind_host="" if mounted else options.host,
                           shared=shared)
    # No xheaders: the Application believes forwarded headers from trusted proxies only
    # (behind a mount: from the mount, the only peer the private socket has).
    if mounted:
        application.proxies = replace(application.proxies, unix_peer=True)
    http = tornado.httpserver.HTTPServer(application, **http_server_options(config))
    if options.unix_socket is not None:
        sockets = [tornado.netutil.bind_unix_socket(str(options.unix_socket), mode=0o600)]
        port = 0
    else:
        sockets = tornado.netutil.bind_sockets(options.port, options.host,
                                               reuse_port=reuse_port)
        port = int(sockets[0].getsockname()[1])
    http.add_sockets(sockets)
    server = RunningServer(options, config, host, identity, application, http, port,
                           connections, shared=shared)
    await run_hook(app, "on_app_startup")
    if options.watch:
        server.reloader = AppReloader(path, host, options.watch_interval_ms)
        server.reloader.start()
    if not mounted and not is_loopback(options.host) and not auth_enabled(identity):
        print(NO_AUTH_WARNING.format(host=options.host), file=sys.stderr, flush=True)
        log.warning("nbchat: no authentication on non-loopback address %s", options.host)
    what = "API and WebSocket (headless)" if options.headless else "chat"
    out.write(f"nbchat: event loop {loop_name()}\n")
    if chainlit_alias.active():
        out.write(f"nbchat: {chainlit_alias.SERVED}\n")
    where = f"behind the ASGI mount {options.root_path}" if mounted else f"at {server.url}"
    out.write(f"nbchat: serving {path.name} ({what}) {where}\n")
    if options.watch:
        out.write(f"nbchat: watching {path.name} for changes\n")
    out.flush()
    return server


async def serve(options: ServeOptions, out: TextIO = sys.stdout, *,
                reuse_port: bool = False) -> None:
    """Serve until SIGINT or SIGTERM, then shut down gracefully."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):  # before start-up: a signal then is kept
        with contextlib.suppress(NotImplementedError):  # Windows
            loop.add_signal_handler(sig, stop.set)
    server = await start_server(options, out, reuse_port=reuse_port)
    try:
        await stop.wait()
    finally:
        out.write("nbchat: shutting down\n")
        out.flush()
        await server.stop()


def serve_workers(options: ServeOptions, workers: int, loop: str = "auto",
                  out: TextIO = sys.stdout) -> int:
    """`nbchat serve --workers N`: check the config can be shared (ConfigError if not),
    hold the port, fork N workers each serving it (nbchat.server.workers)."""
    from nbchat.errors import NbchatError
    from nbchat.server.workers import check_workers, reserve_port, supervise

    check_workers(load(options.path.resolve().parent), workers, watch=options.watch)
    reservation = reserve_port(options.host, options.port)
    port = int(reservation.getsockname()[1])
    each = replace(options, port=port)

    def worker(index: int) -> int:
        reservation.close()  # the parent holds the port; the worker binds its own socket
        try:
            run(lambda: serve(each, out, reuse_port=True), loop)
        except NbchatError as exc:
            print(f"nbchat: worker {index}: {exc}", file=sys.stderr)
            return 1
        return 0

    out.write(f"nbchat: {workers} workers on port {port}\n")
    out.flush()
    try:
        return supervise(workers, worker, out)
    finally:
        reservation.close()
