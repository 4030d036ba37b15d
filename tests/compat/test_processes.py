"""The Chainlit-API app through real processes: `nbchat chat`, `nbchat serve` (with login
signed by CHAINLIT_AUTH_SECRET), and next to a real (here: fake) chainlit package."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from serve.helpers import DEADLINE, WsClient
from serve.test_serve_cli import Process

from .conftest import APP
from .served import SECRET, cookie_header, env, sign_in, start, stop


def _chat(app: Path, text: str, environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nbchat.cli", "chat", str(app)],
                          input=text, capture_output=True, text=True, timeout=60,
                          check=False, env=environ, cwd=app.parent)


def test_nbchat_chat_runs_the_chainlit_app_unchanged(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    shutil.copy(APP, app)
    result = _chat(app, "hi\n/quit\n", env())
    assert result.returncode == 0, result.stderr
    assert "Assistant: Assistant ready, model large" in result.stdout
    assert "Assistant: working on hi" in result.stdout
    assert "Assistant: done: HI" in result.stdout


@pytest.fixture
def real_chainlit(tmp_path: Path) -> Path:
    """A folder holding a package named chainlit, as `pip install chainlit` would."""
    site = tmp_path / "site"
    (site / "chainlit").mkdir(parents=True)
    (site / "chainlit" / "__init__.py").write_text('REAL = "the installed chainlit"\n')
    (tmp_path / "app.py").write_text(textwrap.dedent('''
        import chainlit
        import nbchat as cl

        @cl.on_chat_start
        async def start():
            await cl.Message(content=f"real={getattr(chainlit, 'REAL', 'no')}").send()
    '''), encoding="utf-8")
    return site


def test_an_installed_chainlit_is_not_shadowed_and_the_log_says_how_to_choose(
        real_chainlit: Path, tmp_path: Path) -> None:
    path = os.pathsep.join([str(real_chainlit), os.environ.get("PYTHONPATH", "")])
    result = _chat(tmp_path / "app.py", "/quit\n", env(PYTHONPATH=path))
    assert result.returncode == 0, result.stderr
    assert "real=the installed chainlit" in result.stdout
    assert f"chainlit is installed ({real_chainlit}" in result.stderr
    assert "NBCHAT_RUNTIME_CHAINLIT_ALIAS" in result.stderr
    assert "on: always nbchat" in result.stderr

    forced = _chat(tmp_path / "app.py", "/quit\n",
                   env(PYTHONPATH=path, NBCHAT_RUNTIME_CHAINLIT_ALIAS="on"))
    assert forced.returncode == 0, forced.stderr
    assert "real=no" in forced.stdout  # chainlit is nbchat now
    assert "runtime.chainlit_alias is on" in forced.stderr


@pytest.fixture
async def served_chainlit_app(tmp_path: Path) -> AsyncIterator[tuple[Process, str]]:
    shutil.copy(APP, tmp_path / "app.py")
    process = await start(tmp_path / "app.py", env())
    try:
        await process.line(r"chainlit imports are served by nbchat")
        url = (await process.line(r"at (http://\S+)")).group(1)
        yield process, url
    finally:
        await stop(process)


def _output(text: str) -> Callable[[dict[str, Any]], bool]:
    """A finished step showing `text`."""
    return lambda e: (e["type"] == "step" and e["step"]["output"] == text
                      and not e["step"]["streaming"])


async def test_nbchat_serve_runs_the_chainlit_app_unchanged(
        served_chainlit_app: tuple[Process, str]) -> None:
    _, url = served_chainlit_app
    client = await WsClient.connect(url.replace("http://", "ws://") + "ws")
    try:
        await client.hello()
        await client.until(_output("Assistant ready, model large"))
        await client.send({"type": "user_message", "content": "hi"})
        await client.until(_output("working on hi"))
        await client.until(_output("done: HI"))
    finally:
        await client.close()


LOGIN_APP = textwrap.dedent('''
    import chainlit as cl

    @cl.password_auth_callback
    def check(username: str, password: str):
        return cl.User(identifier=username) if password == "pw" else None

    @cl.on_chat_start
    async def start():
        await cl.Message(content=f"hello {cl.user_session.get('user').identifier}").send()
''')


async def test_chainlit_auth_secret_signs_the_login_of_nbchat_serve(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text(LOGIN_APP, encoding="utf-8")
    refused = await start(app, env())
    assert refused.proc.stdout is not None
    out = (await asyncio.wait_for(refused.proc.stdout.read(), DEADLINE)).decode()
    assert await refused.proc.wait() == 1
    assert "NBCHAT_AUTH_SECRET is not set (nor CHAINLIT_AUTH_SECRET)" in out

    process = await start(app, env(CHAINLIT_AUTH_SECRET=SECRET))
    try:
        url = (await process.line(r"at (http://\S+)")).group(1)
        jar = await sign_in(url, "alice")
        cookie = cookie_header(jar)
        origin = url.rstrip("/")
        client = await WsClient.connect(url.replace("http://", "ws://") + "ws",
                                        headers={"Cookie": cookie, "Origin": origin})
        try:
            welcome = await client.hello()
            assert welcome["user"]["identifier"] == "alice"
            await client.until(_output("hello alice"))
        finally:
            await client.close()
    finally:
        await stop(process)
