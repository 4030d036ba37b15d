"""The public API is exactly what nbchat/__init__.py exports, and it imports cheaply."""

import subprocess
import sys

import nbchat


def test_all_lists_every_public_name_and_only_those() -> None:
    public = {n for n in dir(nbchat) if not n.startswith("_") and n not in {"annotations"}}
    modules = {n for n in public if type(getattr(nbchat, n)).__name__ == "module"}
    assert sorted(nbchat.__all__) == nbchat.__all__
    # Lazy names are cached in the module once used (by earlier tests): not counted here.
    assert set(nbchat.__all__) - set(nbchat._LAZY) == public - modules - set(nbchat._LAZY)


def test_every_name_in_all_resolves() -> None:
    for name in nbchat.__all__:
        assert getattr(nbchat, name) is not None, name


def test_import_loads_no_heavy_dependency() -> None:
    code = (
        "import sys, nbchat; heavy = ['tornado', 'jupyter_server', 'langchain_core', "
        "'asyncpg', 'aiosqlite', 'anywidget', 'ipywidgets', 'IPython']; "
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    loaded = subprocess.check_output([sys.executable, "-c", code], text=True).strip()
    assert loaded == "", f"import nbchat pulled in: {loaded}"


def test_no_submodule_shadows_a_name_its_package_exports() -> None:
    # Importing `pkg.name` sets the attribute `name` of `pkg` to the submodule, so a module
    # named like something the package re-exports (nbchat.server's `public` decorator and
    # a `server/public.py`) replaces it for everyone once anything imports the module.
    import ast
    import pkgutil
    from pathlib import Path

    root = Path(nbchat.__file__).parent
    clashes = []
    for init in root.rglob("__init__.py"):
        package = ".".join(init.parent.relative_to(root.parent).parts)
        exported = {alias.asname or alias.name
                    for node in ast.walk(ast.parse(init.read_text(encoding="utf-8")))
                    if isinstance(node, ast.ImportFrom) for alias in node.names}
        exported |= {target.id for node in ast.parse(init.read_text(encoding="utf-8")).body
                     if isinstance(node, ast.Assign) for target in node.targets
                     if isinstance(target, ast.Name)}
        modules = {info.name for info in pkgutil.iter_modules([str(init.parent)])}
        for name in sorted(exported & modules):
            # The same object under both names is fine (a package exporting its submodule).
            source = init.read_text(encoding="utf-8")
            if f"from {package} import {name}" not in source and \
                    f"from {package}.{name} import" not in source:
                clashes.append(f"{package}.{name}")
    assert not clashes, f"submodules named like names their package exports: {clashes}"
