"""The protocol codec: client events are validated against the schema; bad events become
an `error` event that changes nothing, and the session stays alive."""

from __future__ import annotations

import json
import typing
from typing import Any

import pytest

import nbchat as cl
from nbchat.app import App, registering_on
from nbchat.config import Config, RuntimeConfig
from nbchat.errors import ProtocolError
from nbchat.protocol import (
    CLIENT_EVENTS,
    PROTOCOL_VERSION,
    SERVER_EVENTS,
    decode_client,
    encode,
    encode_utf8,
)
from nbchat.testing import ChatTestClient


def _nested(depth: int) -> list[Any]:
    """[[[…]]] `depth` levels deep (the comm's frames come parsed: no JSON text to nest)."""
    inner: list[Any] = []
    for _ in range(depth):
        inner = [inner]
    return inner


VALID: dict[str, dict[str, Any]] = {
    "hello": {"type": "hello", "protocolVersion": 1, "lastSeq": 3, "chatProfile": "p"},
    "user_message": {"type": "user_message", "content": "hi", "fileIds": ["a"],
                     "command": "c", "clientId": "x"},
    "edit_message": {"type": "edit_message", "id": "s", "content": "new"},
    "action": {"type": "action", "id": "a"},
    "element_update": {"type": "element_update", "id": "e", "props": {"n": 1}},
    "call_action": {"type": "call_action", "callId": "c1", "name": "go", "payload": {"x": 1}},
    "ask_response": {"type": "ask_response", "askId": "q", "values": {"k": [1]}},
    "stop": {"type": "stop"},
    "settings_update": {"type": "settings_update", "settings": {"a": 1}},
    "settings_edit": {"type": "settings_edit", "settings": {"a": 1}},
    "user_env": {"type": "user_env", "env": {"KEY": "v"}},
    "feedback": {"type": "feedback", "stepId": "s", "value": 1, "comment": None},
    "feedback_delete": {"type": "feedback_delete", "stepId": "s"},
    "fork": {"type": "fork", "stepId": "s"},
    "upload_start": {"type": "upload_start", "uploadId": "u", "name": "a.txt",
                     "mime": "text/plain", "size": 3},
    "upload_chunk": {"type": "upload_chunk", "uploadId": "u"},
    "upload_end": {"type": "upload_end", "uploadId": "u"},
    "upload_cancel": {"type": "upload_cancel", "uploadId": "u"},
    "mcp_connect": {"type": "mcp_connect", "name": "files", "clientType": "stdio",
                    "command": "/usr/bin/x", "args": ["-v"]},
    "mcp_disconnect": {"type": "mcp_disconnect", "name": "files"},
    "window_message": {"type": "window_message", "data": {"any": ["json", 1]}},
    "call_fn_result": {"type": "call_fn_result", "callId": "c", "result": {"k": "v"}},
}


def test_every_client_event_has_a_valid_sample() -> None:
    assert set(VALID) == set(CLIENT_EVENTS)


@pytest.mark.parametrize("kind", sorted(VALID))
def test_valid_events_decode_from_dicts_and_json(kind: str) -> None:
    event = VALID[kind]
    assert decode_client(event, 10_000) == event
    assert decode_client(json.dumps(event), 10_000) == event
    assert decode_client(json.dumps(event).encode(), 10_000) == event


@pytest.mark.parametrize(("frame", "code", "text"), [
    ({"type": "shout"}, "unknown_type", "unknown event type 'shout'"),
    ({"content": "no type"}, "unknown_type", "expected one of"),
    ({"type": 5}, "unknown_type", "unknown event type 5"),
    ({"type": "user_message"}, "bad_event", "missing required field 'content'"),
    ({"type": "user_message", "content": 5}, "bad_event", "'content' must be string, got int"),
    ({"type": "user_message", "content": "x", "fileIds": "a"}, "bad_event",
     "'fileIds' must be array"),
    ({"type": "user_message", "content": "x", "fileIds": [1]}, "bad_event", "'fileIds'"),
    ({"type": "user_message", "content": "x", "extra": 1}, "bad_event",
     "unknown field 'extra'"),
    ({"type": "hello", "protocolVersion": True}, "bad_event", "must be integer, got bool"),
    ({"type": "hello", "protocolVersion": 1.0}, "bad_event", "must be integer"),
    ({"type": "feedback", "stepId": "s", "value": 2}, "bad_event", "must be 0 or 1"),
    ({"type": "feedback", "stepId": "s", "value": True}, "bad_event", "must be 0 or 1"),
    ({"type": "upload_start", "uploadId": "u", "name": "n", "mime": "m", "size": "3"},
     "bad_event", "'size' must be integer"),
    ({"type": "settings_update", "settings": []}, "bad_event", "must be object"),
    ("[1, 2]", "bad_event", "JSON object"),
    ("{not json", "bad_json", "not valid JSON"),
    # Text that could not be echoed (no UTF-8 form) or stored (NUL), however it came in.
    ('{"type": "user_message", "content": "a\\ud800"}', "bad_text", "content contains a lone"),
    ({"type": "user_message", "content": "a\udfff"}, "bad_text", "surrogate (\\udfff)"),
    ('{"type": "user_message", "content": "a\\u0000b"}', "bad_text", "NUL character"),
    ({"type": "settings_update", "settings": {"a": ["ok", "\x00"]}}, "bad_text",
     "settings.a[1] contains a NUL"),
    ({"type": "settings_update", "settings": {"\ud800": 1}}, "bad_text",
     "settings: a field name contains"),
    ('{"type": "settings_update", "settings": {"a": NaN}}', "bad_json", "NaN is not"),
    ({"type": "settings_update", "settings": {"a": float("inf")}}, "bad_json",
     "inf is not"),
    # Deep nesting: json raises RecursionError (not ValueError) for the text; the dict
    # (the comm's frames come parsed) would make json.dumps of the size check recurse.
    ('{"type": "stop", "x": ' + "[" * 100_000 + "]" * 100_000 + "}", "bad_json",
     "nested deeper than 64"),
    ({"type": "settings_update", "settings": {"a": _nested(100_000)}}, "bad_json",
     "nested deeper"),
])
def test_invalid_events_raise_a_protocol_error(frame: str | dict[str, Any], code: str,
                                               text: str) -> None:
    with pytest.raises(ProtocolError) as info:
        decode_client(frame, 1_000_000)
    assert info.value.code == code
    assert text in str(info.value)


