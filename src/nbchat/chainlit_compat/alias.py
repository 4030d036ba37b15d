"""The `sys.meta_path` finder that serves `import chainlit` from nbchat (see modules.py).

Installed by the loader of `nbchat serve`, `nbchat chat` and ChatTestClient (mode from
`runtime.chainlit_alias`), or in a notebook by `nbchat.alias_chainlit()`. It acts when
`chainlit` is first imported: with `auto`, only when no real chainlit package is on the
path, so an installed Chainlit is never shadowed (the log says how to choose).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import logging
import re
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any, Literal

from nbchat.chainlit_compat import modules
from nbchat.errors import ConfigError

log = logging.getLogger("nbchat")
AliasMode = Literal["auto", "on", "off"]
SERVED = "chainlit imports are served by nbchat (see docs/chainlit.md)"
CHOOSE = ("to choose: runtime.chainlit_alias in nbchat.yaml or NBCHAT_RUNTIME_CHAINLIT_ALIAS "
          "(auto: nbchat only when chainlit is not installed; on: always nbchat; off: never)")
_logged: set[str] = set()


def _log_once(level: int, message: str) -> None:
    if message not in _logged:
        _logged.add(message)
        log.log(level, "nbchat: %s", message)


def installed_chainlit() -> str | None:
    """Where a real chainlit package is, looked up on sys.path past this finder."""
    spec = importlib.machinery.PathFinder.find_spec("chainlit")
    return None if spec is None else str(spec.origin or spec.submodule_search_locations)


class _AliasLoader(importlib.abc.Loader):
    """Hands the import system an existing module instead of a new one."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module
        self.spec: Any = None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        self.spec = self.module.__dict__.get("__spec__")
        return self.module

    def exec_module(self, module: ModuleType) -> None:
        # The import system set the alias spec on the module; an nbchat module keeps its
        # own (so importlib.reload and tracebacks still see nbchat's file).
        if self.spec is not None:
            module.__spec__ = self.spec
        if module.__name__ == "nbchat":
            _register_ready()


class ChainlitFinder(importlib.abc.MetaPathFinder):
    def __init__(self) -> None:
        self.mode: AliasMode = "auto"

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != "chainlit" and not fullname.startswith("chainlit."):
            return None
        if fullname == "chainlit":
            if not self._serve_top_level():
                return None
        elif sys.modules.get("chainlit") is not _nbchat():
            return None  # the real chainlit (or none) is in use
        module = modules.resolve(fullname)
        if module is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(module),
                                              is_package=hasattr(module, "__path__"))

    def _serve_top_level(self) -> bool:
        where = installed_chainlit()
        if where is not None and self.mode != "on":
            _log_once(logging.WARNING, f"chainlit is installed ({where}), so the app's "
                      f"chainlit imports use it, not nbchat; {CHOOSE}")
            return False
        if where is not None:
            _log_once(logging.WARNING, f"runtime.chainlit_alias is on: chainlit imports are "
                      f"served by nbchat, not by the chainlit installed at {where}")
        _log_once(logging.INFO, SERVED)
        return True


_finder = ChainlitFinder()


def _register_ready() -> None:
    """Put every alias that imports nothing new straight into sys.modules.

    Without this, importing `chainlit.context` would make the import system set
    `nbchat.context` (the context object) to the module, as it does for any submodule;
    a name already in sys.modules is returned without that."""
    for name in (*modules.MAPPED, *modules.NOT_OFFERED):
        if name not in sys.modules and modules.is_cheap(name):
            module = modules.resolve(name)
            if module is not None:
                sys.modules[name] = module
    for name in modules.MAPPED:
        module = sys.modules.get(name)
        if module is not None and _is_nbchat_module(module):
            _wrap_getattr(module)


def _is_nbchat_module(module: ModuleType) -> bool:
    """One of nbchat's own modules (not a stub, not chainlit.config, which word their own
    errors)."""
    name = module.__name__
    return name.split(".")[0] == "nbchat" and not name.startswith("nbchat.chainlit_compat")


