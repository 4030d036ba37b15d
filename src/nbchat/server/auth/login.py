"""Login and logout pages of `nbchat serve` (served only when authentication is on).

    identity = build_cookie_identity(app, check_auth(app, os.environ), data, root=root)
    services = Services(data, storage, identity)
    specs = [*auth_handlers(root, app, services), *make_handlers(root, services),
             (root + "ws", ChatSocketHandler, {"host": host,
                                               "identify": socket_identify(identity)})]
    tornado.web.Application(specs, xsrf_cookies=True)

(`socket_identify` of nbchat.server.standalone: the WebSocket upgrade authenticates with
the same cookie, through the same Identity, and answers 401 without a user.)

`GET {root}login` shows a server-rendered form (with tornado's `_xsrf` field; one button
per configured OAuth provider). `POST {root}login` asks `password_auth_callback(username,
password)`; a User signs in: it is stored with the data layer's `create_user`, the session
cookie is set, and the browser goes to `next` when that is a path under the app's root
(never another site). Failures answer 401 with one generic message; repeated failures
answer 429 (server.limiter). `POST {root}logout` calls `on_logout(request, response)`
(the tornado request, and the handler as the response: it may set or clear cookies),
clears the session cookie and goes to the login page. Both POSTs need the XSRF token,
also when the hosting Application forgot `xsrf_cookies=True`.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, urlsplit

from tornado.web import HTTPError, RequestHandler

from nbchat.app import call_user
from nbchat.cluster import AttemptCounter
from nbchat.data import NativeDataLayer
from nbchat.server.auth import Identity, public
from nbchat.server.auth.cookies import (
    AppSource,
    CookieIdentity,
    build_cookie_identity,
    check_auth,
    create_secret,
    current,
    identity_for,
)
from nbchat.server.limiter import AttemptLimiter
from nbchat.server.pages import Brand
from nbchat.server.routes import Spec, check_auth_declared
from nbchat.server.services import Services
from nbchat.types import User

__all__ = [
    "AttemptLimiter",
    "CookieIdentity",
    "LoginHandler",
    "LogoutHandler",
    "auth_handlers",
    "build_cookie_identity",
    "check_auth",
    "create_secret",
    "identity_for",
    "login_url",
    "safe_next",
]

log = logging.getLogger("nbchat.server")

MAX_USERNAME = 256
MAX_PASSWORD = 1024
MAX_NEXT = 2048
FAILED = "Wrong username or password."
CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
_PAGE_ERRORS = {
    400: "The request was malformed.",
    403: "The form expired or came from another site. Reload the page and try again.",
    404: "Not found.",
    405: "Not allowed.",
}


def safe_next(value: str | None, root: str) -> str:
    """`value` when it is a path under `root` on this site; otherwise `root`.

    Refused: absolute URLs (`https://evil`), scheme-relative ones (`//evil`), backslashes
    (`/\\evil`, which browsers read as `//evil`), and any control, space or non-ASCII
    character (browsers drop tabs and newlines: `/\\t/evil` is `//evil`).
    """
    if not value or len(value) > MAX_NEXT:
        return root
    if "\\" in value or any(not 0x21 <= ord(c) <= 0x7E for c in value):
        return root
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or value.startswith("//"):
        return root
    return value if value.startswith(root) else root


def login_url(root: str, next_path: str | None = None) -> str:
    """The login page, coming back to `next_path` afterwards."""
    url = root + "login"
    return f"{url}?next={quote(next_path, safe='/')}" if next_path else url


# The login page's look: nbchat's colours, or the app's theme (ui.theme), light and dark.
_LOGIN_CSS = (
    ":root{--bg:#fff;--fg:#18181b;--muted:#5b5b66;--border:#e4e4e7;--primary:#4f46e5;"
    "--on-primary:#fff;--surface:#f4f4f5;--radius:12px;--font:system-ui,sans-serif;"
    "color-scheme:light dark}"
    "@media (prefers-color-scheme:dark){:root{--bg:#1e1e20;--fg:#ececef;--muted:#a6a6b0;"
    "--border:#3a3a40;--primary:#8b8ff8;--on-primary:#111118;--surface:#27272a}}"
    "body{font-family:var(--font);background:var(--bg);color:var(--fg);margin:0;"
    "min-height:100vh;display:grid;place-items:center}"
    "main{width:min(22rem,calc(100vw - 2rem));padding:2rem;border:1px solid var(--border);"
    "border-radius:calc(var(--radius) + 4px);background:var(--bg)}"
    ".brand{display:flex;flex-direction:column;align-items:center;gap:.5rem;margin-bottom:1rem}"
    ".brand img{max-height:48px;max-width:200px}.brand .dark{display:none}"
    "@media (prefers-color-scheme:dark){.brand .light.has-dark{display:none}"
    ".brand .dark{display:block}}"
    ".app{font-size:1.4rem;font-weight:650;margin:0}h1{font-size:1rem;font-weight:500;"
    "color:var(--muted);text-align:center;margin:0 0 1rem}"
    "label{display:block;margin:.9rem 0 .3rem;font-size:.9rem}"
    "input{width:100%;box-sizing:border-box;padding:.6rem .7rem;font:inherit;"
    "border:1px solid var(--border);border-radius:calc(var(--radius) - 4px);"
    "background:var(--bg);color:var(--fg)}"
    "button{margin-top:1.2rem;width:100%;padding:.65rem;font:inherit;font-weight:600;"
    "border:0;border-radius:calc(var(--radius) - 4px);background:var(--primary);"
    "color:var(--on-primary);cursor:pointer}.error{color:#c81e2a}"
    "a.oauth{display:block;margin-top:.8rem;padding:.6rem;border:1px solid var(--border);"
    "border-radius:calc(var(--radius) - 4px);text-align:center;color:inherit;"
    "text-decoration:none}a.oauth:hover{background:var(--surface)}"
)
# ui.theme token → the login page's variable (config._check_ui keeps the values plain CSS).
_LOGIN_VARS = {"background": "bg", "text": "fg", "muted": "muted", "border": "border",
               "primary": "primary", "on_primary": "on-primary", "surface": "surface"}


def _theme_css(brand: Brand | None) -> str:
    if brand is None or not brand.theme:
        return ""
    theme = brand.theme

    def block(colors: dict[str, str]) -> str:
        return ";".join(f"--{var}:{colors[key]}" for key, var in _LOGIN_VARS.items()
                        if colors.get(key))

    extra = {"radius": theme.get("radius", ""), "font": theme.get("font_family", "")}
    root = ";".join([block(theme.get("light", {})),
                     *(f"--{k}:{v}" for k, v in extra.items() if v)])
    css = f":root{{{root}}}"
    dark = block(theme.get("dark", {}))
    if dark:
        css += f"@media (prefers-color-scheme:dark){{:root{{{dark}}}}}"
    if theme.get("default") in ("light", "dark"):
        css = f":root{{color-scheme:{theme['default']}}}" + css
    return css


def render_page(title: str, body: str, brand: Brand | None = None) -> str:
    esc = html.escape
    head = ""
    if brand is not None:
        if brand.favicon:
            head += f'<link rel="icon" href="{esc(brand.favicon)}">'
        logos = ""
        if brand.logo:
            has_dark = " has-dark" if brand.logo_dark and brand.logo_dark != brand.logo else ""
            logos += f'<img class="light{has_dark}" src="{esc(brand.logo)}" alt="">'
            if has_dark:
                logos += f'<img class="dark" src="{esc(brand.logo_dark)}" alt="">'
        body = (f'<div class="brand">{logos}<p class="app">{esc(brand.name)}</p></div>'
                + body)
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{esc(brand.name + ' · ' + title if brand else title)}</title>{head}"
        f"<style>{_LOGIN_CSS}{_theme_css(brand)}</style></head>"
        f"<body><main>{body}</main></body></html>")


def login_form(*, root: str, next_path: str, xsrf_field: str, password: bool,
               providers: Sequence[str | tuple[str, str]], error: str | None = None,
               username: str = "",
               title: str = "Sign in", brand: Brand | None = None) -> str:
    esc = html.escape
    parts = [f"<h1>{esc(title)}</h1>"]
    if error:
        parts.append(f"<p class=\"error\" role=\"alert\">{esc(error)}</p>")
    if password:
        parts.append(
            f"<form method=\"post\" action=\"{esc(root)}login\">{xsrf_field}"
            f"<input type=\"hidden\" name=\"next\" value=\"{esc(next_path)}\">"
            "<label for=\"username\">Username</label>"
            f"<input id=\"username\" name=\"username\" autocomplete=\"username\" required "
            f"maxlength=\"{MAX_USERNAME}\" value=\"{esc(username)}\" autofocus>"
            "<label for=\"password\">Password</label>"
            "<input id=\"password\" name=\"password\" type=\"password\" required "
            f"maxlength=\"{MAX_PASSWORD}\" autocomplete=\"current-password\">"
            "<button type=\"submit\">Sign in</button></form>")
    # Links, not forms: CSP form-action would stop a form's redirect to the provider.
    for provider in providers:
        provider_id, label = (provider, provider) if isinstance(provider, str) else provider
        href = (f"{root}oauth/{quote(provider_id, safe='')}/login"
                f"?next={quote(next_path, safe='/')}")
        parts.append(f"<a class=\"oauth\" href=\"{esc(href)}\">Continue with {esc(label)}</a>")
    if not password and not providers:
        parts.append("<p>This app has no sign-in method the browser can use.</p>")
    return render_page(title, "".join(parts), brand)


class AuthPageHandler(RequestHandler):
    """Common ground of the login and logout pages: security headers, HTML errors, XSRF."""

    def initialize(self, app: AppSource, identity: CookieIdentity, data: NativeDataLayer | None,
                   root: str, limiter: AttemptCounter,
                   providers: tuple[str | tuple[str, str], ...],
                   brand: Brand | None = None) -> None:
        self.app = current(app)  # per request: a reloaded app's callbacks apply at once
        self.identity = identity
        self.data = data
        self.root = root
        self.limiter = limiter
        self.providers = providers
        self.brand = brand

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("X-Frame-Options", "DENY")
        self.set_header("Referrer-Policy", "same-origin")
        self.set_header("Content-Security-Policy", CSP)

    def prepare(self) -> None:
        # tornado checks it before prepare when the Application sets xsrf_cookies; these
        # pages check it in any case.
        if self.request.method == "POST" and not self.settings.get("xsrf_cookies"):
            self.check_xsrf_cookie()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        message = _PAGE_ERRORS.get(status_code, "The server failed on this request.")
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.finish(render_page("Error", f"<h1>{status_code}</h1><p>{html.escape(message)}"
                                         f"</p><p><a href=\"{html.escape(self.root)}login\">"
                                         "Sign in</a></p>", self.brand))

    def show_form(self, status: int = 200, *, next_path: str, error: str | None = None,
                  username: str = "") -> None:
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.finish(login_form(
            root=self.root, next_path=next_path, xsrf_field=self.xsrf_form_html(),
            password=self.app.get("password_auth_callback") is not None,
            providers=self.providers, error=error, username=username, brand=self.brand))


class LoginHandler(AuthPageHandler):
    @public
    async def get(self) -> None:
        next_path = safe_next(self.get_query_argument("next", None), self.root)
        if await self.identity.current_user(self) is not None:
            self.redirect(next_path)
            return
        self.show_form(next_path=next_path)

    @public
    async def post(self) -> None:
        check = self.app.get("password_auth_callback")
        if check is None:
            raise HTTPError(404)
        next_path = safe_next(self.get_body_argument("next", None), self.root)
        username = self.get_body_argument("username", "") or ""
        password = self.get_body_argument("password", "") or ""
        ip = self.request.remote_ip or "?"
        if not username or len(username) > MAX_USERNAME or len(password) > MAX_PASSWORD:
            self.show_form(401, next_path=next_path, error=FAILED)
            return
        wait = await self.limiter.retry_after(ip, username)
        if wait > 0:
            self.set_header("Retry-After", str(int(wait) + 1))
            self.show_form(429, next_path=next_path, username=username,
                           error=f"Too many failed sign-ins. Try again in {int(wait) + 1} s.")
            return
        user = await call_user(check, username, password)
        if not isinstance(user, User):
            if user is not None:
                log.error("password_auth_callback returned %s, not a User or None",
                          type(user).__name__)
            await self.limiter.failed(ip, username)
            self.show_form(401, next_path=next_path, error=FAILED, username=username)
            return
        await self.limiter.succeeded(ip, username)
        if self.data is not None:
            await self.data.create_user(user)
        self.identity.sign_in(self, user)
        self.redirect(next_path, status=303)


class LogoutHandler(AuthPageHandler):
    @public
    async def post(self) -> None:
        hook = self.app.get("on_logout")
        if hook is not None:
            try:
                await call_user(hook, self.request, self)
            except Exception:
                log.exception("on_logout failed; the session is ended anyway")
        await self.identity.sign_out(self)
        self.redirect(login_url(self.root), status=303)


def auth_handlers(root: str, app: AppSource, services: Services | None, *,
                  identity: Identity | None = None,
                  providers: Sequence[str | tuple[str, str]] = (),
                  limiter: AttemptCounter | None = None,
                  brand: Brand | None = None) -> list[Spec]:
    """URL specs of `{root}login` and `{root}logout` for a CookieIdentity: `identity`, or
    `services.identity`. It is bound to `root` and `services.data` here (with persistence
    off, `services` is None and users are not stored). `app` may be a function returning
    the current App, for a host that reloads it."""
    if identity is None and services is not None:
        identity = services.identity
    if not isinstance(identity, CookieIdentity):
        raise TypeError(f"auth_handlers needs Services whose identity is a CookieIdentity "
                        f"(build_cookie_identity), got {type(identity).__name__}")
    if not root.startswith("/") or not root.endswith("/"):
        raise ValueError(f"root must start and end with '/', got {root!r}")
    data = services.data if services is not None else None
    identity.bind(root, data)
    kwargs: dict[str, Any] = {
        "app": app, "identity": identity, "data": data, "root": root,
        "limiter": limiter or AttemptLimiter(), "providers": tuple(providers), "brand": brand}
    specs: list[Spec] = []
    for name, handler in (("login", LoginHandler), ("logout", LogoutHandler)):
        check_auth_declared(handler)
        specs.append((re.escape(root) + name, handler, kwargs))
    return specs
