"""Which nbchat module answers each Chainlit module name: the one table of the alias.

A Chainlit module with an nbchat equivalent is served as that very module object (so
`chainlit.Message is nbchat.Message` and `cl_data._data_layer = x` sets nbchat's global).
A Chainlit module nbchat does not offer is served as a stub: importing it works, so the
error can name what the app wanted from it (`from chainlit.server import app` says `app`
and `chainlit.server`), and says what to do instead.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from types import ModuleType

DOCS = "docs/chainlit.md"


class ChainlitNameError(AttributeError):
    """A name an app reached through a `chainlit` module that nbchat does not provide.

    An AttributeError, so `hasattr(cl, name)` and `getattr(cl, name, default)` keep
    working as they do with Chainlit."""


class ChainlitModuleError(ImportError):
    """A name taken from a Chainlit module that nbchat does not offer at all (a stub).

    An ImportError, so `from chainlit.server import app` shows this message (the import
    statement would replace an AttributeError's message with its own) and
    `try: … except ImportError:` fallbacks keep working."""


def not_offered_name(module: str, name: str, offered: str) -> ChainlitModuleError:
    """The error for a name nbchat's version of a Chainlit module lacks (an ImportError,
    so `from chainlit.auth import x` shows this message, not the import statement's)."""
    return ChainlitModuleError(
        f"{name!r} from {module}: nbchat offers only {offered} there. See {DOCS}.",
        name=module)


def _context_module() -> ModuleType:
    # The module that holds `nbchat.context`, wherever the package layout puts it.
    import nbchat

    return sys.modules[type(nbchat.context).__module__]


def _user_session_module() -> ModuleType:
    import nbchat

    return sys.modules[type(nbchat.user_session).__module__]


# Chainlit name -> nbchat module path, or a function finding the module.
MAPPED: dict[str, str | Callable[[], ModuleType]] = {
    "chainlit": "nbchat",
    "chainlit.action": "nbchat.action",
    "chainlit.callbacks": "nbchat.app",
    "chainlit.chat_settings": "nbchat.chat_settings",
    "chainlit.config": "nbchat.chainlit_compat.config_view",
    "chainlit.context": _context_module,
    "chainlit.data": "nbchat.data",
    "chainlit.element": "nbchat.element",
    "chainlit.input_widget": "nbchat.input_widget",
    "chainlit.langchain.callbacks": "nbchat.integrations.langchain",
    "chainlit.cache": "nbchat.app",
    "chainlit.chat_context": "nbchat.message",
    "chainlit.mcp": "nbchat.integrations.mcp",
    "chainlit.message": "nbchat.message",
    "chainlit.sidebar": "nbchat.element",
    "chainlit.mistralai": "nbchat.integrations.mistralai",
    "chainlit.openai": "nbchat.integrations.openai",
    "chainlit.step": "nbchat.step",
    "chainlit.sync": "nbchat.sync",
    "chainlit.types": "nbchat.chainlit_compat.types_view",
    "chainlit.emitter": "nbchat.chainlit_compat.emitter_view",
    "chainlit.logger": "nbchat.chainlit_compat.logger_view",
    "chainlit.version": "nbchat",
    "chainlit.user": "nbchat.types",
    "chainlit.user_session": _user_session_module,
    "chainlit.server": "nbchat.chainlit_compat.server",
    "chainlit.auth": "nbchat.chainlit_compat.auth",
    "chainlit.utils": "nbchat.chainlit_compat.utils",
}

# Chainlit's data modules: served from nbchat.data.<same path> once nbchat has it.
DATA_SUBMODULES = (
    "base", "utils", "sql_alchemy", "dynamodb", "literalai", "chainlit_data_layer",
    "storage_clients", "storage_clients.base", "storage_clients.s3", "storage_clients.gcs",
    "storage_clients.azure", "storage_clients.azure_blob",
)
_DATA_HINT = ("nbchat stores chats itself (data.url: SQLite or PostgreSQL, see "
              "docs/persistence.md); a custom layer subclasses nbchat.data.BaseDataLayer")

# Chainlit modules nbchat does not offer, and what to do instead.
NOT_OFFERED: dict[str, str] = {
    "chainlit.cli": "run the app with `nbchat serve APP` or `nbchat chat APP`",
    "chainlit.socket": "nbchat's transport differs; use cl.context.session",
    "chainlit.session": "use cl.context.session and cl.user_session",
    "chainlit.langchain": "use cl.LangchainCallbackHandler (docs/langchain.md)",
    "chainlit.telemetry": "nbchat sends no telemetry",
    "chainlit.secret": "run `nbchat create-secret`",
    "chainlit.oauth_providers": "OAuth providers are configured as in docs/auth.md",
    "chainlit.translations": "nbchat has no translations yet",
    "chainlit.markdown": "put the readme in chainlit.md; see docs/chainlit.md",
    "chainlit.mcp": "nbchat does not support MCP",
    **{f"chainlit.{name}": "nbchat has no integration for it"
       for name in ("openai", "mistralai", "llama_index", "haystack", "semantic_kernel",
                    "langflow", "discord", "slack", "teams", "copilot", "playground")},
}


class _Stub(ModuleType):
    hint: str

    def __getattr__(self, name: str) -> object:
        if name.startswith("__"):
            raise AttributeError(name)
        raise ChainlitModuleError(
            f"{name!r} from {self.__name__}: nbchat does not offer the Chainlit module "
            f"{self.__name__} ({self.hint}). See {DOCS}.", name=self.__name__)


def stub(name: str, hint: str) -> ModuleType:
    module = _Stub(name, f"Chainlit's {name}, which nbchat does not offer: {hint}.")
    module.hint = hint
    module.__path__ = []  # a package, so e.g. chainlit.langchain.callbacks can sit under it
    return module


def is_cheap(chainlit_name: str) -> bool:
    """True when serving the name imports nothing new (it is ready to register at once)."""
    target = MAPPED.get(chainlit_name)
    if target is None:
        return chainlit_name in NOT_OFFERED
    return callable(target) or target in sys.modules


def resolve(chainlit_name: str) -> ModuleType | None:
    """The module that answers `chainlit_name`, or None when Chainlit has no such module."""
    target = MAPPED.get(chainlit_name)
    if target is not None:
        return target() if callable(target) else importlib.import_module(target)
    if chainlit_name in NOT_OFFERED:
        return stub(chainlit_name, NOT_OFFERED[chainlit_name])
    sub = chainlit_name.removeprefix("chainlit.data.")
    if sub != chainlit_name:
        nbchat_name = f"nbchat.data.{sub}"
        if importlib.util.find_spec(nbchat_name) is not None:
            return importlib.import_module(nbchat_name)
        if sub in DATA_SUBMODULES:
            return stub(chainlit_name, f"nbchat has no {nbchat_name}; {_DATA_HINT}")
    return None


def chainlit_names_of(module_name: str) -> list[str]:
    """The Chainlit names served by the nbchat module `module_name` (for error messages)."""
    return [cl for cl, mod in sys.modules.items()
            if (cl == "chainlit" or cl.startswith("chainlit."))
            and getattr(mod, "__name__", None) == module_name]
