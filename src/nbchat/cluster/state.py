"""The interfaces of the shared state, the bundle of them, and the choice of kind.

Each interface has two implementations with one contract (tests/cluster run it against
both): in memory (`memory.py`), the state of one process, and in Redis (`redis_state.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from nbchat.cluster.bus import SessionBus


class Revocations(Protocol):
    """Signed-out cookie sessions (by session id), until their cookie would expire."""

    # Called on every worker with each session id signed out anywhere (closes its sockets).
    listeners: list[Callable[[str], None]]

    async def revoke(self, session_id: str, ttl: float) -> None:
        """Sign `session_id` out for the next `ttl` seconds and tell every listener."""

    async def revoked(self, session_id: str) -> bool: ...


class AttemptCounter(Protocol):
    """Failed sign-ins per (IP, username) and per IP (nbchat.server.limiter)."""

    async def retry_after(self, ip: str, username: str) -> float:
        """Seconds until a sign-in for (ip, username) is allowed again; 0 when it is now."""

    async def failed(self, ip: str, username: str) -> None: ...

    async def succeeded(self, ip: str, username: str) -> None: ...


class OneTimeValues(Protocol):
    """Values that may be used once (OAuth `state`)."""

    async def first_use(self, value: str, ttl: float) -> bool:
        """True the first time `value` is seen in `ttl` seconds; records it."""


@dataclass(frozen=True)
class SessionOwner:
    worker: str
    user: str | None
    thread_id: str
    alive: bool  # the owning worker still beats (a dead one's sessions are gone)


class SessionDirectory(Protocol):
    """Which worker runs each live chat session."""

    worker: str  # this process's worker id

    async def claim(self, session_id: str, user: str | None, thread_id: str) -> None:
        """This worker runs `session_id` (of `user`, in `thread_id`) from now on."""

    async def release(self, session_id: str, user: str | None) -> None:
        """The session is closed."""

    async def owner(self, session_id: str) -> SessionOwner | None: ...

    async def count(self, user: str) -> int:
        """Live sessions of `user` on live workers."""


@dataclass
class SharedState:
    """One of each interface; `distributed` when other processes see the same state."""

    revocations: Revocations
    attempts: AttemptCounter
    oauth_states: OneTimeValues
    directory: SessionDirectory
    distributed: bool = False
    # Relays sockets to sessions on other workers (Redis only; nbchat.cluster.bus).
    bus: SessionBus | None = None

    async def start(self) -> None:
        """Connect (Redis: check that it answers, start the heartbeat and listeners)."""

    async def close(self) -> None:
        """Stop the heartbeat and listeners, drop this worker's sessions, disconnect."""
