"""Elements: every type's serialized shape, mime detection, and where content comes from
(bytes, str, an author's path, a url)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import nbchat as cl
from fixture_types import Connect, OfType
from nbchat.app import App, registering_on

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 16
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 8
MP3 = b"ID3\x03\x00" + b"\x00" * 8
PDF = b"%PDF-1.7\n"
ELEMENT_KEYS = {"id", "threadId", "type", "name", "display", "forId", "mime", "size",
                "language", "url", "objectKey"}


async def _shown(app: App, connect: Connect, make: Callable[[], list[cl.Element]],
                 ) -> tuple[dict[str, dict[str, Any]], dict[str, tuple[bytes, str] | None]]:
    """Send a message carrying the elements `make()` returns; give back what the client got."""
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            await cl.Message("elements", elements=make()).send()

    client = connect()
    async with client:
        message_id = client.messages[0]["id"]
        elements = {e["name"]: e for e in client.elements}
        blobs = {e["name"]: client.session.get_blob(e["objectKey"])
                 for e in client.elements if e["objectKey"]}
        assert client.errors == []
    for element in elements.values():
        assert element["forId"] == message_id
        assert element["threadId"] == client.session.thread_id
        assert set(element) >= ELEMENT_KEYS
    return elements, blobs


async def test_byte_elements_detect_their_mime(app: App, connect: Connect, tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(PDF)

    def make() -> list[cl.Element]:
        return [
            cl.Image(name="png", content=PNG, size="large"),
            cl.Image(name="photo.jpg", content=JPEG),
            cl.Audio(name="sound", content=MP3, auto_play=True),
            cl.Video(name="clip", content=MP4, player_config={"loop": True}),
            cl.Pdf(name="doc", path=path, page=2, display="page"),
            cl.File(name="data.bin", content=b"\x00\x01"),
            cl.File(name="unknown", content=b"\x00\x01"),
        ]

    elements, blobs = await _shown(app, connect, make)
    assert {n: e["mime"] for n, e in elements.items()} == {
        "png": "image/png", "photo.jpg": "image/jpeg", "sound": "audio/mpeg",
        "clip": "video/mp4", "doc": "application/pdf", "data.bin": "application/octet-stream",
        "unknown": "application/octet-stream"}
    assert {n: e["type"] for n, e in elements.items()} == {
        "png": "image", "photo.jpg": "image", "sound": "audio", "clip": "video", "doc": "pdf",
        "data.bin": "file", "unknown": "file"}
    assert elements["png"]["size"] == "large"
    assert elements["photo.jpg"]["size"] == "medium"
    assert elements["sound"]["autoPlay"] is True
    assert elements["clip"]["playerConfig"] == {"loop": True}
    assert elements["doc"]["page"] == 2
    assert elements["doc"]["display"] == "page"
    assert elements["png"]["display"] == "inline"
    # Bytes are stored on the server under a server-made key, not sent in the event.
    assert blobs["png"] == (PNG, "image/png")
    assert blobs["doc"] == (PDF, "application/pdf")
    assert "content" not in elements["png"]


async def test_url_elements_keep_the_url_and_guess_the_mime(app: App, connect: Connect) -> None:
    def make() -> list[cl.Element]:
        return [cl.Image(name="remote", url="https://example.org/cat.png"),
                cl.Pdf(name="paper", url="https://example.org/paper.pdf", display="side")]

    elements, blobs = await _shown(app, connect, make)
    assert elements["remote"]["url"] == "https://example.org/cat.png"
    assert elements["remote"]["mime"] == "image/png"
    assert elements["remote"]["objectKey"] is None
    assert elements["paper"]["mime"] == "application/pdf"
    assert elements["paper"]["display"] == "side"
    assert blobs == {}


async def test_text_elements_are_inline(app: App, connect: Connect, tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text("# from a file", encoding="utf-8")

    def make() -> list[cl.Element]:
        return [cl.Text(name="str", content="some text", language="python"),
                cl.Text(name="bytes", content="bytes é".encode()),
                cl.Text(name="notes.md", path=path, display="inline")]

    elements, blobs = await _shown(app, connect, make)
    assert elements["str"]["content"] == "some text"
    assert elements["str"]["language"] == "python"
    assert elements["str"]["display"] == "inline"  # Chainlit's default
    assert elements["str"]["mime"] == "text/plain"
    assert elements["bytes"]["content"] == "bytes é"
    assert elements["notes.md"]["content"] == "# from a file"
    assert elements["notes.md"]["mime"] == "text/markdown"
    assert elements["notes.md"]["display"] == "inline"
    assert blobs == {}


class FakePlotlyFigure:
    def to_json(self) -> str:
        return json.dumps({"data": [{"type": "bar", "y": [1, 2]}], "layout": {}})


class FakePyplotFigure:
    """Stands in for a matplotlib Figure (matplotlib is not a dependency)."""

    def __init__(self) -> None:
        self.calls: list[dict[str, object]] = []

    def savefig(self, buffer: io.BytesIO, **kwargs: object) -> None:
        self.calls.append(kwargs)
        buffer.write(PNG)


async def test_figure_and_table_elements(app: App, connect: Connect) -> None:
    pyplot = FakePyplotFigure()

    def make() -> list[cl.Element]:
        task_list = cl.TaskList(name="todo", status="Running")
        task_list.tasks.append(cl.Task("first", status=cl.TaskStatus.DONE))
        task_list.tasks.append(cl.Task("second", status=cl.TaskStatus.RUNNING))
        return [
            cl.Plotly(name="chart", figure=FakePlotlyFigure()),
            cl.Pyplot(name="plot", figure=pyplot),
            cl.Dataframe(name="df", data=pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})),
            cl.Dataframe(name="plain", data={"columns": ["a"], "data": [[1]]}),
            task_list,
            cl.CustomElement(name="Counter", props={"count": 3}, display="side"),
        ]

    elements, blobs = await _shown(app, connect, make)
    assert json.loads(elements["chart"]["content"])["data"][0]["type"] == "bar"
    assert elements["chart"]["type"] == "plotly"
    assert elements["chart"]["mime"] == "application/json"

    assert elements["plot"]["type"] == "image"
    assert elements["plot"]["mime"] == "image/png"
    assert blobs["plot"] == (PNG, "image/png")
    assert pyplot.calls == [{"format": "png", "bbox_inches": "tight"}]

    table = json.loads(elements["df"]["content"])
    assert table["columns"] == ["a", "b"]
    assert table["data"] == [[1, "x"], [2, "y"]]
    assert elements["df"]["type"] == "dataframe"
    assert json.loads(elements["plain"]["content"]) == {"columns": ["a"], "data": [[1]]}

    assert elements["todo"]["type"] == "tasklist"
    assert elements["todo"]["display"] == "inline"
    assert json.loads(elements["todo"]["content"]) == {"status": "Running", "tasks": [
        {"title": "first", "status": "done", "forId": None},
        {"title": "second", "status": "running", "forId": None}]}

    assert elements["Counter"]["type"] == "custom"
    assert elements["Counter"]["props"] == {"count": 3}
    assert elements["Counter"]["display"] == "side"


async def test_element_update_and_remove(app: App, connect: Connect, of_type: OfType) -> None:
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            task_list = cl.TaskList()
            await task_list.send()
            cl.user_session.set("tl", task_list)

        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            task_list = cl.user_session.get("tl")
            if message.content == "add":
                await task_list.add_task(cl.Task("new"))
                await task_list.send()
            else:
                await task_list.remove()

    async with connect() as client:
        element_id = client.elements[0]["id"]
        assert json.loads(client.elements[0]["content"])["tasks"] == []
        await client.send("add")
        assert len(client.elements) == 1
        assert json.loads(client.elements[0]["content"])["tasks"][0]["title"] == "new"
        await client.send("remove")
        assert client.elements == []
        assert of_type(client, "element_delete")[0]["id"] == element_id


async def test_element_without_content_is_an_error_in_the_chat(app: App, connect: Connect) -> None:
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            await cl.Image(name="empty").send()

    async with connect(debug=True) as client:
        assert client.elements == []
        assert "has nothing to show" in client.messages[-1]["output"]


def test_element_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="display"):
        cl.Text(name="t", content="x", display="popup")
    with pytest.raises(ValueError, match="size"):
        cl.Image(name="i", content=PNG, size="huge")
    with pytest.raises(ValueError, match="figure"):
        cl.Pyplot(name="p")


def test_element_defaults_are_chainlits() -> None:
    """Chainlit's element defaults: every element inline; Image, Video, Plotly and Pyplot
    medium, Dataframe large, the others without a size."""
    made = {
        "Text": cl.Text(content="t"), "Image": cl.Image(content=PNG),
        "File": cl.File(content=b"x"), "Pdf": cl.Pdf(content=b"%PDF-"),
        "Audio": cl.Audio(content=b"x"), "Video": cl.Video(content=b"x"),
        "Plotly": cl.Plotly(figure=FakePlotlyFigure()),
        "Pyplot": cl.Pyplot(figure=FakePyplotFigure()),
        "Dataframe": cl.Dataframe(data={"columns": [], "data": []}),
        "TaskList": cl.TaskList(), "CustomElement": cl.CustomElement(name="C"),
    }
    assert {name: e.display for name, e in made.items()} == dict.fromkeys(made, "inline")
    assert {name: e.size for name, e in made.items()} == {
        "Text": None, "Image": "medium", "File": None, "Pdf": None, "Audio": None,
        "Video": "medium", "Plotly": "medium", "Pyplot": "medium", "Dataframe": "large",
        "TaskList": None, "CustomElement": None}
