"""Gates that ruff cannot keep by itself: which modules need docstrings, and no private name
imported from another package.

Private imports are checked here with `ast` rather than by ruff's PLC2701: that rule is a
preview rule (its behaviour may change between ruff versions, and enabling preview changes
other rules too), and it only looks at the top-level package, so `nbchat.server.handlers`
taking `_x` from `nbchat.server.uploads` would pass it.
"""

import ast
import inspect
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import nbchat

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
TREES = [SRC / "nbchat", ROOT / "tests", ROOT / "benchmarks", ROOT / "examples"]

# Private names still imported across packages, each to be made public (or moved) and then
# dropped from here. The test fails when one is no longer imported that way, so this only
# shrinks.
KNOWN_PRIVATE_IMPORTS = {
    # The Postgres staging table's name: the batch test installs a trigger on it.
    "_STAGE",
}


def _module_name(path: Path) -> str:
    base = SRC if path.is_relative_to(SRC) else ROOT
    parts = list(path.relative_to(base).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_package(module: str) -> bool:
    base = SRC if module.split(".")[0] == "nbchat" else ROOT
    return (base / module.replace(".", "/") / "__init__.py").is_file()


def _package(module: str) -> str:
    return module if _is_package(module) else module.rpartition(".")[0]


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _private_imports(path: Path, module_name: str) -> Iterator[tuple[str, str, str]]:
    """(file:line, module imported from, private name) for each import in `path` of a private
    nbchat name or module from a package other than the file's own."""
    here = _package(module_name)
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = here.split(".")[: len(here.split(".")) - node.level + 1]
                module = ".".join([*base, module] if module else base)
            targets = [(module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            targets = [(alias.name, "") for alias in node.names]
        else:
            continue
        for module, name in targets:
            if not module.startswith("nbchat"):
                continue
            # A private submodule is named in the module path or as the imported name.
            private = [p for p in [*module.split("."), name] if _private(p)]
            if private and _package(module) != here:
                yield f"{path.name}:{node.lineno}", module, private[-1]


def _cross_package_private_imports() -> list[tuple[str, str, str]]:
    return [found for tree in TREES for path in sorted(tree.rglob("*.py"))
            for found in _private_imports(path, _module_name(path))]


def test_no_private_name_is_imported_across_packages() -> None:
    found = _cross_package_private_imports()
    new = [f for f in found if f[2] not in KNOWN_PRIVATE_IMPORTS]
    assert not new, (
        f"private names imported from another package (make them public there): {new}")
    stale = KNOWN_PRIVATE_IMPORTS - {name for _, _, name in found}
    assert not stale, f"no longer imported across packages: drop {stale} from the list"


def test_the_private_import_check_tells_packages_apart(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("from nbchat.config import _leaf_type\n"
                     "from nbchat.server.uploads import _MIME_RE\n"
                     "from . import _sibling\n"
                     "from nbchat import __version__\n")
    # From a test module: both nbchat privates are foreign; its own package's are not.
    assert list(_private_imports(probe, "tests.probe")) == [
        ("probe.py:1", "nbchat.config", "_leaf_type"),
        ("probe.py:2", "nbchat.server.uploads", "_MIME_RE")]
    # From a module of nbchat.server: the uploads import is its own package's.
    assert list(_private_imports(probe, "nbchat.server.probe")) == [
        ("probe.py:1", "nbchat.config", "_leaf_type")]


def _docstring_scope() -> set[str]:
    """The modules pyproject.toml requires docstrings in (the negated D1 ignore)."""
    ignores = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]["lint"][
        "per-file-ignores"]
    (pattern,) = [k for k, v in ignores.items() if k.startswith("!") and "D1" in v]
    match = re.fullmatch(r"!src/nbchat/\{([^}]*)\}\.py", pattern)
    assert match, f"unexpected D1 scope pattern {pattern!r}"
    names = match[1].split(",")
    modules = {n.removesuffix("__init__").rstrip("/") for n in names}
    return {".".join(["nbchat", *m.split("/")]) if m else "nbchat" for m in modules}


def test_docstrings_are_required_exactly_on_the_public_modules() -> None:
    public = {"nbchat", "nbchat.testing"}
    for name in nbchat.__all__:
        value = getattr(nbchat, name)
        is_definition = inspect.isclass(value) or inspect.isfunction(value)
        public.add(value.__module__ if is_definition else type(value).__module__)
    assert _docstring_scope() == public, (
        "pyproject.toml's D1 scope must list exactly the modules defining public names: "
        f"{sorted(public)}")


def test_mypy_checks_the_tests_as_strictly_as_the_package() -> None:
    mypy = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    assert mypy["strict"] is True
    assert set(mypy["files"]) == {"src/nbchat", "tests"}
    # A relaxation is per module, with a reason; none turns strictness off for a folder.
    for override in mypy.get("overrides", []):
        modules = override["module"] if isinstance(override["module"], list) else [
            override["module"]]
        assert "strict" not in override, modules
        assert not any(m.split(".")[0] in {"tests", "runtime", "server", "data"}
                       and m.endswith("*") for m in modules), modules
    # conftest names collide across folders: tests import helpers by their own names.
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "tests").rglob("*.py")
                 if re.search(r"^\s*from conftest import", p.read_text(), re.M)]
    assert offenders == []
