"""A local HTTP server that speaks the OpenAI (chat completions, Responses) and Mistral
(chat completions) wire formats, JSON and server-sent events, with scripted answers: the
vendors' real client libraries are pointed at it by base URL, so nothing is patched.

The answer depends on the last user message: one naming "weather" gets a tool call
(`get_weather` with {"city": "Paris"}), one naming "fail" an HTTP 500, any other the text
ANSWER in the word tokens of TOKENS. Every request's JSON body is kept in `requests`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKENS = ["Hello", " there", ",", " friend", "."]
ANSWER = "".join(TOKENS)
USAGE = {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}
TOOL_ARGS = '{"city": "Paris"}'


def _last_user_text(body: dict[str, Any]) -> str:
    if isinstance(body.get("input"), str):
        return str(body["input"])
    items = body.get("messages") or body.get("input") or []
    for item in reversed(items):
        if item.get("role") == "user":
            content = item.get("content")
            return content if isinstance(content, str) else json.dumps(content)
    return ""


# ------------------------------------------------------------------ chat completions


def _chat_chunk(model: str, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1,
            "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def chat_stream(body: dict[str, Any], tool: bool) -> Iterator[dict[str, Any]]:
    model = body["model"]
    if tool and model.startswith("mistral"):  # Mistral sends each tool call whole
        yield _chat_chunk(model, {"role": "assistant", "content": "", "tool_calls": [
            {"index": 0, "id": "call_1", "type": "function",
             "function": {"name": "get_weather", "arguments": TOOL_ARGS}}]})
        last = _chat_chunk(model, {"content": ""}, "tool_calls")
    elif tool:  # OpenAI: the name first, the arguments in pieces
        yield _chat_chunk(model, {"role": "assistant", "content": None, "tool_calls": [
            {"index": 0, "id": "call_1", "type": "function",
             "function": {"name": "get_weather", "arguments": ""}}]})
        for part in ('{"city": ', '"Paris"}'):
            yield _chat_chunk(model, {"tool_calls": [
                {"index": 0, "function": {"arguments": part}}]})
        last = _chat_chunk(model, {}, "tool_calls")
    else:
        for i, token in enumerate(TOKENS):
            yield _chat_chunk(model, {"role": "assistant", "content": token} if i == 0
                              else {"content": token})
        last = _chat_chunk(model, {"content": ""}, "stop")
    # Mistral always sends usage on the last chunk; OpenAI when stream_options asks.
    if "stream_options" not in body:
        last["usage"] = USAGE
    yield last
    if (body.get("stream_options") or {}).get("include_usage"):
        yield {**_chat_chunk(model, {}), "choices": [], "usage": USAGE}


def chat_json(body: dict[str, Any], tool: bool) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": ANSWER}
    if tool:
        message = {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": "get_weather", "arguments": TOOL_ARGS}}]}
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 1,
            "model": body["model"], "usage": USAGE,
            "choices": [{"index": 0, "message": message,
                         "finish_reason": "tool_calls" if tool else "stop"}]}


# ------------------------------------------------------------------ Responses API


def response_json(body: dict[str, Any], tool: bool, status: str = "completed") -> dict[str, Any]:
    if tool:
        output: list[dict[str, Any]] = [{"type": "function_call", "id": "fc_1",
                                         "call_id": "call_1", "name": "get_weather",
                                         "arguments": TOOL_ARGS, "status": "completed"}]
    else:
        output = [{"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
                   "content": [{"type": "output_text", "text": ANSWER, "annotations": []}]}]
    return {"id": "resp_1", "object": "response", "created_at": 1, "model": body["model"],
            "status": status, "output": output if status == "completed" else [],
            "parallel_tool_calls": True, "tool_choice": "auto", "tools": [],
            "instructions": body.get("instructions"),  # echoed, as the API does
            "usage": {"input_tokens": 12, "output_tokens": 5, "total_tokens": 17,
                      "input_tokens_details": {"cached_tokens": 0},
                      "output_tokens_details": {"reasoning_tokens": 0}}}


def response_events(body: dict[str, Any], tool: bool) -> Iterator[dict[str, Any]]:
    yield {"type": "response.created", "sequence_number": 0,
           "response": response_json(body, tool, "in_progress")}
    seq = 1
    if not tool:
        for token in TOKENS:
            yield {"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0,
                   "content_index": 0, "delta": token, "sequence_number": seq, "logprobs": []}
            seq += 1
    yield {"type": "response.completed", "sequence_number": seq,
           "response": response_json(body, tool)}


# ------------------------------------------------------------------ the server


class _Handler(BaseHTTPRequestHandler):
    server: LlmServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append({"path": self.path, "body": body})
        text = _last_user_text(body)
        # A request that carries the tool's result gets the text answer.
        items = body.get("input") or body.get("messages") or []
        answered = any(isinstance(i, dict) and (i.get("type") == "function_call_output"
                                                or i.get("role") == "tool") for i in items)
        tool = "weather" in text and not answered
        if "fail" in text:
            self._json(500, {"error": {"message": "the model is overloaded",
                                       "type": "server_error"}})
            return
        if self.path.endswith("/chat/completions"):
            if body.get("stream"):
                self._sse(None, chat_stream(body, tool), done=True)
            else:
                self._json(200, chat_json(body, tool))
        elif self.path.endswith("/responses"):
            if body.get("stream"):
                self._sse("type", response_events(body, tool), done=False)
            else:
                self._json(200, response_json(body, tool))
        else:
            self._json(404, {"error": {"message": f"no route {self.path}"}})

    def _json(self, status: int, data: dict[str, Any]) -> None:
        raw = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _sse(self, event_key: str | None, events: Iterator[dict[str, Any]], *, done: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        for event in events:
            head = f"event: {event[event_key]}\n" if event_key else ""
            self.wfile.write(f"{head}data: {json.dumps(event)}\n\n".encode())
            self.wfile.flush()
        if done:
            self.wfile.write(b"data: [DONE]\n\n")
        self.close_connection = True


class LlmServer(ThreadingHTTPServer):
    """The server on a free loopback port, serving from a thread of its own (sync clients
    block the test's event loop while they wait for it)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[dict[str, Any]] = []
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> LlmServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join()
