"""A small in-process limiter of failed sign-ins, to slow password guessing.

Two budgets, both over a sliding window: failures per (client IP, username), and failures
per client IP whatever the username (slows spraying one password over many names). A
global per-username budget is deliberately absent: it would let anyone lock a victim out.
When a budget is spent, sign-ins from that key are refused (429) without asking the app's
`password_auth_callback`, until the oldest failure leaves the window. A success clears the
(IP, username) record. Memory is bounded: at most `max_keys` keys, the oldest dropped.
State is per process: this is the in-memory `AttemptCounter`; with `server.redis_url`
every worker counts in Redis instead (nbchat.cluster.redis_state).
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable


def attempt_keys(ip: str, username: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The two budgets' keys: (IP, username) and IP alone."""
    return ("user", ip, username.casefold()), ("ip", ip)


class AttemptLimiter:
    def __init__(self, max_failures: int = 5, per_ip: int = 50, window: float = 300.0, *,
                 max_keys: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures = max_failures
        self.per_ip = per_ip
        self.window = window
        self.max_keys = max_keys
        self.clock = clock
        self._failures: OrderedDict[tuple[str, ...], deque[float]] = OrderedDict()

    @staticmethod
    def _keys(ip: str, username: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return attempt_keys(ip, username)

    def _recent(self, key: tuple[str, ...], now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    async def retry_after(self, ip: str, username: str) -> float:
        """Seconds until a sign-in for (ip, username) is allowed again; 0 when it is now."""
        now = self.clock()
        wait = 0.0
        for key, budget in zip(self._keys(ip, username), (self.max_failures, self.per_ip),
                               strict=True):
            times = self._recent(key, now)
            if len(times) >= budget:
                wait = max(wait, times[0] + self.window - now)
        return wait

    async def failed(self, ip: str, username: str) -> None:
        now = self.clock()
        for key in self._keys(ip, username):
            times = self._recent(key, now)
            if key not in self._failures:
                self._failures[key] = times
            times.append(now)
            self._failures.move_to_end(key)
        while len(self._failures) > self.max_keys:
            self._failures.popitem(last=False)

    async def succeeded(self, ip: str, username: str) -> None:
        self._failures.pop(self._keys(ip, username)[0], None)