@pytest.mark.parametrize("frame", [
    json.dumps({"type": "user_message", "content": "x" * 200}),
    {"type": "user_message", "content": "x" * 200},
])
def test_oversized_events_are_refused(frame: str | dict[str, Any]) -> None:
    with pytest.raises(ProtocolError, match="exceeds the limit of 100 bytes") as info:
        decode_client(frame, 100)
    assert info.value.code == "too_large"


def test_encode_utf8_writes_what_has_no_utf8_form_as_escapes() -> None:
    batch = [{"type": "token", "seq": 1, "id": "s", "delta": "héllo 😀"}]
    assert encode_utf8(batch) == encode(batch).encode()   # the usual case: as encode
    cut = [{"type": "token", "seq": 2, "id": "s", "delta": "héllo \ud83d"}]
    frame = encode_utf8(cut)
    assert b"\\ud83d" in frame
    assert json.loads(frame) == cut


def test_encode_is_compact_json_that_round_trips() -> None:
    batch = [{"type": "token", "seq": 1, "id": "s", "delta": "héllo"},
             {"type": "step_delete", "seq": 2, "id": "s"}]
    frame = encode(batch)
    assert json.loads(frame) == batch
    assert ", " not in frame
    assert "héllo" in frame


def test_every_server_event_carries_a_seq() -> None:
    for kind, cls in SERVER_EVENTS.items():
        assert typing.get_type_hints(cls)["seq"] is int, kind


# ---------------------------------------------------------------------------- end to end


@pytest.fixture
def counting_app() -> tuple[App, list[str]]:
    app = App("codec")
    seen: list[str] = []
    with registering_on(app):
        @cl.on_message
        async def on_message(message: cl.Message) -> None:
            seen.append(message.content)
            await cl.Message(f"echo {message.content}").send()
    return app, seen


BAD_FRAMES = [
    ({"type": "shout"}, "unknown_type"),
    ({"type": "user_message"}, "bad_event"),
    ({"type": "user_message", "content": ["x"]}, "bad_event"),
    ({"type": "user_message", "content": "x" * 600}, "too_large"),
    ('{"type": "user_message", "content": "' + "x" * 600 + '"}', "too_large"),
    ("{oops", "bad_json"),
    (b"\xff\xfe", "bad_json"),
    ('{"type": "user_message", "content": "\\ud83d"}', "bad_text"),
    ({"type": "user_message", "content": "a\x00"}, "bad_text"),
    ("[" * 200 + "]" * 200, "bad_json"),  # valid JSON, nested past 64 levels
]


@pytest.mark.parametrize(("frame", "code"), BAD_FRAMES)
async def test_bad_event_gives_an_error_event_and_changes_nothing(counting_app: tuple[App,
                                                                  list[str]],
                                                                  frame: str | dict[str, Any],
                                                                  code: str) -> None:
    app, seen = counting_app
    config = Config(runtime=RuntimeConfig(max_event_bytes=500))
    async with ChatTestClient(app, config=config) as client:
        await client.send("before")
        steps_before = json.dumps(client.session.state.snapshot(), sort_keys=True)
        events_before = len(client.events)

        await client.session.receive(frame)
        await client.settle()

        new = client.events[events_before:]
        assert [(e["type"], e["code"]) for e in new] == [("error", code)]
        assert new[0]["message"]
        assert json.dumps(client.session.state.snapshot(), sort_keys=True) == steps_before
        assert seen == ["before"]
        # The session is alive.
        turn = await client.send("after")
        assert turn[-1]["output"] == "echo after"
        assert seen == ["before", "after"]


async def test_error_events_follow_the_schema(counting_app: tuple[App, list[str]]) -> None:
    app, _ = counting_app
    async with ChatTestClient(app, config=Config()) as client:
        await client.send_event({"type": "nope"})
        error = client.errors[-1]
        assert set(error) == set(typing.get_type_hints(SERVER_EVENTS["error"]))
        welcome = client.events[0]
        assert welcome["type"] == "welcome"
        assert welcome["protocolVersion"] == PROTOCOL_VERSION
        assert set(welcome) == set(typing.get_type_hints(SERVER_EVENTS["welcome"]))
