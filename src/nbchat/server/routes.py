"""The REST API as tornado URL specs, written once and mounted by every host.

    specs = make_handlers(serverapp.base_url, services)   # Jupyter extension
    app = tornado.web.Application(make_handlers("/", services))

Each handler class names its route template (`path = "/threads/{thread_id}"`) under
`<base_url>nbchat/api`; every HTTP method it implements must declare its auth
(`@requires_user` or `@public`), or `make_handlers` refuses it.
"""

from __future__ import annotations

import re
from typing import Any

from tornado.web import RequestHandler

from nbchat.server.auth import Identity, declared_auth
from nbchat.server.base import ApiHandler
from nbchat.server.handlers import elements, exports, feedback, files, meta, threads
from nbchat.server.live_uploads import LiveUploadHandler
from nbchat.server.services import Services
from nbchat.uploads.tickets import UploadDesk

API_PATH = "nbchat/api"
Spec = tuple[str, type[RequestHandler], dict[str, Any]]


class RouteError(TypeError):
    """A handler cannot be mounted; the message says what to add."""


def api_root(base_url: str) -> str:
    """`/` → `/nbchat/api`; `/a%40b/` → `/a%40b/nbchat/api` (no trailing slash)."""
    return "/" + "/".join(p for p in (*base_url.split("/"), API_PATH) if p)


def resource_handlers() -> list[type[ApiHandler]]:
    return [*threads.default_handlers, *feedback.default_handlers, *files.default_handlers,
            *elements.default_handlers, *exports.default_handlers, *meta.default_handlers]


def implemented_methods(handler: type[RequestHandler]) -> list[str]:
    """HTTP methods (lower case) the handler implements beyond tornado's 405 default."""
    return [m.lower() for m in handler.SUPPORTED_METHODS
            if getattr(handler, m.lower()) is not getattr(RequestHandler, m.lower())]


def check_auth_declared(handler: type[RequestHandler]) -> None:
    undeclared = [m for m in implemented_methods(handler)
                  if declared_auth(getattr(handler, m)) is None]
    if undeclared:
        raise RouteError(
            f"{handler.__name__}.{', '.join(undeclared)} declares no auth: decorate it with "
            "@requires_user or @public from nbchat.server.auth")


def route_regex(root: str, template: str) -> str:
    parts = re.split(r"\{(\w+)\}", template)
    out = re.escape(root)
    for i, part in enumerate(parts):
        out += f"(?P<{part}>[^/]+)" if i % 2 else re.escape(part)
    return out


def live_upload_spec(base_url: str, desk: UploadDesk, identity: Identity) -> Spec:
    """`PUT <base_url>nbchat/api/uploads/{ticket}` (bytes of a live chat's upload): part
    of `make_handlers` when `services.live_uploads` is set; mounted alone by a served app
    whose persistence is off."""
    root = api_root(base_url)
    check_auth_declared(LiveUploadHandler)
    return (route_regex(root, LiveUploadHandler.path), identity.mount(LiveUploadHandler),
            {"desk": desk, "identity": identity, "api_root": root})


def make_handlers(base_url: str, services: Services) -> list[Spec]:
    """Tornado URL specs for the API under `<base_url>nbchat/api`, for `services`."""
    root = api_root(base_url)
    kwargs: dict[str, Any] = {"services": services, "api_root": root}
    specs: list[Spec] = []
    for handler in resource_handlers():
        check_auth_declared(handler)
        specs.append((route_regex(root, handler.path), services.identity.mount(handler),
                      kwargs))
    if services.live_uploads is not None:
        specs.append(live_upload_spec(base_url, services.live_uploads, services.identity))
    # Last: unknown paths under the API root get the JSON 404 too.
    check_auth_declared(meta.UnknownRouteHandler)
    specs.append((re.escape(root) + "(?:/.*)?", services.identity.mount(
        meta.UnknownRouteHandler), kwargs))
    return specs
