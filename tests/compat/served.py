"""Helpers of the compat tests that run `nbchat serve` as a process: start, stop, sign in."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from serve.helpers import DEADLINE, fetch
from serve.test_serve_cli import Process

SECRET = "c" * 64


def env(**extra: str) -> dict[str, str]:
    """This process's environment without an auth secret, plus `extra`."""
    out = {k: v for k, v in os.environ.items()
           if k not in ("NBCHAT_AUTH_SECRET", "CHAINLIT_AUTH_SECRET")}
    out.update(extra)
    return out


async def start(app: Path, environ: dict[str, str]) -> Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "nbchat.cli", "serve", app.name, "--port", "0", cwd=app.parent,
        env=environ, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    return Process(proc)


async def stop(process: Process) -> None:
    if process.proc.returncode is None:
        process.proc.send_signal(signal.SIGTERM)
    await asyncio.wait_for(process.proc.wait(), DEADLINE)


def take_cookies(response: object, jar: dict[str, str]) -> None:
    for line in response.headers.get_list("Set-Cookie"):  # type: ignore[attr-defined]
        parsed: SimpleCookie = SimpleCookie()
        parsed.load(line)
        jar.update({name: morsel.value for name, morsel in parsed.items()})


def cookie_header(jar: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in jar.items())


async def sign_in(url: str, username: str, password: str = "pw") -> dict[str, str]:
    """Sign in through the login form as a browser would; the cookies it ends with."""
    jar: dict[str, str] = {}
    page = await fetch(url + "login")
    take_cookies(page, jar)
    token = re.search(r'name="_xsrf" value="([^"]+)"', page.body.decode())
    assert token is not None
    form = urlencode({"username": username, "password": password, "_xsrf": token.group(1)})
    signed_in = await fetch(url + "login", method="POST", body=form, follow_redirects=False,
                            headers={"Cookie": cookie_header(jar)})
    assert signed_in.code == 303, signed_in.body
    take_cookies(signed_in, jar)
    assert "nbchat_session" in jar
    return jar
