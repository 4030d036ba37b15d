"""The TypeScript mirror of the protocol (js/src/protocol.ts) names the same events and fields.

protocol.ts marks its client and server sections with ``// ---- BEGIN/END … EVENTS`` lines and
writes one ``interface`` per event with one field per line; this test reads that layout with
plain regexes (no TypeScript parser needed) and compares it to ``nbchat.protocol``.
"""

import re
import typing
from pathlib import Path

import pytest

from nbchat import protocol

PROTOCOL_TS = Path(__file__).resolve().parents[2] / "js" / "src" / "protocol.ts"

_INTERFACE = re.compile(r"export interface (\w+) \{\n(.*?)\n\}", re.S)
_FIELD = re.compile(r"^\s+(\w+)(\?)?:\s*(.+?);\s*$")
_TYPE_LITERAL = re.compile(r'^"(\w+)"$')


def _section(text: str, direction: str) -> str:
    begin = f"// ---- BEGIN {direction} EVENTS"
    end = f"// ---- END {direction} EVENTS"
    assert begin in text, f"protocol.ts lost its {begin!r} marker"
    assert end in text, f"protocol.ts lost its {end!r} marker"
    return text.split(begin, 1)[1].split(end, 1)[0]


def _ts_events(direction: str) -> dict[str, dict[str, bool]]:
    """event type → {field name: required} for one section of protocol.ts."""
    text = PROTOCOL_TS.read_text(encoding="utf-8")
    events: dict[str, dict[str, bool]] = {}
    for name, body in _INTERFACE.findall(_section(text, direction)):
        fields: dict[str, bool] = {}
        event_type = None
        for line in body.splitlines():
            if not line.strip() or line.strip().startswith("//"):
                continue
            match = _FIELD.match(line)
            assert match, f"{name}: cannot read line {line!r}; keep one field per line"
            field, optional, ts_type = match.groups()
            fields[field] = optional is None
            if field == "type":
                literal = _TYPE_LITERAL.match(ts_type)
                assert literal, f"{name}.type must be one string literal, got {ts_type}"
                event_type = literal.group(1)
        assert event_type, f"interface {name} has no `type` literal"
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
    ts, py = _ts_events(direction), _py_events(classes)
    assert sorted(ts) == sorted(py), f"{direction} event types differ"
    for event_type, fields in py.items():
        assert ts[event_type] == fields, (
            f"{direction} event {event_type!r}: fields (name → required) differ; "
            f"python {fields}, protocol.ts {ts[event_type]}"
        )


def test_protocol_version_matches() -> None:
    text = PROTOCOL_TS.read_text(encoding="utf-8")
    match = re.search(r"export const PROTOCOL_VERSION = (\d+);", text)
    assert match, "protocol.ts must export `const PROTOCOL_VERSION = <int>;`"
    assert int(match.group(1)) == protocol.PROTOCOL_VERSION
