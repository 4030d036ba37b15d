"""`chainlit.emitter` served by nbchat: `get_emitter()` is the current chat's
`cl.context.emitter` (toasts, commands, modes), from a callback or a thread it started."""

from __future__ import annotations

from nbchat.runtime.context import AuthorEmitter, context

# Chainlit's class name, for annotations and isinstance checks in apps.
ChainlitEmitter = AuthorEmitter


def get_emitter() -> AuthorEmitter:
    """The current chat's emitter (ContextError outside a chat, as `cl.context.emitter`)."""
    return context.emitter


__all__ = ["ChainlitEmitter", "get_emitter"]
