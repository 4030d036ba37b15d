"""Load an app from a `.py` file or an `.ipynb` notebook into its own App.

Each load gets a fresh namespace and a fresh App, so two apps in one process never share
callbacks. Notebook code cells run in order with IPython's transformations (magics) and
top-level `await`; cells tagged `nbchat-skip` are skipped; `cl.chat()` and IPython's
`display` (and `clear_output`, `update_display`) do nothing while loading. A failing cell
raises AppLoadError naming the cell and line.

`import chainlit` in an app is served by nbchat (nbchat.chainlit_compat) per the
config's `runtime.chainlit_alias`: by default when the chainlit package is not installed.
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
from nbchat.chainlit_compat import alias, config_view
from nbchat.config import Config, load
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


def _no_display(*args: Any, **kwargs: Any) -> None:
    """What `display(...)` does in an app being served: nothing."""


_DISPLAY_NAMES = ("display", "clear_output", "update_display")
_DISPLAY_MODULES = ("IPython.display", "IPython.core.display_functions")


@contextlib.contextmanager
def _displays_muted(want_ipython: bool) -> Iterator[None]:
    """Make IPython's display functions no-ops for the duration of a load.

    IPython is imported for notebooks (or when already imported); a name imported from
    `IPython.display` during the load keeps the no-op, which is what serving wants."""
    if want_ipython:
        with contextlib.suppress(ImportError):
            import IPython.display  # noqa: F401
    saved: list[tuple[Any, str, Any]] = []
    for module_name in _DISPLAY_MODULES:
        module = sys.modules.get(module_name)
        for name in _DISPLAY_NAMES:
            if module is not None and hasattr(module, name):
                saved.append((module, name, getattr(module, name)))
                setattr(module, name, _no_display)
    try:
        yield
    finally:
        for module, name, value in reversed(saved):
            setattr(module, name, value)


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


async def load_app(path: str | Path,
                   config: Config | None = None) -> tuple[App, dict[str, Any]]:
    """Run the app file or notebook at `path`; return its App and its namespace.

    `config` is the app's (default: read from its folder); it decides whether chainlit
    imports are served by nbchat and is what `chainlit.config` shows."""
    path = Path(path).resolve()
    if not path.is_file():
        raise AppLoadError(f"no app file at {path}")
    config = config if config is not None else load(path.parent)
    config_view.use(config)
    alias.install(config.runtime.chainlit_alias)
    app = App(path.name)
    namespace: dict[str, Any] = {"__name__": "__nbchat_app__", "__file__": str(path)}
    is_notebook = path.suffix == ".ipynb"
    if is_notebook:
        namespace.update(dict.fromkeys(_DISPLAY_NAMES, _no_display))
        units = [(f"cell {n}", _transform(src)) for n, src in notebook_cells(path)]
        if any("get_ipython()" in src for _, src in units):
            namespace["get_ipython"] = _ipython_shell
    else:
        units = [(str(path), path.read_text(encoding="utf-8"))]
    flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    token = loading.set(True)
    try:
        want_ipython = is_notebook or any("IPython" in src for _, src in units)
        with registering_on(app), _app_folder_on_path(path.parent), \
                _displays_muted(want_ipython):
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
                    why = alias.explain_import_error(exc) or f"{type(exc).__name__}: {exc}"
                    raise AppLoadError(f"{where}: {why}") from exc
    finally:
        loading.reset(token)
    return app, namespace
