"""The shared state of one process, in memory: what `nbchat serve` keeps without Redis."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from nbchat.cluster.state import SessionOwner, SharedState
from nbchat.server.limiter import AttemptLimiter

LOCAL_WORKER = "local"
_MAX_ONE_TIME = 10_000  # values remembered at most (the oldest forgotten first)


class MemoryRevocations:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.listeners: list[Callable[[str], None]] = []
        self._until: dict[str, float] = {}  # session id → forget after (clock s)

    async def revoke(self, session_id: str, ttl: float) -> None:
        now = self.clock()
        self._until = {sid: end for sid, end in self._until.items() if end > now}
        self._until[session_id] = now + ttl
        for listener in list(self.listeners):
            listener(session_id)

    async def revoked(self, session_id: str) -> bool:
        end = self._until.get(session_id)
        return end is not None and end > self.clock()


class MemoryOneTimeValues:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()  # value → forget after

    async def first_use(self, value: str, ttl: float) -> bool:
        now = self.clock()
        while self._seen and next(iter(self._seen.values())) < now:
            self._seen.popitem(last=False)
        if value in self._seen:
            return False
        self._seen[value] = now + ttl
        while len(self._seen) > _MAX_ONE_TIME:
            self._seen.popitem(last=False)
        return True


class MemoryDirectory:
    def __init__(self, worker: str = LOCAL_WORKER) -> None:
        self.worker = worker
        self._sessions: dict[str, tuple[str | None, str]] = {}  # id → (user, thread)

    async def claim(self, session_id: str, user: str | None, thread_id: str) -> None:
        self._sessions[session_id] = (user, thread_id)

    async def release(self, session_id: str, user: str | None) -> None:
        self._sessions.pop(session_id, None)

    async def owner(self, session_id: str) -> SessionOwner | None:
        entry = self._sessions.get(session_id)
        if entry is None:
            return None
        return SessionOwner(self.worker, entry[0], entry[1], alive=True)

    async def count(self, user: str) -> int:
        return sum(1 for owner, _ in self._sessions.values() if owner == user)


def memory_state() -> SharedState:
    return SharedState(MemoryRevocations(), AttemptLimiter(), MemoryOneTimeValues(),
                       MemoryDirectory())
