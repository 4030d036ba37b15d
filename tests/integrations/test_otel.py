"""Steps as OpenTelemetry spans with OpenInference attributes: checked with the SDK's
in-memory exporter, and end to end through the OTLP/HTTP exporter to a local receiver
that decodes the protobuf requests (opentelemetry-proto)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

import nbchat as cl
from nbchat.app import App, registering_on
from nbchat.config import Config, DataConfig, OtelConfig
from nbchat.integrations.otel import SCOPE, tracer_provider
from nbchat.testing import ChatTestClient
from nbchat.types import User

MESSAGES = [{"role": "user", "content": "weather in Paris?"}]


def agent_app() -> App:
    app = App("otel")
    with registering_on(app):

        @cl.on_message
        async def on_message(msg: cl.Message) -> None:
            async with cl.Step(name="agent", type="run") as run:
                run.input = msg.content
                async with cl.Step(name="gpt-test", type="llm") as llm:
                    llm.input = MESSAGES
                    llm.output = "calling get_weather"
                    llm.generation = cl.ChatGeneration(
                        provider="openai", model="gpt-test", messages=MESSAGES,
                        message_completion={"role": "assistant", "content": None,
                                            "tool_calls": [{"id": "c1", "type": "function",
                                                            "function": {"name": "get_weather",
                                                                         "arguments": "{}"}}]},
                        input_token_count=12, output_token_count=5, token_count=17,
                        settings={"temperature": 0.2})
                try:
                    async with cl.Step(name="get_weather", type="tool") as tool:
                        tool.input = {"city": "Paris"}
                        raise RuntimeError("the weather service is down")
                except RuntimeError:
                    pass  # the step records it; the agent goes on
                run.output = "It rains."
            await cl.Message(content="It rains in Paris.").send()

    return app


@pytest.fixture(scope="module")
def memory() -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    assert trace.get_tracer_provider() is provider, (
        "another test set the global TracerProvider first; run this module on its own")
    return exporter


def ours(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans()
            if s.instrumentation_scope is not None and s.instrumentation_scope.name == SCOPE]


def config(**otel: Any) -> Config:
    return Config(data=DataConfig(enabled=False), otel=OtelConfig(enabled=True, **otel))


def by_name(spans: list[ReadableSpan]) -> dict[str, ReadableSpan]:
    return {s.name: s for s in spans}


def _ns(stamp: str) -> int:
    return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1e9)


async def test_each_step_is_a_span_with_openinference_attributes(
        memory: InMemorySpanExporter) -> None:
    memory.clear()
    async with ChatTestClient(agent_app(), config=config(),
                              user=User(identifier="ada")) as client:
        await client.send("weather in Paris?")
    spans = by_name(ours(memory))
    assert set(spans) >= {"agent", "gpt-test", "get_weather", "Assistant", "ada"}, set(spans)
    run, llm, tool = spans["agent"], spans["gpt-test"], spans["get_weather"]
    assert llm.parent is not None
    assert tool.parent is not None
    assert llm.parent.span_id == run.context.span_id
    assert tool.parent.span_id == run.context.span_id
    assert llm.context.trace_id == run.context.trace_id
    assert run.parent is None  # a root step starts a trace

    thread = client.session.thread_id
    for span in spans.values():
        assert span.attributes is not None
        assert span.attributes["session.id"] == thread
        assert span.attributes["user.id"] == "ada"
    assert run.attributes is not None
    assert llm.attributes is not None
    assert tool.attributes is not None
    assert run.attributes["openinference.span.kind"] == "CHAIN"
    assert run.attributes["input.value"] == "weather in Paris?"
    assert run.attributes["output.value"] == "It rains."
    a = llm.attributes
    assert a["openinference.span.kind"] == "LLM"
    assert (a["llm.model_name"], a["llm.provider"]) == ("gpt-test", "openai")
    assert (a["llm.token_count.prompt"], a["llm.token_count.completion"],
            a["llm.token_count.total"]) == (12, 5, 17)
    assert json.loads(str(a["llm.invocation_parameters"])) == {"temperature": 0.2}
    assert a["llm.input_messages.0.message.role"] == "user"
    assert a["llm.input_messages.0.message.content"] == "weather in Paris?"
    assert a["llm.output_messages.0.message.tool_calls.0.tool_call.function.name"] == \
        "get_weather"
    assert json.loads(str(a["input.value"])) == MESSAGES
    assert a["input.mime_type"] == "application/json"
    assert tool.attributes["openinference.span.kind"] == "TOOL"
    assert tool.attributes["tool.name"] == "get_weather"
    assert tool.status.status_code is StatusCode.ERROR
    assert "weather service is down" in str(tool.status.description)
    assert spans["Assistant"].attributes is not None
    assert spans["Assistant"].attributes["output.value"] == "It rains in Paris."

    # The span's times are the step's.
    step = next(s for s in client.steps if s["name"] == "gpt-test")
    assert step["start"] is not None
    assert step["end"] is not None
    assert llm.start_time == _ns(step["start"])
    assert llm.end_time == _ns(step["end"])


async def test_without_content_only_structure_timings_and_tokens_leave(
        memory: InMemorySpanExporter) -> None:
    memory.clear()
    async with ChatTestClient(agent_app(), config=config(include_content=False)) as client:
        await client.send("a secret question")
    spans = by_name(ours(memory))
    attributes = [dict(s.attributes or {}) for s in spans.values()]
    assert all("input.value" not in a for a in attributes)
    assert all("output.value" not in a for a in attributes)
    assert not any(k.startswith("llm.input_messages") for a in attributes for k in a)
    llm = spans["gpt-test"].attributes or {}
    assert llm["llm.token_count.total"] == 17
    assert "a secret question" not in json.dumps(attributes)


async def test_steps_left_open_end_with_the_chat(memory: InMemorySpanExporter) -> None:
    memory.clear()
    app = App("open")
    with registering_on(app):

        @cl.on_message
        async def on_message(_: cl.Message) -> None:
            await cl.Step(name="never closed", type="run").send()

    async with ChatTestClient(app, config=config()) as client:
        await client.send("hi")
        assert "never closed" not in by_name(ours(memory))
    assert "never closed" in by_name(ours(memory))


# ------------------------------------------------------------------ OTLP/HTTP, end to end


class Receiver(ThreadingHTTPServer):
    """An OTLP/HTTP traces endpoint on loopback: decodes each export request."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Receive)
        self.requests: list[tuple[dict[str, str], ExportTraceServiceRequest]] = []
        self.arrived = threading.Event()


