"""Run cells in a real IPython kernel (jupyter_client starts this environment's python3
kernel) and read back what each showed: the workbench's notebook side, without a browser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

WIDGET = "application/vnd.jupyter.widget-view+json"


def run_cells(cells: list[str], folder: Path) -> list[list[dict[str, Any]]]:
    """Execute `cells` in order in a fresh kernel whose working folder is `folder`; the
    outputs of each. A cell that raises fails the test with the kernel's error."""
    nb = nbformat.v4.new_notebook()  # type: ignore[no-untyped-call]
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]  # type: ignore[no-untyped-call]
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    return [list(c.outputs) for c in nb.cells]


def text(outputs: list[dict[str, Any]]) -> str:
    """What a cell printed (stdout) and showed as plain text, widgets left out."""
    parts = []
    for out in outputs:
        if out["output_type"] == "stream" and out["name"] == "stdout":
            # (stderr left out: under load the watchdog may log a slow cell, e.g. the
            # first pandas import, there)
            parts.append(out["text"])
        elif "data" in out and WIDGET not in out["data"]:
            parts.append(out["data"].get("text/plain", ""))
    return "".join(parts)


def widget_views(outputs: list[dict[str, Any]]) -> int:
    """How many widget views a cell displayed."""
    return sum(1 for out in outputs if WIDGET in out.get("data", {}))
