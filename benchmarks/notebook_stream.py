"""Streaming into the notebook widget: real JupyterLab, real kernel comm, headless Chromium.

    .venv/bin/python benchmarks/notebook_stream.py [--tokens 2000 5000 50000] [--messages 300]

Writes a small notebook into a temp folder, starts JupyterLab on it (the same launch code
as the end-to-end tests, tests/e2e/harness.py), runs it, and measures in the browser:

- time from pressing Send to the final text in the DOM (the reply no longer streaming and
  its text complete) for replies of N four-character tokens generated as fast as the
  kernel can (the generator yields to the event loop after each token, as a network
  client does), and for a markdown-heavy reply of about 2,000 tokens (headings, lists,
  ten fenced code blocks) until every code block is highlighted. Each is also given
  "beyond generation": that time minus the handler's own generation time;
- comm messages per reply, counted in the kernel (`transport.frames`);
- the page's JS heap (CDP Runtime.getHeapUsage after a forced GC) before and after a
  conversation of --messages messages (half sent, half short markdown replies), in a
  fresh widget.

Budgets (issue 3): 50,000 tokens in the DOM within 2 s beyond generation time; the
markdown-heavy reply rendered and highlighted within 1 s beyond generation; comm messages
grow with elapsed time, not with tokens.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from playwright.async_api import Locator, Page, async_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import workloads

from e2e import harness  # the shared JupyterLab + Chromium launcher

SETUP = r'''
import asyncio, re, time
import nbchat as cl
from nbchat.runtime.context import get_session

''' + inspect.getsource(workloads.markdown_tokens) + r'''    return tokens

MD = markdown_tokens()
STATS = []  # (label, comm frames sent before the reply started, generation seconds)

@cl.on_chat_start
async def ready():
    await cl.Message(content="ready").send()

@cl.on_message
async def on_message(message: cl.Message):
    label = message.content
    frames = get_session().emitter.transport.frames
    kind, _, arg = label.partition(" ")
    msg = cl.Message(content="")
    start = time.perf_counter()
    if kind == "plain":
        for _ in range(int(arg)):
            await msg.stream_token("tok ")
            await asyncio.sleep(0)
        await msg.stream_token(f"END{arg}")
    elif kind == "md":
        for token in MD:
            await msg.stream_token(token)
            await asyncio.sleep(0)
        await msg.stream_token(f"ENDMD{arg}")
    else:
        msg.content = f"A short answer with `code` and a [link](https://x.org) to *{label}*"
    STATS.append((label, frames, time.perf_counter() - start))
    await msg.send()
'''

STATS_CODE = """\
import json
import ipywidgets, nbchat.jupyter.widget
chats = [w for w in list(ipywidgets.widgets.widget._instances.values())
         if isinstance(w, nbchat.jupyter.widget.ChatWidget)]
print(json.dumps({"stats": STATS, "frames": [w.transport.frames for w in chats],
                  "md_tokens": len(MD)}))
"""

async def timed_reply(widget: Locator, text: str, marker: str, code_blocks: int = 0) -> float:
    root = await widget.element_handle()
    ms = await root.evaluate(workloads.SEND_AND_WAIT, [text, marker, code_blocks, 0])
    return float(ms) / 1000


async def heap_mb(page: Page) -> float:
    cdp = await page.context.new_cdp_session(page)
    try:
        await cdp.send("HeapProfiler.collectGarbage")
        usage = await cdp.send("Runtime.getHeapUsage")
        return float(usage["usedSize"]) / 1e6
    finally:
        await cdp.detach()


async def kernel_stats(page: Page) -> dict[str, Any]:
    out = await harness.run_code(page, STATS_CODE)
    return dict(json.loads(out.splitlines()[-1]))


async def run(tokens: list[int], messages: int) -> None:
    with tempfile.TemporaryDirectory(prefix="nbchat-bench-") as tmp:
        folder = Path(tmp)
        with harness.jupyter_lab(folder) as server:
            path = harness.write_notebook(server, "bench.ipynb", [SETUP, "cl.chat()"])
            async with async_playwright() as pw, harness.chromium_context(
                    pw, folder / "profile") as context:
                page = await context.new_page()
                await harness.open_lab_notebook(page, server, path)
                await harness.run_all_cells(page)
                widget = await harness.chat_widget(page)

                await timed_reply(widget, "plain 100", "END100")  # warm up
                rows: list[tuple[str, float]] = []
                for n in tokens:
                    rows.append((f"plain {n}", await timed_reply(widget, f"plain {n}", f"END{n}")))
                    print(*rows[-1], file=sys.stderr, flush=True)
                # First markdown reply (cold: grammars compile, code paths JIT), then again.
                for run_no in (1, 2):
                    label = f"md {run_no}"
                    rows.append((label, await timed_reply(widget, label, f"ENDMD{run_no}", 10)))
                    print(*rows[-1], file=sys.stderr, flush=True)
                stats = await kernel_stats(page)

                # Heap: a fresh widget, then a conversation of `messages` messages.
                await harness.append_cell_and_run(page, "cl.chat()")
                fresh = await harness.chat_widget(page, nth=1)
                before = await heap_mb(page)
                for i in range(messages // 2):
                    await timed_reply(fresh, f"q{i}", f"q{i}")
                after = await heap_mb(page)

    starts = {label: (frames, gen) for label, frames, gen in stats["stats"]}
    labels = [label for label, _, _ in stats["stats"]]
    end_frames = stats["frames"][0]  # the first widget's total when the stats were read
    print(f"{'reply':<14}{'tokens':>8}{'in DOM s':>10}{'gen s':>8}{'beyond s':>10}"
          f"{'comm msgs':>11}")
    for label, seconds in rows:
        frames, gen = starts[label]
        nxt = labels.index(label) + 1
        following = starts[labels[nxt]][0] if nxt < len(labels) else end_frames
        count = stats["md_tokens"] if label.startswith("md") else int(label.split()[1])
        print(f"{label:<14}{count:>8}{seconds:>10.3f}{gen:>8.3f}{seconds - gen:>10.3f}"
              f"{following - frames:>11}")
    print(f"JS heap (page, after GC): {before:.1f} MB with a fresh chat, {after:.1f} MB after "
          f"{messages} messages (+{after - before:.1f} MB)")
    print("Budgets: 50,000 tokens within 2 s beyond generation; markdown-heavy within 1 s "
          "beyond generation; comm messages grow with time, not tokens.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, nargs="+", default=[2000, 5000, 50000])
    parser.add_argument("--messages", type=int, default=300)
    args = parser.parse_args()
    if not harness.CHROMIUM.exists():
        sys.exit(harness.MISSING_CHROMIUM)
    asyncio.run(run(args.tokens, args.messages))


if __name__ == "__main__":
    main()

