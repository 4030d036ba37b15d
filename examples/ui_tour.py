"""The app the README screenshots show (scripts/screenshots.py): starters, chat settings,
a step with a nested tool step whose input is a dict, and a streamed reply with a list, a
table, code and math, an image and an action. `TOUR_WELCOME=0` leaves out the greeting, so
the first load shows the empty chat with its starters."""

import asyncio
import os
import struct
import zlib

import nbchat as cl
from nbchat.input_widget import Select, Slider


def gradient_png(width: int = 260, height: int = 120) -> bytes:
    """A small PNG written with zlib only (no imaging library)."""
    rows = b"".join(
        b"\x00" + b"".join(bytes((60 + 150 * x // width, 110 + 90 * y // height, 210))
                           for x in range(width))
        for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


REPLY = """## A weekend in Porto

The **short version**, then the details:

- Saturday: Ribeira and the Dom Luís I bridge
- Sunday: Serralves and the *Foz* seafront

| Day | Area | Cost (€) |
|-----|------|---------:|
| Sat | Ribeira | 70 |
| Sun | Foz | 40 |

```python
def total(costs: list[int]) -> int:
    return sum(costs)  # 110

print(total([70, 40]))
```

Spread over $d = 2$ days that is $\\frac{110}{d} = 55$ € a day.
"""


@cl.set_starters
async def starters(user: object = None) -> list[cl.Starter]:
    return [
        cl.Starter(label="Plan a weekend", message="Plan a weekend in Porto"),
        cl.Starter(label="Compare two cities", message="Compare Porto and Lisbon"),
        cl.Starter(label="Pack for the rain", message="What should I pack for rain?"),
    ]


@cl.on_chat_start
async def start() -> None:
    await cl.ChatSettings([
        Select(id="model", label="Model", values=["small", "medium", "large"], initial_index=1),
        Slider(id="temperature", label="Temperature", initial=0.7, min=0, max=2, step=0.1),
    ]).send()
    if os.environ.get("TOUR_WELCOME", "1") == "1":
        await cl.Message(content="**Hello!** I plan trips. Ask me anything, "
                                 "or pick a starter.").send()


@cl.action_callback("more")
async def more(action: cl.Action) -> None:
    await cl.Message(content="More ideas coming up.").send()


@cl.on_message
async def on_message(message: cl.Message) -> None:
    async with cl.Step(name="Research", type="run") as outer:
        outer.input = message.content
        async with cl.Step(name="search_places", type="tool") as inner:
            inner.input = {"query": message.content, "limit": 3}
            await asyncio.sleep(0.1)
            inner.output = "3 places: Ribeira, Serralves, Foz"
        outer.output = "Found 3 places"
    reply = cl.Message(content="", elements=[cl.Image(name="map.png", content=gradient_png(),
                                                      display="inline")],
                       actions=[cl.Action(name="more", payload={}, label="More ideas")])
    for i in range(0, len(REPLY), 32):
        await reply.stream_token(REPLY[i:i + 32])
    await reply.send()
