"""The widget's host messages (protocol/host_messages.py) are validated like client events:
a malformed one is refused with a ProtocolError that names what is wrong."""

from __future__ import annotations

from typing import Any

import pytest

from nbchat import protocol
from nbchat.errors import ProtocolError
from nbchat.protocol import decode_host
from nbchat.protocol.host_messages import file_error, file_response

VALID: dict[str, dict[str, Any]] = {
    "file_request": {"host": "file_request", "requestId": "r1", "objectKey": "k"},
    "asset_request": {"host": "asset_request", "requestId": "r2", "name": "plotly.js"},
    "reset": {"host": "reset", "resumeThreadId": "t"},
}


def test_every_host_request_has_a_valid_sample() -> None:
    assert set(VALID) == set(protocol.HOST_REQUESTS)


@pytest.mark.parametrize("kind", sorted(VALID))
def test_valid_host_requests_decode(kind: str) -> None:
    assert decode_host(VALID[kind]) == VALID[kind]


@pytest.mark.parametrize(("message", "code", "text"), [
    ({"host": "format_disk"}, "unknown_type", "unknown host message 'format_disk'"),
    ({"host": 3}, "unknown_type", "unknown host message 3"),
    ({"host": "file_request", "requestId": "r"}, "bad_event",
     "file_request: missing required field 'objectKey'"),
    ({"host": "file_request", "requestId": "r", "objectKey": ["k"]}, "bad_event",
     "field 'objectKey' must be string"),
    ({"host": "reset", "path": "/etc"}, "bad_event", "reset: unknown field 'path'"),
])
def test_malformed_host_messages_are_refused(message: dict[str, Any], code: str,
                                             text: str) -> None:
    with pytest.raises(ProtocolError) as info:
        decode_host(message)
    assert info.value.code == code
    assert text in str(info.value)


def test_replies_are_file_responses_of_the_schema() -> None:
    fields = protocol.HOST_REPLIES["file_response"].__annotations__
    for reply in (file_response("r", "image/png"), file_error("r", "gone")):
        assert reply["host"] == "file_response"
        assert set(reply) <= set(fields)
