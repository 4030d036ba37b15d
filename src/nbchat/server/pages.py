"""The served page: an HTML shell that boots `page.js` from a JSON config block.

    GET {root}                   the chat (a new thread)
    GET {root}thread/{threadId}  the chat, resuming one of the user's threads
    GET {root}share/{threadId}   the read-only view of a shared thread

The shell holds `<div id="nbchat-root">`, a `<script type="application/json"
id="nbchat-page">` block (no inline JavaScript, so the page runs under a strict CSP) and
`<script type="module" src="{root}static/page.js?v=<hash>">`. docs/serving.md lists the
JSON fields; the JSON is escaped so no value can close the script element.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from tornado.web import HTTPError, RequestHandler, StaticFileHandler

from nbchat.config import Config
from nbchat.errors import ConfigError
from nbchat.server.auth import Identity, public
from nbchat.types import User

# Kept out of JSON embedded in HTML: `<` (no `</script>`), `>`, `&`, and the two line
# separators old parsers treat as newlines.
_JSON_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026",
                 0x2028: "\\u2028", 0x2029: "\\u2029"}


def json_for_html(value: object) -> str:
    """JSON text safe to place inside a `<script type="application/json">` element."""
    return json.dumps(value, ensure_ascii=False).translate(_JSON_ESCAPES)


def security_headers(handler: RequestHandler) -> None:
    """Headers every non-API response of the standalone server carries."""
    handler.set_header("X-Content-Type-Options", "nosniff")
    handler.set_header("Referrer-Policy", "same-origin")
    handler.set_header("X-Frame-Options", "SAMEORIGIN")


def finish_json_error(handler: RequestHandler, status_code: int, code: str,
                      message: str) -> None:
    """The REST API's error shape, for the page-level routes' own errors (no store)."""
    handler.set_header("Cache-Control", "no-store")
    handler.set_header("Content-Type", "application/json; charset=UTF-8")
    handler.finish(json.dumps({"error": {"code": code, "message": message},
                               "status": status_code}))


_ORIGIN = re.compile(r"^https?://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$")


def embed_origins(config: Config) -> tuple[str, ...]:
    """`server.embed_origins`, checked: each a scheme://host[:port] origin, or "*"."""
    origins = tuple(o.strip().rstrip("/") for o in config.server.embed_origins)
    for origin in origins:
        if origin != "*" and not _ORIGIN.match(origin):
            raise ConfigError(f"server.embed_origins: {origin!r} is not an origin; write "
                              "scheme and host (and a port), e.g. https://portal.example.com")
    return origins


def page_csp(ws_origin: str, frame_ancestors: tuple[str, ...] = ()) -> str:
    """Scripts only from this origin (no inline scripts); styles may be inline (the bundle
    injects its CSS; KaTeX sets style attributes); images and media also from data:/blob:.
    Framed only by this origin and `frame_ancestors` (server.embed_origins)."""
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "media-src 'self' data: blob:",
        "frame-src 'self' blob:",
        f"connect-src 'self' {ws_origin}",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        " ".join(["frame-ancestors 'self'", *frame_ancestors]),
    ])


@dataclass(frozen=True)
class Brand:
    """What the pages show of the app (nbchat.server.public_files.brand_of); URLs are absolute
    paths under the root, "" when unset."""

    name: str
    logo: str = ""
    logo_dark: str = ""
    favicon: str = ""
    custom_css: str = ""
    custom_js: str = ""
    theme: dict[str, Any] = field(default_factory=dict)
    header_links: tuple[dict[str, str], ...] = ()
    language: str = ""

    def to_page(self) -> dict[str, Any]:
        """The page JSON's `brand` (docs/serving.md)."""
        return {"logo": self.logo, "logoDark": self.logo_dark, "theme": self.theme,
                "headerLinks": list(self.header_links), "language": self.language}

    def head(self) -> str:
        """`<link>`s for the shell's head: favicon, then the app's stylesheet."""
        esc = html.escape
        links = []
        if self.favicon:
            links.append(f'<link rel="icon" href="{esc(self.favicon)}">')
        if self.custom_css:
            links.append(f'<link rel="stylesheet" href="{esc(self.custom_css)}">')
        return "\n".join(links)

    def tail(self) -> str:
        """The app's script, after nbchat's (it may wait for `#nbchat-root` to fill)."""
        return (f'<script type="module" src="{html.escape(self.custom_js)}"></script>'
                if self.custom_js else "")


@dataclass(frozen=True)
class PageContext:
    """What every page handler is given (one per application)."""

    root: str
    config: Config
    identity: Identity
    auth_enabled: bool
    embed_origins: tuple[str, ...] = ()
    brand: Brand | None = None


SHELL = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
{head}
</head>
<body>
<div id="nbchat-root"></div>
<noscript>This chat needs JavaScript.</noscript>
<script type="application/json" id="nbchat-page">{config}</script>
<script type="module" src="{script}"></script>
{tail}
</body>
</html>
"""


class StaticHandler(StaticFileHandler):
    """The built bundle; versioned URLs (`?v=<hash>`) are cached for a long time."""

    def set_default_headers(self) -> None:
        security_headers(self)


class PageHandler(RequestHandler):
    """The HTML shell for `{root}`, `{root}thread/{id}` and `{root}share/{id}`."""

    def initialize(self, context: PageContext, mode: str = "chat") -> None:
        self.context = context
        self.mode = mode

    def set_default_headers(self) -> None:
        security_headers(self)
        self.set_header("Cache-Control", "no-store")

    def ws_url(self) -> str:
        scheme = "wss" if self.request.protocol == "https" else "ws"
        return f"{scheme}://{self.request.host}{self.context.root}ws"

    def page_config(self, user: User | None, thread_id: str | None) -> dict[str, Any]:
        root = self.context.root
        return {
            "wsUrl": self.ws_url(),
            "apiUrl": f"{root}nbchat/api",
            "blobUrl": f"{root}nbchat/blobs/",
            "rootPath": root,
            "user": None if user is None else {"identifier": user.identifier,
                                               "display_name": user.display_name},
            "auth": {"enabled": self.context.auth_enabled, "logoutUrl": f"{root}logout",
                     "loginUrl": f"{root}login"},
            "threadId": thread_id,
            "mode": self.mode,
            "name": self.context.config.ui.name,
            "embedOrigins": list(self.context.embed_origins),
            "brand": self.brand.to_page(),
        }

    @property
    def brand(self) -> Brand:
        return self.context.brand or Brand(name=self.context.config.ui.name)

    @public  # anyone may load the shell; with login on, no user is sent to the login page
    async def get(self, thread_id: str | None = None) -> None:
        if thread_id is not None and (len(thread_id) > 200 or not thread_id.isprintable()):
            raise HTTPError(404)
        user = await self.context.identity.current_user(self)
        if user is None and self.context.auth_enabled:
            target = quote(self.request.uri or "/", safe="/")
            self.redirect(f"{self.context.root}login?next={target}")
            return
        self.xsrf_token  # noqa: B018  (sets the _xsrf cookie the page sends back)
        scheme = "wss" if self.request.protocol == "https" else "ws"
        embedders = self.context.embed_origins
        if embedders:  # frame-ancestors decides; X-Frame-Options cannot list origins
            self.clear_header("X-Frame-Options")
        self.set_header("Content-Security-Policy",
                        page_csp(f"{scheme}://{self.request.host}", embedders))
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.finish(SHELL.format(
            title=html.escape(self.context.config.ui.name),
            config=json_for_html(self.page_config(user, thread_id)),
            script=html.escape(self.static_url("page.js")),
            head=self.brand.head(), tail=self.brand.tail(),
        ))
