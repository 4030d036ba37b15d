"""Uploads whose bytes arrive over HTTP instead of as protocol events.

A client starts an upload with `upload_start {via: "http"}`; the session checks the
declared name, type and size as for any upload, then answers `upload_ticket`: a random,
single-use name for that one upload. The client PUTs the bytes to
`{api root}/uploads/{ticket}`, then sends `upload_end` as usual and gets `upload_done`.
Big files thus never pass through the notebook's comm (which ZMQ and the Jupyter server
buffer whole) or through WebSocket frames of the chat.

Two ticket desks, one per kind of host:

- `HostTickets` (`nbchat serve`): the HTTP handler runs in the session's own process, so it
  writes straight into the session's `FileStore`, under the very checks event uploads get
  (size on every chunk). Only the session's own user may use the ticket.
- `StagingTickets` / `StagedUploads` (a notebook): the kernel and the Jupyter server are two
  processes of one user on one machine. The kernel writes `<ticket>.json` (byte limit,
  expiry) into a private folder that both find under Jupyter's runtime directory. The server
  extension claims it by renaming it (so a ticket works once), streams the body to
  `<ticket>.part` under the limit and renames that `<ticket>.bin`; on `upload_end` the
  kernel moves the file into the session's store. The folder (mode 0700) is the trust
  channel: only the user's own processes can write tickets into it. A kernel on another
  machine (a gateway) writes tickets this server never sees: the PUT answers 404 and the
  widget sends the file as events instead.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from nbchat.jupyter.runtime_dir import private_folder, runtime_folder, write_private
from nbchat.uploads.files import UploadRejected, check_size

if TYPE_CHECKING:
    from nbchat.types import User
    from nbchat.uploads.files import FileStore

TICKET_RE = re.compile(r"[A-Za-z0-9_-]{32}")
TICKET_LIFETIME_S = 15 * 60
STAGING_FOLDER = "nbchat-uploads"


class TicketError(UploadRejected):
    """The bytes of an HTTP upload are not there (never sent, refused, or expired)."""


def new_ticket() -> str:
    return secrets.token_urlsafe(24)  # 32 characters of TICKET_RE


class TicketDesk(Protocol):
    """What a session's `FileStore` asks of its host for HTTP uploads."""

    def issue(self, store: FileStore, upload_id: str, limit: int, owner: User | None) -> str:
        """A ticket for `limit` bytes of the store's open upload `upload_id`."""

    def collect(self, ticket: str) -> Path | None:
        """After `upload_end`: the file the bytes went to, None if they are already in the
        store; TicketError if they did not (all) arrive."""

    def revoke(self, ticket: str) -> None:
        """The upload ended or was dropped: the ticket (and any staged bytes) go away."""


class UploadSink(Protocol):
    """Where the HTTP handler writes one claimed upload."""

    limit: int

    def write(self, chunk: bytes) -> None:
        """Store a chunk; ValueError (UploadRejected) with a message past the limit."""

    def complete(self) -> int:
        """The body is complete: the bytes received."""

    def abort(self) -> None:
        """The body was refused or cut short: nothing of it stays."""


class UploadDesk(Protocol):
    """The HTTP handler's side: a claimed ticket's sink, or None (unknown, used, expired,
    or another user's)."""

    def claim(self, ticket: str, user: User) -> UploadSink | None: ...


# ---------------------------------------------------------------- one process (nbchat serve)


@dataclass
class _HostTicket:
    store: FileStore
    upload_id: str
    limit: int
    owner: User | None
    state: str = "issued"  # → "claimed" (a PUT streams) → "arrived"


class _StoreSink:
    def __init__(self, desk: HostTickets, ticket: str, entry: _HostTicket) -> None:
        self._desk = desk
        self._ticket = ticket
        self._entry = entry
        self.limit = entry.limit
        self.received = 0

    def write(self, chunk: bytes) -> None:
        self._entry.store.write(self._entry.upload_id, chunk)
        self.received += len(chunk)

    def complete(self) -> int:
        self._entry.state = "arrived"
        return self.received

    def abort(self) -> None:
        self._desk.revoke(self._ticket)
        self._entry.store.abort(self._entry.upload_id)


