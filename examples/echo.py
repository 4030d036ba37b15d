"""A small app that shows the main pieces: a greeting, a step, streaming, an action."""

import asyncio

import nbchat as cl


@cl.on_chat_start
async def start() -> None:
    cl.user_session.set("count", 0)
    await cl.Message(content="Hi! Say something and I will echo it back, word by word.").send()


@cl.on_message
async def on_message(message: cl.Message) -> None:
    count = cl.user_session.get("count") + 1
    cl.user_session.set("count", count)
    async with cl.Step(name="count words", type="tool") as step:
        step.input = message.content
        step.output = f"{len(message.content.split())} words"
    reply = cl.Message(content="")
    for word in message.content.split():
        await reply.stream_token(word + " ")
        await asyncio.sleep(0.02)  # pretend to be a model producing tokens
    reply.actions = [cl.Action(name="shout", payload={"text": message.content},
                               label="Shout it")]
    await reply.send()


@cl.action_callback("shout")
async def shout(action: cl.Action) -> None:
    await cl.Message(content=action.payload["text"].upper() + "!").send()
