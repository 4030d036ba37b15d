"""The shared state in Redis (`server.redis_url`), for several workers and hosts.

Keys, all under `server.redis_prefix` (`P`):

    P:revoked:<cookie session id>      a signed-out session (expires with its cookie)
    P:signed-out                       channel: "<worker> <session id>" per sign-out
    P:attempts:<key>                   sorted set of failed sign-in times (the window's TTL)
    P:once:<value>                     a used OAuth state (its flow's lifetime)
    P:session:<chat session id>        JSON {"w": worker, "u": user, "t": thread}
    P:user:<user identifier>           hash: the user's chat session ids → worker
    P:worker:<worker id>               the worker's heartbeat (expires when it stops beating)

A worker beats every `BEAT_S`; its key lives `BEAT_TTL_S`, so a worker killed with -9 is
known dead within that, and its sessions stop counting against their user's cap.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis

from nbchat.cluster.state import SessionOwner, SharedState
from nbchat.errors import ConfigError
from nbchat.server.limiter import attempt_keys

log = logging.getLogger("nbchat")

BEAT_S = 1.0
BEAT_TTL_S = 4.0
MAX_CONNECTIONS = 64  # per worker
POOL_WAIT_S = 10.0  # a request waits this long for a free connection, then fails


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def new_worker_id() -> str:
    return secrets.token_hex(6)


class RedisLink:
    """One Redis client, the key prefix and this worker's id, shared by the parts."""

    def __init__(self, url: str, prefix: str, worker: str) -> None:
        self.url = url
        self.prefix = prefix
        self.worker = worker
        # A bounded pool that waits for a free connection: a burst of new chats must queue
        # for Redis, not fail with "too many connections".
        pool = aioredis.BlockingConnectionPool.from_url(
            url, max_connections=MAX_CONNECTIONS, timeout=POOL_WAIT_S)
        self.client: aioredis.Redis = aioredis.Redis(connection_pool=pool)

        self.closed = False

    def key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    async def close(self) -> None:
        self.closed = True
        await self.client.aclose(close_connection_pool=True)


class RedisRevocations:
    def __init__(self, link: RedisLink) -> None:
        self.link = link
        self.listeners: list[Callable[[str], None]] = []
        self.channel = link.key("signed-out")

    def _tell(self, session_id: str) -> None:
        for listener in list(self.listeners):
            listener(session_id)

    async def revoke(self, session_id: str, ttl: float) -> None:
        link = self.link
        await link.client.set(link.key("revoked", session_id), "1", px=max(int(ttl * 1000), 1))
        self._tell(session_id)  # here at once; the other workers through the channel
        await link.client.publish(self.channel, f"{link.worker} {session_id}")

    async def revoked(self, session_id: str) -> bool:
        return bool(await self.link.client.exists(self.link.key("revoked", session_id)))

    def heard(self, message: bytes) -> None:
        worker, _, session_id = message.decode().partition(" ")
        if worker != self.link.worker and session_id:
            self._tell(session_id)


class RedisAttempts:
    """The sign-in limiter's budgets (see nbchat.server.limiter) as sorted sets of times."""

    def __init__(self, link: RedisLink, max_failures: int = 5, per_ip: int = 50,
                 window: float = 300.0, *, clock: Callable[[], float] = time.time) -> None:
        self.link = link
        self.max_failures = max_failures
        self.per_ip = per_ip
        self.window = window
        self.clock = clock

    def _key(self, parts: tuple[str, ...]) -> str:
        return self.link.key("attempts", json.dumps(parts, separators=(",", ":")))

    async def retry_after(self, ip: str, username: str) -> float:
        now = self.clock()
        wait = 0.0
        pipe = self.link.client.pipeline(transaction=False)
        keys = [self._key(k) for k in attempt_keys(ip, username)]
        for key in keys:
            pipe.zremrangebyscore(key, "-inf", now - self.window)
            pipe.zcard(key)
            pipe.zrange(key, 0, 0, withscores=True)
        answers = await pipe.execute()
        for i, budget in enumerate((self.max_failures, self.per_ip)):
            count, oldest = answers[3 * i + 1], answers[3 * i + 2]
            if count >= budget and oldest:
                wait = max(wait, float(oldest[0][1]) + self.window - now)
        return wait

    async def failed(self, ip: str, username: str) -> None:
        now = self.clock()
        pipe = self.link.client.pipeline(transaction=False)
        for parts in attempt_keys(ip, username):
            key = self._key(parts)
            pipe.zadd(key, {f"{now!r}:{secrets.token_hex(4)}": now})
            pipe.zremrangebyscore(key, "-inf", now - self.window)
            pipe.expire(key, int(self.window) + 1)
        await pipe.execute()

    async def succeeded(self, ip: str, username: str) -> None:
        await self.link.client.delete(self._key(attempt_keys(ip, username)[0]))


