"""`nbchat serve --watch`: reload the app when its file is saved.

The file's (mtime, size) is polled by a tornado PeriodicCallback. On a change the file is
loaded again into a new App (nbchat.loader); on success the host and every live session
switch to it (sessions look their callbacks up per event, so a conversation carries on
with the new code), the new app's `on_app_startup` runs after the old one's
`on_app_shutdown`, and every session gets a `notice` "app reloaded". A reload that fails
keeps the old app and sends an error notice with the load error.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Literal

from tornado.ioloop import PeriodicCallback

from nbchat.app import App, call_user
from nbchat.errors import AppLoadError
from nbchat.loader import load_app
from nbchat.protocol import outbound
from nbchat.runtime.hosting import ChatHost

log = logging.getLogger("nbchat")
Level = Literal["info", "success", "warning", "error"]


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def notify(host: ChatHost, level: Level, message: str) -> None:
    """Send a `notice` to every live session (kept for replay if one is disconnected)."""
    for session in list(host.sessions.sessions.values()):
        if not session.closed:
            session.emit(outbound.notice(level, message))
            session.emitter.flush()


async def run_hook(app: App, hook: str) -> None:
    func = app.get(hook)
    if func is not None:
        await call_user(func)


class AppReloader:
    def __init__(self, path: Path, host: ChatHost, interval_ms: float = 500) -> None:
        self.path = path
        self.host = host
        self.stamp = _stamp(path)
        self.reloading = False
        self.reloads = 0
        self.callback = PeriodicCallback(self._poll, interval_ms)

    def start(self) -> None:
        self.callback.start()

    def stop(self) -> None:
        self.callback.stop()

    async def _poll(self) -> None:
        stamp = _stamp(self.path)
        if stamp is None or stamp == self.stamp or self.reloading:
            return
        self.stamp = stamp
        self.reloading = True
        try:
            await self.reload()
        finally:
            self.reloading = False

    async def reload(self) -> bool:
        """Load the file again and switch to it; False (old app kept) if it fails."""
        try:
            app, _ = await load_app(self.path, self.host.config)
        except AppLoadError as exc:
            log.error("nbchat: reload failed, still serving the previous version: %s", exc)
            notify(self.host, "error", f"reload failed, the previous version still runs: {exc}")
            return False
        old = self.host.app
        try:
            await run_hook(old, "on_app_shutdown")
        except Exception:
            log.exception("nbchat: on_app_shutdown of the previous version failed")
        self.host.switch_app(app)
        try:
            await run_hook(app, "on_app_startup")
        except Exception as exc:
            log.exception("nbchat: on_app_startup failed after reload")
            notify(self.host, "error", f"app reloaded, but on_app_startup failed: {exc}")
            return False
        self.reloads += 1
        log.info("nbchat: %s reloaded", self.path.name)
        notify(self.host, "info", "app reloaded")
        return True
