"""A Chainlit app embedded in a portal page (written for this project against Chainlit's
documented API): it reacts to the portal's window messages, answers through
`send_window_message`, asks the portal for its context with a CopilotFunction, and reports
token usage through the emitter as Chainlit's LangChain handler does."""

import json

import chainlit as cl


@cl.on_chat_start
async def start() -> None:
    await cl.send_window_message({"type": "ready"})


@cl.on_window_message
async def on_window(message: str) -> None:
    data = json.loads(message) if isinstance(message, str) else message
    if data.get("type") == "VIEW_CONTEXT":
        cl.user_session.set("area", data["areaId"])
        await cl.Message(content=f"context: area {data['areaId']}").send()
        await cl.send_window_message(json.dumps({"type": "EMBEDDED_ACK"}))


@cl.on_message
async def reply(message: cl.Message) -> None:
    context = await cl.CopilotFunction(name="getContext", args={"q": message.content}).acall()
    await cl.context.emitter.update_token_count(42)
    await cl.Message(content=f"{message.content} in {context['page']}, "
                             f"area {cl.user_session.get('area')}").send()
