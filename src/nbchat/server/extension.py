"""The Jupyter server extension: the history REST API under `<base_url>nbchat/api/…`.

Enabled on install by `jupyter-config/jupyter_server_config.d/nbchat.json` (installed to
`etc/jupyter/…` by the wheel's shared-data), which names this module; jupyter_server
calls `_jupyter_server_extension_points` and then `_load_jupyter_server_extension`.

Every handler is mounted on Jupyter's own `APIHandler` (its token/cookie authentication,
XSRF and origin checks, and its authorizer), and every user Jupyter lets in acts as the
notebook owner, whose threads are stored under the user identifier "local".
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, cast

from tornado.web import RequestHandler, authenticated

from nbchat.server.auth import Identity
from nbchat.server.base import ApiError
from nbchat.server.routes import implemented_methods, make_handlers
from nbchat.server.services import Services, UploadLimits
from nbchat.types import User

LOCAL_USER = "local"
AUTH_RESOURCE = "nbchat"
_ACTIONS = {"GET": "read", "HEAD": "read", "OPTIONS": "read"}


class JupyterIdentity(Identity):
    """Jupyter authenticates the request; the nbchat user is the local notebook owner."""

    def __init__(self, identifier: str = LOCAL_USER) -> None:
        self.identifier = identifier

    async def current_user(self, handler: RequestHandler) -> User | None:
        jupyter_user = handler.current_user
        if not jupyter_user:
            return None
        authorizer = handler.settings.get("authorizer")
        if authorizer is not None:
            action = _ACTIONS.get(handler.request.method or "", "write")
            allowed = authorizer.is_authorized(handler, jupyter_user, action, AUTH_RESOURCE)
            if inspect.isawaitable(allowed):
                allowed = await allowed
            if not allowed:
                raise ApiError(403, f"Jupyter's authorizer does not allow {action} on "
                                    f"{AUTH_RESOURCE!r} for this user")
        return User(identifier=self.identifier,
                    display_name=getattr(jupyter_user, "display_name", None))

    def mount(self, handler: type[RequestHandler]) -> type[RequestHandler]:
        from jupyter_server.base.handlers import APIHandler

        # @web.authenticated on each method: what Jupyter checks at registration, and a
        # second guard behind APIHandler.prepare's own authentication.
        wrapped: dict[str, Any] = {m: authenticated(getattr(handler, m))
                                   for m in implemented_methods(handler)}
        return cast(type[RequestHandler],
                    type(handler.__name__, (handler, APIHandler), wrapped))


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "nbchat.server.extension"}]


def services_for(root_dir: Path) -> Services:
    """Services for a Jupyter server rooted at `root_dir`: the data layer configured by
    `<root_dir>/nbchat.yaml` / NBCHAT_DATABASE_URL (default `.nbchat/nbchat.db` there)."""
    from nbchat.config import load
    from nbchat.data import FILES_DIR, LocalStorage, QueuedDataLayer, make_data_layer

    config = load(root_dir)
    layer = make_data_layer(config.data.url, root_dir)
    storage = layer.storage if isinstance(layer, QueuedDataLayer) else None
    return Services(layer, storage or LocalStorage(root_dir / FILES_DIR), JupyterIdentity(),
                    UploadLimits.from_config(config.features.spontaneous_file_upload))


def _load_jupyter_server_extension(serverapp: Any) -> None:
    from nbchat.errors import ConfigError

    root = Path(serverapp.root_dir)
    try:
        services = services_for(root)
    except ConfigError as exc:
        serverapp.log.error("nbchat: %s; the history API is not mounted", exc)
        return
    specs = make_handlers(serverapp.base_url, services)
    serverapp.web_app.add_handlers(".*$", specs)
    serverapp.log.info("nbchat: history API at %snbchat/api (data in %s)",
                       serverapp.base_url, root)
