"""The Jupyter server extension: the history REST API under `<base_url>nbchat/api/…`.

It serves the store of the server's root folder, and, for a request with `?store=<id>`,
the store a kernel registered (nbchat.jupyter.kernel_stores), so each widget's History panel
shows the chats of its own notebook's store.

Enabled on install by `jupyter-config/jupyter_server_config.d/nbchat.json` (installed to
`etc/jupyter/…` by the wheel's shared-data), which names this module; jupyter_server
calls `_jupyter_server_extension_points`, which names the `NbchatExtension` app.

Every handler is mounted on Jupyter's own `APIHandler` (its token/cookie authentication,
XSRF and origin checks, and its authorizer), and every user Jupyter lets in acts as the
notebook owner, whose threads are stored under the user identifier "local".
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, cast

from jupyter_server.extension.application import ExtensionApp
from tornado.web import RequestHandler, authenticated

from nbchat.server.auth import Identity
from nbchat.server.base import ApiError
from nbchat.server.routes import implemented_methods, make_handlers
from nbchat.server.services import Services
from nbchat.types import User
from nbchat.uploads.files import UploadLimits

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


class NbchatExtension(ExtensionApp):
    """Mounts the API when the server starts; closes the data layer when it stops (an open
    SQLite connection's thread would otherwise keep the process from exiting)."""

    name = "nbchat"
    description = "nbchat history REST API"
    load_other_extensions = True
    services: Services | None = None

    def initialize_handlers(self) -> None:
        from nbchat.errors import ConfigError

        serverapp = self.serverapp
        assert serverapp is not None  # linked before handlers are initialized
        root = Path(serverapp.root_dir)
        try:
            self.services = services_for(root)
        except ConfigError as exc:
            self.log.error("nbchat: %s; the history API is not mounted", exc)
            return
        base_url = serverapp.base_url
        # Jupyter's ServerWebApplication.add_handlers checks each handler's auth; untyped.
        serverapp.web_app.add_handlers(  # type: ignore[no-untyped-call]
            ".*$", make_handlers(base_url, self.services))
        self.log.info("nbchat: history API at %snbchat/api (data in %s)", base_url, root)

    async def stop_extension(self) -> None:
        if self.services is not None:
            await self.services.data.close()
            if self.services.stores is not None:
                await self.services.stores.close()


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    return [{"module": "nbchat.server.extension", "app": NbchatExtension}]


def services_for(root_dir: Path) -> Services:
    """Services for a Jupyter server rooted at `root_dir`: the data layer configured by
    `<root_dir>/nbchat.yaml` / NBCHAT_DATABASE_URL (default `.nbchat/nbchat.db` there), its
blobs in the bucket of data.storage_url if set."""
    from nbchat.app import current_app
    from nbchat.config import load
    from nbchat.data import blob_storage, resolve_data_layer
    from nbchat.jupyter.kernel_stores import FOLDER, KernelStores
    from nbchat.jupyter.runtime_dir import runtime_folder
    from nbchat.uploads.tickets import StagedUploads, staging_dir

    config = load(root_dir)
    # A layer the server process's app brings (@cl.data_layer or nbchat.data._data_layer,
    # e.g. set in jupyter_server_config.py) wins over data.url.
    layer = resolve_data_layer(current_app(), config.data.url, root_dir, owner=True,
                               storage_url=config.data.storage_url)
    assert layer is not None  # enabled=True: always a layer
    return Services(layer, blob_storage(layer, root_dir), JupyterIdentity(),
                    UploadLimits.from_config(config.features.spontaneous_file_upload),
                    live_uploads=StagedUploads(staging_dir()),
                    stores=KernelStores(runtime_folder(FOLDER)))
