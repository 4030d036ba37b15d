"""Loading apps from .py files and .ipynb notebooks, each into its own App."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nbchat.app import default_app
from nbchat.errors import AppLoadError
from nbchat.loader import load_app
from nbchat.testing import ChatTestClient

ECHO = """
import nbchat as cl

@cl.on_message
async def on_message(message: cl.Message):
    await cl.Message(f"{PREFIX} {message.content}").send()
"""


def _notebook(path: Path, cells: list[tuple[str, str] | tuple[str, str, list[str]]]) -> Path:
    nb_cells = []
    for cell in cells:
        kind, source, *tags = cell
        nb_cells.append({"cell_type": kind, "metadata": {"tags": tags[0]} if tags else {},
                         "source": source.splitlines(keepends=True),
                         **({"outputs": [], "execution_count": None} if kind == "code" else {})})
    path.write_text(json.dumps({"cells": nb_cells, "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}), encoding="utf-8")
    return path


async def test_py_app(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_text("PREFIX = 'py:'\n" + ECHO, encoding="utf-8")
    before = dict(default_app.hooks)
    app, namespace = await load_app(path)
    assert set(app.hooks) == {"on_message"}
    assert namespace["PREFIX"] == "py:"
    assert default_app.hooks == before
    async with ChatTestClient(path) as client:
        assert (await client.send("hi"))[-1]["output"] == "py: hi"


async def test_py_app_can_import_its_neighbours(tmp_path: Path) -> None:
    (tmp_path / "helper_for_loader_test.py").write_text("PREFIX = 'helped'\n")
    path = tmp_path / "app.py"
    path.write_text("from helper_for_loader_test import PREFIX\n" + ECHO, encoding="utf-8")
    async with ChatTestClient(path) as client:
        assert (await client.send("x"))[-1]["output"] == "helped x"


async def test_notebook_with_magics_await_and_skipped_cells(tmp_path: Path) -> None:
    path = _notebook(tmp_path / "chat.ipynb", [
        ("markdown", "# My app"),
        ("code", "import asyncio\nimport nbchat as cl"),
        ("code", "listing = !echo shell-ok\n%time x = 1"),
        ("code", "async def compute():\n    return 'nb:'\nPREFIX = await compute()"),
        ("code", "raise RuntimeError('this cell is for the notebook only')", ["nbchat-skip"]),
        ("code", ECHO),
        ("code", "cl.Message  # a cell whose value is dropped"),
    ])
    app, namespace = await load_app(path)
    assert namespace["PREFIX"] == "nb:"
    assert namespace["x"] == 1
    assert "shell-ok" in list(namespace["listing"])
    assert set(app.hooks) == {"on_message"}
    async with ChatTestClient(path) as client:
        assert (await client.send("hi"))[-1]["output"] == "nb: hi"


async def test_failing_cell_names_the_cell_and_line(tmp_path: Path) -> None:
    path = _notebook(tmp_path / "broken.ipynb", [
        ("markdown", "intro"),
        ("code", "a = 1"),
        ("code", "b = 2\nc = 1 / 0\n"),
    ])
    with pytest.raises(AppLoadError, match=r"broken\.ipynb, cell 3, line 2: ZeroDivisionError"):
        await load_app(path)


async def test_syntax_error_names_the_cell_and_line(tmp_path: Path) -> None:
    path = _notebook(tmp_path / "syntax.ipynb", [("code", "ok = 1\n\ndef broken(:\n")])
    with pytest.raises(AppLoadError, match=r"syntax\.ipynb, cell 1, line 3: SyntaxError"):
        await load_app(path)


async def test_failing_py_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.py"
    path.write_text("import nbchat\n\nundefined_name\n", encoding="utf-8")
    with pytest.raises(AppLoadError, match=r"bad\.py, .*line 3: NameError"):
        await load_app(path)


async def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(AppLoadError, match="no app file"):
        await load_app(tmp_path / "nope.py")
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{not json")
    with pytest.raises(AppLoadError, match="cannot read the notebook"):
        await load_app(bad)


async def test_two_loaded_apps_are_isolated(tmp_path: Path) -> None:
    one = tmp_path / "one.py"
    one.write_text("PREFIX = 'one'\nCOUNT = []\n" + ECHO, encoding="utf-8")
    two = _notebook(tmp_path / "two.ipynb", [("code", "PREFIX = 'two'\n" + ECHO)])
    async with ChatTestClient(one) as a, ChatTestClient(two) as b:
        assert a.session.app is not b.session.app
        assert (await a.send("x"))[-1]["output"] == "one x"
        assert (await b.send("x"))[-1]["output"] == "two x"
        assert "COUNT" in a.namespace
        assert "COUNT" not in b.namespace
    # Loading the same file twice also gives two apps.
    first, _ = await load_app(one)
    second, _ = await load_app(one)
    assert first is not second
    assert first.hooks["on_message"] is not second.hooks["on_message"]
