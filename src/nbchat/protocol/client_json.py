"""JSON from clients (WebSocket events, REST bodies), refused unless it can be kept.

What a client sends is echoed to its tabs, kept in the replay buffer and written to the
database. Valid JSON can still carry three things that break those later, far from the
input, where no error can say what was wrong; they are refused here instead:

- a lone UTF-16 surrogate (``"\\ud800"``): Python keeps it in a str, but it has no UTF-8
  form, so the echo cannot be encoded (and stays in the replay buffer, cutting every
  reconnect) and the database write fails;
- NUL (``"\\u0000"``): PostgreSQL text cannot hold it. It is refused, not stripped: the
  text the user sees stored must be the text they sent;
- nesting deeper than ``MAX_DEPTH``: ``json`` raises RecursionError (not ValueError) at
  about a thousand levels, and a value nested that deep cannot be re-read in a deep stack.

``NaN`` and ``Infinity``, which Python's json reads but JSON has not, are refused too: echoed
back, they would stop the browser's JSON.parse.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from nbchat.errors import ProtocolError

# Protocol events nest 3 levels; settings and element-ask values are small forms.
MAX_DEPTH = 64
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def parse(raw: str | bytes) -> Any:
    """The JSON value of `raw`, checked by `check`; ProtocolError (`bad_json`, `bad_text`)
    saying what is wrong otherwise."""
    try:
        if isinstance(raw, bytes):  # as json.loads reads bytes (which any options skip)
            raw = raw.decode(json.detect_encoding(raw), "surrogatepass")
        value = _DECODER.decode(raw)
    except RecursionError:
        raise ProtocolError(f"JSON nested deeper than {MAX_DEPTH} levels",
                            code="bad_json") from None
    except ValueError as exc:  # also UnicodeDecodeError: bytes that are not UTF-8
        raise ProtocolError(f"not valid JSON: {exc}", code="bad_json") from None
    check(value)
    return value


def _not_json(constant: str) -> Any:
    raise ProtocolError(f"{constant} is not a JSON number; send a finite number or null",
                        code="bad_json")


# One decoder: json.loads with any option builds a new one per call (~10 µs).
_DECODER = json.JSONDecoder(parse_constant=_not_json)


def check(value: Any) -> None:
    """Refuse unstorable text (in keys too), non-finite numbers and nesting deeper than
    MAX_DEPTH.

    Iterative, so a deep value passed in as a dict cannot exhaust the stack here either.
    Every event passes here, so the walk builds no field paths: only when something is
    wrong does `_explain` walk again to name the field (never quoting the text: the error
    event must encode)."""
    search = _UNSTORABLE.search
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if search(item):
                _explain(value)
        elif isinstance(item, dict):
            if depth >= MAX_DEPTH:
                _explain(value)
            for key, child in item.items():
                if isinstance(key, str) and search(key):
                    _explain(value)
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            if depth >= MAX_DEPTH:
                _explain(value)
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, float) and not math.isfinite(item):
            _explain(value)


def _explain(value: Any) -> None:
    """Raise the ProtocolError for what `check` found in `value`, naming the field."""
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            _check_text(item, path)
            continue
        if isinstance(item, float) and not math.isfinite(item):
            _not_json(str(item))
        if isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                raise ProtocolError(f"JSON nested deeper than {MAX_DEPTH} levels",
                                    code="bad_json")
            if isinstance(item, dict):
                for key, child in item.items():
                    if isinstance(key, str):
                        _check_text(key, f"{path}: a field name" if path else "a field name")
                    name = str(key) if len(str(key)) <= 40 else str(key)[:40] + "…"
                    where = f"{path}.{name}" if path else name
                    stack.append((child, where, depth + 1))
            else:
                stack.extend((child, f"{path}[{i}]", depth + 1)
                             for i, child in enumerate(item))
    raise ProtocolError("the event holds a value that cannot be stored", code="bad_text")


def _check_text(text: str, path: str) -> None:
    found = _UNSTORABLE.search(text)
    if found is None:
        return
    where = f"{path or 'the text'} "
    char = found.group()
    if char == "\x00":
        raise ProtocolError(f"{where}contains a NUL character (\\u0000) at position "
                            f"{found.start()}; text cannot be stored with it",
                            code="bad_text")
    raise ProtocolError(f"{where}contains a lone UTF-16 surrogate (\\u{ord(char):04x}) at "
                        f"position {found.start()}; it is not valid Unicode (a string cut "
                        "inside an emoji?)", code="bad_text")


def split_binary(frame: bytes) -> tuple[dict[str, Any], list[bytes]]:
    """The event and buffers of a binary frame; ProtocolError saying what is wrong."""
    if len(frame) < 4:
        raise ProtocolError("binary frame shorter than its 4-byte header")
    size = int.from_bytes(frame[:4], "big")
    if size > len(frame) - 4:
        raise ProtocolError("binary frame header announces more JSON than the frame holds")
    event = parse(frame[4:4 + size])
    if not isinstance(event, dict):
        raise ProtocolError("binary frame JSON must be an object")
    rest = frame[4 + size:]
    return event, [rest] if rest else []
