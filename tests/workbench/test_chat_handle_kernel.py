"""`cl.chat()`'s handle and `cl.chat(fn)` in a real kernel: send, messages, observe, asks,
and a plain function or generator as the handler. No front end is attached (nbclient runs
the cells), so the handle itself says hello for the view."""

from __future__ import annotations

import ast
from pathlib import Path

from workbench.kernel import run_cells, text, widget_views

SETUP = """\
import nbchat as cl

@cl.on_message
async def on_message(message: cl.Message):
    if message.content == "ask":
        answer = await cl.AskUserMessage(content="Your name?").send()
        await cl.Message(content=f"Hi {answer['output']}").send()
        return
    async with cl.Step(name="lookup", type="tool") as step:
        step.output = "found it"
    await cl.Message(content=f"You said {message.content}").send()
"""


def test_the_handle_drives_and_reads_the_chat_it_shows(tmp_path: Path) -> None:
    outputs = run_cells([
        SETUP,
        "chat = cl.chat()",
        "cl.chat()",  # a bare call as the cell's value: still one view
        "seen = []\nstop = chat.observe(lambda reply: seen.append(reply.content))",
        "reply = await chat.send('hello')\nprint(repr(reply.content))\n"
        "print([s['name'] for s in reply.steps])",
        "question = await chat.send('ask')\nprint(repr(question.content))",
        "print(repr((await chat.send('Ann')).content))",
        "print(chat.messages[['type', 'content']].values.tolist())",
        "print(seen)\nstop()\nawait chat.send('unseen')\nprint(len(seen))",
        "chat",  # shown again from another cell: a second view of the same chat
    ], tmp_path)

    assert widget_views(outputs[1]) == 1
    assert widget_views(outputs[2]) == 1
    assert text(outputs[4]).splitlines() == ["'You said hello'",
                                             "['User', 'lookup', 'Assistant']"]
    assert text(outputs[5]).strip() == "'Your name?'"  # send returns while the app asks
    assert text(outputs[6]).strip() == "'Hi Ann'"
    rows = ast.literal_eval(text(outputs[7]))
    assert rows == [["user_message", "hello"], ["assistant_message", "You said hello"],
                    ["user_message", "ask"], ["assistant_message", "Your name?"],
                    ["user_message", "Ann"], ["assistant_message", "Hi Ann"]]
    observed, count = text(outputs[8]).splitlines()
    # One call per turn: the ask and its answer are one turn.
    assert ast.literal_eval(observed) == ["You said hello", "Your name?\n\nHi Ann"]
    assert count == "2"
    assert widget_views(outputs[9]) == 1


def test_a_plain_function_or_generator_is_the_handler(tmp_path: Path) -> None:
    outputs = run_cells([
        "import nbchat as cl",
        "def echo(message, history):\n    return f'{message} after {len(history)}'\n"
        "chat = cl.chat(echo)\n"
        "print((await chat.send('one')).content)\nprint((await chat.send('two')).content)",
        "async def words(message, history):\n"
        "    for w in message.split():\n        yield w.upper() + ' '\n"
        "chat = cl.chat(words)\nreply = await chat.send('a b c')\nprint(repr(reply.content))",
        "def counting(message, history):\n    yield from ('1', '2', '3')\n"
        "chat = cl.chat(counting)\nprint((await chat.send('go')).content)",
        "try:\n    cl.chat(42)\nexcept TypeError as exc:\n    print(exc)",
    ], tmp_path)

    assert text(outputs[1]).splitlines() == ["one after 0", "two after 2"]
    assert text(outputs[2]).strip() == "'A B C '"
    assert text(outputs[3]).strip() == "123"
    assert "takes an App or a function" in text(outputs[4])
