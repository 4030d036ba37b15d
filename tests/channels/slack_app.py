"""The app the Slack tests serve: each branch shows one behaviour of the channel."""

from pathlib import Path

import nbchat as cl


@cl.on_chat_start
async def start() -> None:
    cl.user_session.set("turns", 0)


@cl.on_chat_resume
async def resume(thread: dict[str, object]) -> None:
    cl.user_session.set("turns", 100)


@cl.on_message
async def reply(message: cl.Message) -> None:
    turns = (cl.user_session.get("turns") or 0) + 1
    cl.user_session.set("turns", turns)
    text = message.content
    if text == "ask":
        answer = await cl.AskUserMessage(content="What is your name?").send()
        await cl.Message(content=f"Hi {answer['output'] if answer else '?'}").send()
    elif text == "choose":
        choice = await cl.AskActionMessage(content="Deploy?", actions=[
            cl.Action(name="yes", payload={"go": True}, label="Ship it"),
            cl.Action(name="no", payload={"go": False}, label="Not now")]).send()
        await cl.Message(content=f"go={choice['payload']['go'] if choice else None}").send()
    elif text == "long":
        await cl.Message(content="\n\n".join(f"Paragraph {i}. " + "word " * 60
                                             for i in range(40))).send()
    elif text == "stream":
        msg = cl.Message(content="")
        for word in ("one ", "two ", "three"):
            await msg.stream_token(word)
        await msg.send()
    elif text == "client":
        await cl.Message(content=f"client={cl.context.session.client_type}").send()
    elif message.elements:
        sizes = [f"{e.name}={len(Path(str(e.path)).read_bytes())}" for e in message.elements]
        await cl.Message(content="files " + " ".join(sizes)).send()
    else:
        async with cl.Step(name="lookup", type="tool") as step:
            step.output = "found"
        user = cl.user_session.get("user")
        await cl.Message(content=f"**echo** {text} (turn {turns}) for "
                                 f"{user.identifier if user else None}").send()


@cl.on_slack_reaction_added
async def reacted(event: dict[str, str]) -> None:
    await cl.Message(content=f"thanks for the :{event['reaction']}:").send()
