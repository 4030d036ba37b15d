"""The wire protocol: every event nbchat sends or accepts is defined here and nowhere else.

Events are JSON objects with a ``type``. Client events are validated against the
TypedDicts of `client_events` (the annotations are the schema; `server_events` has the
server's); anything else becomes a
``ProtocolError`` that the runtime turns into an ``error`` event. Server events carry a
per-session ``seq`` so a reconnecting client can ask for what it missed.

Mirrored by ``js/src/protocol.ts`` and ``docs/protocol.md``; tests keep the three equal.
"""

# No `from __future__ import annotations` here: the validator reads annotations at run time.
import functools
import json
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Union

from nbchat.errors import ProtocolError
from nbchat.protocol import client_json
from nbchat.protocol.client_events import ClientEvent, Hello
from nbchat.protocol.host_messages import HOST_REPLY_CLASSES, HostRequest
from nbchat.protocol.server_events import ServerEvent

PROTOCOL_VERSION = 1


def _by_tag(classes: Sequence[type], tag: str = "type") -> dict[str, type]:
    """Message classes by the literal of their `tag` field (`type`, or `host`)."""
    out: dict[str, type] = {}
    for cls in classes:
        (name,) = typing.get_args(typing.get_type_hints(cls)[tag])
        out[str(name)] = cls
    return out


CLIENT_EVENTS: dict[str, type] = _by_tag(typing.get_args(ClientEvent))
SERVER_EVENTS: dict[str, type] = _by_tag(typing.get_args(ServerEvent))
# The notebook widget's host messages (host_messages.py), by their `host` value.
HOST_REQUESTS: dict[str, type] = _by_tag(typing.get_args(HostRequest), "host")
HOST_REPLIES: dict[str, type] = _by_tag(HOST_REPLY_CLASSES, "host")

# ----------------------------------------------------------------------------- validation


def _type_name(tp: Any) -> str:
    if tp is type(None):
        return "null"
    if isinstance(tp, type):
        return {"str": "string", "int": "integer", "float": "number", "bool": "boolean",
                "dict": "object", "list": "array"}.get(tp.__name__, tp.__name__)
    origin = typing.get_origin(tp)
    if origin is Literal:
        return " or ".join(json.dumps(a) for a in typing.get_args(tp))
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if origin is not None:
        return _type_name(origin)
    return str(tp)


def _matches(value: Any, tp: Any) -> bool:
    if tp is Any:
        return True
    if tp is type(None):
        return value is None
    origin = typing.get_origin(tp)
    if origin is Literal:
        return any(value == a and type(value) is type(a) for a in typing.get_args(tp))
    if origin in (Union, types.UnionType):
        return any(_matches(value, a) for a in typing.get_args(tp))
    if origin is list:
        (item,) = typing.get_args(tp)
        return isinstance(value, list) and all(_matches(v, item) for v in value)
    if origin is dict:
        key, item = typing.get_args(tp)
        return isinstance(value, dict) and all(
            _matches(k, key) and _matches(v, item) for k, v in value.items()
        )
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(tp, type):
        return isinstance(value, tp)
    raise TypeError(f"protocol validator cannot check {tp!r}")


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    """An event class's fields and types. get_type_hints evaluates every annotation anew
    (~75 µs per event); the classes never change, so once per class is enough."""
    return typing.get_type_hints(cls)


def decode_client(frame: str | bytes | dict[str, Any], max_bytes: int) -> ClientEvent:
    """Parse and validate one client event, or raise ProtocolError saying what is wrong."""
    if isinstance(frame, str | bytes):
        if len(frame) > max_bytes:
            raise ProtocolError(
                f"event of {len(frame)} bytes exceeds the limit of {max_bytes} bytes",
                code="too_large",
            )
        frame = client_json.parse(frame)
    else:
        client_json.check(frame)  # first: json.dumps of a too deep dict would recurse
        if len(json.dumps(frame, separators=(",", ":"))) > max_bytes:
            raise ProtocolError(f"event exceeds the limit of {max_bytes} bytes",
                                code="too_large")
    if not isinstance(frame, dict):
        raise ProtocolError("event must be a JSON object with a 'type' field")
    _check(frame, CLIENT_EVENTS, "type", "event type")
    return typing.cast(ClientEvent, frame)


def decode_hello(frame: str | bytes | dict[str, Any], max_bytes: int) -> Hello:
    """A connection's first event, which must be a `hello` (`not_started` otherwise): the
    host reads its `sessionId` to find the session the rest of the connection goes to."""
    event = decode_client(frame, max_bytes)
    if event["type"] != "hello":
        raise ProtocolError(f"the first event must be hello, not {event['type']}",
                            code="not_started")
    return event


def decode_host(message: dict[str, Any]) -> HostRequest:
    """Validate one host message of the widget's view (a comm message with a `host` key;
    the comm already parsed its JSON), or raise ProtocolError saying what is wrong."""
    _check(message, HOST_REQUESTS, "host", "host message")
    return typing.cast(HostRequest, message)


def _check(frame: dict[str, Any], classes: dict[str, type], tag: str, what: str) -> None:
    """`frame` is one of `classes` (by its `tag` field), with the fields and types of it."""
    kind = frame.get(tag)
    cls = classes.get(kind) if isinstance(kind, str) else None
    if cls is None:
        known = ", ".join(sorted(classes))
        raise ProtocolError(f"unknown {what} {kind!r}; expected one of: {known}",
                            code="unknown_type")
    hints = _hints(cls)
    required: frozenset[str] = cls.__required_keys__  # type: ignore[attr-defined]
    for key in frame:
        if key not in hints:
            raise ProtocolError(f"{kind}: unknown field {key!r}")
    for key, tp in hints.items():
        if key not in frame:
            if key in required:
                raise ProtocolError(f"{kind}: missing required field {key!r}")
            continue
        if not _matches(frame[key], tp):
            raise ProtocolError(
                f"{kind}: field {key!r} must be {_type_name(tp)}, "
                f"got {type(frame[key]).__name__}"
            )


# json.dumps with options builds a JSONEncoder per call; one is enough (encode keeps no
# state between calls, so sharing it across threads is safe).
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


_ASCII_ENCODER = json.JSONEncoder(separators=(",", ":"))


def encode(events: Sequence[Mapping[str, Any]]) -> str:
    """Serialize a batch of server events as one wire frame."""
    return _ENCODER.encode(events)


def encode_utf8(events: Sequence[Mapping[str, Any]]) -> bytes:
    """`encode` as the UTF-8 bytes of a text frame.

    Text with a lone surrogate has no UTF-8 form (clients' is refused, but an app can make
    it); such a batch is written with \\u escapes instead, which every JSON parser reads, so
    a frame never fails to encode and stays in the replay buffer cutting each reconnect."""
    try:
        return _ENCODER.encode(events).encode()
    except UnicodeEncodeError:
        return _ASCII_ENCODER.encode(events).encode()