class HostTickets:
    """Tickets of a server process's live sessions (see the module docstring)."""

    def __init__(self) -> None:
        self._tickets: dict[str, _HostTicket] = {}

    def issue(self, store: FileStore, upload_id: str, limit: int, owner: User | None) -> str:
        ticket = new_ticket()
        self._tickets[ticket] = _HostTicket(store, upload_id, limit, owner)
        return ticket

    def claim(self, ticket: str, user: User) -> UploadSink | None:
        entry = self._tickets.get(ticket)
        owner = None if entry is None else entry.owner
        if entry is None or entry.state != "issued" or (
                owner is not None and owner.identifier != user.identifier):
            return None
        entry.state = "claimed"
        return _StoreSink(self, ticket, entry)

    def collect(self, ticket: str) -> Path | None:
        entry = self._tickets.pop(ticket, None)
        if entry is None or entry.state != "arrived":
            raise TicketError("the file's bytes have not arrived over HTTP; PUT them to "
                              "uploads/{ticket} before upload_end, or send the file again")
        return None

    def revoke(self, ticket: str) -> None:
        self._tickets.pop(ticket, None)

    def __len__(self) -> int:
        return len(self._tickets)


# ---------------------------------------------------------------- kernel ↔ Jupyter server


def staging_dir() -> Path:
    """`<Jupyter runtime dir>/nbchat-uploads`, the same folder for the Jupyter server and
    the kernels it starts (nbchat.jupyter.runtime_dir)."""
    return runtime_folder(STAGING_FOLDER)


def _private_dir(path: Path) -> Path:
    """Make the staging folder (0700) and drop what crashed kernels or servers left there:
    anything older than twice a ticket's lifetime is of no use to anyone."""
    private_folder(path)
    stale = time.time() - 2 * TICKET_LIFETIME_S
    for entry in path.iterdir():
        try:
            if entry.stat().st_mtime < stale:
                entry.unlink()
        except OSError:
            continue  # gone already, or not ours to remove
    return path


class StagingTickets:
    """The kernel's desk: tickets written into the staging folder (module docstring)."""

    def __init__(self, folder: Path) -> None:
        self.folder = _private_dir(folder)

    def issue(self, store: FileStore, upload_id: str, limit: int, owner: User | None) -> str:
        ticket = new_ticket()
        write_private(self.folder / f"{ticket}.json",
                      json.dumps({"limit": limit, "expires": time.time() + TICKET_LIFETIME_S}))
        return ticket

    def collect(self, ticket: str) -> Path | None:
        staged = self.folder / f"{ticket}.bin"
        if not staged.is_file():
            raise TicketError("the file's bytes have not arrived over HTTP (the upload was "
                              "refused, cut short or expired); send the file again")
        return staged

    def revoke(self, ticket: str) -> None:
        for suffix in (".json", ".claimed", ".part", ".bin"):
            (self.folder / f"{ticket}{suffix}").unlink(missing_ok=True)


class _StagedSink:
    def __init__(self, folder: Path, ticket: str, limit: int) -> None:
        self._folder = folder
        self._ticket = ticket
        self.limit = limit
        self.received = 0
        self._part = folder / f"{ticket}.part"
        fd = os.open(self._part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._handle = os.fdopen(fd, "wb")

    def write(self, chunk: bytes) -> None:
        self.received += len(chunk)
        try:
            check_size(self.received, self.limit)
        except UploadRejected:
            self.abort()
            raise
        self._handle.write(chunk)

    def complete(self) -> int:
        self._handle.close()
        os.replace(self._part, self._folder / f"{self._ticket}.bin")
        (self._folder / f"{self._ticket}.claimed").unlink(missing_ok=True)
        return self.received

    def abort(self) -> None:
        self._handle.close()
        for suffix in (".part", ".claimed"):
            (self._folder / f"{self._ticket}{suffix}").unlink(missing_ok=True)


class StagedUploads:
    """The Jupyter server extension's desk: claims tickets kernels wrote."""

    def __init__(self, folder: Path) -> None:
        self.folder = _private_dir(folder)

    def claim(self, ticket: str, user: User) -> UploadSink | None:
        # Jupyter authenticated the request: its user owns the server and its kernels.
        if not TICKET_RE.fullmatch(ticket):
            return None
        claimed = self.folder / f"{ticket}.claimed"
        try:
            os.rename(self.folder / f"{ticket}.json", claimed)  # atomic: one claim wins
        except OSError:
            return None
        try:
            with claimed.open() as handle:
                terms = json.load(handle)
            limit, expires = int(terms["limit"]), float(terms["expires"])
        except (OSError, ValueError, KeyError, TypeError):
            claimed.unlink(missing_ok=True)
            return None
        if expires < time.time():
            claimed.unlink(missing_ok=True)
            return None
        return _StagedSink(self.folder, ticket, limit)
