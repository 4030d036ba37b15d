"""The app whose conversations the workbench tests store, replay and export: a fake model
that uses every part of a turn (steps, asks, actions, elements, tokens)."""

import nbchat as cl

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00"
       b"\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00"
       b"\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82")
VERSION = "v1"


@cl.action_callback("more")
async def more(action: cl.Action) -> None:
    await cl.Message(content=f"more {action.payload['n']}").send()


@cl.on_message
async def on_message(message: cl.Message) -> None:
    text = message.content
    if text == "ask":
        answer = await cl.AskUserMessage(content="Your name?").send()
        await cl.Message(content=f"Hi {answer['output']}").send()
    elif text == "pick":
        choice = await cl.AskActionMessage(content="Pick one", actions=[
            cl.Action(name="red", payload={}), cl.Action(name="blue", payload={})]).send()
        await cl.Message(content=f"You picked {choice['name']}").send()
    elif text == "image":
        await cl.Message(content="Here is a pixel", elements=[
            cl.Image(name="pixel.png", content=PNG, display="inline"),
            cl.Text(name="notes.txt", content="some notes", display="inline")]).send()
    elif text == "button":
        await cl.Message(content="Press it", actions=[
            cl.Action(name="more", payload={"n": 1})]).send()
    else:
        async with cl.Step(name="lookup", type="tool") as step:
            step.input = text
            async with cl.Step(name="model", type="llm") as llm:
                llm.output = f"thinking about {text}"
                llm.generation = cl.ChatGeneration(model="fake", token_count=len(text))
            step.output = f"found {text}"
        await cl.Message(content=f"You said **{text}** ({VERSION})").send()
