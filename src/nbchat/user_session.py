"""`cl.user_session`: a per-session key/value store, as in Chainlit.

Besides what the app sets, it holds `id`, `user`, `chat_profile`, `chat_settings`,
`thread_id`, `env` (the `project.user_env` values) and `client_type`. Concurrent sessions
never see each other's values.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from nbchat.runtime.context import get_session

log = logging.getLogger("nbchat")
# Most of the app's values kept with a stored chat (JSON bytes); the rest are skipped.
STORED_VALUES_MAX_BYTES = 64 * 1024
# Keys the session itself provides; never stored as or restored from app values.
BUILTIN_KEYS = frozenset({"id", "user", "chat_profile", "chat_settings", "thread_id", "env",
                          "client_type"})


class UserSession:
    """Per-chat values: `cl.user_session.get(key)` / `.set(key, value)`."""

    def get(self, key: str, default: Any = None) -> Any:
        """The value of `key` in this chat (built-in keys first), or `default`."""
        session = get_session("user_session.get")
        builtin = session.builtin_values()
        if key in builtin:
            return builtin[key]
        return session.user_data.get(key, default)

    def set(self, key: str, value: Any) -> None:
        """Keep `value` under `key` for this chat."""
        get_session("user_session.set").user_data[key] = value

    def to_dict(self) -> dict[str, Any]:
        """Every value of this chat, built-in keys included."""
        session = get_session("user_session.to_dict")
        return {**session.user_data, **session.builtin_values()}


    def create_accessor(self, key: str, default: T, *,
                        apply_fn: Callable[[T], T] | None = None) -> SessionAccessor[T]:
        """A typed handle on one key: `count = cl.user_session.create_accessor("count", 0)`,
        then `count.get()`, `count.set(5)`, `count.reset()`, and `count.apply()` (stores and
        returns `apply_fn(current value)`). Nothing is stored until one of those is called."""
        return SessionAccessor(key, default, apply_fn=apply_fn)


T = TypeVar("T")


class SessionAccessor(Generic[T]):
    """One user_session key with a default (made by `user_session.create_accessor`)."""

    def __init__(self, key: str, default: T, *,
                 apply_fn: Callable[[T], T] | None = None) -> None:
        self.key = key
        self.default = default
        self.apply_fn = apply_fn

    def get(self) -> T:
        """The value in this chat, or the default."""
        return user_session.get(self.key, self.default)  # type: ignore[no-any-return]

    def set(self, value: T) -> None:
        """Store `value` for this chat."""
        user_session.set(self.key, value)

    def reset(self) -> None:
        """Store the default again."""
        self.set(self.default)

    def apply(self) -> T:
        """Store and return `apply_fn(value)` (the value unchanged without apply_fn)."""
        value = self.get()
        if self.apply_fn is not None:
            value = self.apply_fn(value)
        self.set(value)
        return value


user_session = UserSession()


def storable_values(values: dict[str, Any]) -> dict[str, Any]:
    """The app's `cl.user_session` values a stored chat keeps (Chainlit keeps them as the
    thread's metadata): JSON values only, at most STORED_VALUES_MAX_BYTES in all. A value
    that is not JSON (a client, a model) or does not fit is skipped, with a debug log."""
    kept: dict[str, Any] = {}
    size = 2
    for key, value in values.items():
        if key in BUILTIN_KEYS or not isinstance(key, str):
            continue
        try:
            encoded = json.dumps(value, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError):
            log.debug("nbchat: user_session[%r] is not JSON; not stored with the chat", key)
            continue
        grown = size + len(json.dumps(key)) + 2 + len(encoded.encode())
        if grown > STORED_VALUES_MAX_BYTES:
            log.debug("nbchat: user_session[%r] does not fit the %d bytes stored with a chat",
                      key, STORED_VALUES_MAX_BYTES)
            continue
        kept[key] = value
        size = grown
    return kept


def thread_tags(values: dict[str, Any], chat_profile: str | None,
                auto_tag: bool) -> list[str] | None:
    """A stored chat's tags: its chat profile (when `features.auto_tag_thread`) and the
    strings of `user_session["tags"]`; None when there are none."""
    tags = [chat_profile] if auto_tag and chat_profile else []
    extra = values.get("tags")
    if isinstance(extra, list | tuple):
        tags += [t for t in extra if isinstance(t, str)]
    return list(dict.fromkeys(tags)) or None