class RedisOneTimeValues:
    def __init__(self, link: RedisLink) -> None:
        self.link = link

    async def first_use(self, value: str, ttl: float) -> bool:
        key = self.link.key("once", value)
        return bool(await self.link.client.set(key, "1", nx=True, px=max(int(ttl * 1000), 1)))


class RedisDirectory:
    def __init__(self, link: RedisLink) -> None:
        self.link = link
        self.worker = link.worker
        self.mine: dict[str, str | None] = {}  # this worker's sessions → user

    async def claim(self, session_id: str, user: str | None, thread_id: str) -> None:
        link = self.link
        pipe = link.client.pipeline(transaction=False)
        pipe.set(link.key("session", session_id),
                 json.dumps({"w": self.worker, "u": user, "t": thread_id}))
        if user is not None:
            pipe.hset(link.key("user", user), session_id, self.worker)
        await pipe.execute()
        self.mine[session_id] = user

    async def release(self, session_id: str, user: str | None) -> None:
        link = self.link
        pipe = link.client.pipeline(transaction=False)
        pipe.delete(link.key("session", session_id))
        if user is not None:
            pipe.hdel(link.key("user", user), session_id)
        await pipe.execute()
        self.mine.pop(session_id, None)

    async def alive(self, worker: str) -> bool:
        return worker == self.worker or bool(
            await self.link.client.exists(self.link.key("worker", worker)))

    async def owner(self, session_id: str) -> SessionOwner | None:
        raw = await self.link.client.get(self.link.key("session", session_id))
        if raw is None:
            return None
        entry: dict[str, Any] = json.loads(raw)
        worker = str(entry["w"])
        return SessionOwner(worker, entry.get("u"), str(entry["t"]),
                            alive=await self.alive(worker))

    async def count(self, user: str) -> int:
        key = self.link.key("user", user)
        entries = {_text(sid): _text(w) for sid, w in (await self.link.client.hgetall(key)).items()}
        dead = {w for w in set(entries.values()) if not await self.alive(w)}
        gone = [sid for sid, w in entries.items() if w in dead]
        if gone:  # a dead worker's sessions: no one will release them
            await self.link.client.hdel(key, *gone)
        return len(entries) - len(gone)

    async def beat(self) -> None:
        await self.link.client.set(self.link.key("worker", self.worker), "1",
                                   px=int(BEAT_TTL_S * 1000))

    async def leave(self) -> None:
        """This worker stops: its sessions and heartbeat go."""
        for session_id, user in list(self.mine.items()):
            await self.release(session_id, user)
        await self.link.client.delete(self.link.key("worker", self.worker))


class RedisSharedState(SharedState):
    """The parts over one RedisLink, a heartbeat, and the listener of the channels."""

    def __init__(self, link: RedisLink) -> None:
        self.link = link
        self.redis_directory = RedisDirectory(link)
        self.redis_revocations = RedisRevocations(link)
        super().__init__(self.redis_revocations, RedisAttempts(link), RedisOneTimeValues(link),
                         self.redis_directory, distributed=True)
        self._tasks: list[asyncio.Task[None]] = []
        self._pubsub: Any = None

    async def start(self) -> None:
        from nbchat.cluster.bus import SessionBus

        try:
            await self.link.client.ping()
        except (aioredis.ConnectionError, OSError) as exc:
            raise ConfigError(f"server.redis_url: Redis at {self.link.url} does not answer "
                              f"({exc}); start it or fix the URL") from None
        await self.redis_directory.beat()
        bus = self.bus = SessionBus(self.link, self.redis_directory)
        self._pubsub = self.link.client.pubsub()
        await self._pubsub.subscribe(self.redis_revocations.channel, bus.inbox)
        bus.start()
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._beat()), loop.create_task(self._listen())]

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(BEAT_S)  # a period, not a synchronization
            try:
                await self.redis_directory.beat()
            except (aioredis.RedisError, OSError):
                log.warning("nbchat: Redis does not answer; this worker's heartbeat stopped")

    async def _listen(self) -> None:
        revocations = self.redis_revocations.channel.encode()
        async for message in self._pubsub.listen():
            if message.get("type") != "message":
                continue
            if message["channel"] == revocations:
                self.redis_revocations.heard(message["data"])
            elif self.bus is not None:
                try:
                    self.bus.heard(message["data"])
                except Exception:  # one bad message must not stop the listener
                    log.exception("nbchat: a session bus message failed")

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.bus is not None:
            await self.bus.close()
        with contextlib.suppress(aioredis.RedisError, OSError):
            await self.redis_directory.leave()
        if self._pubsub is not None:
            await self._pubsub.aclose()
        await self.link.close()


def redis_state(url: str, prefix: str, *, worker: str | None = None) -> RedisSharedState:
    return RedisSharedState(RedisLink(url, prefix, worker or new_worker_id()))
