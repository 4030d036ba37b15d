"""Chainlit e2e `tasklist`: a task list whose tasks change status as work proceeds."""

import chainlit as cl


@cl.on_chat_start
async def start() -> None:
    tasks = cl.TaskList()
    tasks.status = "Running..."
    first = cl.Task(title="Fetch the data", status=cl.TaskStatus.RUNNING)
    await tasks.add_task(first)
    second = cl.Task(title="Write the report")
    await tasks.add_task(second)
    await tasks.send()
    first.status = cl.TaskStatus.DONE
    second.status = cl.TaskStatus.FAILED
    tasks.status = "Failed"
    await tasks.update()
