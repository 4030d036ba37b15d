"""The write-behind queue shared by every SQL backend.

Why: a streamed reply updates its step many times a second and a tool-heavy run creates
dozens of steps; one transaction per call would make the database the bottleneck (and, on
SQLite, hold the single write lock most of the time). Instead, writes land in a `Batch`
in memory and one writer commits the whole batch in one transaction, a few statements per
table (each backend's `_write`: executemany on SQLite; unnest arrays, or COPY into a
staging table for big step batches, on PostgreSQL):

* a batch is committed `interval` seconds (default 20 ms) after its first write, or as
  soon as it holds `max_batch` operations, whichever is first;
* several writes to the same step (create then updates) coalesce into one row;
* only one batch is ever being applied (the writer lock), so writes commit in call order;
* `flush()` commits everything queued so far and returns once it is on disk; reads call
  it first, so they see every write made before them (cheap when nothing is pending);
* `barrier(fn)` flushes and then runs `fn` under the writer lock: deletes use it so a
  queued create can never be committed after, and resurrect, what was deleted;
* a failed batch is retried one operation at a time, so one bad row cannot drop the
  others; failures are logged, and re-raised to whoever waits for that write (durable);
* an outage (the database cannot be reached: `is_outage(exc)`) drops nothing that was
  queued without waiting: the batch goes back ahead of newer writes and the writer retries
  it with a growing pause until the database is back (`down` meanwhile, for /health). A
  durable write caught in the outage is taken out and its caller gets
  StoreUnavailableError, so it is never stored after its caller was told it was not.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from nbchat.data.validation import StoreUnavailableError, WriteFailedError
from nbchat.types import ElementDict, FeedbackDict, StepDict

log = logging.getLogger("nbchat.data")
T = TypeVar("T")
Key = tuple[str, str]  # ("step" | "thread" | "element" | "feedback", id)
# The writer's pause between retries while the database is down: doubling up to the most.
RETRY_FIRST = 0.25
RETRY_MOST = 5.0


class _Outage(Exception):
    """Raised out of a commit when the database cannot be reached (the cause chained)."""


@dataclass
class ThreadPatch:
    """A coalesced update_thread: None means 'leave as is'; metadata is merged key by key."""

    id: str
    name: str | None = None
    user_id: str | None = None
    tags: list[str] | None = None
    metadata: dict[str, Any] | None = None

    def merge(self, other: ThreadPatch) -> None:
        self.name = other.name if other.name is not None else self.name
        self.user_id = other.user_id if other.user_id is not None else self.user_id
        self.tags = other.tags if other.tags is not None else self.tags
        if other.metadata is not None:
            self.metadata = {**(self.metadata or {}), **other.metadata}


@dataclass
class Batch:
    """Operations committed together. Dicts keep insertion order and coalesce by id."""

    threads: dict[str, ThreadPatch] = field(default_factory=dict)
    steps: dict[str, StepDict] = field(default_factory=dict)
    elements: dict[str, ElementDict] = field(default_factory=dict)
    feedback: dict[str, FeedbackDict] = field(default_factory=dict)  # keyed by forId
    errors: dict[Key, BaseException] = field(default_factory=dict)
    # Set when an outage stopped this batch's commit: it is queued again, unapplied.
    outage: BaseException | None = None
    # Set when this batch was merged into an older one queued again after an outage.
    merged_into: Batch | None = None

    def __len__(self) -> int:
        return len(self.threads) + len(self.steps) + len(self.elements) + len(self.feedback)

    def absorb(self, newer: Batch) -> None:
        """Add the operations of a batch queued after this one (newer values win)."""
        for key, patch in newer.threads.items():
            if key in self.threads:
                self.threads[key].merge(patch)
            else:
                self.threads[key] = patch
        self.steps.update(newer.steps)
        self.elements.update(newer.elements)
        self.feedback.update(newer.feedback)
        newer.merged_into = self

    def current(self) -> Batch:
        """The batch this one's operations are in now (itself, or the older batch it was
        merged into when that was queued again after an outage)."""
        batch = self
        while batch.merged_into is not None:
            batch = batch.merged_into
        return batch

    def discard(self, key: Key) -> None:
        tables: dict[str, dict[str, Any]] = {
            "thread": self.threads, "step": self.steps,
            "element": self.elements, "feedback": self.feedback}
        tables[key[0]].pop(key[1], None)

    def singles(self) -> list[tuple[Key, Batch]]:
        """One batch per operation, in apply order, for retrying a failed batch."""
        out: list[tuple[Key, Batch]] = []
        out += [(("thread", k), Batch(threads={k: v})) for k, v in self.threads.items()]
        out += [(("step", k), Batch(steps={k: v})) for k, v in self.steps.items()]
        out += [(("element", k), Batch(elements={k: v})) for k, v in self.elements.items()]
        out += [(("feedback", k), Batch(feedback={k: v})) for k, v in self.feedback.items()]
        return out


class WriteBehindQueue:
    """Collects writes and commits them through `apply(batch)` from a single writer task.

    `apply` must run the whole batch in one transaction and raise (after rolling back)
    on failure. The queue binds to the event loop that first uses it.
    """

    def __init__(
        self,
        apply: Callable[[Batch], Awaitable[None]],
        *,
        interval: float = 0.02,
        max_batch: int = 2000,
        is_outage: Callable[[BaseException], bool] = lambda exc: False,
    ) -> None:
        self._apply = apply
        self._is_outage = is_outage
        self.down: BaseException | None = None  # the outage's error while it lasts
        self._retry_pause = RETRY_FIRST
        self.interval = interval
        self.max_batch = max_batch
        self.pending = Batch()
        self.inflight: Batch | None = None  # being committed; still visible to lookups
        self._lock: asyncio.Lock | None = None
        self._wake: asyncio.Event | None = None
        self._full: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.failed_writes = 0  # count of operations dropped after a failed retry

    # -- enqueue ---------------------------------------------------------------------------

    def put_thread(self, patch: ThreadPatch) -> Batch:
        current = self.pending.threads.get(patch.id)
        if current is None:
            self.pending.threads[patch.id] = patch
        else:
            current.merge(patch)
        return self._queued()

    def put_step(self, step: StepDict) -> Batch:
        self.pending.steps[step["id"]] = step
        return self._queued()

    def put_element(self, element: ElementDict) -> Batch:
        self.pending.elements[element["id"]] = element
        return self._queued()

    def put_feedback(self, feedback: FeedbackDict) -> Batch:
        self.pending.feedback[feedback["forId"]] = feedback
        return self._queued()

    def find_step(self, step_id: str) -> StepDict | None:
        """The newest queued (or being committed) version of a step, if any."""
        found = self.pending.steps.get(step_id)
        if found is None and self.inflight is not None:
            found = self.inflight.steps.get(step_id)
        return found

    def find_feedback(self, for_id: str) -> FeedbackDict | None:
        found = self.pending.feedback.get(for_id)
        if found is None and self.inflight is not None:
            found = self.inflight.feedback.get(for_id)
        return found

    @property
    def dirty(self) -> bool:
        return len(self.pending) > 0 or self.inflight is not None

    def _queued(self) -> Batch:
        if self._closed:
            raise WriteFailedError("the data layer is closed; open a new one to write again")
        self._ensure_writer()
        assert self._wake is not None
        assert self._full is not None
        self._wake.set()
        if len(self.pending) >= self.max_batch:
            self._full.set()
        return self.pending

    # -- the writer --------------------------------------------------------------------------

    def _ensure_writer(self) -> None:
        if self._task is None or self._task.done():
            self._lock = self._lock or asyncio.Lock()
            self._wake = asyncio.Event()
            self._full = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="nbchat-data-writer"
            )

    async def _run(self) -> None:
        assert self._wake is not None
        assert self._full is not None
        while True:
            await self._wake.wait()
            if not self._full.is_set():
                # The batching window: more writes join this batch until it elapses.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._full.wait(), self.interval)
            # Failures are logged in _commit; durable callers see them on their own batch.
            await self._shielded(self._drain)
            if self.down is not None:  # the batch is queued again: retry after a pause
                await asyncio.sleep(self._retry_pause)
                self._retry_pause = min(self._retry_pause * 2, RETRY_MOST)
                self._wake.set()

    def _get_lock(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    async def flush(self) -> None:
        """Commit everything queued before this call; raise if some of it failed."""
        failures = await self._shielded(self._drain)
        if self.down is not None:
            raise StoreUnavailableError(
                f"the database is unavailable ({self.down}); {len(self.pending)} queued "
                "write(s) are kept and retried until it is back") from self.down
        if failures:
            raise WriteFailedError(
                f"{len(failures)} queued write(s) were not stored: {failures[0]}"
            ) from failures[0]

    async def durable(self, batch: Batch, key: Key) -> None:
        """Return once the write `key` queued in `batch` is committed; raise if it failed.

        Durable writes made together share commits (group commit): a caller whose batch
        was committed by someone else while it waited for the lock returns at once, instead
        of committing whatever other sessions queued since. (Under the lock nothing is in
        flight: `batch` is either still pending or committed.)"""

        outage: list[BaseException] = []

        async def commit() -> list[BaseException]:
            failures = await self._drain() if batch.current() is self.pending else []
            holder = batch.current()
            if key in holder.errors:
                batch.errors[key] = holder.errors[key]
            if holder.outage is not None:
                # Queued again for the retry: take this write out (under the lock, so no
                # retry can store it) and tell its caller.
                holder.discard(key)
                outage.append(holder.outage)
            return failures

        await self._shielded(commit)
        if outage:
            raise StoreUnavailableError(
                f"could not store {key[0]} {key[1]}: the database is unavailable "
                f"({outage[0]})") from outage[0]
        if key in batch.errors:
            raise WriteFailedError(f"could not store {key[0]} {key[1]}") from batch.errors[key]

    async def barrier(self, fn: Callable[[], Awaitable[T]]) -> T:
        """Flush, then run `fn` while no batch can be committed (used by deletes)."""

        async def run() -> T:
            await self._drain()
            return await fn()

        return await self._shielded(run)

    async def _shielded(self, fn: Callable[[], Awaitable[T]]) -> T:
        # Shielded and under the lock: a caller cancelled mid-commit (a stopped task) must
        # not abandon an open transaction, nor let another batch start on the connection.
        async def locked() -> T:
            async with self._get_lock():
                return await fn()

        return await asyncio.shield(locked())

    async def _drain(self) -> list[BaseException]:
        failures: list[BaseException] = []
        while len(self.pending):
            batch, self.pending = self.pending, Batch()
            if self._wake is not None and self._full is not None:
                self._wake.clear()
                self._full.clear()
            self.inflight = batch
            batch.outage = None
            try:
                await self._commit(batch)
            except _Outage as outage:
                self._went_down(batch, outage.__cause__ or outage)
                failures.append(batch.outage or outage)
                break
            finally:
                self.inflight = None
            failures += batch.errors.values()
            self._back_up()
        return failures

    def _went_down(self, batch: Batch, cause: BaseException) -> None:
        """Queue `batch` again ahead of what came since (minus operations that failed on
        their own); the writer retries it."""
        batch.outage = cause
        for key in batch.errors:
            batch.discard(key)
        batch.absorb(self.pending)
        self.pending = batch
        if self.down is None:
            log.error("nbchat: the database is unavailable (%s); %d queued write(s) are "
                      "kept and retried until it is back", cause, len(batch))
        self.down = cause
        if self._wake is not None:
            self._wake.set()

    def _back_up(self) -> None:
        if self.down is not None:
            log.warning("nbchat: the database is back; the kept writes are stored")
        self.down = None
        self._retry_pause = RETRY_FIRST

    async def _commit(self, batch: Batch) -> None:
        try:
            await self._apply(batch)
            return
        except Exception as exc:  # any driver error: isolate the bad operation below
            if self._is_outage(exc):
                raise _Outage() from exc
            if len(batch) == 1:
                key = batch.singles()[0][0]
                batch.errors[key] = exc
                self._log_failure(key, exc)
                return
            log.warning("nbchat: a batch of %d writes failed (%s); retrying one by one",
                        len(batch), exc)
        for key, single in batch.singles():
            try:
                await self._apply(single)
            except Exception as exc:
                if self._is_outage(exc):
                    raise _Outage() from exc
                batch.errors[key] = exc
                self._log_failure(key, exc)

    def _log_failure(self, key: Key, exc: BaseException) -> None:
        self.failed_writes += 1
        log.error("nbchat: could not store %s %s: %s", key[0], key[1], exc)

    async def close(self) -> None:
        """Commit everything and stop the writer task. Safe to call twice."""
        if self._closed:
            return
        try:
            await self.flush()
        finally:
            self._closed = True
            if self._task is not None:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
                self._task = None
