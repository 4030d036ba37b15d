"""`nbchat serve` as a real subprocess: prints its URL, answers /health, chats over a real
WebSocket, and on SIGTERM runs on_app_shutdown and flushes the database."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from nbchat.data import SQLiteDataLayer
from nbchat.errors import ConfigError
from nbchat.server.serve import loop_factory, loop_name, run
from serve.helpers import DEADLINE, WsClient, fetch

APP = textwrap.dedent('''
    from pathlib import Path

    import nbchat as cl

    @cl.on_app_startup
    def up():
        Path(__file__).with_name("started").write_text("yes")

    @cl.on_app_shutdown
    async def down():
        Path(__file__).with_name("stopped").write_text("yes")

    @cl.on_message
    async def echo(message: cl.Message):
        reply = cl.Message(content="")
        for word in ["echo:", " ", message.content]:
            await reply.stream_token(word)
        await reply.send()
''')


class Process:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.output: list[str] = []

    async def line(self, pattern: str) -> re.Match[str]:
        """Read output lines until one matches (the server's own words, not a sleep)."""
        assert self.proc.stdout is not None
        while True:
            raw = await asyncio.wait_for(self.proc.stdout.readline(), DEADLINE)
            if not raw:
                pytest.fail("nbchat serve exited:\n" + "".join(self.output))
            self.output.append(raw.decode())
            found = re.search(pattern, self.output[-1])
            if found:
                return found


async def start(*args: str, cwd: Path) -> Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "nbchat.cli", "serve", *args, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    return Process(proc)


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[tuple[Process, str]]:
    (tmp_path / "app.py").write_text(APP, encoding="utf-8")
    process = await start("app.py", "--port", "0", cwd=tmp_path)
    url = (await process.line(r"at (http://\S+)")).group(1)
    yield process, url
    if process.proc.returncode is None:
        process.proc.kill()
    await process.proc.wait()


async def test_serve_chats_and_flushes_on_sigterm(server: tuple[Process, str],
                                                  tmp_path: Path) -> None:
    process, url = server
    assert url.startswith("http://127.0.0.1:")  # loopback unless --host says otherwise
    health = await fetch(url + "health")
    assert json.loads(health.body)["status"] == "ok"
    assert (tmp_path / "started").read_text() == "yes"

    client = await WsClient.connect(url.replace("http://", "ws://") + "ws")
    welcome = await client.hello()
    assert welcome["user"]["identifier"] == "local"
    final = await client.reply("hi there")
    assert final["step"]["output"] == "echo: hi there"
    await client.close()

    process.proc.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(process.proc.wait(), DEADLINE) == 0
    assert (tmp_path / "stopped").read_text() == "yes"
    layer = SQLiteDataLayer(tmp_path / ".nbchat" / "nbchat.db")
    try:
        thread = await layer.get_thread(welcome["threadId"])
    finally:
        await layer.close()
    assert thread is not None
    assert thread["userIdentifier"] == "local"
    outputs = [(s["type"], s["output"]) for s in thread["steps"]]
    assert ("assistant_message", "echo: hi there") in outputs


async def test_a_failing_notebook_cell_stops_start_up(tmp_path: Path) -> None:
    notebook = {"cells": [
        {"cell_type": "code", "metadata": {}, "source": "x = 1"},
        {"cell_type": "markdown", "metadata": {}, "source": "text"},
        {"cell_type": "code", "metadata": {}, "source": ["y = 2\n", "1 / 0\n"]},
    ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "bad.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
    process = await start("bad.ipynb", "--port", "0", cwd=tmp_path)
    assert process.proc.stdout is not None
    out = await asyncio.wait_for(process.proc.stdout.read(), DEADLINE)
    assert await process.proc.wait() == 1
    assert "bad.ipynb, cell 3, line 2: ZeroDivisionError" in out.decode()


async def test_binding_a_public_address_without_auth_warns_loudly(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP, encoding="utf-8")
    process = await start("app.py", "--host", "0.0.0.0", "--port", "0", cwd=tmp_path)
    await process.line(r"WARNING: nbchat is listening on 0\.0\.0\.0")
    process.proc.send_signal(signal.SIGINT)
    assert await asyncio.wait_for(process.proc.wait(), DEADLINE) == 0


@pytest.mark.parametrize(("flag", "loop"), [((), "uvloop"), (("--loop", "asyncio"), "asyncio")])
async def test_serve_runs_on_uvloop_when_installed_unless_told_otherwise(
        tmp_path: Path, flag: tuple[str, ...], loop: str) -> None:
    pytest.importorskip("uvloop")
    (tmp_path / "app.py").write_text(APP, encoding="utf-8")
    process = await start("app.py", "--port", "0", *flag, cwd=tmp_path)
    try:
        assert (await process.line(r"event loop (\w+)")).group(1) == loop
        url = (await process.line(r"at (http://\S+)")).group(1)
        client = await WsClient.connect(url.replace("http://", "ws://") + "ws")
        await client.hello()
        assert (await client.reply("loop"))["step"]["output"] == "echo: loop"
        await client.close()
    finally:
        process.proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.proc.wait(), DEADLINE) == 0


def test_the_loop_choice_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # as if it were not installed
    assert loop_factory("auto") is asyncio.new_event_loop
    with pytest.raises(ConfigError, match=r"nbchat\[fast\]"):
        loop_factory("uvloop")
    with pytest.raises(ConfigError, match="unknown event loop"):
        loop_factory("trio")


def test_run_uses_the_chosen_loop() -> None:
    pytest.importorskip("uvloop")

    async def which() -> str:
        return loop_name()

    assert run(which, "uvloop") == "uvloop"
    assert run(which, "asyncio") == "asyncio"
