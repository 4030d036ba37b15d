"""`{root}avatars/{name}`: Chainlit's lookup in `<app>/public/avatars/`, images only."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from nbchat.config import Config, UIConfig
from serve.helpers import fetch
from serve.test_serve_app import PNG, Served, serve

SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    app_dir = tmp_path / "app"
    folder = app_dir / "public" / "avatars"
    folder.mkdir(parents=True)
    (folder / "tool_bot.png").write_bytes(PNG)
    (folder / "my_app.svg").write_bytes(SVG)
    (folder / "notes.txt").write_text("not an image")
    (app_dir / "public" / "secret.png").write_bytes(b"outside the avatars folder")
    (folder / "escape.png").symlink_to(app_dir / "public" / "secret.png")
    config = Config(ui=UIConfig(name="My App"), app_dir=app_dir)
    async for running in serve(tmp_path, config=config):
        yield running


async def test_an_author_name_is_normalised_like_chainlit(served: Served) -> None:
    res = await fetch(served.base + "avatars/Tool%20Bot")  # strip, lower, space → _
    assert res.code == 200
    assert res.headers["Content-Type"] == "image/png"
    assert res.body == PNG
    assert res.headers["X-Content-Type-Options"] == "nosniff"


async def test_default_is_the_app_name_and_svg_is_sandboxed(served: Served) -> None:
    res = await fetch(served.base + "avatars/default")
    assert res.code == 200
    assert res.headers["Content-Type"] == "image/svg+xml"
    assert "sandbox" in res.headers["Content-Security-Policy"]
    assert "default-src 'none'" in res.headers["Content-Security-Policy"]


async def test_missing_non_image_and_escaping_files_are_404(served: Served) -> None:
    for name in ("nobody", "notes", "escape", "secret"):
        res = await fetch(served.base + f"avatars/{name}")
        assert res.code == 404, name
        assert json.loads(res.body)["error"]["code"] == "not_found"


async def test_a_name_with_path_characters_is_400(served: Served) -> None:
    for name in ("..%2Fsecret", "a%5Cb", "x%00y", "%2E%2E"):
        res = await fetch(served.base + f"avatars/{name}")
        # ".." normalises to "__" (no file); anything with / \ or NUL is refused
        assert res.code in (400, 404), name
        body = json.loads(res.body)
        assert body["error"]["code"] == ("bad_avatar_name" if res.code == 400 else "not_found")
    res = await fetch(served.base + "avatars/..%2Fsecret")
    assert res.code == 400
