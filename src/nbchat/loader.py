"""Load an app from a `.py` file or an `.ipynb` notebook into its own App.

Each load gets a fresh namespace and a fresh App, so two apps in one process never share
callbacks. Notebook code cells run in order with IPython's transformations (magics) and
top-level `await`; cells tagged `nbchat-skip` are skipped; `cl.chat()` does nothing while
loading. A failing cell raises AppLoadError naming the cell and line.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import json
import sys
import traceback
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from types import CodeType
from typing import Any

from nbchat.app import App, registering_on
from nbchat.errors import AppLoadError

SKIP_TAG = "nbchat-skip"
# True while an app's code is being loaded by a host: display calls (cl.chat()) no-op.
loading: ContextVar[bool] = ContextVar("nbchat_loading", default=False)


@contextlib.contextmanager
def _app_folder_on_path(folder: Path) -> Iterator[None]:
    entry = str(folder)
    sys.path.insert(0, entry)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(entry)


def notebook_cells(path: Path) -> list[tuple[int, str]]:
    """(cell number counting from 1, source) of the code cells to run."""
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AppLoadError(f"{path}: cannot read the notebook: {exc}") from None
    cells = []
    for number, cell in enumerate(notebook.get("cells", []), start=1):
        if cell.get("cell_type") != "code":
            continue
        if SKIP_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        source = cell.get("source", "")
        cells.append((number, "".join(source) if isinstance(source, list) else source))
    return cells


def _transform(source: str) -> str:
    """IPython syntax (magics, `!cmd`) to plain Python, when IPython is installed."""
    if "%" not in source and "!" not in source:
        return source
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:
        return source
    return str(TransformerManager().transform_cell(source))  # type: ignore[no-untyped-call]


def _ipython_shell() -> Any:
    from IPython.core.interactiveshell import InteractiveShell

    return InteractiveShell.instance()


async def _run(code: CodeType, namespace: dict[str, Any]) -> None:
    result = eval(code, namespace)
    if inspect.isawaitable(result):
        await result


async def load_app(path: str | Path) -> tuple[App, dict[str, Any]]:
    """Run the app file or notebook at `path`; return its App and its namespace."""
    path = Path(path).resolve()
    if not path.is_file():
        raise AppLoadError(f"no app file at {path}")
    app = App(path.name)
    namespace: dict[str, Any] = {"__name__": "__nbchat_app__", "__file__": str(path)}
    if path.suffix == ".ipynb":
        units = [(f"cell {n}", _transform(src)) for n, src in notebook_cells(path)]
        if any("get_ipython()" in src for _, src in units):
            namespace["get_ipython"] = _ipython_shell
    else:
        units = [(str(path), path.read_text(encoding="utf-8"))]
    flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    token = loading.set(True)
    try:
        with registering_on(app), _app_folder_on_path(path.parent):
            for label, source in units:
                filename = f"{path.name} ({label})" if label.startswith("cell") else label
                try:
                    code = compile(source, filename, "exec", flags=flags, dont_inherit=True)
                    await _run(code, namespace)
                except Exception as exc:
                    tb = traceback.extract_tb(exc.__traceback__)
                    line = next((f.lineno for f in reversed(tb) if f.filename == filename),
                                getattr(exc, "lineno", None))
                    where = f"{path.name}, {label}" + (f", line {line}" if line else "")
                    raise AppLoadError(f"{where}: {type(exc).__name__}: {exc}") from exc
    finally:
        loading.reset(token)
    return app, namespace
