"""Ask*Message: answers, timeouts, and what happens to the user's reply while one waits."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

import nbchat as cl
from fixture_types import Connect, OfType
from nbchat.app import App, registering_on
from nbchat.config import Config, UploadConfig
from nbchat.testing import ChatTestClient
from nbchat.uploads.files import UploadedFile

# What each file ask of the `file_ask_app` fixture returned.
FileAsks = list[list[UploadedFile] | None]


async def test_ask_user_message_answer_is_not_dispatched_to_on_message(app: App,
                                                                       connect: Connect) -> None:
    answers = []
    seen = []
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            answer = await cl.AskUserMessage("Your name?", timeout=10).send()
            answers.append(answer)
            await cl.Message(f"Hello {answer['output']}").send()

        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            seen.append(message.content)

    async with connect() as client:
        ask = client.pending_ask
        assert ask is not None
        assert ask["kind"] == "text"
        assert ask["timeout"] == 10
        question = client.state.steps[ask["stepId"]]
        assert question["output"] == "Your name?"
        assert question["waitForAnswer"] is True

        turn = await client.answer("Ada")
        assert seen == []
        assert answers[0]["output"] == "Ada"
        assert answers[0]["type"] == "user_message"
        assert client.pending_ask is None
        assert client.state.steps[ask["stepId"]]["waitForAnswer"] is False
        assert turn[-1]["output"] == "Hello Ada"
        # After the ask, messages reach on_message again.
        await client.send("next")
        assert seen == ["next"]


async def test_ask_timeout_returns_none_and_cancels_the_ask(app: App, connect: Connect,
                                                            of_type: OfType) -> None:
    done = asyncio.Event()
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            answer = await cl.AskUserMessage("quick!", timeout=0.05).send()
            await cl.Message(f"answer: {answer}").send()
            done.set()

    async with connect() as client:
        await asyncio.wait_for(done.wait(), 5)
        await client.settle()
        assert client.pending_ask is None
        assert client.messages[-1]["output"] == "answer: None"
        assert len(of_type(client, "ask_cancel")) == 1


@pytest.mark.parametrize("make", [
    lambda: cl.AskUserMessage("?", timeout=0.05, raise_on_timeout=True),
    lambda: cl.AskActionMessage("?", actions=[cl.Action("a")], timeout=0.05,
                                raise_on_timeout=True),
    lambda: cl.AskFileMessage("?", accept=["text/plain"], timeout=0.05,
                              raise_on_timeout=True),
])
async def test_raise_on_timeout(app: App, connect: Connect,
                                make: Callable[[], cl.AskUserMessage]) -> None:
    raised = []
    done = asyncio.Event()
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            try:
                await make().send()
            except cl.AskTimeoutError as exc:
                raised.append(exc)
            done.set()

    async with connect() as client:
        await asyncio.wait_for(done.wait(), 5)
        assert len(raised) == 1
        assert isinstance(raised[0], TimeoutError)
        assert "0.05" in str(raised[0])
        await client.settle()
        assert client.pending_ask is None


async def test_ask_action_message(app: App, connect: Connect) -> None:
    chosen = []
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            res = await cl.AskActionMessage("Pick", actions=[
                cl.Action("red", payload={"v": "r"}, label="Red"),
                cl.Action("blue", payload={"v": "b"}, label="Blue"),
            ]).send()
            chosen.append(res)
            await cl.Message(f"you chose {res['name']}").send()

    async with connect() as client:
        ask = client.pending_ask
        assert ask is not None
        assert [a["name"] for a in ask["spec"]["actions"]] == ["red", "blue"]
        assert all(a["forId"] == ask["stepId"] for a in ask["spec"]["actions"])
        # A text message is refused while a choice is pending; the ask stays.
        await client.send("blue please")
        assert client.errors[-1]["code"] == "ask_pending"
        assert client.pending_ask == ask
        turn = await client.choose("blue")
        assert chosen[0]["name"] == "blue"
        assert chosen[0]["payload"] == {"v": "b"}
        assert chosen[0]["label"] == "Blue"
        assert turn[-1]["output"] == "you chose blue"
        assert client.pending_ask is None


async def test_ask_action_answered_by_a_click_event(app: App, connect: Connect) -> None:
    chosen = []
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            chosen.append(await cl.AskActionMessage("Pick", actions=[cl.Action("ok")]).send())

    async with connect() as client:
        ask = client.pending_ask
        assert ask is not None
        action_id = ask["spec"]["actions"][0]["id"]
        await client.send_event({"type": "action", "id": action_id})
        assert chosen[0]["name"] == "ok"
        # Once answered, its actions are gone.
        await client.send_event({"type": "action", "id": action_id})
        assert client.errors[-1]["code"] == "unknown_action"


async def test_ask_element_message(app: App, connect: Connect) -> None:
    values = []
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            form = cl.CustomElement(name="Form", props={"fields": ["age"]})
            values.append(await cl.AskElementMessage("Fill in", element=form).send())

    async with connect() as client:
        ask = client.pending_ask
        assert ask is not None
        assert ask["kind"] == "element"
        assert ask["spec"]["element"]["props"] == {"fields": ["age"]}
        await client.send_event({"type": "ask_response", "askId": ask["askId"]})
        assert client.errors[-1]["code"] == "bad_answer"
        assert client.pending_ask is not None
        await client.send_event({"type": "ask_response", "askId": ask["askId"],
                                 "values": {"age": 42}})
        assert values == [{"age": 42}]


async def test_bad_ask_responses_leave_the_ask_pending(app: App, connect: Connect) -> None:
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            await cl.AskUserMessage("?").send()

    async with connect() as client:
        ask = client.pending_ask
        assert ask is not None
        await client.send_event({"type": "ask_response", "askId": "nope"})
        assert client.errors[-1]["code"] == "unknown_ask"
        await client.send_event({"type": "ask_response", "askId": ask["askId"],
                                 "actionId": "x"})
        assert client.errors[-1]["code"] == "bad_answer"
        assert client.pending_ask == ask
        with pytest.raises(AssertionError, match="expected a pending action ask"):
            await client.choose("x")


async def test_stop_cancels_a_pending_ask(app: App, connect: Connect) -> None:
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            await cl.AskUserMessage("?").send()
            await cl.Message("not reached").send()

        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            await cl.Message(f"got {message.content}").send()

    async with connect() as client:
        assert client.pending_ask is not None
        await client.stop()
        assert client.state.ask is None
        assert (await client.send("hi"))[-1]["output"] == "got hi"
        assert "not reached" not in [m["output"] for m in client.messages]


# ---------------------------------------------------------------------------- files


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


async def test_ask_file_message_returns_files_on_disk(app: App, connect: Connect,
                                                      tmp_path: Path) -> None:
    got: list[UploadedFile] = []
    contents: list[bytes] = []
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            files = await cl.AskFileMessage("Upload", accept=["text/plain", ".csv"],
                                            max_files=2, max_size_mb=1).send()
            assert files is not None
            got.extend(files)
            contents.extend(Path(f.path).read_bytes() for f in files)
            await cl.Message(", ".join(f.name for f in files)).send()

    big = bytes(range(256)) * 2000  # 512,000 bytes: several chunks
    a = _write(tmp_path, "a.txt", b"hello\n")
    b = _write(tmp_path, "b.csv", big)
    async with connect() as client:
        ask = client.pending_ask
        assert ask is not None
        assert ask["spec"] == {"accept": ["text/plain", ".csv"], "maxSizeMb": 1,
                               "maxFiles": 2}
        turn = await client.upload([a, b])
        assert [(f.name, f.size, f.type) for f in got] == [
            ("a.txt", 6, "text/plain"), ("b.csv", len(big), "text/csv")]
        assert all(f.id and f.path for f in got)
        assert contents == [b"hello\n", big]
        assert turn[-1]["output"] == "a.txt, b.csv"
        folder = Path(got[0].path).parent
        assert folder.exists()
    # Closing the session removes the uploads.
    assert not folder.exists()


async def _start_upload(client: ChatTestClient, name: str, mime: str, size: int) -> str:
    upload_id = f"up-{name}"
    await client.send_event({"type": "upload_start", "uploadId": upload_id, "name": name,
                             "mime": mime, "size": size})
    return upload_id


@pytest.fixture
def file_ask_app(app: App) -> FileAsks:
    got: FileAsks = []
    with registering_on(app):
        @cl.on_chat_start
        async def start() -> None:
            got.append(await cl.AskFileMessage("Upload", accept=["text/plain"],
                                               max_size_mb=1, max_files=1).send())
    return got


async def test_file_ask_refuses_a_wrong_type(file_ask_app: FileAsks, connect: Connect,
                                             tmp_path: Path) -> None:
    async with connect() as client:
        await _start_upload(client, "x.png", "image/png", 10)
        assert client.errors[-1]["code"] == "upload_rejected"
        assert "not accepted" in client.errors[-1]["message"]
        assert client.pending_ask is not None
        assert file_ask_app == []
        await client.upload([_write(tmp_path, "ok.txt", b"ok")])
        assert file_ask_app[0] is not None
        assert [f.name for f in file_ask_app[0]] == ["ok.txt"]


async def test_file_ask_refuses_a_declared_size_over_the_limit(
        file_ask_app: FileAsks, connect: Connect, tmp_path: Path) -> None:
    async with connect() as client:
        await _start_upload(client, "big.txt", "text/plain", 2 * 1024 * 1024)
        assert client.errors[-1]["code"] == "upload_rejected"
        assert "limit" in client.errors[-1]["message"]
        assert client.pending_ask is not None
        assert file_ask_app == []


async def test_file_ask_refuses_bytes_beyond_the_declared_size(file_ask_app: FileAsks,
                                                               connect: Connect) -> None:
    async with connect() as client:
        upload_id = await _start_upload(client, "liar.txt", "text/plain", 4)
        await client.send_event({"type": "upload_chunk", "uploadId": upload_id}, [b"abcd"])
        assert client.errors == []
        await client.send_event({"type": "upload_chunk", "uploadId": upload_id}, [b"e"])
        assert client.errors[-1]["code"] == "upload_rejected"
        assert "larger than declared" in client.errors[-1]["message"]
        # The upload was dropped: finishing it is refused too.
        await client.send_event({"type": "upload_end", "uploadId": upload_id})
        assert client.errors[-1]["code"] == "upload_rejected"
        assert client.session.files.files == {}
        assert client.pending_ask is not None


async def test_file_ask_refuses_too_many_files(file_ask_app: FileAsks, connect: Connect,
                                               tmp_path: Path) -> None:
    async with connect() as client:
        with pytest.raises(AssertionError, match="at most 1"):
            await client.upload([_write(tmp_path, "1.txt", b"1"),
                                 _write(tmp_path, "2.txt", b"2")])
        assert client.errors[-1]["code"] == "upload_rejected"
        assert "at most 1" in client.errors[-1]["message"]
        assert client.pending_ask is not None
        assert file_ask_app == []
        await client.upload([_write(tmp_path, "3.txt", b"3")])
        assert file_ask_app[0] is not None
        assert [f.name for f in file_ask_app[0]] == ["3.txt"]


async def test_spontaneous_uploads_with_a_message(app: App, connect: Connect,
                                                  tmp_path: Path) -> None:
    seen = []
    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            seen.append([(e.name, e.mime) for e in message.elements])

    path = _write(tmp_path, "notes.txt", b"n" * 10)
    upload = UploadConfig(enabled=True, accept=("text/plain",), max_files=1, max_size_mb=1)
    async with connect(upload=upload) as client:
        await client.send("see attached", files=[path])
        assert seen == [[("notes.txt", "text/plain")]]
        element = client.elements[0]
        assert element["forId"] == client.messages[0]["id"]
        blob = client.session.get_blob(element["objectKey"])
        assert blob is not None
        data, mime = blob
        assert data == b"n" * 10
        assert mime == "text/plain"
        # The configured limits apply: a png is not accepted.
        with pytest.raises(AssertionError, match="refused"):
            await client.send("png", files=[_write(tmp_path, "x.png", b"\x89PNG")])
        assert len(seen) == 1


async def test_files_attached_to_a_message_are_readable_in_on_message(
        app: App, connect: Connect, tmp_path: Path) -> None:
    """Chainlit's default allows attachments; the element has the file's path and bytes."""
    seen = []
    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            [element] = message.elements
            assert element.path is not None
            seen.append((element.name, element.mime, Path(element.path).read_bytes(),
                         element.content))

    async with ChatTestClient(app, config=Config(app_dir=tmp_path)) as client:
        await client.send("see attached", files=[_write(tmp_path, "a.txt", b"abc")])
        assert client.errors == []
        assert seen == [("a.txt", "text/plain", b"abc", b"abc")]


async def test_spontaneous_uploads_can_be_turned_off(app: App, connect: Connect,
                                                     tmp_path: Path) -> None:
    async with connect(upload=UploadConfig(enabled=False)) as client:
        with pytest.raises(AssertionError, match="refused"):
            await client.send("x", files=[_write(tmp_path, "a.txt", b"a")])
        assert client.errors[-1]["code"] == "upload_rejected"
        await client.send_event({"type": "user_message", "content": "x", "fileIds": ["f"]})
        assert client.errors[-1]["code"] == "forbidden"
        assert client.messages == []
