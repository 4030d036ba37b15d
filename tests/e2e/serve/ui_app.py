"""An app for the served-page UI test: an avatar author, a side PDF and text, a task list
updated by a second send, a Plotly figure (content as JSON text, no plotly package), a
starter, and a reply that counts how often on_message ran (edit and retry run it again)."""

import json

import nbchat as cl

# One page, no fonts: enough for a browser to accept the bytes as a PDF.
PDF = (b"%PDF-1.1\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
       b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")
FIGURE = {"data": [{"type": "scatter", "x": [1, 2, 3], "y": [2, 1, 3]}],
          "layout": {"title": {"text": "Sales"}, "width": 420, "height": 300}}
runs = {"count": 0}


@cl.set_starters
async def starters(user: object = None) -> list[cl.Starter]:
    return [cl.Starter(label="Plan the work", message="tasks")]


@cl.on_message
async def reply(message: cl.Message) -> None:
    runs["count"] += 1
    text = message.content
    if text == "tasks":
        tasks = cl.TaskList(status="Running...")
        first = cl.Task(title="Collect the data", status=cl.TaskStatus.RUNNING)
        await tasks.add_task(first)
        await tasks.add_task(cl.Task(title="Write the report"))
        await tasks.send()
        done = await cl.Message(content="Collected.", author="Tool Bot").send()
        first.status = cl.TaskStatus.DONE
        first.for_id = done.id
        await tasks.add_task(cl.Task(title="Check the sources", status=cl.TaskStatus.FAILED))
        tasks.status = "Done"
        await tasks.send()
        return
    if text == "docs":
        elements = [cl.Pdf(name="report.pdf", content=PDF, display="side"),
                    cl.Text(name="notes", content="# Notes\n\nSide text body.", display="side")]
        await cl.Message(content="Read report.pdf and the notes.", elements=elements).send()
        return
    if text == "plot":
        await cl.Message(content="A figure:", elements=[
            cl.Plotly(name="sales", content=json.dumps(FIGURE), display="inline")]).send()
        return
    await cl.Message(content=f"run {runs['count']}: you said {text}", author="Tool Bot").send()
