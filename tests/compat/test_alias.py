"""`import chainlit` served by nbchat: same module objects, clear errors for what is missing."""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import json
import logging
import sys
import textwrap
from pathlib import Path

import pytest

import nbchat
import nbchat.config
import nbchat.data
from nbchat.app import App, registering_on
from nbchat.chainlit_compat import alias, alias_chainlit
from nbchat.chainlit_compat.modules import ChainlitModuleError, ChainlitNameError
from nbchat.config import load
from nbchat.errors import AppLoadError
from nbchat.testing import ChatTestClient

from .conftest import APP


def test_chainlit_is_not_installed_here() -> None:
    # The premise of the auto mode tests: nothing but the alias can answer `chainlit`.
    assert importlib.machinery.PathFinder.find_spec("chainlit") is None


async def test_a_chainlit_app_runs_unchanged_through_the_test_client(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="nbchat")
    async with ChatTestClient(APP) as client:
        assert client.messages[-1]["output"] == "Assistant ready, model large"
        await client.send("hi")
        outputs = [m["output"] for m in client.messages]
        assert outputs[-2:] == ["working on hi", "done: HI"]  # run_sync from the thread
    assert client.namespace["cl"] is nbchat
    assert client.namespace["DATA_MODULE"] is nbchat.data
    async with ChatTestClient(APP):
        pass
    served = [r for r in caplog.records if "chainlit imports are served by nbchat" in r.message]
    assert len(served) == 1  # said once, not per load


