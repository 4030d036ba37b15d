"""A connection's first frame: the protocol decodes the hello, the runtime (ChatHost.connect)
finds or makes its session and dispatches it; transports only move frames. And the runtime's
handlers each take their event's TypedDict, never `Any`."""

from __future__ import annotations

import ast
import inspect
import json
import typing
from pathlib import Path
from typing import Any

import pytest

from nbchat import protocol
from nbchat.app import App
from nbchat.config import Config, DataConfig
from nbchat.protocol.server_events import ErrorEvent
from nbchat.runtime import dispatch, handshake, window
from nbchat.runtime.hosting import ChatHost
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
    assert host.connect(frame, None, transport, refused.append) is None
    assert [e["code"] for e in refused] == [code]
    assert len(host.sessions) == 0


async def test_a_hello_attaches_its_session_and_the_runtime_dispatches_it(host: ChatHost) -> None:
    transport, received = _transport()
    refused: list[ErrorEvent] = []
    started = host.connect(json.dumps(HELLO), None, transport, refused.append)
    assert started is not None
    session, hello = started
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
    started = host.connect({**HELLO, "sessionId": ada.id}, User(identifier="eve"), transport,
                           refused.append)
    assert started is not None
    assert started[0] is not ada
    assert [e["code"] for e in refused] == ["unknown_session"]
    assert ada.emitter.transport is None


def test_transports_do_not_read_events() -> None:
    # The handshake is the runtime's: no transport module names an event type.
    for path in (SRC / "transports").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
        assert not names & set(protocol.CLIENT_EVENTS) - {"action"}, path.name


def test_every_runtime_handler_takes_its_event_typeddict() -> None:
    events = sorted(cls.__name__ for cls in protocol.CLIENT_EVENTS.values())
    taken = []
    for module in (dispatch, handshake, window):
        for name, func in inspect.getmembers(module, inspect.iscoroutinefunction):
            params = list(inspect.signature(func).parameters.values())
            if func.__module__ != module.__name__ or len(params) < 2 or params[1].name not in (
                    "event", "_event"):
                continue
            # The annotations are strings (postponed); the session's name only exists for
            # type checkers, so compare names rather than evaluate them.
            annotation = params[1].annotation
            # The dispatcher takes the union and narrows it; a handler takes one event.
            assert annotation in [*events, "ClientEvent"], f"{name} takes {annotation}"
            if annotation != "ClientEvent":
                taken.append(annotation)
    assert sorted(taken) == events