class _Receive(BaseHTTPRequestHandler):
    server: Receiver

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        self.server.requests.append(({k.lower(): v for k, v in self.headers.items()}, request))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()
        self.server.arrived.set()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


async def test_spans_reach_an_otlp_http_collector(receiver: Receiver) -> None:
    settings = config(endpoint=f"http://127.0.0.1:{receiver.server_address[1]}/v1/traces",
                      headers={"x-api-key": "k-123"}, service_name="weather-bot")
    async with ChatTestClient(agent_app(), config=settings) as client:
        await client.send("weather in Paris?")
    provider = tracer_provider(settings.otel)
    assert provider.force_flush(10_000)
    assert receiver.arrived.wait(10)
    spans: dict[str, Any] = {}
    services = set()
    for headers, request in receiver.requests:
        assert headers["x-api-key"] == "k-123"
        assert headers["content-type"] == "application/x-protobuf"
        for resource_spans in request.resource_spans:
            services |= {a.value.string_value for a in resource_spans.resource.attributes
                         if a.key == "service.name"}
            for scope in resource_spans.scope_spans:
                for span in scope.spans:
                    spans[span.name] = span
    assert services == {"weather-bot"}
    assert {"agent", "gpt-test", "get_weather"} <= set(spans)
    llm = {a.key: a.value for a in spans["gpt-test"].attributes}
    assert llm["openinference.span.kind"].string_value == "LLM"
    assert llm["llm.token_count.prompt"].int_value == 12
    assert llm["session.id"].string_value == client.session.thread_id
    assert spans["gpt-test"].parent_span_id == spans["agent"].span_id
    provider.shutdown()
