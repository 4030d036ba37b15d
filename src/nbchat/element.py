"""Elements attached to messages and steps: images, files, tables, figures, …

Content comes from bytes or text, from a path the *author's code* gives, or from a URL
the author gives. No element is ever built from a path or URL a client sent (Chainlit's
CVE-2026-22218/22219): the protocol has no client event that carries one.
"""

from __future__ import annotations

import json
import mimetypes
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar

from nbchat.ids import new_id
from nbchat.protocol import outbound
from nbchat.runtime.context import get_session
from nbchat.types import ElementDict as ElementDict  # also Chainlit's chainlit.element path

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"ID3", "audio/mpeg"),
    (b"OggS", "audio/ogg"),
)


def sniff_mime(data: bytes) -> str | None:
    """The mime type the bytes start with (PNG, JPEG, GIF, WebP, PDF, …), or None."""
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "audio/wav"
    if data[4:8] == b"ftyp":
        return "video/mp4"
    return None


class Element:
    """Base class; use a subclass (Text, Image, File, …)."""

    type: ClassVar[str] = "file"
    # Chainlit's defaults: every element is inline; images, videos and figures medium.
    default_display: ClassVar[str] = "inline"
    default_size: ClassVar[str | None] = None
    default_mime: ClassVar[str | None] = None
    # Subclass options sent with the element: ElementDict key → attribute name.
    extra_fields: ClassVar[dict[str, str]] = {}

    def __init__(
        self,
        name: str = "",
        content: bytes | str | None = None,
        path: str | Path | None = None,
        url: str | None = None,
        display: str | None = None,
        size: str | None = None,
        language: str | None = None,
        mime: str | None = None,
        for_id: str | None = None,
        id: str | None = None,
        thread_id: str | None = None,
    ) -> None:
        if display not in (None, "inline", "side", "page"):
            raise ValueError(f"display must be 'inline', 'side' or 'page', got {display!r}")
        self.name = name
        self._content = content
        self.path = Path(path) if path is not None else None
        self._content_from_path = False  # an upload: `content` reads `path` when asked
        self.url = url
        self.display = display or self.default_display
        self.size = size or self.default_size
        self.language = language
        self.mime = mime
        self.for_id = for_id
        self.id = id or new_id()
        self.thread_id = thread_id
        self.object_key: str | None = None
        self.chainlit_key: str | None = None  # Chainlit's attribute; custom layers read it
        self.sent = False

    @property
    def content(self) -> bytes | str | None:
        """The element's bytes or text. Of a file the user attached, read from its `path`
        on first use (not before `on_message`: uploads may be large)."""
        if self._content is None and self._content_from_path and self.path is not None:
            self._content = self.path.read_bytes()
        return self._content

    @content.setter
    def content(self, value: bytes | str | None) -> None:
        self._content = value

    @classmethod
    def from_upload(cls, file: Any) -> Element:
        """The element a message carries for an uploaded `UploadedFile` (Chainlit makes
        them from its files the same way): `path` on the server, `content` read on use."""
        element = cls(name=file.name, mime=file.type, id=file.id, path=file.path)
        element.object_key = file.id
        element._content_from_path = True
        return element

    def _guess_mime(self, data: bytes | None) -> str | None:
        if self.mime:
            return self.mime
        for candidate in (self.name, str(self.path or ""), self.url or ""):
            if candidate:
                guess = mimetypes.guess_type(candidate)[0]
                if guess:
                    return guess
        if data is not None:
            return sniff_mime(data) or self.default_mime
        return self.default_mime

    def inline_content(self) -> str | None:
        """Text sent inside the event (text-like elements); None for byte elements."""
        return None

    def load_bytes(self) -> bytes | None:
        """The element's bytes: from content, or read from the author's path."""
        if isinstance(self.content, bytes):
            return self.content
        if isinstance(self.content, str):
            return self.content.encode()
        if self.path is not None:
            return self.path.read_bytes()
        return None

    def to_dict(self) -> ElementDict:
        """The element as sent in the `element` event."""
        data: ElementDict = {
            "id": self.id, "threadId": self.thread_id, "type": self.type,
            "name": self.name, "display": self.display, "forId": self.for_id,
            "mime": self.mime, "size": self.size, "language": self.language,
            "url": self.url, "objectKey": self.object_key,
        }
        inline = self.inline_content()
        if inline is not None:
            data["content"] = inline
        for key, attribute in self.extra_fields.items():
            data[key] = getattr(self, attribute)  # type: ignore[literal-required]
        return data

    async def send(self, for_id: str | None = None) -> Element:
        """Show the element (for step `for_id` when given); its bytes go to the file store."""
        return self.show(for_id)

    def show(self, for_id: str | None = None) -> Element:
        """`send` without awaiting: nothing in it waits, and a sync `with cl.Step()` exit
        must be able to send the elements set on the step too."""
        session = get_session(f"{type(self).__name__}.send")
        if for_id is not None:
            self.for_id = for_id
        self.thread_id = session.thread_id
        if self.url is None and self.inline_content() is None and self.object_key is None:
            data = self.load_bytes()
            if data is None:
                raise ValueError(
                    f"{type(self).__name__} {self.name!r} has nothing to show: "
                    "give it content, a path or a url"
                )
            self.mime = self._guess_mime(data)
            self.object_key = session.put_blob(data, self.mime or "application/octet-stream")
        else:
            self.mime = self._guess_mime(None)
        session.elements[self.id] = self
        session.emitter.emit(outbound.element(self.to_dict()))
        self.sent = True
        return self

    async def remove(self) -> bool:
        """Take the element away from the chat."""
        session = get_session(f"{type(self).__name__}.remove")
        if session.elements.pop(self.id, None) is not None:
            session.emitter.emit(outbound.element_delete(self.id))
        return True


