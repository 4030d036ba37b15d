"""The session bus: a chat's socket on one worker, its session running on another.

A reconnect may land on any worker (no sticky sessions). When the session it names runs
on another live worker (the `SessionDirectory` says which), the socket's worker becomes a
*relay*: it forwards the client's frames, the hello first, to the owner, and writes the
owner's batches to the client. The owner attaches a `BusTransport` to the session as it
would a socket, so the reconnect is the one it knows: the hello's `lastSeq` gets the
replay from the session's buffer, the running reply streams on, and a later takeover (a
reconnect elsewhere) closes the old relay as it closes an old socket.

Every worker listens on one Redis channel, `P:bus:<worker>`; a message is a kind byte, a
JSON header line and a payload:

    to the owner   A attach {r, w, s, u}   E event {r, b}+frame   D detach {r}
                   G get a blob {q, w, s, u, k}
    to the relay   O output {r}+batch      C close {r, code, reason}
                   B the blob {q, ok, m, n}+bytes

Redis delivers one publisher's messages in order, and each worker publishes from one task
(`_drain`), so frames arrive in the order they were sent. The owner handles one relay's
events in order (a queue per relay). A relay checks its owner's heartbeat every `BEAT_S`;
when the owner is gone (killed), the relay tells its socket (`lost`), which resumes the
stored thread on its own worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nbchat.protocol import encode_utf8
from nbchat.protocol.client_json import split_binary
from nbchat.transports.base import Transport
from nbchat.types import User

if TYPE_CHECKING:
    from nbchat.cluster.redis_state import RedisDirectory, RedisLink
    from nbchat.runtime.hosting import ChatHost
    from nbchat.runtime.session import ChatSession

log = logging.getLogger("nbchat")

BEAT_S = 1.0  # how often a relay checks that its owner is alive
BLOB_WAIT_S = 10.0  # a blob asked of another worker: 404 when it has not come by then
# Close codes a relay's socket gets: the session went away, or its worker shuts down.
GONE = (4404, "this chat session is gone; reconnect for a new one")
SHUTDOWN = (1001, "server shutting down")


def pack(kind: bytes, header: dict[str, Any], payload: bytes = b"") -> bytes:
    return kind + json.dumps(header, separators=(",", ":")).encode() + b"\n" + payload


def unpack(data: bytes) -> tuple[bytes, dict[str, Any], bytes]:
    line, _, payload = data[1:].partition(b"\n")
    return data[:1], json.loads(line), payload


class BusTransport(Transport):
    """The owner's side: a session's batches go to the relay's worker."""

    def __init__(self, bus: SessionBus, worker: str, relay: str) -> None:
        self.bus = bus
        self.worker = worker
        self.relay = relay
        self.closed = False

    def send(self, events: list[dict[str, Any]]) -> None:
        if not self.closed:
            self.bus.post(self.worker, pack(b"O", {"r": self.relay}, encode_utf8(events)))

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        """The session let go of this relay (a takeover, the chat deleted): its socket
        closes, as a replaced local socket would."""
        if self.closed:
            return
        self.closed = True
        self.bus.remote.pop(self.relay, None)
        self.bus.post(self.worker, pack(b"C", {"r": self.relay, "code": code, "reason": reason}))


@dataclass
class Relay:
    """The relay's side of one socket: where its frames go, and its callbacks."""

    bus: SessionBus
    id: str
    owner: str  # the owning worker
    session_id: str
    thread_id: str
    deliver: Callable[[bytes], None]  # a batch for the socket (encoded JSON)
    closed: Callable[[int | None, str | None], None]  # the owner let go: close the socket
    lost: Callable[[Relay], None]  # the owner died: resume the thread here

    def forward(self, frame: str | bytes) -> None:
        binary = isinstance(frame, bytes)
        payload = frame if isinstance(frame, bytes) else frame.encode()
        self.bus.post(self.owner, pack(b"E", {"r": self.id, "b": binary}, payload))

    def detach(self) -> None:
        """The socket closed: the owner's session waits for a reconnect."""
        if self.bus.relays.pop(self.id, None) is not None:
            self.bus.post(self.owner, pack(b"D", {"r": self.id}))


