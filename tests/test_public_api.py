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
