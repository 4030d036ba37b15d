"""Attack class 1 (BRIEF §4.1): a path or URL that came from a client is never read or
fetched. Chainlit shipped arbitrary file read through an element's `path`
(CVE-2026-22218) and SSRF through its `url` (CVE-2026-22219)."""

from __future__ import annotations

import http.server
import json
import threading
import typing
from collections.abc import Iterator
from typing import Any

import pytest

import nbchat as cl
from nbchat.app import App, registering_on
from nbchat.protocol import CLIENT_EVENTS
from serve.helpers import fetch

from .conftest import Start, api, connect

# One valid example of every client event type.
EXAMPLES: dict[str, dict[str, Any]] = {
    "hello": {"type": "hello", "protocolVersion": 1},
    "user_message": {"type": "user_message", "content": "hi"},
    "edit_message": {"type": "edit_message", "id": "s1", "content": "hi"},
    "action": {"type": "action", "id": "a1"},
    # A custom element's props and a callAction payload are the browser's, kept as data
    # (props are shown as JSON, a payload goes to the action callback), never opened.
    "element_update": {"type": "element_update", "id": "e1", "props": {"n": 1}},
    "call_action": {"type": "call_action", "callId": "c1", "name": "go", "payload": {}},
    "ask_response": {"type": "ask_response", "askId": "k1", "fileIds": ["f1"]},
    "stop": {"type": "stop"},
    "settings_update": {"type": "settings_update", "settings": {}},
    "settings_edit": {"type": "settings_edit", "settings": {}},
    "user_env": {"type": "user_env", "env": {}},
    "feedback": {"type": "feedback", "stepId": "s1", "value": 1},
    "feedback_delete": {"type": "feedback_delete", "stepId": "s1"},
    "upload_start": {"type": "upload_start", "uploadId": "u1", "name": "a.txt",
                     "mime": "text/plain", "size": 1},
    "upload_chunk": {"type": "upload_chunk", "uploadId": "u1"},
    "upload_end": {"type": "upload_end", "uploadId": "u1"},
    "upload_cancel": {"type": "upload_cancel", "uploadId": "u1"},
    # Its `data` is the embedding page's, handed to the app as it is (never opened here).
    "window_message": {"type": "window_message", "data": "hello"},
    "fork": {"type": "fork", "stepId": "s1"},
    "call_fn_result": {"type": "call_fn_result", "callId": "c1", "result": None},
    "mcp_connect": {"type": "mcp_connect", "name": "m", "clientType": "streamable-http"},
    "mcp_disconnect": {"type": "mcp_disconnect", "name": "m"},
}
# The one client field that names a URL on purpose: a user-added MCP server's. It is only
# ever used when nbchat.yaml allows users to add servers and the URL is under
# mcp.allowed_urls (tests/integrations/test_mcp.py: an unlisted loopback port is refused
# before any connection); here, with no such config, it is refused outright.
ALLOWED_URL_FIELDS = {("mcp_connect", "url")}
SMUGGLED = [("path", "/etc/passwd"), ("url", "http://169.254.169.254/latest/meta-data"),
            ("objectKey", "../../../etc/passwd")]
# ("file" is the multipart field of an upload: bytes, not a name to open.)
PATH_LIKE = {"path", "url", "uri", "objectkey", "filepath", "file_path", "location",
             "href", "src"}


class Recorder(http.server.BaseHTTPRequestHandler):
    hits: typing.ClassVar[list[str]] = []

    def do_GET(self) -> None:
        Recorder.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def loopback() -> Iterator[str]:
    """A real HTTP server on loopback that records every request it gets."""
    Recorder.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_examples_cover_every_client_event_type() -> None:
    assert set(EXAMPLES) == set(CLIENT_EVENTS)


async def test_every_client_event_with_a_path_or_url_field_is_refused(start: Start) -> None:
    async with start() as served:
        ws = await connect(served, "alice")
        await ws.hello()
        for kind, example in EXAMPLES.items():
            for field, value in SMUGGLED:
                await ws.send({**example, field: value})
                error = await ws.until(lambda e: e["type"] == "error")
                if (kind, field) in ALLOWED_URL_FIELDS:
                    assert error["code"] == "mcp_refused", (kind, field, error)
                    assert "mcp.user_servers" in error["message"], (kind, field, error)
                    continue
                assert error["code"] == "bad_event", (kind, field, error)
                assert repr(field) in error["message"], (kind, field, error)
        assert await ws.reply("still alive")  # the session lives on
        await ws.close()