class _Remote:
    """The owner's side of one relay: its session, transport and event queue."""

    def __init__(self, session: ChatSession, transport: BusTransport) -> None:
        self.session = session
        self.transport = transport
        self.queue: asyncio.Queue[tuple[bytes, dict[str, Any], bytes]] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None


class SessionBus:
    def __init__(self, link: RedisLink, directory: RedisDirectory) -> None:
        self.link = link
        self.directory = directory
        self.worker = link.worker
        self.inbox = self.channel(link.worker)
        self.host: ChatHost | None = None
        self.relays: dict[str, Relay] = {}  # sockets here whose session runs elsewhere
        self.remote: dict[str, BusTransport] = {}  # sessions here with a socket elsewhere
        self._remotes: dict[str, _Remote] = {}
        self._outbox: list[tuple[str, bytes]] = []
        self._blobs: dict[str, asyncio.Future[tuple[bytes, str, str | None] | None]] = {}
        self._fetching: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def channel(self, worker: str) -> str:
        return self.link.key("bus", worker)

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._drain()), loop.create_task(self._watch())]

    def serve(self, host: ChatHost) -> None:
        """Attach relayed sockets to `host`'s sessions from now on."""
        self.host = host

    # -- sending ---------------------------------------------------------------------------

    def post(self, worker: str, data: bytes) -> None:
        self._outbox.append((self.channel(worker), data))
        self._wake.set()

    async def _drain(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self.flush()

    async def flush(self) -> None:
        while self._outbox:
            batch, self._outbox = self._outbox, []
            pipe = self.link.client.pipeline(transaction=False)
            for channel, data in batch:
                pipe.publish(channel, data)
            await pipe.execute()

    # -- the relay's side ------------------------------------------------------------------

    async def locate(self, session_id: str, user: User | None) -> tuple[str, str, bool] | None:
        """(owning worker, thread id, alive) of a session of `user` on another worker;
        None when it is unknown, here, or another user's."""
        owner = await self.directory.owner(session_id)
        identifier = user.identifier if user is not None else None
        if owner is None or owner.worker == self.worker or owner.user != identifier:
            return None
        return owner.worker, owner.thread_id, owner.alive

    def relay(self, owner: str, session_id: str, thread_id: str, user: User | None, *,
              deliver: Callable[[bytes], None],
              closed: Callable[[int | None, str | None], None],
              lost: Callable[[Relay], None]) -> Relay:
        relay = Relay(self, secrets.token_hex(8), owner, session_id, thread_id, deliver,
                      closed, lost)
        self.relays[relay.id] = relay
        self.post(owner, pack(b"A", {"r": relay.id, "w": self.worker, "s": session_id,
                                     "u": user.identifier if user is not None else None}))
        return relay

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(BEAT_S)  # a period of checks, not a synchronization
            owners = {r.owner for r in self.relays.values()}
            for owner in owners:
                if await self.directory.alive(owner):
                    continue
                for relay in [r for r in self.relays.values() if r.owner == owner]:
                    self.relays.pop(relay.id, None)
                    log.warning("nbchat: worker %s stopped beating; resuming its chat %s here",
                                owner, relay.session_id)
                    relay.lost(relay)

    # -- blobs of a session on another worker ---------------------------------------------

    async def fetch_blob(self, session_id: str, user: User, key: str
                         ) -> tuple[bytes, str, str | None] | None:
        """(bytes, type, name) of a live element or upload of `user`'s session running on
        another worker; None when it is not there, not theirs, or does not answer."""
        found = await self.locate(session_id, user)
        if found is None or not found[2]:
            return None
        request = secrets.token_hex(8)
        future = self._blobs[request] = asyncio.get_running_loop().create_future()
        self.post(found[0], pack(b"G", {"q": request, "w": self.worker, "s": session_id,
                                        "u": user.identifier, "k": key}))
        try:
            return await asyncio.wait_for(future, BLOB_WAIT_S)
        except TimeoutError:
            return None
        finally:
            self._blobs.pop(request, None)

    async def _send_blob(self, header: dict[str, Any]) -> None:
        user = header.get("u")
        session = None if self.host is None or not isinstance(user, str) else self.host.find(
            str(header["s"]), User(identifier=user))
        blob = None if session is None else await session.read_named_blob(str(header["k"]))
        reply: dict[str, Any] = {"q": header["q"], "ok": blob is not None}
        if blob is not None:
            reply.update(m=blob[1], n=blob[2])
        self.post(str(header["w"]), pack(b"B", reply, blob[0] if blob is not None else b""))

    def _blob_arrived(self, header: dict[str, Any], payload: bytes) -> None:
        future = self._blobs.get(str(header["q"]))
        if future is not None and not future.done():
            future.set_result((payload, str(header["m"]), header.get("n"))
                              if header.get("ok") else None)

    # -- receiving -------------------------------------------------------------------------

    def heard(self, data: bytes) -> None:
        kind, header, payload = unpack(data)
        if kind == b"G":
            task = asyncio.get_running_loop().create_task(self._send_blob(header))
            self._fetching.add(task)
            task.add_done_callback(self._fetching.discard)
            return
        if kind == b"B":
            self._blob_arrived(header, payload)
            return
        relay_id = str(header["r"])
        if kind == b"O":
            relay = self.relays.get(relay_id)
            if relay is not None:
                relay.deliver(payload)
        elif kind == b"C":
            relay = self.relays.pop(relay_id, None)
            if relay is not None:
                relay.closed(header.get("code"), header.get("reason"))
        elif kind == b"A":
            self._attach(relay_id, header)
        else:  # E, D: in order, after the relay's earlier events
            remote = self._remotes.get(relay_id)
            if remote is not None:
                remote.queue.put_nowait((kind, header, payload))

    def _attach(self, relay_id: str, header: dict[str, Any]) -> None:
        worker, user = str(header["w"]), header.get("u")
        host = self.host
        session = None if host is None else host.find(
            str(header["s"]), User(identifier=user) if isinstance(user, str) else None)
        if host is None or session is None:
            self.post(worker, pack(b"C", {"r": relay_id, "code": GONE[0], "reason": GONE[1]}))
            return
        transport = BusTransport(self, worker, relay_id)
        remote = _Remote(session, transport)
        self._remotes[relay_id] = remote
        self.remote[relay_id] = transport
        host.connected(session)
        session.attach(transport)
        remote.task = asyncio.get_running_loop().create_task(self._serve(relay_id, remote))

    async def _serve(self, relay_id: str, remote: _Remote) -> None:
        session = remote.session
        try:
            while True:
                kind, header, payload = await remote.queue.get()
                if kind == b"D":
                    if session.detach(remote.transport) and self.host is not None:
                        self.host.disconnected(session)
                    remote.transport.closed = True
                    return
                if remote.transport.closed or session.closed:
                    continue  # taken over or ended: the relay is told to close
                try:
                    if header.get("b"):
                        event, buffers = split_binary(payload)
                        await session.receive(event, buffers)
                    else:
                        await session.receive(payload.decode())
                except Exception:
                    log.exception("nbchat: a relayed event failed")
        finally:
            self._remotes.pop(relay_id, None)
            self.remote.pop(relay_id, None)

    async def close(self) -> None:
        """Shutting down: relayed sockets of this worker's sessions are closed (their
        clients reconnect), and what is still to send is sent."""
        for transport in list(self.remote.values()):
            transport.close(*SHUTDOWN)
        for task in self._tasks:
            task.cancel()
        for remote in list(self._remotes.values()):
            if remote.task is not None:
                remote.task.cancel()
        for task in [*self._tasks, *(r.task for r in self._remotes.values() if r.task)]:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        with contextlib.suppress(Exception):
            await self.flush()
