"""A connection's first frame: the protocol decodes the hello, the runtime (ChatHost.connect)
finds or makes its session and dispatches it; transports only move frames. And the runtime's
handlers each take their event's TypedDict, never `Any`."""

from __future__ import annotations

import ast
import inspect
import json
import textwrap
import typing
from pathlib import Path
from typing import Any

import pytest

from nbchat import protocol
from nbchat.app import App
from nbchat.config import Config, DataConfig
from nbchat.protocol.server_events import ErrorEvent
from nbchat.runtime import dispatch
from nbchat.runtime.hosting import ChatHost, Connected
from nbchat.transports.memory import MemoryTransport
from nbchat.types import User

SRC = Path(__file__).resolve().parents[2] / "src" / "nbchat"
HELLO = {"type": "hello", "protocolVersion": protocol.PROTOCOL_VERSION}


@pytest.fixture
async def host(tmp_path: Path) -> typing.AsyncIterator[ChatHost]:
    chat_host = ChatHost(App("c"), Config(data=DataConfig(enabled=False), app_dir=tmp_path))
    yield chat_host
    await chat_host.close()


def _transport() -> tuple[MemoryTransport, list[dict[str, Any]]]:
    received: list[dict[str, Any]] = []
    return MemoryTransport(received.extend), received


@pytest.mark.parametrize(("frame", "code"), [
    (json.dumps({"type": "user_message", "content": "hi"}), "not_started"),
    ("{not json", "bad_json"),
    ({"type": "hello"}, "bad_event"),  # no protocolVersion: refused before a session exists
    ("x" * 2_000_000, "too_large"),
])
async def test_a_first_frame_that_is_no_hello_starts_no_session(
        host: ChatHost, frame: str | dict[str, Any], code: str) -> None:
    refused: list[ErrorEvent] = []
    transport, _ = _transport()
    assert await host.connect(frame, None, transport, refused.append) is None
    assert [e["code"] for e in refused] == [code]
    assert len(host.sessions) == 0


async def test_a_hello_attaches_its_session_and_the_runtime_dispatches_it(host: ChatHost) -> None:
    transport, received = _transport()
    refused: list[ErrorEvent] = []
    started = await host.connect(json.dumps(HELLO), None, transport, refused.append)
    assert isinstance(started, Connected)
    session, hello = started.session, started.hello
    assert hello == HELLO
    assert refused == []
    assert session.emitter.transport is transport
    await session.receive_event(hello)
    session.emitter.flush()
    assert received[0]["type"] == "welcome"
    assert received[0]["sessionId"] == session.id


async def test_another_users_session_id_gets_a_new_session(host: ChatHost) -> None:
    ada = host.new_session(User(identifier="ada"))
    refused: list[ErrorEvent] = []
    transport, _ = _transport()
    started = await host.connect({**HELLO, "sessionId": ada.id}, User(identifier="eve"),
                                 transport, refused.append)
    assert isinstance(started, Connected)
    assert started.session is not ada
    assert [e["code"] for e in refused] == ["unknown_session"]
    assert ada.emitter.transport is None


def test_transports_do_not_read_events() -> None:
    # The handshake is the runtime's: no transport module names an event type.
    for path in (SRC / "transports").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
        assert not names & set(protocol.CLIENT_EVENTS) - {"action"}, path.name


def _dispatched_handlers() -> list[Any]:
    """Every function `runtime.dispatch._dispatch` hands an event to (resolved from its
    source, so a handler in another module is found too)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(dispatch._dispatch)))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and [ast.unparse(a) for a in node.args] == [
                "session", "event", "buffers"]:
            target: Any = dispatch
            for part in ast.unparse(node.func).split("."):
                target = getattr(target, part)
            found.append(target)
    return found


def test_every_runtime_handler_takes_its_event_typeddict() -> None:
    events = sorted(cls.__name__ for cls in protocol.CLIENT_EVENTS.values())
    taken = []
    for func in _dispatched_handlers():
        # The annotations are strings (postponed); the session's name only exists for
        # type checkers, so compare names rather than evaluate them.
        annotation = list(inspect.signature(func).parameters.values())[1].annotation
        assert annotation in events, f"{func.__qualname__} takes {annotation}"
        taken.append(annotation)
    assert sorted(taken) == events
