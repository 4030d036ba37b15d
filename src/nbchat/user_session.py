"""`cl.user_session`: a per-session key/value store, as in Chainlit.

Besides what the app sets, it holds `id`, `user`, `chat_profile`, `chat_settings` and
`thread_id`. Concurrent sessions never see each other's values.
"""

from __future__ import annotations

from typing import Any

from nbchat.runtime.context import get_session


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


user_session = UserSession()