async def test_a_hello_with_a_path_or_url_field_starts_no_session(start: Start) -> None:
    async with start() as served:
        for field, value in SMUGGLED:
            ws = await connect(served, "alice")
            await ws.send({**EXAMPLES["hello"], field: value})
            error = await ws.until(lambda e: e["type"] == "error")
            assert error["code"] == "bad_event", error
            assert not any(e["type"] == "welcome" for e in ws.events)
            await ws.close()


def _resolve(node: Any, doc: dict[str, Any], depth: int = 0) -> Any:
    """`node` with every local `$ref` replaced by what it points at."""
    if isinstance(node, dict):
        if "$ref" in node and depth < 20:
            target: Any = doc
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            return _resolve(target, doc, depth + 1)
        return {k: _resolve(v, doc, depth) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, doc, depth) for v in node]
    return node


def _names(node: Any) -> Iterator[str]:
    """Every parameter and property name in an OpenAPI document's operations."""
    if isinstance(node, dict):
        if "name" in node and "in" in node:
            yield node["name"]
        for key, value in node.get("properties", {}).items():
            yield key
            yield from _names(value)
        for key, value in node.items():
            if key != "properties":
                yield from _names(value)
    elif isinstance(node, list):
        for item in node:
            yield from _names(item)


async def test_no_rest_endpoint_takes_a_path_or_url(start: Start) -> None:
    async with start() as served:
        doc = json.loads((await api(served, "alice", "GET", "/openapi.json")).body)
        # Parameters and request bodies (with the components they refer to), not responses.
        inputs = [[op.get("parameters", []), op.get("requestBody", {}), ops.get("parameters")]
                  for ops in doc["paths"].values() for op in ops.values()
                  if isinstance(op, dict)]
        taken = {n.lower() for n in _names(_resolve(inputs, doc))}
        assert {"thread_id", "name"} <= taken, taken
        assert not taken & PATH_LIKE, taken & PATH_LIKE
        # And an attempt to smuggle one in is refused, not ignored.
        ws = await connect(served, "alice")
        await ws.hello()
        await ws.reply("a thread of my own")
        thread = next(e for e in ws.events if e["type"] == "thread")["id"]
        await ws.close()
        for method, path, body in [
                ("PATCH", f"/threads/{thread}", {"name": "x", "path": "/etc/passwd"}),
                ("PATCH", f"/threads/{thread}", {"url": "http://127.0.0.1:1/"}),
                ("PUT", f"/threads/{thread}/steps/s1/feedback",
                 {"value": 1, "objectKey": "../x"})]:
            refused = await api(served, "alice", method, path, body=body)
            assert refused.code == 400, (method, path, refused.code, refused.body)
            assert "unknown field" in json.loads(refused.body)["error"]["message"]


def image_link_app(url: str) -> App:
    app = App("links")
    with registering_on(app):

        @cl.on_message
        async def reply(message: cl.Message) -> None:
            await cl.Message(content="look", elements=[
                cl.Image(name="remote.png", url=url + "/img.png", display="inline")]).send()

    return app


async def test_an_authors_element_url_goes_to_the_browser_and_is_never_fetched(
        start: Start, loopback: str) -> None:
    async with start(app=image_link_app(loopback)) as served:
        ws = await connect(served, "alice")
        welcome = await ws.hello()
        await ws.reply("picture")
        [element] = [e["element"] for e in ws.events if e["type"] == "element"]
        assert element["url"] == loopback + "/img.png"
        thread = next(e for e in ws.events if e["type"] == "thread")["id"]
        assert served.host.data_layer is not None
        await served.host.data_layer.flush()
        # Neither the REST API nor the blob route fetches it for the client.
        for path in (f"/threads/{thread}/elements/{element['id']}",
                     f"/threads/{thread}/files/{element['id']}"):
            answer = await api(served, "alice", "GET", path)
            assert answer.code in (200, 404), (path, answer.code)
        blob = served.base + f"nbchat/blobs/{welcome['sessionId']}/{element['id']}"
        assert (await fetch(blob, headers={"X-Test-User": "alice"})).code == 404
        await ws.close()
    assert Recorder.hits == []