def test_chainlit_names_are_nbchat_objects_and_nbchat_keeps_its_own(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert alias_chainlit() is True
    import chainlit as cl
    import chainlit.context
    import chainlit.data as cl_data
    import chainlit.step
    import chainlit.user_session
    from chainlit.config import config
    from chainlit.element import Image
    from chainlit.message import Message

    assert cl is nbchat
    assert Message is nbchat.Message
    assert Image is nbchat.Image
    # As in Chainlit, `chainlit.context` the attribute is the context object (the package
    # imports it over the submodule's name); the module is sys.modules["chainlit.context"].
    assert sys.modules["chainlit.context"].context is nbchat.context
    assert isinstance(cl.Message(content="x"), nbchat.Message)
    # Importing the aliases must not replace nbchat's attributes of the same names.
    assert nbchat.context.__class__.__name__ == "_Context"
    assert nbchat.user_session.__class__.__name__ == "UserSession"
    assert callable(nbchat.step)
    assert not isinstance(nbchat.step, type(sys))
    assert nbchat.config.load is load
    sentinel = object()
    # Chainlit's way of plugging a data layer (monkeypatch puts back what nbchat.data had).
    monkeypatch.setattr(cl_data, "_data_layer", sentinel, raising=False)
    assert nbchat.data._data_layer is sentinel
    assert config.ui.name == "Assistant"
    with pytest.raises(AttributeError, match="read only"):
        config.ui.name = "Other"


def test_a_missing_top_level_name_names_itself_and_chainlit() -> None:
    alias_chainlit()
    import chainlit as cl

    with pytest.raises(ChainlitNameError) as caught:
        _ = cl.some_missing
    message = str(caught.value)
    assert "'some_missing' from chainlit" in message
    assert "docs/chainlit.md" in message
    assert not hasattr(cl, "some_missing")  # still an AttributeError for hasattr
    assert cl.LangchainCallbackHandler is not None  # nbchat's lazy names still load


def test_nbchat_own_missing_names_are_plain_again_without_the_alias() -> None:
    alias_chainlit()
    import chainlit  # noqa: F401

    alias.uninstall()
    with pytest.raises(AttributeError) as caught:
        _ = nbchat.some_missing
    assert not isinstance(caught.value, ChainlitNameError)
    assert "chainlit" not in sys.modules


def test_a_module_nbchat_does_not_offer_says_which_name_and_what_to_do() -> None:
    alias_chainlit()
    with pytest.raises(ChainlitModuleError) as caught:
        from chainlit.socket import emit  # noqa: F401
    message = str(caught.value)
    assert "'emit' from chainlit.socket" in message
    assert "cl.context.session" in message
    # A module nbchat offers in part names what it has.
    with pytest.raises(ImportError, match=r"'oauth' from chainlit\.auth: nbchat offers only "
                       r"create_jwt"):
        from chainlit.auth import oauth  # noqa: F401


def test_chainlit_data_modules_resolve_to_nbchat_data_once_they_exist(
        monkeypatch: pytest.MonkeyPatch) -> None:
    alias_chainlit()
    import chainlit.data.base

    assert chainlit.data.base is importlib.import_module("nbchat.data.base")
    with pytest.raises(ChainlitModuleError, match=r"nbchat has no nbchat\.data\.literalai"):
        from chainlit.data.literalai import LiteralDataLayer  # noqa: F401
    # Once nbchat has the module (here: one made in memory), the same name resolves to it.
    sys.modules.pop("chainlit.data.literalai")
    spec = importlib.util.spec_from_loader("nbchat.data.literalai", loader=None)
    assert spec is not None
    made = importlib.util.module_from_spec(spec)
    layer_class = type("LiteralDataLayer", (), {})
    made.__dict__["LiteralDataLayer"] = layer_class
    monkeypatch.setitem(sys.modules, "nbchat.data.literalai", made)
    from chainlit.data.literalai import LiteralDataLayer as Layer

    assert Layer is layer_class


def test_an_unknown_chainlit_module_is_a_plain_module_not_found() -> None:
    alias_chainlit()
    with pytest.raises(ModuleNotFoundError, match=r"chainlit\.no_such_module"):
        importlib.import_module("chainlit.no_such_module")


async def test_a_missing_name_in_an_app_fails_its_load_naming_the_chainlit_module(
        tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text("from chainlit.types import NoSuchThing\n", encoding="utf-8")
    with pytest.raises(AppLoadError) as caught:
        async with ChatTestClient(app):
            pass
    message = str(caught.value)
    assert "app.py, line 1" in message
    assert "'NoSuchThing' from chainlit.types" in message


async def test_with_the_alias_off_an_app_importing_chainlit_does_not_load(
        tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text("import chainlit as cl\n", encoding="utf-8")
    (tmp_path / "nbchat.yaml").write_text("runtime:\n  chainlit_alias: 'off'\n")
    with pytest.raises(AppLoadError, match="No module named 'chainlit'"):
        async with ChatTestClient(app):
            pass


async def test_run_sync_on_the_event_loop_thread_says_to_await(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text(textwrap.dedent('''
        import chainlit as cl
        from chainlit.sync import run_sync

        @cl.on_message
        async def reply(message):
            try:
                run_sync(cl.Message(content="never").send())
            except RuntimeError as exc:
                await cl.Message(content=str(exc)).send()
    '''), encoding="utf-8")
    async with ChatTestClient(app) as client:
        await client.send("go")
        assert "`await` the coroutine" in client.messages[-1]["output"]
        assert all(m["output"] != "never" for m in client.messages)


async def test_a_chainlit_notebook_loads_without_the_alias_line(tmp_path: Path) -> None:
    notebook = {"cells": [
        {"cell_type": "code", "metadata": {}, "source": "import chainlit as cl"},
        {"cell_type": "code", "metadata": {}, "source": [
            "@cl.on_chat_start\n", "async def start():\n",
            "    await cl.Message(content='from the notebook').send()\n", "cl.chat()\n"]},
    ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "app.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8")
    async with ChatTestClient(path) as client:
        assert client.messages[-1]["output"] == "from the notebook"


def test_chainlit_server_and_utils_leave_nbchats_own_attributes_alone() -> None:
    # Served through the import system, `chainlit.server` would set `nbchat.server` (the
    # package) to the compat module: every `nbchat.server.x` attribute lookup would break.
    import nbchat.server.serve

    alias_chainlit()
    with registering_on(App("routes")) as loading:  # as while the loader runs an app
        from chainlit.server import app
        from chainlit.utils import mount_chainlit

    assert nbchat.server.__name__ == "nbchat.server"
    assert callable(nbchat.server.serve.start_server)  # the package's own submodule, again
    assert not hasattr(nbchat, "utils")
    assert callable(mount_chainlit)
    assert app is loading.asgi


def test_chainlit_server_without_fastapi_says_what_to_install(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # FastAPI is installed here (nbchat[asgi]); a None entry makes its import fail as if
    # it were not.
    monkeypatch.setitem(sys.modules, "fastapi", None)
    alias_chainlit()
    with registering_on(App("routes")) as loading, pytest.raises(
            ChainlitModuleError, match=r"pip install 'nbchat\[asgi\]'"):
        from chainlit.server import app  # noqa: F401
    assert loading.asgi is None  # nothing half made