def _wrap_getattr(module: ModuleType) -> None:
    """A missing name says it was asked for through chainlit, not an AttributeError from
    inside nbchat. Only while the alias is active (uninstall restores the original)."""
    original = module.__dict__.get("__getattr__")
    if original is not None and hasattr(original, "chainlit_wrapper"):
        return

    def __getattr__(name: str) -> Any:
        if original is not None:
            try:
                return original(name)
            except AttributeError:
                if name.startswith("__"):
                    raise
        if name.startswith("__"):
            raise AttributeError(f"module {module.__name__!r} has no attribute {name!r}")
        served = ", ".join(modules.chainlit_names_of(module.__name__)) or module.__name__
        raise _missing_name(name, served, module.__name__)

    __getattr__.chainlit_wrapper = True  # type: ignore[attr-defined]
    __getattr__.chainlit_previous = original  # type: ignore[attr-defined]
    module.__getattr__ = __getattr__  # type: ignore[method-assign]


def _missing_name(name: str, served: str, nbchat_module: str) -> modules.ChainlitNameError:
    return modules.ChainlitNameError(
        f"{name!r} from {served}: nbchat, which serves chainlit imports here, has no "
        f"{name!r} (module {nbchat_module}). See {modules.DOCS} for what nbchat offers "
        "and what differs from Chainlit.", name=name, obj=sys.modules.get(nbchat_module))


def _unwrap_getattr(module: ModuleType) -> None:
    current = module.__dict__.get("__getattr__")
    if current is None or not hasattr(current, "chainlit_wrapper"):
        return
    previous = current.chainlit_previous
    if previous is None:
        del module.__getattr__
    else:
        module.__getattr__ = previous  # type: ignore[method-assign]


def _nbchat() -> ModuleType:
    # The package imports this module (nbchat.alias_chainlit), so it is looked up when
    # needed rather than imported at module level: no import cycle (tests/test_layout.py).
    import nbchat

    return nbchat


def active() -> bool:
    """True when `chainlit` is nbchat in this process."""
    return sys.modules.get("chainlit") is _nbchat()


def install(mode: AliasMode = "auto") -> None:
    """Serve chainlit imports from nbchat from now on (per `mode`); `off` uninstalls."""
    if mode == "off":
        uninstall()
        return
    existing = sys.modules.get("chainlit")
    if mode == "on" and existing is not None and existing is not _nbchat():
        raise ConfigError(
            "runtime.chainlit_alias is on, but the real chainlit is already imported in "
            f"this process ({getattr(existing, '__file__', existing)}): turn the alias on "
            "before anything imports chainlit, or set it to auto")
    _finder.mode = mode
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)
    # So _register_ready finds them in sys.modules: imported through the alias instead,
    # `chainlit.server` would make the import system set `nbchat.server` (the package) to
    # the chainlit_compat module, as it sets a parent's attribute for any submodule.
    for ready in ("nbchat.chainlit_compat.config_view", "nbchat.sync",
                  "nbchat.chainlit_compat.server", "nbchat.chainlit_compat.utils"):
        importlib.import_module(ready)


def uninstall() -> None:
    """Remove the finder and every chainlit alias it made (tests; `off`)."""
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    _logged.clear()
    if not active():
        return
    for name in [n for n in sys.modules if n == "chainlit" or n.startswith("chainlit.")]:
        module = sys.modules.pop(name)
        if _is_nbchat_module(module):
            _unwrap_getattr(module)


_IMPORT_NAME = re.compile(r"cannot import name '([^']+)' from '([^']+)'")


def explain_import_error(exc: BaseException) -> str | None:
    """A clearer message for `from chainlit.x import missing` (the import statement
    words it as a failure of the nbchat module), or None when it is not that."""
    if not isinstance(exc, ImportError) or isinstance(exc, modules.ChainlitModuleError):
        return None
    found = _IMPORT_NAME.search(str(exc))
    if found is None or not active():
        return None
    served = modules.chainlit_names_of(found[2])
    if not served:
        return None
    return str(_missing_name(found[1], ", ".join(served), found[2]))
