"""The App registry: lifecycle callbacks and action callbacks, registered by decorators.

Decorators register on the *current* app: the default app, or the app an `nbchat.loader`
is loading (so two loaded apps in one process stay isolated). Registering a hook again
replaces it, so re-running a notebook cell never stacks handlers, and live sessions look
the handler up on every event, so they use the new one at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import threading
from collections.abc import Callable, Hashable, Iterator
from contextvars import ContextVar
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

HOOKS = (
    "on_app_startup",
    "on_app_shutdown",
    "on_chat_start",
    "on_chat_resume",
    "on_message",
    "on_chat_end",
    "on_stop",
    "on_settings_update",
    "on_settings_edit",
    "on_feedback",
    "on_window_message",
    "set_chat_profiles",
    "set_starters",
    "set_starter_categories",
    "author_rename",
    "password_auth_callback",
    "header_auth_callback",
    "oauth_callback",
    "on_logout",
    "on_shared_thread_view",
    "on_slack_reaction_added",
    "data_layer",
    "on_mcp_connect",
    "on_mcp_disconnect",
)


class App:
    """Holds an app's callbacks. One default app backs the module-level decorators."""

    def __init__(self, name: str = "app") -> None:
        self.name = name
        self.hooks: dict[str, Callable[..., Any]] = {}
        self.actions: dict[str, Callable[..., Any]] = {}
        # The app's own HTTP routes: an ASGI app (Chainlit's `chainlit.server.app`, a
        # FastAPI app made on first use), served by `nbchat serve` after nbchat's routes.
        self.asgi: Any = None

    def register(self, hook: str, func: F) -> F:
        """Set the callback of `hook` (one of HOOKS), replacing any earlier one."""
        if hook not in HOOKS:
            raise ValueError(f"unknown hook {hook!r}; expected one of: {', '.join(HOOKS)}")
        self.hooks[hook] = func
        return func

    def register_action(self, name: str, func: F) -> F:
        """Set the callback run when an action named `name` is clicked."""
        self.actions[name] = func
        return func

    def get(self, hook: str) -> Callable[..., Any] | None:
        """The callback registered for `hook`, or None."""
        return self.hooks.get(hook)

    def clear(self) -> None:
        """Forget every callback and action callback."""
        self.hooks.clear()
        self.actions.clear()


default_app = App("default")
_loading_app: ContextVar[App | None] = ContextVar("nbchat_loading_app", default=None)


def current_app() -> App:
    """The app decorators register on right now."""
    return _loading_app.get() or default_app


@contextlib.contextmanager
def registering_on(app: App) -> Iterator[App]:
    """Make module-level decorators register on `app` while loading its code."""
    token = _loading_app.set(app)
    try:
        yield app
    finally:
        _loading_app.reset(token)


def _arity(func: Callable[..., Any]) -> int | None:
    """How many positional arguments `func` takes; None when it takes any number.
    inspect.signature costs ~25 µs and callbacks run on every message: cached."""
    try:
        return _cached_arity(func)
    except TypeError:  # an unhashable callable
        return _count_positional(func)


@functools.lru_cache(maxsize=1024)
def _cached_arity(func: Callable[..., Any]) -> int | None:
    return _count_positional(func)


def _count_positional(func: Callable[..., Any]) -> int | None:
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return None
    count = 0
    for p in params:
        if p.kind is p.VAR_POSITIONAL:
            return None
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            count += 1
    return count


async def call_user(func: Callable[..., Any], *args: Any) -> Any:
    """Call an author's callback, sync or async, passing only as many arguments as it
    declares (Chainlit apps often write `async def on_message():`)."""
    arity = _arity(func)
    if arity is not None:
        args = args[:arity]
    result = func(*args)
    if inspect.isawaitable(result):
        result = await result
    return result


def sleep(duration: float) -> Any:
    """`await cl.sleep(seconds)`: pause this callback without blocking the chat."""
    return asyncio.sleep(duration)


_cached: dict[Hashable, Any] = {}
_cached_lock = threading.Lock()


def cache(func: F) -> F:
    """Memoize `func` for the life of the process, keyed by its name and arguments (as
    Chainlit's `cl.cache`): an expensive setup (a model, an index) runs once, not per chat.
    The arguments must be hashable."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = (func.__module__, func.__qualname__, args, tuple(sorted(kwargs.items())))
        # One lock for the whole cache, as Chainlit: two chats starting at once build the
        # value once, not twice.
        with _cached_lock:
            if key not in _cached:
                _cached[key] = func(*args, **kwargs)
            return _cached[key]

    return wrapper  # type: ignore[return-value]


def _hook_decorator(hook: str) -> Callable[[F], F]:
    def decorator(func: F) -> F:
        return current_app().register(hook, func)

    decorator.__name__ = hook
    decorator.__doc__ = f"Register the `{hook}` callback on the current app (replaces any)."
    return decorator


on_app_startup = _hook_decorator("on_app_startup")
on_app_shutdown = _hook_decorator("on_app_shutdown")
on_chat_start = _hook_decorator("on_chat_start")
on_chat_resume = _hook_decorator("on_chat_resume")
on_message = _hook_decorator("on_message")
on_chat_end = _hook_decorator("on_chat_end")
on_stop = _hook_decorator("on_stop")
on_settings_update = _hook_decorator("on_settings_update")
on_settings_edit = _hook_decorator("on_settings_edit")
on_feedback = _hook_decorator("on_feedback")
# What the page embedding the chat posts to it (window.postMessage; runtime/window.py).
on_window_message = _hook_decorator("on_window_message")
set_starter_categories = _hook_decorator("set_starter_categories")
set_chat_profiles = _hook_decorator("set_chat_profiles")
set_starters = _hook_decorator("set_starters")
author_rename = _hook_decorator("author_rename")
password_auth_callback = _hook_decorator("password_auth_callback")
header_auth_callback = _hook_decorator("header_auth_callback")
oauth_callback = _hook_decorator("oauth_callback")
on_logout = _hook_decorator("on_logout")
on_shared_thread_view = _hook_decorator("on_shared_thread_view")
# MCP (docs/integrations/mcp.md): on_mcp_connect(connection, session) once a server of the
# chat is connected, on_mcp_disconnect(name, session) before it is closed.
on_mcp_connect = _hook_decorator("on_mcp_connect")
on_mcp_disconnect = _hook_decorator("on_mcp_disconnect")
# Someone added an emoji reaction in a Slack chat of the app (channels/slack.py).
on_slack_reaction_added = _hook_decorator("on_slack_reaction_added")
# A function returning the app's data layer (a BaseDataLayer); every host calls it once.
data_layer = _hook_decorator("data_layer")


def action_callback(name: str) -> Callable[[F], F]:
    """Register the callback run when the user clicks an action named `name`."""

    def decorator(func: F) -> F:
        return current_app().register_action(name, func)

    return decorator
