"""notebooks/history.ipynb runs top to bottom in a fresh kernel and shows its tables."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).parents[2] / "notebooks" / "history.ipynb"


def _outputs(cell: nbformat.NotebookNode) -> str:
    """Everything a code cell showed, as text (markdown preferred over plain text)."""
    parts = []
    for out in cell.get("outputs", []):
        assert out["output_type"] != "error", f"{out.get('ename')}: {out.get('evalue')}"
        if out["output_type"] == "stream":
            parts.append(out["text"])
        elif "data" in out:
            data = out["data"]
            parts.append(data.get("text/markdown") or data.get("text/plain", ""))
    return "".join(parts)


def test_history_notebook_runs_in_a_kernel(tmp_path: Path) -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)  # type: ignore[no-untyped-call]
    # The kernel is the python3 kernel of this environment (jupyter_client starts it with
    # this interpreter); it runs in a scratch folder so nothing lands in the repository.
    NotebookClient(nb, timeout=180, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    shown = [_outputs(c) for c in code]
    text = "\n".join(shown)

    assert "12 threads" in text
    assert "userIdentifier" in text  # the per-user summary
    assert "thumbs_up_rate" in text
    assert "feedbackValue" in text  # one conversation's steps
    assert "| day | thumbs up | ratings |" in text  # the text chart
    assert "█" in text
    optional = [c for c in code if "optional" in c.metadata.get("tags", [])]
    assert len(optional) == 1  # the matplotlib cell is tagged as optional
    if importlib.util.find_spec("matplotlib") is None:
        assert "matplotlib is not installed" in _outputs(optional[0])
    else:
        assert any(o.get("data", {}).get("image/png") for o in optional[0].outputs)
    assert not list(tmp_path.iterdir())  # the notebook cleaned up after itself
