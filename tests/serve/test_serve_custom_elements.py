"""`{root}public/elements/{Name}.js`: a custom element's code, for its sandboxed frame."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from nbchat.config import Config
from serve.helpers import fetch
from serve.test_serve_app import Served, serve

CODE = b"export default { render({ model, el }) { el.textContent = model.get('x'); } };"


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    app_dir = tmp_path / "app"
    folder = app_dir / "public" / "elements"
    folder.mkdir(parents=True)
    (folder / "Counter.js").write_bytes(CODE)
    (folder / "Old.jsx").write_text("export default function Old() { return null; }")
    (app_dir / "public" / "secret.js").write_text("outside the elements folder")
    (folder / "Escape.js").symlink_to(app_dir / "public" / "secret.js")
    async for running in serve(tmp_path, config=Config(app_dir=app_dir)):
        yield running


async def test_the_code_is_served_as_a_module_any_origin_may_import(served: Served) -> None:
    res = await fetch(served.base + "public/elements/Counter.js")
    assert res.code == 200
    assert res.body == CODE
    assert res.headers["Content-Type"].startswith("text/javascript")
    # the frame has an opaque origin ("null"): its import() is a CORS request
    assert res.headers["Access-Control-Allow-Origin"] == "*"
    assert res.headers["X-Content-Type-Options"] == "nosniff"


async def test_missing_escaping_and_jsx_files_are_404_saying_why(served: Served) -> None:
    for name in ("Nowhere", "Escape", "secret"):
        res = await fetch(served.base + f"public/elements/{name}.js")
        assert res.code == 404, name
        assert json.loads(res.body)["error"]["code"] == "not_found"
    res = await fetch(served.base + "public/elements/Old.js")
    assert "Chainlit's JSX form" in json.loads(res.body)["error"]["message"]


async def test_a_name_with_path_characters_is_refused(served: Served) -> None:
    for name in ("..%2Fsecret", "%2E%2E", "a%00b", "1x"):
        res = await fetch(served.base + f"public/elements/{name}.js")
        assert res.code == 400, name
        assert json.loads(res.body)["error"]["code"] == "bad_element_name"
