"""Running a notebook for serving: code cells once, in order, IPython semantics, display
calls and `cl.chat()` doing nothing, `nbchat-skip` cells skipped, errors naming the cell."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nbchat.errors import AppLoadError
from nbchat.loader import load_app


def write_notebook(folder: Path, *cells: str | tuple[str, list[str]]) -> Path:
    out: list[dict[str, Any]] = [{"cell_type": "markdown", "metadata": {}, "source": "# hi"}]
    for cell in cells:
        source, tags = cell if isinstance(cell, tuple) else (cell, [])
        out.append({"cell_type": "code", "metadata": {"tags": tags}, "outputs": [],
                    "execution_count": None, "source": source.splitlines(keepends=True)})
    path = folder / "app.ipynb"
    path.write_text(json.dumps({"cells": out, "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}), encoding="utf-8")
    return path


async def test_cells_run_in_order_with_magics_and_top_level_await(tmp_path: Path) -> None:
    path = write_notebook(
        tmp_path,
        "import asyncio\nimport nbchat as cl\norder = ['first']",
        "folder = %pwd\norder.append('second')",
        "async def answer():\n    await asyncio.sleep(0)\n    return 42\nvalue = await answer()",
        "@cl.on_message\nasync def reply(message):\n    await cl.Message(content='x').send()",
    )
    app, namespace = await load_app(path)
    assert namespace["order"] == ["first", "second"]
    assert isinstance(namespace["folder"], str)
    assert namespace["value"] == 42
    assert app.get("on_message") is namespace["reply"]


async def test_display_calls_and_chat_do_nothing(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = write_notebook(
        tmp_path,
        "import nbchat as cl\nfrom IPython.display import HTML, Markdown, clear_output\n"
        "import IPython.display",
        "display(HTML('<b>shown?</b>'))\ndisplay('plain')\nclear_output()",
        "IPython.display.display(Markdown('*md*'))\nwidget = cl.chat()",
    )
    _, namespace = await load_app(path)
    assert namespace["widget"] is None
    assert capsys.readouterr().out == ""
    # Only while loading: IPython's own display is back afterwards.
    import IPython.display

    assert IPython.display.display.__module__.startswith("IPython")


async def test_cells_tagged_nbchat_skip_do_not_run(tmp_path: Path) -> None:
    path = write_notebook(
        tmp_path,
        "ran = []",
        ("raise RuntimeError('a demo cell that needs a kernel')", ["nbchat-skip"]),
        ("ran.append('tagged otherwise')", ["other"]),
    )
    _, namespace = await load_app(path)
    assert namespace["ran"] == ["tagged otherwise"]


async def test_a_failing_cell_names_its_number_and_line(tmp_path: Path) -> None:
    path = write_notebook(tmp_path, "x = 1", "y = 2\n\nundefined_name + 1")
    with pytest.raises(AppLoadError) as failed:
        await load_app(path)
    # The markdown cell counts: the failing code cell is the notebook's third cell.
    assert str(failed.value) == ("app.ipynb, cell 3, line 3: NameError: "
                                 "name 'undefined_name' is not defined")


async def test_a_syntax_error_names_its_cell_and_line(tmp_path: Path) -> None:
    path = write_notebook(tmp_path, "ok = 1", "def broken(:\n    pass")
    with pytest.raises(AppLoadError, match=r"app\.ipynb, cell 3, line 1: SyntaxError"):
        await load_app(path)
