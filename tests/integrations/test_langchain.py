"""LangchainCallbackHandler: LangChain runs as nbchat steps, driven through ChatTestClient
with langchain-core's own fake models, tools and retrievers (no network)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from langchain_core.callbacks import CallbackManagerForLLMRun, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.language_models.fake import FakeListLLM
from langchain_core.language_models.fake_chat_models import (
    FakeListChatModel,
    FakeListChatModelError,
    GenericFakeChatModel,
)
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.outputs import GenerationChunk
from langchain_core.prompt_values import PromptValue
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda, RunnableParallel
from langchain_core.tools import tool
from langchain_core.utils.function_calling import convert_to_openai_tool
from langchain_core.vectorstores import InMemoryVectorStore

import nbchat as cl
from nbchat.app import App, registering_on
from nbchat.errors import ContextError
from nbchat.integrations.langchain import DEFAULT_TO_IGNORE
from nbchat.testing import ChatTestClient
from nbchat.types import StepDict

NOTEBOOK = Path(__file__).parents[2] / "notebooks" / "langchain.ipynb"
USAGE = {"input_tokens": 12, "output_tokens": 4, "total_tokens": 16}

Body = Callable[[cl.Message], Awaitable[None]]

DOCS = [
    Document(page_content="Paris is the capital of France.", metadata={"source": "geo.txt"}),
    Document(page_content="The Seine flows through Paris.", metadata={"source": "rivers.txt"}),
    Document(page_content="Berlin is the capital of Germany.", metadata={"source": "geo.txt"}),
]


class KeywordRetriever(BaseRetriever):
    """Documents that share a word with the query, from a list held in memory."""

    docs: list[Document]
    k: int = 2

    def _get_relevant_documents(self, query: str, *,
                                run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        words = {w.strip("?.,!").lower() for w in query.split()}
        hits = [d for d in self.docs
                if words & {w.strip("?.,!").lower() for w in d.page_content.split()}]
        return hits[: self.k]


class ToolCallingFakeChatModel(GenericFakeChatModel):
    """GenericFakeChatModel that accepts bind_tools (the scripted AIMessages carry the
    tool calls); the bound tools reach the run's invocation params like a real model's."""

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Runnable[Any, Any]:
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)


def chat_app(body: Body) -> App:
    app = App("langchain-test")
    with registering_on(app):
        cl.on_message(body)
    return app


def prompt() -> ChatPromptTemplate:
    return ChatPromptTemplate.from_messages([("system", "You are terse."), ("human", "{q}")])


def generic(*replies: str | AIMessage) -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=iter(replies))


def of_type(client: ChatTestClient, kind: str) -> list[StepDict]:
    return [s for s in client.steps if s["type"] == kind]


def one(client: ChatTestClient, kind: str) -> StepDict:
    found = of_type(client, kind)
    assert len(found) == 1, [(s["type"], s["name"]) for s in client.steps]
    return found[0]


def children(client: ChatTestClient, parent: StepDict) -> list[StepDict]:
    return [s for s in client.steps if s["parentId"] == parent["id"]]


def token_deltas(client: ChatTestClient, step_id: str) -> str:
    return "".join(e["delta"] for e in client.events
                   if e["type"] == "token" and e["id"] == step_id)


def user_message_id(client: ChatTestClient) -> str:
    return next(s["id"] for s in client.steps if s["type"] == "user_message")


# ---------------------------------------------------------------------------- chat models


async def test_chat_model_ainvoke_makes_llm_step_with_generation() -> None:
    model = generic(AIMessage(content="Paris.", usage_metadata=USAGE))
    chain = prompt() | model | StrOutputParser()

    async def on_message(msg: cl.Message) -> None:
        handler = cl.LangchainCallbackHandler()
        answer = await chain.ainvoke({"q": msg.content}, config={"callbacks": [handler]})
        await cl.Message(content=answer).send()

    async with ChatTestClient(chat_app(on_message)) as client:
        await client.send("Capital of France?")

    # The sequence, its prompt and its parser are plumbing: only the model shows.
    assert [s["type"] for s in client.steps] == ["user_message", "llm", "assistant_message"]
    llm = one(client, "llm")
    assert llm["name"] == "GenericFakeChatModel"
    assert llm["parentId"] is None
    assert llm["output"] == "Paris."
    assert not llm["isError"]
    assert llm["start"]
    assert llm["end"]
    assert json.loads(llm["input"])[1] == {"role": "user", "content": "Capital of France?"}
    gen = llm["generation"]
    assert gen is not None
    assert gen["type"] == "CHAT"
    assert gen["provider"] == "genericfakechatmodel"
    assert gen["messages"] == [{"role": "system", "content": "You are terse."},
                               {"role": "user", "content": "Capital of France?"}]
    assert gen["messageCompletion"] == {"role": "assistant", "content": "Paris."}
    assert (gen["inputTokenCount"], gen["outputTokenCount"], gen["tokenCount"]) == (12, 4, 16)
    assert client.token_count == 16  # Chainlit's token_usage, as its handler reports it
    assert gen["duration"] > 0
    assert gen["tokenThroughputInSeconds"] == pytest.approx(4 / gen["duration"])
    assert "ttFirstToken" not in gen  # nothing streamed
    assert client.messages[-1]["output"] == "Paris."


async def test_astream_streams_tokens_into_the_llm_step() -> None:
    chain = prompt() | generic("The answer is forty two") | StrOutputParser()

    async def on_message(msg: cl.Message) -> None:
        handler = cl.LangchainCallbackHandler()
        reply = cl.Message(content="")
        async for chunk in chain.astream({"q": msg.content}, config={"callbacks": [handler]}):
            await reply.stream_token(chunk)
        await reply.send()

    async with ChatTestClient(chat_app(on_message)) as client:
        await client.send("?")

    llm = one(client, "llm")
    # The tokens went out as token deltas of the llm step, then the final output.
    assert token_deltas(client, llm["id"]) == "The answer is forty two"
    assert llm["output"] == "The answer is forty two"
    gen = llm["generation"]
    assert gen is not None
    assert 0 <= gen["ttFirstToken"] <= gen["duration"] * 1000
    assert gen["tokenThroughputInSeconds"] > 0  # counted from the streamed chunks
    assert gen["messageCompletion"]["content"] == "The answer is forty two"
    assert client.messages[-1]["output"] == "The answer is forty two"


@pytest.mark.parametrize("mode", ["invoke", "stream"])
async def test_sync_runs_in_a_worker_thread(mode: str) -> None:
    chain = (prompt() | generic(AIMessage(content="from a thread", usage_metadata=USAGE))
             | StrOutputParser()).with_config(run_name="answer")

    def run(question: str, config: RunnableConfig) -> str:
        if mode == "invoke":
            return chain.invoke({"q": question}, config=config)
        return "".join(chain.stream({"q": question}, config=config))

    async def on_message(msg: cl.Message) -> None:
        handler = cl.LangchainCallbackHandler()
        text = await asyncio.to_thread(run, msg.content, {"callbacks": [handler]})
        await cl.Message(content=text).send()

    async with ChatTestClient(chat_app(on_message)) as client:
        await client.send("hi")

    root = one(client, "run")
    assert root["name"] == "answer"
    assert root["input"] == "hi"
    assert root["output"] == "from a thread"
    llm = one(client, "llm")
    assert llm["parentId"] == root["id"]
    assert llm["output"] == "from a thread"
    assert llm["generation"] is not None
    assert llm["generation"]["messages"][-1] == {"role": "user", "content": "hi"}
    if mode == "stream":
        assert token_deltas(client, llm["id"]) == "from a thread"
    else:
        assert llm["generation"]["outputTokenCount"] == 4
    assert client.messages[-1]["output"] == "from a thread"


async def test_sync_invoke_on_the_event_loop_thread() -> None:
    """A blocking invoke straight in the callback (bad style, but common) still traces."""
    model = FakeListChatModel(responses=["blocking but fine"])

    async def on_message(msg: cl.Message) -> None:
        handler = cl.LangchainCallbackHandler()
        model.invoke([HumanMessage(content=msg.content)], config={"callbacks": [handler]})

    async with ChatTestClient(chat_app(on_message)) as client:
        await client.send("hi")

    llm = one(client, "llm")
    assert llm["name"] == "FakeListChatModel"
    assert llm["output"] == "blocking but fine"
    assert llm["generation"] is not None
    assert llm["generation"]["provider"] == "fakelistchatmodel"
    assert llm["generation"]["settings"]["responses"] == ["blocking but fine"]


async def test_roles_of_every_message_kind() -> None:
    from langchain_core.messages import ChatMessage, FunctionMessage, ToolMessage

    history: list[BaseMessage] = [
        SystemMessage(content="rules"),
        HumanMessage(content="hi", name="ann"),
        AIMessage(content="", tool_calls=[{"name": "f", "args": {"x": 1}, "id": "c1"}]),
        ToolMessage(content="1", tool_call_id="c1"),
        FunctionMessage(content="2", name="g"),
        ChatMessage(content="custom", role="critic"),
    ]

    async def on_message(_: cl.Message) -> None:
        handler = cl.LangchainCallbackHandler()
        await generic("ok").ainvoke(history, config={"callbacks": [handler]})

    async with ChatTestClient(chat_app(on_message)) as client:
        await client.send("go")

    gen = one(client, "llm")["generation"]
    assert gen is not None
    assert [m["role"] for m in gen["messages"]] == [
        "system", "user", "assistant", "tool", "function", "critic"]
    assert gen["messages"][1]["name"] == "ann"
    assert gen["messages"][2]["tool_calls"] == [
        {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}}]
    assert gen["messages"][3]["tool_call_id"] == "c1"


# ---------------------------------------------------------------------------- completion LLMs


class StreamingFakeLLM(FakeListLLM):
    """FakeListLLM that streams its response a word at a time, through the callbacks.
    (langchain-core's FakeStreamingListLLM streams without reporting tokens.)"""

    def _stream(self, prompt: str, stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None,
                **kwargs: Any) -> Iterator[GenerationChunk]:
        for word in re.split(r"(\s)", self._call(prompt, stop, run_manager, **kwargs)):
            if run_manager is not None:
                run_manager.on_llm_new_token(word)
            yield GenerationChunk(text=word)


@pytest.mark.parametrize("streaming", [False, True])
async def test_completion_llm_makes_completion_generation(streaming: bool) -> None:
    llm_model = (StreamingFakeLLM if streaming else FakeListLLM)(responses=["all done!"])

    async def on_message(msg: cl.Message) -> None:
        handler = cl.LangchainCallbackHandler()
        config: RunnableConfig = {"callbacks": [handler]}
        if streaming:
            async for _ in llm_model.astream(msg.content, config=config):
                pass
        else:
            await llm_model.ainvoke(msg.content, config=config)

    async with ChatTestClient(chat_app(on_message)) as client:
        await client.send("Say done")

    llm = one(client, "llm")
    assert llm["input"] == "Say done"
    assert llm["output"] == "all done!"
    gen = llm["generation"]
    assert gen is not None
    assert gen["type"] == "COMPLETION"
    assert gen["prompt"] == "Say done"
    assert gen["completion"] == "all done!"
    assert gen["provider"] == ("streamingfake" if streaming else "fakelist")  # ls_provider
    if streaming:
        assert token_deltas(client, llm["id"]) == "all done!"
        assert "ttFirstToken" in gen


# ---------------------------------------------------------------------------- nesting


async def test_nests_under_an_enclosing_step_and_step_decorator() -> None:
    chain = (prompt() | generic("a", "b") | StrOutputParser()).with_config(run_name="qa")

    @cl.step(type="tool", name="decorated")
    def in_decorated(handler: Any) -> str:
        return chain.invoke({"q": "second"}, config={"callbacks": [handler]})

    async def on_message(_: cl.Message) -> None:
        async with cl.Step(name="outer", type="run"):
            await chain.ainvoke({"q": "first"},
                                config={"callbacks": [cl.LangchainCallbackHandler()]})
        # A handler made outside the step, used in a thread inside a decorated function.
        handler = cl.LangchainCallbackHandler()
        await asyncio.to_thread(in_decorated, handler)

    async with ChatTestClient(chat_app(on_message)) as client:
        await client.send("go")

    steps = {s["name"]: s for s in client.steps if s["type"] != "llm"}
    qa_first, qa_second = [s for s in client.steps if s["name"] == "qa"]
    assert qa_first["parentId"] == steps["outer"]["id"]
    assert qa_second["parentId"] == steps["decorated"]["id"]
    llms = of_type(client, "llm")
    assert [s["parentId"] for s in llms] == [qa_first["id"], qa_second["id"]]
    assert [s["output"] for s in llms] == ["a", "b"]


def parallel_chain() -> Any:
    chain = RunnableParallel(
        short=prompt() | FakeListChatModel(responses=["short answer"]) | StrOutputParser(),
        long=prompt() | FakeListChatModel(responses=["long answer"]) | StrOutputParser(),
    )
    return chain.with_config(run_name="both")


@pytest.mark.parametrize("mode", ["ainvoke", "invoke-in-thread"])
async def test_parallel_branches_nest_under_the_nearest_shown_run(mode: str) -> None:
    chain = parallel_chain()

    async def on_message(msg: cl.Message) -> None:
        config: RunnableConfig = {"callbacks": [cl.LangchainCallbackHandler()]}
        if mode == "ainvoke":
            await chain.ainvoke({"q": msg.content}, config=config)
        else:
            await asyncio.to_thread(chain.invoke, {"q": msg.content}, config)

    async with ChatTestClient(chat_app(on_message)) as client:
        await client.send("q")

    root = one(client, "run")
    assert root["name"] == "both"
    assert json.loads(root["output"]) == {"short": "short answer", "long": "long answer"}
    llms = of_type(client, "llm")
    assert sorted(s["output"] for s in llms) == ["long answer", "short answer"]
    assert {s["parentId"] for s in llms} == {root["id"]}


async def test_parallel_branches_shown_when_nothing_is_ignored() -> None:
    chain = parallel_chain()

    async def on_message(msg: cl.Message) -> None:
        handler = cl.LangchainCallbackHandler(to_ignore=[])
        await asyncio.to_thread(chain.invoke, {"q": msg.content}, {"callbacks": [handler]})

    async with ChatTestClient(chat_app(on_message)) as client:
        await client.send("q")

    (parallel,) = [s for s in client.steps if s["name"] == "both"]
    assert parallel["parentId"] is None
    branches = children(client, parallel)
    assert [b["name"] for b in branches] == ["RunnableSequence", "RunnableSequence"]
    for branch in branches:
        kinds = [(s["type"], s["name"]) for s in children(client, branch)]
        assert kinds == [("run", "ChatPromptTemplate"), ("llm", "FakeListChatModel"),
                         ("run", "StrOutputParser")]
    by_branch = {s["output"]: s["parentId"] for s in of_type(client, "llm")}
    assert set(by_branch.values()) == {b["id"] for b in branches}


@pytest.mark.parametrize("mode", ["abatch", "batch-in-thread"])
async def test_batch_gives_each_input_its_own_tree(mode: str) -> None:
    def reply(prompt_value: PromptValue) -> str:
        return f"echo {prompt_value.to_messages()[-1].content}"

    echo = RunnableLambda(reply, name="echo_model")
    model = GenericFakeChatModel(messages=iter(["x", "y", "z"]))
    chain = (prompt() | RunnableParallel(echo=echo, model=model)).with_config(run_name="row")
    inputs = [{"q": "one"}, {"q": "two"}, {"q": "three"}]

    async def on_message(_: cl.Message) -> None:
        config: RunnableConfig = {"callbacks": [cl.LangchainCallbackHandler()]}
        if mode == "abatch":
            await chain.abatch(inputs, config=config)
        else:
            await asyncio.to_thread(chain.batch, inputs, config)

    async with ChatTestClient(chat_app(on_message)) as client:
        await client.send("go")

    rows = [s for s in client.steps if s["name"] == "row"]
    assert sorted(r["input"] for r in rows) == ["one", "three", "two"]
    for row in rows:
        kids = children(client, row)
        assert sorted(k["name"] for k in kids) == ["GenericFakeChatModel", "echo_model"]
        (echo_step,) = [k for k in kids if k["name"] == "echo_model"]
        (llm,) = [k for k in kids if k["type"] == "llm"]
        # Each child belongs to its own row: its input is that row's question.
        assert echo_step["output"] == f"echo {row['input']}"
        assert llm["generation"] is not None
        assert llm["generation"]["messages"][-1]["content"] == row["input"]


async def test_to_ignore_to_keep_and_root_chain() -> None:
    async def run_with(**options: Any) -> list[tuple[str, str, str | None]]:
        chain = (prompt() | generic("ok") | StrOutputParser()).with_config(run_name="pipe")

        async def on_message(msg: cl.Message) -> None:
            handler = cl.LangchainCallbackHandler(**options)
            await chain.ainvoke({"q": msg.content}, config={"callbacks": [handler]})

        async with ChatTestClient(chat_app(on_message)) as client:
            await client.send("hi")
        names = {s["id"]: s["name"] for s in client.steps}
        return [(s["type"], s["name"], names.get(s["parentId"] or ""))
                for s in client.steps if s["type"] != "user_message"]

    llm = ("llm", "GenericFakeChatModel", "pipe")
    assert await run_with() == [("run", "pipe", None), llm]
    assert await run_with(show_root_chain=False) == [("llm", "GenericFakeChatModel", None)]
    hide_model = [*DEFAULT_TO_IGNORE, "GenericFakeChatModel"]
    assert await run_with(to_ignore=hide_model) == [("run", "pipe", None)]
    # Prompts and parsers are ignored by name; unignored, they show when their run type
    # is kept (here below the ignored sequence, whose steps attach to the root).
    assert await run_with(to_ignore=["RunnableSequence"], to_keep=["llm", "prompt", "parser"]) == [
        ("run", "pipe", None), ("run", "ChatPromptTemplate", "pipe"), llm,
        ("run", "StrOutputParser", "pipe")]


# ---------------------------------------------------------------------------- tools, retrievers


@tool
def population(city: str) -> int:
    """Population of a city, in thousands."""
    return {"paris": 2100, "berlin": 3700}[city.lower()]


@tool
def broken(city: str) -> str:
    """A tool that fails."""
    raise ValueError(f"no data for {city}")


def agent(model: Any, retriever: Any, tools: list[Any]) -> Any:
    """A tiny tool-calling agent: retrieve context, call the model until it stops asking
    for tools. Written with LangChain runnables so every part reports its runs."""
    bound = model.bind_tools(tools)
    by_name = {t.name: t for t in tools}

    async def loop(question: str, config: RunnableConfig) -> str:
        docs = await retriever.ainvoke(question, config=config)
        context = "\n".join(d.page_content for d in docs)
        messages: list[BaseMessage] = [SystemMessage(content=f"Context:\n{context}"),
                                       HumanMessage(content=question)]
        while True:
            reply = await bound.ainvoke(messages, config=config)
            messages.append(reply)
            if not reply.tool_calls:
                return str(reply.content)
            for call in reply.tool_calls:
                try:
                    messages.append(await by_name[call["name"]].ainvoke(call, config=config))
                except ValueError as exc:
                    messages.append(AIMessage(content=f"tool failed: {exc}"))
                    return f"Sorry: {exc}"

    return RunnableLambda(loop, name="city_agent")


def scripted_model(*replies: AIMessage) -> ToolCallingFakeChatModel:
    return ToolCallingFakeChatModel(messages=iter(replies))


async def test_agent_with_tool_and_retriever() -> None:
    model = scripted_model(
        AIMessage(content="", tool_calls=[
            {"name": "population", "args": {"city": "Paris"}, "id": "call_1"}]),
        AIMessage(content="Paris has 2100 thousand people.", usage_metadata=USAGE),
    )
    run = agent(model, KeywordRetriever(docs=DOCS), [population])

    async def on_message(msg: cl.Message) -> None:
        handler = cl.LangchainCallbackHandler()
        answer = await run.ainvoke(msg.content, config={"callbacks": [handler]})
        await cl.Message(content=answer).send()

    async with ChatTestClient(chat_app(on_message)) as client:
        await client.send("How many people live in Paris?")

    root = one(client, "run")
    assert root["name"] == "city_agent"
    assert root["input"] == "How many people live in Paris?"
    assert root["output"] == "Paris has 2100 thousand people."
    kids = children(client, root)
    assert [k["type"] for k in kids] == ["retrieval", "llm", "tool", "llm"]
    retrieval, first, tool_step, second = kids

    assert retrieval["name"] == "KeywordRetriever"
    assert retrieval["input"] == "How many people live in Paris?"
    docs = json.loads(retrieval["output"])
    assert [d["page_content"] for d in docs] == [DOCS[0].page_content, DOCS[1].page_content]
    assert docs[0]["metadata"] == {"source": "geo.txt"}

    gen1 = first["generation"]
    assert gen1 is not None
    assert gen1["tools"][0]["function"]["name"] == "population"
    assert "tools" not in gen1["settings"]
    call = gen1["messageCompletion"]["tool_calls"][0]
    assert call["function"] == {"name": "population", "arguments": '{"city": "Paris"}'}
    assert json.loads(first["output"])[0]["id"] == "call_1"

    assert tool_step["name"] == "population"
    assert json.loads(tool_step["input"]) == {"city": "Paris"}
    assert tool_step["output"] == "2100"

    gen2 = second["generation"]
    assert gen2 is not None
    assert [m["role"] for m in gen2["messages"]] == ["system", "user", "assistant", "tool"]
    assert gen2["messages"][3] == {"role": "tool", "content": "2100", "name": "population",
                                   "tool_call_id": "call_1"}
    assert gen2["tokenCount"] == 16
    assert second["output"] == "Paris has 2100 thousand people."
    assert client.messages[-1]["output"] == "Paris has 2100 thousand people."


async def test_vector_store_retriever_over_fake_embeddings() -> None:
    """Embeddings report no runs in langchain-core (Embeddings has no callbacks), so a
    vector-store retriever shows as one retrieval step and no embedding step."""
    store = InMemoryVectorStore(embedding=DeterministicFakeEmbedding(size=8))
    store.add_documents(DOCS)
    retriever = store.as_retriever(search_kwargs={"k": 1})

    async def on_message(msg: cl.Message) -> None:
        handler = cl.LangchainCallbackHandler()
        await asyncio.to_thread(retriever.invoke, msg.content, {"callbacks": [handler]})

    async with ChatTestClient(chat_app(on_message)) as client:
        await client.send(DOCS[2].page_content)

    retrieval = one(client, "retrieval")
    assert retrieval["name"] == "VectorStoreRetriever"
    assert json.loads(retrieval["output"])[0]["page_content"] == DOCS[2].page_content
    assert of_type(client, "embedding") == []


# ---------------------------------------------------------------------------- errors


async def test_tool_error_marks_steps_and_the_chat_continues() -> None:
    model = scripted_model(
        AIMessage(content="", tool_calls=[
            {"name": "broken", "args": {"city": "Oslo"}, "id": "call_9"}]),
        AIMessage(content="", tool_calls=[
            {"name": "broken", "args": {"city": "Rome"}, "id": "call_10"}]),
    )
    run = agent(model, KeywordRetriever(docs=DOCS), [broken])

    async def on_message(msg: cl.Message) -> None:
        handler = cl.LangchainCallbackHandler()
        answer = await run.ainvoke(msg.content, config={"callbacks": [handler]})
        await cl.Message(content=answer).send()

    async with ChatTestClient(chat_app(on_message)) as client:
        await client.send("Oslo?")
        await client.send("Rome?")

    tools = of_type(client, "tool")
    assert [t["isError"] for t in tools] == [True, True]
    assert [t["output"] for t in tools] == ["no data for Oslo", "no data for Rome"]
    assert all(t["end"] for t in tools)
    # The agent caught the error: its own step is fine and the chat went on.
    assert [r["isError"] for r in of_type(client, "run")] == [False, False]
    assert [m["output"] for m in client.messages if m["type"] == "assistant_message"] == [
        "Sorry: no data for Oslo", "Sorry: no data for Rome"]


async def test_llm_error_marks_llm_and_parent_steps() -> None:
    model = FakeListChatModel(responses=["never finished"], error_on_chunk_number=2)
    chain = (prompt() | model | StrOutputParser()).with_config(run_name="fragile")
    seen: list[str] = []

    async def on_message(msg: cl.Message) -> None:
        handler = cl.LangchainCallbackHandler()
        if msg.content == "fine":
            seen.append("fine")
            return
        async for _ in chain.astream({"q": msg.content}, config={"callbacks": [handler]}):
            pass

    async with ChatTestClient(chat_app(on_message)) as client:
        await client.send("break")
        await client.send("fine")

    llm = one(client, "llm")
    assert llm["isError"]
    assert llm["output"] == "FakeListChatModelError"  # the exception has no message
    assert llm["generation"] is not None
    assert llm["generation"]["error"] == "FakeListChatModelError"
    assert token_deltas(client, llm["id"]) == "ne"  # what streamed before the failure
    root = one(client, "run")
    assert root["isError"]
    assert llm["parentId"] == root["id"]
    # The callback raised: nbchat showed an error message, and the next message ran.
    assert any(m["isError"] for m in client.messages)
    assert seen == ["fine"]
    assert issubclass(FakeListChatModelError, Exception)


async def test_stop_marks_running_steps_cancelled_not_failed() -> None:
    started = asyncio.Event()

    async def wait_forever(_: str) -> str:
        started.set()
        await asyncio.Event().wait()
        return "never"

    chain = RunnableLambda(wait_forever, name="slow_tool_chain")

    async def on_message(msg: cl.Message) -> None:
        handler = cl.LangchainCallbackHandler()
        await chain.ainvoke(msg.content, config={"callbacks": [handler]})

    async with ChatTestClient(chat_app(on_message)) as client:
        sending = asyncio.create_task(client.send("go"))
        await started.wait()
        await client.stop()
        await sending

    step = one(client, "run")
    assert step["name"] == "slow_tool_chain"
    assert step.get("cancelled") is True
    assert not step["isError"]
    assert step["end"]


# ---------------------------------------------------------------------------- final answer


@pytest.mark.parametrize("threaded", [False, True])
async def test_final_answer_streams_into_a_message(threaded: bool) -> None:
    model = generic("I should answer.\nFinal Answer: It is 42, obviously.")
    chain = (prompt() | model | StrOutputParser()).with_config(run_name="agent")

    async def on_message(msg: cl.Message) -> None:
        handler = cl.LangchainCallbackHandler(stream_final_answer=True)
        config: RunnableConfig = {"callbacks": [handler]}
        if threaded:
            await asyncio.to_thread(lambda: list(chain.stream({"q": msg.content}, config)))
        else:
            async for _ in chain.astream({"q": msg.content}, config=config):
                pass

    async with ChatTestClient(chat_app(on_message)) as client:
        await client.send("?")

    (answer,) = [m for m in client.messages if m["type"] == "assistant_message"]
    assert answer["output"] == "It is 42, obviously."
    assert token_deltas(client, answer["id"]) == "It is 42, obviously."
    assert not answer["streaming"]
    assert answer["end"]
    # The llm step still shows the whole completion.
    assert one(client, "llm")["output"].startswith("I should answer.")


async def test_final_answer_waits_for_an_async_author_rename() -> None:
    """The answer's first write awaits author_rename; tokens meanwhile are kept."""
    model = generic("Final Answer: one two three four")

    async def on_message(msg: cl.Message) -> None:
        handler = cl.LangchainCallbackHandler(stream_final_answer=True)
        async for _ in model.astream(msg.content, config={"callbacks": [handler]}):
            pass

    app = chat_app(on_message)

    async def rename(author: str) -> str:
        await asyncio.sleep(0)  # a real suspension, as a lookup would make
        return f"{author} (agent)"

    with registering_on(app):
        cl.author_rename(rename)

    async with ChatTestClient(app) as client:
        await client.send("?")

    (answer,) = [m for m in client.messages if m["type"] == "assistant_message"]
    assert answer["name"].endswith("(agent)")
    assert answer["output"] == "one two three four"
    assert answer["end"]


@pytest.mark.parametrize(("prefix", "expected"), [
    (["Answer", ">>"], "forty two"),      # split over tokens "Answer" and ">>"
    ([], "Thinking... Answer>> forty two"),  # every token is the answer
])
async def test_answer_prefix_is_configurable(prefix: list[str], expected: str) -> None:
    model = FakeListChatModel(responses=["Thinking... Answer>> forty two"])

    async def on_message(msg: cl.Message) -> None:
        handler = cl.LangchainCallbackHandler(stream_final_answer=True,
                                              answer_prefix_tokens=prefix)
        async for _ in model.astream(msg.content, config={"callbacks": [handler]}):
            pass

    async with ChatTestClient(chat_app(on_message)) as client:
        await client.send("?")

    (answer,) = [m for m in client.messages if m["type"] == "assistant_message"]
    assert answer["output"] == expected


async def test_no_answer_message_without_the_prefix() -> None:
    model = generic("just thinking aloud")

    async def on_message(msg: cl.Message) -> None:
        handler = cl.LangchainCallbackHandler(stream_final_answer=True)
        async for _ in model.astream(msg.content, config={"callbacks": [handler]}):
            pass

    async with ChatTestClient(chat_app(on_message)) as client:
        await client.send("?")

    assert [m["type"] for m in client.messages] == ["user_message"]
    assert one(client, "llm")["output"] == "just thinking aloud"


# ---------------------------------------------------------------------------- API


async def test_handler_needs_a_session() -> None:
    with pytest.raises(ContextError, match="inside an nbchat callback"):
        cl.LangchainCallbackHandler()


async def test_chainlit_names_and_user_message_untouched() -> None:
    assert cl.LangchainTracer is cl.LangchainCallbackHandler
    assert cl.AsyncLangchainCallbackHandler is cl.LangchainCallbackHandler

    async def on_message(msg: cl.Message) -> None:
        await generic("ok").ainvoke(msg.content,
                                    config={"callbacks": [cl.LangchainTracer()]})

    async with ChatTestClient(chat_app(on_message)) as client:
        await client.send("hi")
    assert one(client, "llm")["parentId"] is None
    assert user_message_id(client) != one(client, "llm")["id"]


async def test_notebook_runs_top_to_bottom() -> None:
    async with ChatTestClient(NOTEBOOK) as client:
        await client.send("How many people live in Rome?")

    root = one(client, "run")
    assert root["name"] == "city_agent"
    assert [(s["type"], s["name"]) for s in children(client, root)] == [
        ("retrieval", "KeywordRetriever"), ("llm", "ScriptedModel"), ("tool", "population"),
        ("llm", "ScriptedModel")]
    assert not any(s["isError"] for s in client.steps)
    # The final answer was streamed into a chat message by the handler.
    answer = client.messages[-1]
    assert answer["type"] == "assistant_message"
    assert answer["output"] == "About 2800 thousand people live there."
    assert token_deltas(client, answer["id"]) == answer["output"]
