"""An app for the served-page test of custom elements, the element sidebar and step icons:
a Counter element (public/elements/Counter.js) that updates its props, calls an action
and sends a message; `bump` pushes new props from the server; `sidebar` / `close` set
and close the element sidebar; `steps` shows steps with Lucide icons."""

import nbchat as cl


@cl.on_chat_start
async def start() -> None:
    counter = cl.CustomElement(name="Counter", props={"count": 1})
    await cl.Message(content="Here is a counter", elements=[counter]).send()
    cl.user_session.set("counter", counter)


@cl.action_callback("double")
async def double(action: cl.Action) -> int:
    return int(action.payload["n"]) * 2


@cl.on_message
async def reply(message: cl.Message) -> None:
    counter: cl.CustomElement = cl.user_session.get("counter")
    text = message.content
    if text == "bump":
        counter.props = {**counter.props, "count": 100}
        await counter.update()
        await cl.Message(content="bumped").send()
    elif text == "count?":
        await cl.Message(content=f"the server has count {counter.props['count']}").send()
    elif text == "sidebar":
        await cl.ElementSidebar.set_elements([
            cl.Text(name="notes", content="Sidebar notes"),
            cl.CustomElement(name="Counter", props={"count": 7}),
        ])
        await cl.ElementSidebar.set_title("Notes")
        await cl.Message(content="sidebar set").send()
    elif text == "close":
        await cl.ElementSidebar.set_elements([])
        await cl.Message(content="sidebar closed").send()
    elif text == "missing":
        await cl.Message(content="a missing element",
                         elements=[cl.CustomElement(name="Nowhere", props={"a": 1})]).send()
    elif text == "steps":
        async with cl.Step(name="Search the web", type="tool", icon="globe") as step:
            step.output = "found"
        async with cl.Step(name="Think", type="llm", icon="brain") as step:
            step.output = "thought"
        async with cl.Step(name="Unknown icon", type="tool", icon="no-such-icon") as step:
            step.output = "done"
        await cl.Message(content="steps done").send()
    else:
        await cl.Message(content=f"got {text}").send()
