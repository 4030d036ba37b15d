"""The HTTP surface of nbchat: the history REST API mounted by the Jupyter extension
(nbchat.server.extension) and by `nbchat serve`. See docs/rest-api.md.

    from nbchat.server import Services, SingleUserIdentity, make_handlers
    specs = make_handlers("/", Services(layer, storage, SingleUserIdentity()))
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from types import ModuleType

from nbchat.server.auth import Identity, SingleUserIdentity, public, requires_user
from nbchat.server.routes import RouteError, make_handlers
from nbchat.server.services import Services
from nbchat.uploads.files import UploadLimits

# The auth modules moved into nbchat.server.auth; their documented paths (docs/auth.md:
# `from nbchat.server.login import auth_handlers`, …) still import, as the same module
# objects, and only when asked for (oauth pulls in PyJWT, which the extension never needs).
_MOVED = {f"{__name__}.{name}": f"{__name__}.auth.{name}"
          for name in ("cookies", "login", "oauth", "oauth_client", "oauth_providers")}


class _MovedModule(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname: str, path: object = None,
                  target: object = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in _MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        module = importlib.import_module(_MOVED[spec.name])
        spec.loader_state = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # The module ran under its new name already; importlib just gave it the alias's
        # spec, so give it back its own (reload and tracebacks use it).
        assert module.__spec__ is not None
        module.__spec__ = module.__spec__.loader_state


if not any(isinstance(finder, _MovedModule) for finder in sys.meta_path):
    sys.meta_path.append(_MovedModule())

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
