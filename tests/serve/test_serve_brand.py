"""The app's look on the served page (issue 16): `ui.theme`, `ui.custom_css` / `ui.custom_js`
from `public/`, logo and favicon (Chainlit's file names found), header links; the page's
content security policy still allows only this origin's scripts."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from nbchat.config import (
    Config,
    HeaderLink,
    ThemeColors,
    ThemeConfig,
    UIConfig,
    load,
    public_file,
)
from nbchat.errors import ConfigError
from nbchat.server.auth.login import CSP, login_form
from nbchat.server.public_files import brand_of
from serve.helpers import fetch
from serve.test_serve_app import PNG, Served, page_config, serve

THEME = ThemeConfig(default="dark", radius="6px", font_family="Inter, system-ui",
                    light=ThemeColors(primary="#e11d48"), dark=ThemeColors(primary="#fb7185"))


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    app_dir = tmp_path / "app"
    public = app_dir / "public"
    (public / "css").mkdir(parents=True)
    (public / "css" / "brand.css").write_text("body { outline: 1px solid red; }")
    (public / "brand.js").write_text("document.body.dataset.brand = '1';")
    (public / "logo_light.png").write_bytes(PNG)  # found like Chainlit's logo
    (public / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (public / ".env").write_text("SECRET=1")
    (tmp_path / "outside.css").write_text("x")
    (public / "escape.css").symlink_to(tmp_path / "outside.css")
    ui = UIConfig(name="Brand App", theme=THEME, custom_css="/public/css/brand.css",
                  custom_js="brand.js", header_links=(HeaderLink(name="Docs", url="/docs"),))
    async for running in serve(tmp_path, config=Config(ui=ui, app_dir=app_dir)):
        yield running


async def test_the_shell_links_the_apps_files_and_keeps_the_csp(served: Served) -> None:
    res = await fetch(served.base, headers={"X-Test-User": "ada"})
    body = res.body.decode()
    assert '<link rel="stylesheet" href="/public/css/brand.css">' in body
    assert '<link rel="icon" href="/public/favicon.svg">' in body
    assert '<script type="module" src="/public/brand.js"></script>' in body
    # the app's stylesheet and script come after nbchat's own
    assert body.index("brand.js") > body.index("page.js")
    assert "script-src 'self';" in res.headers["Content-Security-Policy"]
    brand = page_config(res.body)["brand"]
    assert isinstance(brand, dict)
    assert brand["logo"] == "/public/logo_light.png"
    assert brand["theme"]["default"] == "dark"
    assert brand["theme"]["light"]["primary"] == "#e11d48"
    assert brand["headerLinks"] == [{"name": "Docs", "url": "/docs", "icon_url": ""}]


async def test_public_files_are_served_with_their_types_and_nothing_else(served: Served) -> None:
    css = await fetch(served.base + "public/css/brand.css")
    assert css.code == 200
    assert css.headers["Content-Type"].startswith("text/css")
    assert css.headers["X-Content-Type-Options"] == "nosniff"
    js = await fetch(served.base + "public/brand.js")
    assert js.headers["Content-Type"].startswith("text/javascript")
    svg = await fetch(served.base + "public/favicon.svg")
    assert "sandbox" in svg.headers["Content-Security-Policy"]
    for path in (".env", "escape.css", "missing.css", "css/../.env", "%2e%2e/outside.css"):
        res = await fetch(served.base + "public/" + path)
        assert res.code == 404, path


def test_theme_values_and_files_are_checked_when_the_config_loads(tmp_path: Path) -> None:
    def load_yaml(text: str) -> Config:
        (tmp_path / "nbchat.yaml").write_text(text)
        return load(tmp_path, {})

    ok = load_yaml("ui:\n  theme:\n    light: {primary: 'hsl(340 92% 52%)'}\n"
                   "  header_links:\n    - {name: Docs, url: 'https://example.com/docs'}\n")
    assert ok.ui.theme.light.primary == "hsl(340 92% 52%)"
    assert ok.ui.header_links == (HeaderLink(name="Docs", url="https://example.com/docs"),)
    bad = {
        "ui:\n  theme:\n    light: {primary: 'red; color: url(x)'}\n": "ui.theme.light.primary",
        "ui:\n  custom_js: 'https://cdn.example.com/x.js'\n": "ui.custom_js",
        "ui:\n  custom_css: '../secret.css'\n": "ui.custom_css",
        "ui:\n  header_links:\n    - {name: X, url: 'javascript:x'}\n": "header_links[0].url",
        "ui:\n  header_links:\n    - {url: '/x'}\n": "missing name",
    }
    for text, named in bad.items():
        with pytest.raises(ConfigError, match=re.escape(named)):
            load_yaml(text)
    assert public_file("/public/a/b.css") == "a/b.css"
    assert load(tmp_path, {"NBCHAT_UI_HEADER_LINKS": '[{"name": "A", "url": "/a"}]'}
                ).ui.header_links[0].name == "A"


def test_the_login_page_carries_the_brand() -> None:
    brand = brand_of(UIConfig(name="Brand App", theme=THEME, logo="logo.png"), Path("/nowhere"),
                     "/app/")
    page = login_form(root="/app/", next_path="/app/", xsrf_field="", password=True,
                      providers=(), brand=brand)
    assert "<title>Brand App · Sign in</title>" in page
    assert '<p class="app">Brand App</p>' in page
    assert '<img class="light" src="/app/public/logo.png" alt="">' in page
    # the theme's colours, light and dark (the app's default scheme first)
    assert ":root{color-scheme:dark}" in page
    assert "--primary:#e11d48" in page
    assert "--primary:#fb7185" in page
    assert "--radius:6px" in page
    # images from this origin only, still no scripts at all
    assert "img-src 'self' data:" in CSP
    assert "script-src" not in CSP
