"""Chainlit's `chainlit.data.utils`, for layers that import from it.

`queue_until_user_message()` is accepted and does nothing: in Chainlit it holds a layer's
writes until the chat's first user message (the thread does not exist before). nbchat's
recorder already holds every write until then, and the layer is only ever called from the
write-behind queue (nbchat.data.adapter), so the method is returned as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable[..., object])


def queue_until_user_message() -> Callable[[F], F]:
    """Chainlit's decorator for data layer writes; a no-op in nbchat (see the module doc)."""

    def decorator(method: F) -> F:
        return method

    return decorator
