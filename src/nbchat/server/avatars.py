"""Author avatars: `GET {root}avatars/{name}` answers `<app>/public/avatars/<name>.<ext>`.

Chainlit's lookup rules: the name must match `[A-Za-z0-9_ .-]+` (else 400); `default`
means the app's name (`ui.name`); the name is stripped, lower-cased, and spaces and dots
become `_` (so `..` can never reach the file system as a path part); the first file
`<name>.*` in `public/avatars/` is served. nbchat is stricter: only image files
(png, jpg/jpeg, webp, gif, svg) directly inside that folder (a symlink out of it is
refused), and a missing avatar is 404 rather than Chainlit's favicon: the page then shows
the author's initials. SVG is served with a sandboxing CSP, so opened on its own it runs
no script as this origin (as an `<img>` it never does).
"""

from __future__ import annotations

import re
from pathlib import Path

from tornado.web import RequestHandler

from nbchat.server.auth import public
from nbchat.server.pages import finish_json_error, security_headers

AVATAR_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
                ".webp": "image/webp", ".gif": "image/gif", ".svg": "image/svg+xml"}
_VALID_NAME = re.compile(r"[A-Za-z0-9_ .-]+")


def avatar_key(name: str, app_name: str) -> str | None:
    """The file stem Chainlit looks for, or None when the name is not allowed."""
    if not _VALID_NAME.fullmatch(name):
        return None
    if name == "default":
        name = app_name
    key = name.strip().lower().replace(" ", "_").replace(".", "_")
    return key if key and _VALID_NAME.fullmatch(key) else None


def find_avatar(folder: Path, key: str) -> Path | None:
    """`folder/<key>.<image ext>` (sorted, so the pick is stable), only if it resolves
    to a regular file inside `folder`."""
    if not folder.is_dir():
        return None
    base = folder.resolve()
    for path in sorted(folder.glob(f"{key}.*")):
        if path.stem != key or path.suffix.lower() not in AVATAR_TYPES:
            continue
        real = path.resolve()
        if real.parent == base and real.is_file():
            return real
    return None


class AvatarHandler(RequestHandler):
    """Public, like Chainlit's route: avatars are part of the app's look, not user data."""

    def initialize(self, folder: Path, app_name: str) -> None:
        self.folder = folder
        self.app_name = app_name

    def set_default_headers(self) -> None:
        security_headers(self)

    def write_error(self, status_code: int, **kwargs: object) -> None:
        finish_json_error(self, status_code,
                          "bad_avatar_name" if status_code == 400 else "not_found",
                          str(kwargs.get("message") or self._reason))

    @public
    def get(self, name: str) -> None:
        key = avatar_key(name, self.app_name)
        if key is None:
            self.send_error(400, message="An avatar name may only hold letters, digits, "
                            "'_', '-', '.' and spaces")
            return
        path = find_avatar(self.folder, key)
        if path is None:
            self.send_error(404, message=f"No avatar for {name!r} in public/avatars/")
            return
        self.set_header("Content-Type", AVATAR_TYPES[path.suffix.lower()])
        self.set_header("Cache-Control", "public, max-age=300")
        self.set_header("Content-Security-Policy",
                        "default-src 'none'; style-src 'unsafe-inline'; sandbox")
        self.finish(path.read_bytes())


AvatarSpec = tuple[str, type[AvatarHandler], dict[str, object]]


def avatar_spec(root_regex: str, app_dir: Path, app_name: str) -> AvatarSpec:
    """The route for `make_app`: `{root}avatars/{name}`."""
    return (rf"{root_regex}avatars/([^/]+)", AvatarHandler,
            {"folder": app_dir / "public" / "avatars", "app_name": app_name})