class Text(Element):
    """Text shown in the chat (markdown or code in `language`)."""

    type = "text"
    default_mime = "text/plain"

    def inline_content(self) -> str | None:
        """The text itself: `content`, or the file's bytes decoded as UTF-8."""
        if isinstance(self.content, str):
            return self.content
        data = self.load_bytes()
        return data.decode("utf-8", errors="replace") if data is not None else None


class Image(Element):
    """An image; `size` is small, medium or large."""

    type = "image"

    def __init__(self, *args: Any, size: str = "medium", **kwargs: Any) -> None:
        if size not in ("small", "medium", "large"):
            raise ValueError(f"Image size must be small, medium or large, got {size!r}")
        super().__init__(*args, **kwargs)
        self.size = size


class File(Element):
    """A file the user can download."""

    type = "file"
    default_mime = "application/octet-stream"


class Pdf(Element):
    """A PDF shown in a viewer, opened at `page`."""

    type = "pdf"
    default_mime = "application/pdf"
    extra_fields: ClassVar[dict[str, str]] = {"page": "page"}

    def __init__(self, *args: Any, page: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.page = page



class Audio(Element):
    """An audio player; `auto_play` starts it at once."""

    type = "audio"
    extra_fields: ClassVar[dict[str, str]] = {"autoPlay": "auto_play"}

    def __init__(self, *args: Any, auto_play: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.auto_play = auto_play



class Video(Element):
    """A video player; `player_config` is passed to the player."""

    type = "video"
    default_size = "medium"
    extra_fields: ClassVar[dict[str, str]] = {"playerConfig": "player_config"}

    def __init__(self, *args: Any, player_config: dict[str, Any] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.player_config = player_config



class Plotly(Element):
    """A Plotly figure, sent as its JSON (the browser renders it)."""

    type = "plotly"
    default_mime = "application/json"

    def __init__(self, *args: Any, figure: Any = None, size: str = "medium",
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.size = size
        self.figure = figure

    def inline_content(self) -> str | None:
        """The figure as Plotly JSON."""
        if self.figure is not None:
            return str(self.figure.to_json())
        return self.content if isinstance(self.content, str) else None


class Pyplot(Element):
    """A Matplotlib figure, rendered to PNG by the server when sent."""

    type = "image"
    default_mime = "image/png"

    def __init__(self, *args: Any, figure: Any = None, size: str = "medium",
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.size = size
        if figure is None:
            raise ValueError("Pyplot needs figure=<a matplotlib Figure>")
        self.figure = figure

    def load_bytes(self) -> bytes:
        """The figure as PNG bytes."""
        import io

        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue()


class Dataframe(Element):
    """A table: a pandas DataFrame (or {columns, data}), sent as JSON in split orient."""

    type = "dataframe"
    default_mime = "application/json"

    def __init__(self, *args: Any, data: Any = None, size: str = "large",
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.size = size
        self.data = data

    def inline_content(self) -> str | None:
        """The data frame as JSON (pandas' split orientation), or `content` as given."""
        if self.data is None:
            return self.content if isinstance(self.content, str) else None
        if hasattr(self.data, "to_json"):
            return str(self.data.to_json(orient="split", date_format="iso"))
        return json.dumps(self.data, default=str)


class TaskStatus(StrEnum):
    """The state of a task in a TaskList."""

    READY = "ready"
    RUNNING = "running"
    FAILED = "failed"
    DONE = "done"


class Task:
    """One line of a TaskList."""

    def __init__(self, title: str, status: TaskStatus = TaskStatus.READY,
                 for_id: str | None = None) -> None:
        self.title = title
        self.status = status
        self.for_id = for_id

    def to_dict(self) -> dict[str, Any]:
        """The task as shown in the list."""
        return {"title": self.title, "status": TaskStatus(self.status).value,
                "forId": self.for_id}


class TaskList(Element):
    """A live checklist shown beside the chat; `await task_list.send()` after changes."""

    type = "tasklist"

    def __init__(self, *args: Any, status: str = "Ready", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tasks: list[Task] = []
        self.status = status
        self.name = self.name or "tasklist"

    async def add_task(self, task: Task) -> None:
        """Append a task; `await send()` or `await update()` shows the change."""
        self.tasks.append(task)

    async def update(self) -> TaskList:
        """Show the list's current tasks and status (it replaces the one shown)."""
        await self.send(for_id=self.for_id)
        return self

    def inline_content(self) -> str:
        """The list's status and tasks as JSON."""
        return json.dumps({"status": self.status, "tasks": [t.to_dict() for t in self.tasks]})


class CustomElement(Element):
    """A custom element rendered by name with `props` (sanitized JSON view by default)."""

    type = "custom"
    extra_fields: ClassVar[dict[str, str]] = {"props": "props"}

    def __init__(self, *args: Any, props: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.props = props or {}

    def inline_content(self) -> str:
        """The element's props as JSON."""
        return json.dumps(self.props, default=str)

    async def update(self) -> CustomElement:
        """Show the element's changed `props` (it replaces the one shown)."""
        await self.send(for_id=self.for_id)
        return self


def element_class(type_: str) -> type[Element]:
    """The Element subclass of an ElementDict's `type` (File for an unknown one)."""
    def subclasses(cls: type[Element]) -> list[type[Element]]:
        return [c for sub in cls.__subclasses__() for c in (sub, *subclasses(sub))]

    return next((c for c in subclasses(Element) if c.type == type_), File)
