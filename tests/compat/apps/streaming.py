"""Chainlit e2e `streaming`: tokens streamed into a message and into a step, then sent."""

import chainlit as cl

WORDS = ["the ", "quick ", "brown ", "fox"]


@cl.on_message
async def reply(message: cl.Message) -> None:
    async with cl.Step(name="Plan") as step:
        for word in WORDS:
            await step.stream_token(word)
    msg = cl.Message(content="")
    for word in WORDS:
        await msg.stream_token(word)
    await msg.send()
    late = cl.Message(content="")
    await late.stream_token("")  # an empty token on an unsent message shows nothing
    await late.stream_token("late")
    await late.update()
