"""Files a user uploaded into a session: checked while they stream in, stored under
server-generated ids in the session's own folder, removed when the session closes."""

from __future__ import annotations

import mimetypes
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from nbchat.ids import new_id

if TYPE_CHECKING:
    from nbchat.config import UploadConfig
    from nbchat.types import User
    from nbchat.uploads.tickets import TicketDesk

Accept = list[str] | dict[str, list[str]]


@dataclass
class UploadedFile:
    """An uploaded file (Chainlit's AskFileResponse): `path` is on the server."""

    id: str
    name: str
    path: str
    size: int
    type: str

    def to_dict(self) -> dict[str, object]:
        """The file as Chainlit's AskFileResponse dict (without the server path)."""
        return {"id": self.id, "name": self.name, "size": self.size, "type": self.type}


class UploadRejected(ValueError):
    """An upload broke a limit; the message says which."""


def check_size(received: int, limit: int, name: str = "the file") -> None:
    """The running size of an upload's bytes, against its limit (the declared size, or the
    limits', whichever is smaller): every path that receives bytes checks it here."""
    if received > limit:
        raise UploadRejected(f"{name} is larger than declared or allowed ({limit} bytes)")


# One media type, `type/subtype` in lower case: no list, no parameters, nothing to split.
MIME_RE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")
UNKNOWN_TYPE = "application/octet-stream"
# Types a browser runs as script (the HTML standard's JavaScript MIME types), compiles as
# WebAssembly or applies as a style sheet: served from this origin under such a type, a
# user's file would pass `script-src 'self'` in a `<script src>` or a Worker.
_ACTIVE_TYPE = re.compile(r"(application|text)/(x-)?(java|ecma)script|text/javascript1\.[0-5]"
                          r"|text/(jscript|livescript)|application/wasm|text/css")


def check_mime(mime: str, name: str = "the file") -> str:
    """A declared type as one `type/subtype` (empty: unknown); a list of types, parameters
    or anything else is refused, so what is checked is what is later served."""
    if not mime:
        return UNKNOWN_TYPE
    if not MIME_RE.fullmatch(mime.lower()):
        raise UploadRejected(f"{name}: the type {mime[:100]!r} is not one media type; "
                             "give a single type/subtype such as application/pdf")
    return mime.lower()


def served_type(mime: str | None) -> str:
    """The Content-Type a user's or an author's bytes are served with: never a script or
    style type (nor anything that is not a single valid type)."""
    mime = (mime or "").lower()
    if not MIME_RE.fullmatch(mime) or _ACTIVE_TYPE.fullmatch(mime):
        return UNKNOWN_TYPE
    return mime


def accepts(name: str, mime: str, accept: Accept | tuple[str, ...] | None) -> bool:
    """`accept` is a list of mime patterns / extensions, or {mime: [extensions]}.

    A type pattern takes a file declared as that type only when its name agrees (the type
    guessed from its extension, or an extension listed for the pattern; an exact type
    demands it, `image/*` also takes names that imply no type). A file declared as
    nothing is judged by its name; one declared as another type only by a listed
    extension whose own type is the declared one (`{"text/plain": [".py"]}` and a
    text/x-python file). So `page.html` declared application/pdf is no PDF."""
    if not accept:
        return True
    mime = mime.lower()
    suffix = Path(name).suffix.lower()
    guessed = mimetypes.guess_type(name)[0] or ""
    listed = ({p.lower(): {e.lower() for e in exts} for p, exts in accept.items()}
              if isinstance(accept, dict) else {p.lower(): set() for p in accept})
    for pattern, extensions in listed.items():
        if pattern.startswith("."):
            if suffix == pattern:
                return True
        elif pattern in ("*", "*/*") or _fits(pattern, extensions, mime, suffix, guessed):
            return True
    return False


def _fits(pattern: str, extensions: set[str], mime: str, suffix: str, guessed: str) -> bool:
    wildcard = pattern.endswith("/*")

    def matches(kind: str) -> bool:
        return kind.startswith(pattern[:-1]) if wildcard else kind == pattern

    named = suffix in extensions or matches(guessed)
    if matches(mime):
        return named or (wildcard and not guessed)
    if mime in ("", UNKNOWN_TYPE):
        return named
    return suffix in extensions and mime == guessed


def describe_accept(accept: Accept | tuple[str, ...] | None) -> str:
    """The accepted types (and their extensions) as one line for an error message."""
    if isinstance(accept, dict):
        return ", ".join(f"{p} ({' '.join(e)})" if e else p for p, e in accept.items())
    return ", ".join(accept or ("anything",))


MB = 1024 * 1024


@dataclass(frozen=True)
class UploadLimits:
    """What an upload may be, for a chat (an ask, files sent with a message) and for the
    REST API alike: accepted types, files per upload, bytes per file.

    `accept` holds mime patterns (`image/*`, `application/pdf`, `*/*`) and extensions
    (`.csv`), or `{mime: [extensions]}`, with the meaning of `AskFileMessage`'s `accept`;
    None accepts anything.
    """

    accept: Accept | tuple[str, ...] | None = None
    max_files: int = 20
    max_size: int = 500 * MB  # bytes, per file

    @classmethod
    def in_mb(cls, accept: Accept | tuple[str, ...] | None, max_size_mb: float,
              max_files: int) -> UploadLimits:
        """Limits with the size in MiB, as Chainlit's `max_size_mb` and nbchat.yaml give it."""
        return cls(accept, max_files, int(max_size_mb * MB))

    @classmethod
    def from_config(cls, upload: UploadConfig) -> UploadLimits:
        """From `features.spontaneous_file_upload`."""
        return cls.in_mb(tuple(upload.accept), upload.max_size_mb, upload.max_files)

    @property
    def max_size_mb(self) -> float:
        """The per-file size limit in MiB."""
        return self.max_size / MB

    @property
    def max_body(self) -> int:
        """Largest multipart body accepted: every file at its limit, plus part headers."""
        return self.max_files * (self.max_size + 16 * 1024) + 64 * 1024

    def check_start(self, name: str, mime: str, declared_size: int) -> None:
        """Refuse an upload whose name, type or declared size is not allowed (UploadRejected)."""
        check_mime(mime, repr(name))
        if not accepts(name, mime, self.accept):
            raise UploadRejected(f"{name!r}: type {mime or 'unknown'} is not accepted here "
                                 f"(accepted: {describe_accept(self.accept)}; a type counts "
                                 "only when the file name's extension agrees with it)")
        if declared_size > self.max_size:
            raise UploadRejected(f"{name!r} is {declared_size} bytes; limit is "
                                 f"{self.max_size_mb:g} MB")


