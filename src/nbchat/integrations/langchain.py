"""LangChain runs as nbchat steps: pass the handler in a runnable's config.

    @cl.on_message
    async def on_message(msg: cl.Message):
        handler = cl.LangchainCallbackHandler(stream_final_answer=True)
        await agent.ainvoke({"input": msg.content}, config={"callbacks": [handler]})

Chains become `run` steps, chat models and LLMs `llm` steps (with generation metadata and
their tokens streamed in), tools `tool` steps, retrievers `retrieval` steps. Steps nest by
the runs' parent ids; a root run nests under the nbchat step that is current when it starts.

Threads: the handler is a synchronous `BaseCallbackHandler` with `run_inline`, so async
runs (`ainvoke`, `astream`, `abatch`) call it on the event loop, in order, with no thread
hop. Sync runs (`invoke`, `stream`, `batch`, also run in a worker thread or a LangChain
executor) call it in their own threads: it then queues each update and the event loop
applies them in order (`_lc_relay`), because steps and the emitter belong to the loop.
Either way all bookkeeping happens on the loop thread.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.documents import Document
from langchain_core.messages import BaseMessage
from langchain_core.outputs import LLMResult

from nbchat.errors import ContextError
from nbchat.generation import ChatGeneration, CompletionGeneration
from nbchat.ids import utc_now
from nbchat.integrations import _lc_values as values
from nbchat.integrations._lc_answer import DEFAULT_ANSWER_PREFIX, AnswerPrefix, AnswerStream
from nbchat.integrations._lc_relay import LoopRelay, run_now
from nbchat.protocol import outbound
from nbchat.runtime.context import current_session, current_step, get_session
from nbchat.step import Step, to_text

__all__ = ["AsyncLangchainCallbackHandler", "LangchainCallbackHandler", "LangchainTracer"]

# Plumbing runnables, prompt templates and string parsers: hidden, their children attach
# to the nearest shown ancestor. A name matches exactly, or as "Name<…>"
# (RunnableParallel<a,b>, RunnableAssign<x>).
DEFAULT_TO_IGNORE = (
    "RunnableSequence", "RunnableParallel", "RunnableAssign", "RunnableLambda",
    "RunnablePassthrough", "RunnablePick", "RunnableBinding", "<lambda>",
    "ChatPromptTemplate", "PromptTemplate", "StrOutputParser",
)
# Run types shown even below an ignored run (prompts and parsers below one are not).
DEFAULT_TO_KEEP = ("chain", "agent", "llm", "tool", "retriever", "embedding")
STEP_TYPES = {"llm": "llm", "tool": "tool", "retriever": "retrieval", "embedding": "embedding"}


def _error_text(error: BaseException) -> str:
    return str(error) or type(error).__name__


@dataclass(slots=True, eq=False)
class _Run:
    kind: str                       # LangChain run type: chain, prompt, parser, llm, tool, …
    step: Step | None               # None when the run is not shown
    attach_id: str | None           # where child steps attach: this step, or its ancestor's
    filtered: bool                  # hidden by to_ignore (its children then need to_keep)
    root: _Run | None               # the root run of its tree (None: this one)
    started: float
    first_token: float | None = None
    chunks: int = 0
    tail: str = ""                  # recent text, to find the answer prefix
    answering: bool = False
    answer: AnswerStream | None = None   # on root runs, when final-answer streaming


class LangchainCallbackHandler(BaseCallbackHandler):
    """Show LangChain runs as nested nbchat steps. Create it inside a callback (it keeps
    the current session); pass it as `config={"callbacks": [handler]}`.

    - `stream_final_answer`: stream the text after `answer_prefix_tokens` (default
      "Final Answer:"; whitespace ignored unless `strip_tokens=False`; `[]` streams every
      LLM token) into a chat message, sent when the root run ends.
    - `to_ignore`: run names not shown (default: Runnable plumbing). Their children attach
      to the nearest shown ancestor if their run type is in `to_keep`.
    - `show_root_chain`: show the outermost chain as a `run` step (default True).
    """

    run_inline = True   # async runs call us on the loop itself, not in an executor
    raise_error = False

    def __init__(
        self,
        *,
        stream_final_answer: bool = False,
        answer_prefix_tokens: Sequence[str] | None = None,
        strip_tokens: bool = True,
        to_ignore: Iterable[str] | None = None,
        to_keep: Iterable[str] | None = None,
        show_root_chain: bool = True,
    ) -> None:
        self._session = get_session("LangchainCallbackHandler()")
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise ContextError(
                "LangchainCallbackHandler() must be created on the event loop of the chat: "
                "create it in the callback itself, then pass it to code run in threads."
            ) from None
        self._relay = LoopRelay(self._session, loop, self._token)
        self._parent_step = current_step.get()
        self.stream_final_answer = stream_final_answer
        self.answer_prefix = AnswerPrefix(
            DEFAULT_ANSWER_PREFIX if answer_prefix_tokens is None else answer_prefix_tokens,
            strip_tokens,
        )
        self.to_ignore = frozenset(DEFAULT_TO_IGNORE if to_ignore is None else to_ignore)
        self.to_keep = frozenset(DEFAULT_TO_KEEP if to_keep is None else to_keep)
        self.show_root_chain = show_root_chain
        self._runs: dict[UUID, _Run] = {}

    def _root_parent(self) -> str | None:
        """The nbchat step a root run nests under: the step current where the run starts
        (threads started by asyncio.to_thread or LangChain copy the context), else the
        step current when the handler was made."""
        ours = current_session.get() is self._session
        step = current_step.get() if ours else self._parent_step
        return step.id if step is not None else None

    # ------------------------------------------------------------------ loop-side ops

    def _hidden(self, kind: str, name: str, parent: _Run | None,
                is_root: bool) -> tuple[bool, bool]:
        """(hidden, filtered) for a new run."""
        filtered = name in self.to_ignore or (
            "<" in name and name.split("<", 1)[0] in self.to_ignore)
        if not filtered and parent is not None and parent.filtered:
            filtered = kind not in self.to_keep
        hidden = filtered or (is_root and kind not in STEP_TYPES and not self.show_root_chain)
        return hidden, filtered

    def _start(self, run_id: UUID, parent_run_id: UUID | None, root_parent: str | None,
               kind: str, name: str, step_input: Any, generation: Any, started: float) -> None:
        if self._session.closed:
            return
        parent = self._runs.get(parent_run_id) if parent_run_id is not None else None
        attach = parent.attach_id if parent is not None else root_parent
        hidden, filtered = self._hidden(kind, name, parent, parent is None)
        root = None if parent is None else (parent.root or parent)
        step = None
        if not hidden:
            step = Step(name=name, type=STEP_TYPES.get(kind, "run"), parent_id=attach,
                        metadata={"langchain_run_id": str(run_id)})
            step.input = to_text(step_input)[0]
            step.generation = generation
            run_now(step.send())
        self._runs[run_id] = _Run(kind=kind, step=step, attach_id=step.id if step else attach,
                                  filtered=filtered, root=root, started=started)

    def _token(self, run_id: UUID, text: str, first: float, count: int) -> None:
        run = self._runs.get(run_id)
        if run is None:
            return
        if run.first_token is None:
            run.first_token = first
        run.chunks += count
        if not text:
            return
        if run.step is not None:
            run_now(run.step.stream_token(text))
        if self.stream_final_answer:
            self._answer_token(run, text)

    def _answer_token(self, run: _Run, text: str) -> None:
        if not run.answering:
            run.tail, index = self.answer_prefix.find(run.tail, text)
            if index is None:
                return
            run.answering = True
            text = text[index:]
        root = run.root or run
        if root.answer is not None:
            root.answer.put(text)
        elif text.strip():  # the answer starts at its first visible character
            root.answer = AnswerStream(self._session, text.lstrip())

    def _end(self, run_id: UUID, output: Any, step_input: Any, ended: float,
             completion: Mapping[str, Any] | None, status: str) -> None:
        run = self._runs.get(run_id)
        if run is None:
            return
        step = run.step
        if step is not None:
            if step_input is not None:
                step.input = to_text(step_input)[0]
            if status == "cancelled":
                step.cancelled = True
            elif status == "error":
                step.is_error = True
                step.output = output
            elif output is not None:
                step.output = output
            if completion is not None:
                self._finish_generation(run, step, completion, ended)
            step.end = utc_now()
            step.streaming = False
            self._session.open_steps.pop(step.id, None)
            run_now(step.update())
        if run.root is None and run.answer is not None:
            run.answer.close()

    def _finish_generation(self, run: _Run, step: Step, completion: Mapping[str, Any],
                           ended: float) -> None:
        gen = step.generation
        if not isinstance(gen, ChatGeneration | CompletionGeneration):
            return
        duration = ended - run.started
        gen.duration = duration
        if run.first_token is not None:
            gen.tt_first_token = (run.first_token - run.started) * 1000
        if "error" in completion:
            gen.error = completion["error"]
            return
        gen.input_token_count, gen.output_token_count, gen.token_count = completion["usage"]
        if gen.token_count:  # as Chainlit's handler does: the client adds the total up
            self._session.emit(outbound.token_usage(int(gen.token_count)))
        produced = gen.output_token_count or run.chunks or None
        if produced and duration > 0:
            gen.token_throughput_in_s = produced / duration
        if isinstance(gen, ChatGeneration):
            gen.message_completion = completion.get("message")
        else:
            gen.completion = completion["text"]

    # ------------------------------------------------------------------ LangChain: starts

    def _begin(self, run_id: UUID, parent_run_id: UUID | None, kind: str, name: str,
               step_input: Any, generation: Any = None) -> None:
        self._relay.call(self._start, run_id, parent_run_id, self._root_parent(), kind, name,
                         step_input, generation, time.perf_counter())

    def on_chain_start(self, serialized: dict[str, Any] | None, inputs: dict[str, Any],
                       *, run_id: UUID, parent_run_id: UUID | None = None,
                       tags: list[str] | None = None, metadata: dict[str, Any] | None = None,
                       **kwargs: Any) -> None:
        """Begin a chain (or agent) step."""
        kind = kwargs.get("run_type") or "chain"
        name = values.run_name(serialized, kwargs, "Chain")
        shown = None if kwargs.get("defers_inputs") else values.shown(inputs)
        self._begin(run_id, parent_run_id, kind, name, shown)

    def on_chat_model_start(self, serialized: dict[str, Any] | None,
                            messages: list[list[BaseMessage]], *, run_id: UUID,
                            parent_run_id: UUID | None = None, tags: list[str] | None = None,
                            metadata: dict[str, Any] | None = None, **kwargs: Any) -> None:
        """Begin an llm step for a chat model call, with its messages as a ChatGeneration."""
        params = kwargs.get("invocation_params") or {}
        provider, model = values.provider_model(params, metadata)
        chat = [values.message_dict(m) for m in (messages[0] if messages else [])]
        generation = ChatGeneration(provider=provider, model=model,
                                    settings=values.settings(params),
                                    tools=values.tools(params), messages=chat)
        name = values.run_name(serialized, kwargs, model or "Chat model")
        self._begin(run_id, parent_run_id, "llm", name, chat, generation)

    def on_llm_start(self, serialized: dict[str, Any] | None, prompts: list[str], *,
                     run_id: UUID, parent_run_id: UUID | None = None,
                     tags: list[str] | None = None, metadata: dict[str, Any] | None = None,
                     **kwargs: Any) -> None:
        """Begin an llm step for a completion model call, with its prompt."""
        params = kwargs.get("invocation_params") or {}
        provider, model = values.provider_model(params, metadata)
        prompt = prompts[0] if prompts else ""
        generation = CompletionGeneration(provider=provider, model=model,
                                          settings=values.settings(params), prompt=prompt)
        name = values.run_name(serialized, kwargs, model or "LLM")
        self._begin(run_id, parent_run_id, "llm", name, prompt, generation)

    def on_tool_start(self, serialized: dict[str, Any] | None, input_str: str, *,
                      run_id: UUID, parent_run_id: UUID | None = None,
                      tags: list[str] | None = None, metadata: dict[str, Any] | None = None,
                      inputs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        """Begin a tool step with its input."""
        name = values.run_name(serialized, kwargs, "Tool")
        self._begin(run_id, parent_run_id, "tool", name,
                    values.plain(inputs) if inputs is not None else input_str)

    def on_retriever_start(self, serialized: dict[str, Any] | None, query: str, *,
                           run_id: UUID, parent_run_id: UUID | None = None,
                           tags: list[str] | None = None,
                           metadata: dict[str, Any] | None = None, **kwargs: Any) -> None:
        """Begin a retriever step with its query."""
        name = values.run_name(serialized, kwargs, "Retriever")
        self._begin(run_id, parent_run_id, "retriever", name, query)

    # ------------------------------------------------------------------ LangChain: progress

    def on_llm_new_token(self, token: str | list[str | dict[str, Any]], *,
                         chunk: Any = None, run_id: UUID, parent_run_id: UUID | None = None,
                         tags: list[str] | None = None, **kwargs: Any) -> None:
        """Stream a model token into its step (and into the final answer when it is one)."""
        text = token if type(token) is str else values.content_text(token)
        self._relay.token(run_id, text, time.perf_counter())

    # ------------------------------------------------------------------ LangChain: ends

    def _finish(self, run_id: UUID, output: Any, step_input: Any = None,
                completion: Mapping[str, Any] | None = None, status: str = "ok") -> None:
        self._relay.call(self._end, run_id, output, step_input, time.perf_counter(),
                         completion, status)

    def on_chain_end(self, outputs: dict[str, Any], *, run_id: UUID,
                     parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        """Finish a chain step with its outputs."""
        inputs = kwargs.get("inputs")  # streamed runs learn their input only at the end
        self._finish(run_id, values.shown(outputs),
                     values.shown(inputs) if inputs is not None else None)

    def on_llm_end(self, response: LLMResult, *, run_id: UUID,
                   parent_run_id: UUID | None = None, tags: list[str] | None = None,
                   **kwargs: Any) -> None:
        """Finish an llm step with the model's text and token counts."""
        first = response.generations[0][0] if response.generations and \
            response.generations[0] else None
        text = first.text if first is not None else ""
        message = getattr(first, "message", None)
        completion: dict[str, Any] = {"usage": values.usage(response), "text": text}
        output: Any = text
        if isinstance(message, BaseMessage):
            completion["message"] = values.message_dict(message, "assistant")
            if not text and completion["message"].get("tool_calls"):
                output = completion["message"]["tool_calls"]
        self._finish(run_id, output, completion=completion)

    def on_tool_end(self, output: Any, *, run_id: UUID, parent_run_id: UUID | None = None,
                    **kwargs: Any) -> None:
        """Finish a tool step with its output."""
        if isinstance(output, BaseMessage):
            output = values.content_text(output.content) if isinstance(
                output.content, str) else values.plain(output.content)
        self._finish(run_id, values.plain(output))

    def on_retriever_end(self, documents: Sequence[Document], *, run_id: UUID,
                         parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        """Finish a retriever step with the documents it found."""
        self._finish(run_id, values.documents_shown(documents))

    def _failed(self, error: BaseException, run_id: UUID,
                completion: Mapping[str, Any] | None = None) -> None:
        # Cancelled (the user pressed stop) or abandoned (a stream closed early): not errors.
        if isinstance(error, asyncio.CancelledError | GeneratorExit):
            self._finish(run_id, None, completion=completion, status="cancelled")
        else:
            self._finish(run_id, _error_text(error), completion=completion, status="error")

    def on_chain_error(self, error: BaseException, *, run_id: UUID,
                       parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        """Mark a chain step as failed."""
        self._failed(error, run_id)

    def on_llm_error(self, error: BaseException, *, run_id: UUID,
                     parent_run_id: UUID | None = None, tags: list[str] | None = None,
                     **kwargs: Any) -> None:
        """Mark an llm step as failed, with the error in its generation."""
        self._failed(error, run_id, {"error": _error_text(error)})

    def on_tool_error(self, error: BaseException, *, run_id: UUID,
                      parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        """Mark a tool step as failed."""
        self._failed(error, run_id)

    def on_retriever_error(self, error: BaseException, *, run_id: UUID,
                           parent_run_id: UUID | None = None, **kwargs: Any) -> None:
        """Mark a retriever step as failed."""
        self._failed(error, run_id)


# Chainlit's names for the same handler. It serves sync and async runs alike.
LangchainTracer = LangchainCallbackHandler
AsyncLangchainCallbackHandler = LangchainCallbackHandler
