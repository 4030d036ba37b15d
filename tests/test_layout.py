"""The package layout of issue 11: folders that name the parts, small modules, no import
cycles, and every import path the docs show still importing."""

from __future__ import annotations

import ast
import importlib
import json
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "nbchat"
MAX_TOP_LEVEL_MODULES = 20
MAX_LINES = 500


def test_at_most_twenty_top_level_modules() -> None:
    modules = sorted(p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
    assert len(modules) <= MAX_TOP_LEVEL_MODULES, modules


def test_no_source_file_over_500_lines() -> None:
    sources = [*PACKAGE.rglob("*.py"), *(ROOT / "js" / "src").rglob("*.ts")]
    assert len(sources) > 50
    long = {str(p.relative_to(ROOT)): n for p in sources
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


# ---------------------------------------------------------------------- import cycles


def _module_name(path: Path, package: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    return ".".join(parts[:-1] if is_package else parts), is_package


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST, module: str, is_package: bool, known: set[str]) -> set[str]:
    """Modules of nbchat this one imports, at module level or inside functions (an import
    in a method is a cycle postponed, not avoided), except under `if TYPE_CHECKING:`.

    One exception: inside a function, a module may look up its own package's namespace
    (`import nbchat.data` in nbchat.data.plug, to read Chainlit's settable
    `nbchat.data._data_layer` when called). The package is always imported before its
    submodules, so that is no import-order hazard; submodules named there still count."""
    found: set[str] = set()
    ancestors = {module.rsplit(".", i)[0] for i in range(1, module.count(".") + 1)}

    def visit(node: ast.AST, in_function: bool) -> None:
        in_function = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit_node(other, in_function)
            else:
                visit_node(child, in_function)

    def visit_node(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names
                         if not (in_function and alias.name in ancestors))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            # `from nbchat.runtime import session` imports the submodule (its package is
            # imported first either way, as for `import nbchat.runtime.session`); the
            # package's own namespace is used only when some name is not a submodule.
            submodules = {f"{target}.{alias.name}" for alias in node.names} & known
            found.update(submodules)
            if len(submodules) < len(node.names) and not (in_function and target in ancestors):
                found.add(target)
        visit(node, in_function)

    visit(tree, False)
    return {name for name in found if name in known and name != module}


def import_graph(package: Path) -> dict[str, set[str]]:
    sources = {_module_name(p, package): p for p in package.rglob("*.py")}
    known = {name for name, _ in sources}
    return {name: _imports(ast.parse(path.read_text(encoding="utf-8")), name, is_package,
                           known)
            for (name, is_package), path in sources.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def test_the_cycle_finder_sees_cycles_through_function_level_imports(tmp_path: Path) -> None:
    package = tmp_path / "nbchat"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from nbchat.b import f\n")
    (package / "b.py").write_text("def f():\n    from nbchat import a\n")
    (package / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from nbchat.a import f\n")
    (package / "d.py").write_text("from .c import x\n")
    # A package whose __init__ imports a submodule that reads the package's namespace in a
    # function is no cycle; the same import at module level is.
    (package / "p").mkdir()
    (package / "p" / "__init__.py").write_text("from nbchat.p.q import g\n")
    (package / "p" / "q.py").write_text("def g():\n    import nbchat.p\n")
    (package / "r").mkdir()
    (package / "r" / "__init__.py").write_text("from nbchat.r.s import h\n")
    (package / "r" / "s.py").write_text("import nbchat.r\n")
    graph = import_graph(package)
    assert graph["nbchat.d"] == {"nbchat.c"}
    assert graph["nbchat.p.q"] == set()
    assert cycles(graph) == [["nbchat.a", "nbchat.b"], ["nbchat.r", "nbchat.r.s"]]


def test_no_import_cycle_outside_type_checking() -> None:
    graph = import_graph(PACKAGE)
    assert graph["nbchat.runtime.session"] >= {"nbchat.runtime.dispatch"}
    assert cycles(graph) == []


# ---------------------------------------------------------------------- documented paths

DOTTED = re.compile(r"\bnbchat(?:\.[A-Za-z_]\w*)+")
FROM_IMPORT = re.compile(r"^\s*from\s+(nbchat[\w.]*)\s+import\s+([^#]+)")
NOT_MODULES = {"yaml", "db", "json", "py", "ipynb"}  # file names: nbchat.yaml, .nbchat/nbchat.db


def _documents() -> list[tuple[str, str]]:
    texts = [(str(p.relative_to(ROOT)), p.read_text(encoding="utf-8"))
             for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
                       *sorted((ROOT / "examples").rglob("*.py")),
                       *sorted((ROOT / "jupyter-config").rglob("*.json"))]]
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        texts.append((str(notebook.relative_to(ROOT)),
                      "\n".join("".join(cell["source"]) for cell in cells)))
    return texts


def documented_paths() -> set[str]:
    """Every `nbchat.x.y` the docs, notebooks and examples name, and every name they import
    with `from nbchat.x import a, b`."""
    paths: set[str] = set()
    for _, text in _documents():
        for line in text.splitlines():
            paths.update(name for name in DOTTED.findall(line)
                         if name.rsplit(".", 1)[1] not in NOT_MODULES)
            match = FROM_IMPORT.match(line)
            if match:
                names = match.group(2).replace("(", "").replace(")", "").split(",")
                for name in names:
                    name = name.split(" as ")[0].strip()
                    if name.isidentifier():
                        paths.add(f"{match.group(1)}.{name}")
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    paths.update(target.replace(":", ".")
                 for target in pyproject["project"]["scripts"].values())
    return paths


def resolve(path: str) -> object:
    """Import the longest module prefix of `path`, then look up the rest as attributes."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            value: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError as error:
            if error.name is None or not path.startswith(error.name):
                raise
            continue
        for attribute in parts[cut:]:
            value = getattr(value, attribute)
        return value
    raise ModuleNotFoundError(path)


def test_every_documented_import_path_imports() -> None:
    paths = documented_paths()
    # The ones the layout moved or that are entry points: they must be among those found.
    assert {"nbchat.server.login.auth_handlers", "nbchat.server.cookies",
            "nbchat.server.oauth.oauth_handlers", "nbchat.server.oauth_providers.oauth_config",
            "nbchat.server.auth.shared_or_owned", "nbchat.server.extension",
            "nbchat.testing.ChatTestClient", "nbchat.history", "nbchat.cli.main",
            "nbchat.integrations.langchain.DEFAULT_TO_IGNORE",
            "nbchat.data.make_data_layer"} <= paths
    failures = {}
    for path in sorted(paths):
        try:
            resolve(path)
        except (ImportError, AttributeError) as error:
            failures[path] = repr(error)
    assert failures == {}


def test_moved_auth_modules_are_the_same_objects_under_their_documented_paths() -> None:
    # A lazy alias (nbchat/server/__init__.py's __getattr__), which mypy cannot follow.
    from nbchat.server.login import auth_handlers  # type: ignore[import-not-found]

    from nbchat.server.auth import login

    assert auth_handlers is login.auth_handlers
    assert importlib.import_module("nbchat.server.cookies") is importlib.import_module(
        "nbchat.server.auth.cookies")
    assert login.__spec__ is not None
    assert login.__spec__.name == "nbchat.server.auth.login"


def test_jupyter_server_extension_entry_point_resolves() -> None:
    config = json.loads((ROOT / "jupyter-config" / "jupyter_server_config.d" / "nbchat.json")
                        .read_text(encoding="utf-8"))
    for name in config["ServerApp"]["jpserver_extensions"]:
        points = importlib.import_module(name)._jupyter_server_extension_points()
        assert points
        for point in points:
            assert importlib.import_module(point["module"]).__name__ == point["module"]
