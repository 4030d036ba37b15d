"""The app's `public/` folder and its brand: `GET {root}public/{path}` serves the files
(stylesheets, scripts, logos, fonts, images) the page and the login page name.

Only regular files inside `<app>/public/` with a known type are served; hidden files and
symlinks leading out of the folder are 404, like a missing file. The page's content
security policy allows scripts from this origin only, so `ui.custom_js` runs, a script
from anywhere else does not. SVG is served with a sandboxing CSP (opened on its own it
runs no script as this origin).

`Brand` gathers what the page shell, the page's JSON and the login page show of the app:
its name, logo (light and dark), favicon, custom stylesheet and script, theme and header
links. Unset logo and favicon are found as Chainlit finds them: `public/logo_light.*`,
`public/logo_dark.*`, `public/favicon.*`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from tornado.web import HTTPError, RequestHandler

from nbchat.config import UIConfig, public_file
from nbchat.server.auth import public
from nbchat.server.pages import Brand, security_headers

PUBLIC_TYPES = {
    ".css": "text/css; charset=UTF-8", ".js": "text/javascript; charset=UTF-8",
    ".mjs": "text/javascript; charset=UTF-8", ".json": "application/json",
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
    ".webp": "image/webp", ".svg": "image/svg+xml", ".ico": "image/x-icon",
    ".woff2": "font/woff2", ".woff": "font/woff", ".ttf": "font/ttf", ".txt": "text/plain",
    ".pdf": "application/pdf", ".mp4": "video/mp4", ".webm": "video/webm", ".mp3": "audio/mpeg",
}
IMAGE_SUFFIXES = (".svg", ".png", ".webp", ".jpg", ".jpeg", ".gif", ".ico")


def find_public(folder: Path, relative: str) -> Path | None:
    """`folder/relative` when it is a servable regular file inside `folder`."""
    if not folder.is_dir():
        return None
    parts = relative.split("/")
    if not relative or any(not p or p.startswith(".") for p in parts):
        return None
    path = folder.joinpath(*parts)
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    base = folder.resolve()
    if base not in real.parents or not real.is_file():
        return None
    return real if real.suffix.lower() in PUBLIC_TYPES else None


def _found(folder: Path, stem: str) -> str:
    for suffix in IMAGE_SUFFIXES:
        if find_public(folder, stem + suffix):
            return stem + suffix
    return ""


def brand_of(ui: UIConfig, app_dir: Path, root: str) -> Brand:
    """The app's brand, its files as URLs under `root`."""
    folder = app_dir / "public"

    def url(relative: str) -> str:
        return f"{root}public/{relative}" if relative else ""

    logo = public_file(ui.logo) or _found(folder, "logo_light")
    return Brand(
        name=ui.name,
        logo=url(logo),
        logo_dark=url(public_file(ui.logo_dark) or _found(folder, "logo_dark") or logo),
        favicon=url(public_file(ui.favicon) or _found(folder, "favicon")),
        custom_css=url(public_file(ui.custom_css)),
        custom_js=url(public_file(ui.custom_js)),
        theme=dataclasses.asdict(ui.theme),
        header_links=tuple(dataclasses.asdict(link) for link in ui.header_links),
        language=ui.language,
    )


class PublicHandler(RequestHandler):
    """Public, like Chainlit's /public: the app's look, not user data."""

    def initialize(self, folder: Path) -> None:
        self.folder = folder

    def set_default_headers(self) -> None:
        security_headers(self)

    @public
    def get(self, relative: str) -> None:
        path = find_public(self.folder, relative)
        if path is None:
            raise HTTPError(404)
        self.set_header("Content-Type", PUBLIC_TYPES[path.suffix.lower()])
        self.set_header("Cache-Control", "public, max-age=300")
        if path.suffix.lower() == ".svg":
            self.set_header("Content-Security-Policy",
                            "default-src 'none'; style-src 'unsafe-inline'; sandbox")
        self.finish(path.read_bytes())


def public_spec(root_regex: str, app_dir: Path) -> tuple[str, type[PublicHandler], dict[str, Any]]:
    """The route for `make_app`: `{root}public/{path}`."""
    return (rf"{root_regex}public/(.+)", PublicHandler, {"folder": app_dir / "public"})
