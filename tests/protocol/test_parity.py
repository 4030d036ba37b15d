"""The TypeScript mirror of the protocol (js/src/protocol.ts, and the widget's host messages
in js/src/host_messages.ts) names the same events and fields.

Each file marks its sections with ``// ---- BEGIN/END …`` lines and writes one ``interface``
per event with one field per line; this test reads that layout with plain regexes (no
TypeScript parser needed) and compares it to ``nbchat.protocol``.
"""

import re
import typing
from pathlib import Path

import pytest

from nbchat import protocol

PROTOCOL_TS = Path(__file__).resolve().parents[2] / "js" / "src" / "protocol.ts"
HOST_TS = PROTOCOL_TS.with_name("host_messages.ts")

_INTERFACE = re.compile(r"export interface (\w+) \{\n(.*?)\n\}", re.S)
_FIELD = re.compile(r"^\s+(\w+)(\?)?:\s*(.+?);\s*$")
_TYPE_LITERAL = re.compile(r'^"(\w+)"$')


def _section(text: str, section: str, file: str) -> str:
    begin = f"// ---- BEGIN {section}"
    end = f"// ---- END {section}"
    assert begin in text, f"{file} lost its {begin!r} marker"
    assert end in text, f"{file} lost its {end!r} marker"
    return text.split(begin, 1)[1].split(end, 1)[0]


def _ts_events(section: str, path: Path = PROTOCOL_TS,
               tag: str = "type") -> dict[str, dict[str, bool]]:
    """event type (the literal of its `tag` field) → {field name: required} for one
    marked section of a TypeScript file."""
    text = path.read_text(encoding="utf-8")
    events: dict[str, dict[str, bool]] = {}
    for name, body in _INTERFACE.findall(_section(text, section, path.name)):
        fields: dict[str, bool] = {}
        event_type = None
        for line in body.splitlines():
            if not line.strip() or line.strip().startswith("//"):
                continue
            match = _FIELD.match(line)
            assert match, f"{name}: cannot read line {line!r}; keep one field per line"
            field, optional, ts_type = match.groups()
            fields[field] = optional is None
            if field == tag:
                literal = _TYPE_LITERAL.match(ts_type)
                assert literal, f"{name}.{tag} must be one string literal, got {ts_type}"
                event_type = literal.group(1)
        assert event_type, f"interface {name} has no `{tag}` literal"
        assert event_type not in events, f"event type {event_type!r} defined twice"
        events[event_type] = fields
    return events


def _py_events(classes: dict[str, type]) -> dict[str, dict[str, bool]]:
    out: dict[str, dict[str, bool]] = {}
    for name, cls in classes.items():
        required: frozenset[str] = cls.__required_keys__  # type: ignore[attr-defined]
        out[name] = {key: key in required for key in typing.get_type_hints(cls)}
    return out


@pytest.mark.parametrize(
    ("direction", "classes"),
    [("CLIENT", protocol.CLIENT_EVENTS), ("SERVER", protocol.SERVER_EVENTS)],
)
def test_event_names_and_fields_match(direction: str, classes: dict[str, type]) -> None:
    ts, py = _ts_events(f"{direction} EVENTS"), _py_events(classes)
    assert sorted(ts) == sorted(py), f"{direction} event types differ"
    for event_type, fields in py.items():
        assert ts[event_type] == fields, (
            f"{direction} event {event_type!r}: fields (name → required) differ; "
            f"python {fields}, protocol.ts {ts[event_type]}"
        )


@pytest.mark.parametrize(
    ("section", "classes"),
    [("HOST REQUESTS", protocol.HOST_REQUESTS), ("HOST REPLIES", protocol.HOST_REPLIES)],
)
def test_host_message_names_and_fields_match(section: str, classes: dict[str, type]) -> None:
    ts, py = _ts_events(section, HOST_TS, "host"), _py_events(classes)
    assert sorted(ts) == sorted(py), f"{section}: message kinds differ"
    for kind, fields in py.items():
        assert ts[kind] == fields, (
            f"{section} {kind!r}: fields (name → required) differ; "
            f"python {fields}, host_messages.ts {ts[kind]}"
        )


def test_host_messages_are_told_apart_from_chat_events() -> None:
    # The widget routes a comm message by its `host` key: no chat event may have one.
    for classes in (protocol.CLIENT_EVENTS, protocol.SERVER_EVENTS):
        for name, cls in classes.items():
            assert "host" not in typing.get_type_hints(cls), f"{name} has a `host` field"
    assert set(protocol.HOST_REQUESTS) == {"file_request", "asset_request", "reset"}


def test_protocol_version_matches() -> None:
    text = PROTOCOL_TS.read_text(encoding="utf-8")
    match = re.search(r"export const PROTOCOL_VERSION = (\d+);", text)
    assert match, "protocol.ts must export `const PROTOCOL_VERSION = <int>;`"
    assert int(match.group(1)) == protocol.PROTOCOL_VERSION
