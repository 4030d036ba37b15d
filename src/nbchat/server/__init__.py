"""The HTTP surface of nbchat: the history REST API mounted by the Jupyter extension
(nbchat.server.extension) and by `nbchat serve`. See docs/rest-api.md.

    from nbchat.server import Services, SingleUserIdentity, make_handlers
    specs = make_handlers("/", Services(layer, storage, SingleUserIdentity()))
"""

from __future__ import annotations

from nbchat.files import UploadLimits
from nbchat.server.auth import Identity, SingleUserIdentity, public, requires_user
from nbchat.server.routes import RouteError, make_handlers
from nbchat.server.services import Services

__all__ = [
    "Identity",
    "RouteError",
    "Services",
    "SingleUserIdentity",
    "UploadLimits",
    "make_handlers",
    "public",
    "requires_user",
]
