"""Chainlit e2e `cot` / `remove_step`: nested steps with input and output, one removed."""

import chainlit as cl


@cl.step(type="tool")
async def search(query: str) -> str:
    await cl.sleep(0)
    return f"results for {query}"


@cl.step(type="llm", name="Think")
async def think(query: str) -> str:
    found = await search(query)
    current = cl.context.current_step
    assert current is not None
    current.input = {"query": query, "sources": 2}
    return f"thought about {found}"


@cl.on_message
async def reply(message: cl.Message) -> None:
    answer = await think(message.content)
    async with cl.Step(name="Scratch", type="run") as scratch:
        scratch.output = "temporary"
    await scratch.remove()
    await cl.Message(content=answer).send()