class _Upload:
    def __init__(self, file: UploadedFile, handle: IO[bytes], limit: int) -> None:
        self.file = file
        self.handle = handle
        self.limit = limit
        self.received = 0
        self.ticket: str | None = None  # bytes come over HTTP (nbchat.uploads.tickets)


class FileStore:
    """Per-session upload folder. Nothing here ever joins a client string into a path.

    `tickets`, set by hosts that take upload bodies over HTTP, hands out the tickets of
    `begin(..., over_http=True)`."""

    def __init__(self, tickets: TicketDesk | None = None) -> None:
        self._dir: Path | None = None
        self.files: dict[str, UploadedFile] = {}
        self._open: dict[str, _Upload] = {}
        self.tickets = tickets

    def _folder(self) -> Path:
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="nbchat-uploads-"))
        return self._dir

    def begin(self, upload_id: str, name: str, mime: str, size: int,
              limits: UploadLimits, *, over_http: bool = False,
              owner: User | None = None) -> str | None:
        """Open an upload after checking what the client declared; with `over_http`, the
        ticket its bytes are PUT under (only `owner` may use it)."""
        if over_http and self.tickets is None:
            raise UploadRejected("this chat takes files as upload_chunk events only; send "
                                 "upload_start without via")
        if upload_id in self._open:
            raise UploadRejected(f"upload {upload_id!r} is already in progress")
        limits.check_start(name, mime, size)
        file_id = new_id()
        path = self._folder() / file_id
        safe_name = Path(name.replace("\\", "/")).name[:255] or "upload"
        file = UploadedFile(id=file_id, name=safe_name, path=str(path), size=0,
                            type=mime or "application/octet-stream")
        upload = _Upload(file, path.open("wb"), min(size, limits.max_size))
        self._open[upload_id] = upload
        if over_http and self.tickets is not None:
            upload.ticket = self.tickets.issue(self, upload_id, upload.limit, owner)
        return upload.ticket

    def write(self, upload_id: str, chunk: bytes) -> None:
        """Append a chunk to an open upload; refuses one past its declared size."""
        upload = self._open.get(upload_id)
        if upload is None:
            raise UploadRejected(f"no upload {upload_id!r} in progress; send upload_start first")
        upload.received += len(chunk)
        try:
            check_size(upload.received, upload.limit, repr(upload.file.name))
        except UploadRejected:
            self.abort(upload_id)
            raise
        upload.handle.write(chunk)

    def finish(self, upload_id: str) -> UploadedFile:
        """Close an upload and return the stored file."""
        upload = self._open.get(upload_id)
        if upload is None:
            raise UploadRejected(f"no upload {upload_id!r} in progress")
        if upload.ticket is not None and self.tickets is not None:
            try:
                staged = self.tickets.collect(upload.ticket)
                if staged is not None:
                    self._adopt(upload, staged)
            except Exception:
                self.abort(upload_id)
                raise
        del self._open[upload_id]
        upload.handle.close()
        upload.file.size = upload.received
        self.files[upload.file.id] = upload.file
        return upload.file

    def _adopt(self, upload: _Upload, staged: Path) -> None:
        """Make a file another process received (see upload_tickets) this upload's bytes."""
        size = staged.stat().st_size
        check_size(size, upload.limit, repr(upload.file.name))
        upload.handle.close()
        shutil.move(staged, upload.file.path)  # a rename when both are on one file system
        upload.received = size

    def abort(self, upload_id: str) -> None:
        """Drop an upload in progress and its partial file."""
        upload = self._open.pop(upload_id, None)
        if upload is not None:
            upload.handle.close()
            Path(upload.file.path).unlink(missing_ok=True)
            if upload.ticket is not None and self.tickets is not None:
                self.tickets.revoke(upload.ticket)

    def add(self, name: str, mime: str, data: bytes, limits: UploadLimits) -> UploadedFile:
        """Store a whole file at once (in-process hosts and HTTP uploads)."""
        upload_id = new_id()
        self.begin(upload_id, name, mime, len(data), limits)
        self.write(upload_id, data)
        return self.finish(upload_id)

    def take(self, file_ids: list[str], limits: UploadLimits) -> list[UploadedFile]:
        """The files for ids a client named, checked against `limits`; unknown ids fail."""
        unknown = [f for f in file_ids if f not in self.files]
        if unknown:
            raise UploadRejected(f"unknown file id(s): {', '.join(unknown)}")
        if len(file_ids) > limits.max_files:
            raise UploadRejected(f"{len(file_ids)} files sent; at most {limits.max_files} allowed")
        files = [self.files[f] for f in file_ids]
        for file in files:
            limits.check_start(file.name, file.type, file.size)
        return files

    def close(self) -> None:
        """Drop open uploads and every stored file of the session."""
        for upload_id in list(self._open):
            self.abort(upload_id)
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        self.files.clear()
