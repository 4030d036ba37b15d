"""Chainlit e2e `on_chat_start` / `stop_task`: Stop cancels a running reply; the chat goes on."""

import chainlit as cl


@cl.on_stop
async def stopped() -> None:
    cl.user_session.set("stopped", True)


@cl.on_message
async def reply(message: cl.Message) -> None:
    if message.content == "slow":
        msg = cl.Message(content="")
        await msg.stream_token("working")
        await cl.sleep(60)
        await msg.send()
        return
    await cl.Message(content=f"stopped before: {cl.user_session.get('stopped', False)}").send()
