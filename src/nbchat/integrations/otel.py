"""Every step as an OpenTelemetry span (`otel.enabled` in nbchat.yaml), with OpenInference
attributes (`otel_attributes`), so Phoenix, Langfuse or any OTLP collector shows the run.

A `StepSpans` is one more listener of a session's flushed batches, like the recorder: a
span starts when its step is first shown (at the step's `start`), under the span of the
step's parent, and ends when the step ends (at its `end`), with the step's final input,
output, generation and error. Each step without a parent (a message, a root run) starts a
trace of its own; every span carries the chat's thread id as `session.id`, so a collector
groups a chat's traces. Spans still open when the chat closes end then.

The spans go to an OTLP/HTTP endpoint (`otel.endpoint`, one TracerProvider with a batch
processor per endpoint and process), or, without one, to the process's global
TracerProvider, which the app (or a tool like Phoenix's `register()`) sets up.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode

from nbchat.config import OtelConfig
from nbchat.integrations.otel_attributes import span_attributes

if TYPE_CHECKING:
    from nbchat.runtime.session import ChatSession

__all__ = ["StepSpans", "attach", "tracer_provider"]

log = logging.getLogger("nbchat")
SCOPE = "nbchat"
_providers: dict[tuple[str, tuple[tuple[str, str], ...], str], Any] = {}


def tracer_provider(config: OtelConfig) -> Any:
    """The TracerProvider the spans of `config` go to (made once per endpoint)."""
    if config.endpoint is None:
        return trace.get_tracer_provider()
    key = (config.endpoint, tuple(sorted(config.headers.items())), config.service_name)
    provider = _providers.get(key)
    if provider is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        provider = TracerProvider(resource=Resource.create({"service.name": config.service_name}))
        provider.add_span_processor(BatchSpanProcessor(
            OTLPSpanExporter(endpoint=config.endpoint, headers=dict(config.headers))))
        _providers[key] = provider
    return provider


def _ns(stamp: Any) -> int | None:
    """An ISO 8601 step time (`…Z`) as nanoseconds since the epoch."""
    if not isinstance(stamp, str) or not stamp:
        return None
    try:
        return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1e9)
    except ValueError:
        return None


class StepSpans:
    """The spans of one session's steps."""

    def __init__(self, session: ChatSession, config: OtelConfig) -> None:
        self.session = session
        self.content = config.include_content
        self.tracer = tracer_provider(config).get_tracer(SCOPE)
        self.open: dict[str, Span] = {}
        self.done: set[str] = set()

    def _user(self) -> str | None:
        user = self.session.user
        return user.identifier if user is not None else None

    def on_batch(self, batch: list[dict[str, Any]]) -> None:
        recorder = self.session.recorder
        if recorder is not None and recorder.muted:  # a resumed thread's history, replayed
            return
        for event in batch:
            if event["type"] == "step":
                try:
                    self._step(event["step"])
                except Exception:  # telemetry must never break the chat
                    log.exception("nbchat: a step could not be exported as a span")

    def _step(self, step: dict[str, Any]) -> None:
        step_id = step["id"]
        if step_id in self.done:
            return
        span = self.open.get(step_id)
        if span is None:
            parent = self.open.get(step.get("parentId") or "")
            context = trace.set_span_in_context(parent) if parent is not None else None
            start = _ns(step.get("start")) or _ns(step.get("createdAt"))
            span = self.tracer.start_span(step.get("name") or step["type"], context=context,
                                          start_time=start)
            self.open[step_id] = span
        if step.get("end") is None or step.get("streaming"):
            return
        span.set_attributes(span_attributes(step, thread_id=self.session.thread_id,
                                            user_id=self._user(), content=self.content))
        if step.get("isError"):
            generation = step.get("generation") or {}
            span.set_status(Status(StatusCode.ERROR,
                                   str(generation.get("error") or step.get("output") or "")[:500]))
        end = _ns(step.get("end")) or _ns(step.get("start")) or _ns(step.get("createdAt"))
        span.end(end_time=end)
        del self.open[step_id]
        self.done.add(step_id)

    def close(self) -> None:
        """The chat ends: end the spans of steps that never did."""
        for span in self.open.values():
            span.end()
        self.open.clear()


def attach(session: ChatSession, config: OtelConfig) -> StepSpans:
    spans = StepSpans(session, config)
    session.emitter.listeners.append(spans.on_batch)
    return spans
