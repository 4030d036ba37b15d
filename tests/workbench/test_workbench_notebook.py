"""notebooks/workbench.ipynb runs top to bottom in a fresh kernel, offline, and shows what
each capability gives (a reply, the table, the exports, the passing test, the replay, the
fork); it is an app too: its handler answers when it is loaded."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from nbchat.testing import ChatTestClient
from workbench.kernel import text

NOTEBOOK = Path(__file__).parents[2] / "notebooks" / "workbench.ipynb"


def test_the_workbench_notebook_runs_in_a_kernel(tmp_path: Path) -> None:
    shutil.copy(NOTEBOOK, tmp_path / NOTEBOOK.name)  # to_test drives the notebook itself
    nb = nbformat.read(NOTEBOOK, as_version=4)  # type: ignore[no-untyped-call]
    NotebookClient(nb, timeout=180, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    shown = "\n".join(text(c.outputs) for c in nb.cells if c.cell_type == "code")

    assert "'HELLO FROM A CELL '" in shown
    assert "reply lengths seen by the observer: [33, 36, 36]" in shown
    assert "Here is what I know about the moon." in shown  # the messages table
    assert "notebook cells;" in shown
    assert "1 passed" in shown  # the promoted test drives this notebook's handler
    assert "know about tides!" in shown  # the replay's new reply
    assert "(fork) - 3 threads" in shown
    assert sorted(p.name for p in tmp_path.iterdir()) == [NOTEBOOK.name]  # cleaned up


async def test_the_notebook_is_an_app_too() -> None:
    async with ChatTestClient(NOTEBOOK) as client:
        await client.send("tides")
        assert client.messages[-1]["output"].strip() == "Here is what I know about tides."
