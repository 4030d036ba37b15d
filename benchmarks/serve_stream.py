"""Streaming into the served page: a real `nbchat serve` subprocess and headless Chromium.

    .venv/bin/python benchmarks/serve_stream.py [--tokens 2000 20000] [--repeat 3] [--trace FILE]

Writes a small app into a temp folder, serves it with `nbchat serve` (the same launch code
as the served-page end-to-end tests, tests/e2e/serve/conftest.py), opens the page, and
measures in the browser:

- time from pressing Send to the final text in the DOM (the reply no longer streaming and
  its text complete) for replies of N four-character tokens generated as fast as the
  server can (the handler yields to the event loop after each token), and "beyond
  generation": that time minus the handler's own generation time (the app writes it to a
  file);
- WebSocket frames per reply, counted in the page (an init script wraps `WebSocket`, like
  tests/e2e/serve/test_served_reconnect.py), received and sent;
- a markdown-heavy reply (~2,000 tokens: headings, lists, ten fenced code blocks) until all
  ten code blocks are highlighted, cold then warm.

`--trace FILE` also records a Chromium performance trace (CDP Tracing) of one reply of the
largest size and prints where the main thread's time went.

Budget (issue 5 §6): 20,000 tokens in the DOM within 1 s beyond generation time.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import inspect
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from playwright.async_api import CDPSession, Page, async_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import workloads

from e2e import harness  # the shared Chromium launcher
from e2e.serve.conftest import start_served  # the shared `nbchat serve` launcher

APP = r'''
import asyncio, json, re, time
from pathlib import Path
import nbchat as cl

STATS = Path(__file__).with_name("stats.jsonl")

''' + inspect.getsource(workloads.markdown_tokens) + r'''    return tokens

MD = markdown_tokens()

@cl.on_message
async def on_message(message: cl.Message):
    label = message.content
    kind, _, arg = label.partition(" ")
    msg = cl.Message(content="")
    start = time.perf_counter()
    count = 0
    if kind == "plain":
        count = int(arg.split()[0])
        for _ in range(count):
            await msg.stream_token("tok ")
            await asyncio.sleep(0)
        await msg.stream_token(f"END{label}")
    elif kind == "md":
        count = len(MD)
        for token in MD:
            await msg.stream_token(token)
            await asyncio.sleep(0)
        await msg.stream_token(f"END{label}")
    else:
        msg.content = f"END{label}"
    generation = time.perf_counter() - start
    with STATS.open("a") as out:
        out.write(json.dumps({"label": label, "tokens": count, "gen": generation}) + "\n")
    await msg.send()
'''

# Counts WebSocket frames in both directions (the page opens one socket per chat).
COUNT_FRAMES = """
window.__nbcFrames = {received: 0, sent: 0};
const Native = window.WebSocket;
window.WebSocket = class extends Native {
  constructor(...args) {
    super(...args);
    this.addEventListener('message', () => { window.__nbcFrames.received += 1; });
  }
  send(data) { window.__nbcFrames.sent += 1; return super.send(data); }
};
"""

async def timed_reply(page: Page, text: str, code_blocks: int = 0) -> tuple[float, int, int]:
    """Seconds to the final DOM text, and WebSocket frames received and sent meanwhile."""
    before = await page.evaluate("({...window.__nbcFrames})")
    root = await page.locator("#nbchat-root").element_handle()
    kind, _, count = text.partition(" ")
    # A plain reply is `count` times "tok " then the marker: all of it must be there.
    min_length = 4 * int(count.split()[0]) if kind == "plain" else 0
    ms = await root.evaluate(workloads.SEND_AND_WAIT, [text, "END" + text, code_blocks, min_length])
    # The closing events (task end) may trail the final text by a frame: let them land.
    await page.wait_for_timeout(200)
    after = await page.evaluate("({...window.__nbcFrames})")
    return (float(ms) / 1000, after["received"] - before["received"],
            after["sent"] - before["sent"])


async def trace_reply(page: Page, text: str, path: Path) -> None:
    """Record a performance trace of one reply and print the main thread's top costs."""
    cdp: CDPSession = await page.context.new_cdp_session(page)
    events: list[dict[str, Any]] = []
    cdp.on("Tracing.dataCollected", lambda params: events.extend(params["value"]))
    finished = asyncio.get_running_loop().create_future()
    cdp.on("Tracing.tracingComplete", lambda _: finished.set_result(None))
    await cdp.send("Tracing.start", {"transferMode": "ReportEvents", "traceConfig": {
        "includedCategories": ["devtools.timeline", "disabled-by-default-devtools.timeline",
                               "v8.execute", "blink", "toplevel"]}})
    seconds, _, _ = await timed_reply(page, text)
    await cdp.send("Tracing.end")
    await finished
    await cdp.detach()
    path.write_text(json.dumps({"traceEvents": events}))
    # The renderer main thread: the thread with most complete ("X") events of RunTask.
    threads = collections.Counter((e.get("pid"), e.get("tid")) for e in events
                                  if e.get("name") == "RunTask")
    main_thread = threads.most_common(1)[0][0] if threads else None
    totals: collections.Counter[str] = collections.Counter()
    counts: collections.Counter[str] = collections.Counter()
    for e in events:
        if (e.get("pid"), e.get("tid")) == main_thread and e.get("ph") == "X" and "dur" in e:
            totals[e["name"]] += e["dur"] / 1e6
            counts[e["name"]] += 1
    print(f"trace of '{text}' ({seconds:.3f} s to final DOM) written to {path}; main thread "
          "time by event (nested events overlap):")
    for name, total in totals.most_common(14):
        print(f"  {name:<36}{total:>8.3f} s {counts[name]:>7}x")


async def run(tokens: list[int], repeat: int, trace: Path | None) -> None:
    with tempfile.TemporaryDirectory(prefix="nbchat-serve-bench-") as tmp:
        folder = Path(tmp)
        (folder / "app").mkdir()
        source = folder / "bench_app.py"
        source.write_text(APP, encoding="utf-8")
        served = await start_served(source, folder / "app")
        try:
            async with async_playwright() as pw, harness.chromium_context(
                    pw, folder / "profile") as context:
                page = await context.new_page()
                await page.add_init_script(COUNT_FRAMES)
                await page.goto(served.url)
                await page.get_by_role("textbox", name="Message").wait_for()
                await timed_reply(page, "plain 100 warmup")
                rows: list[tuple[str, float, int, int]] = []
                for n in tokens:
                    for i in range(repeat):
                        label = f"plain {n} r{i}"
                        rows.append((label, *await timed_reply(page, label)))
                        print(*rows[-1], file=sys.stderr, flush=True)
                for run_no in ("cold", "warm"):
                    label = f"md {run_no}"
                    rows.append((label, *await timed_reply(page, label, 10)))
                    print(*rows[-1], file=sys.stderr, flush=True)
                if trace is not None:
                    await trace_reply(page, f"plain {max(tokens)} traced", trace)
        finally:
            await served.stop()
        stats = {json.loads(line)["label"]: json.loads(line)
                 for line in (folder / "app" / "stats.jsonl").read_text().splitlines()}

    print(f"{'reply':<20}{'tokens':>8}{'in DOM s':>10}{'gen s':>8}{'beyond s':>10}"
          f"{'frames in':>11}{'frames out':>11}")
    beyond: dict[int, list[float]] = collections.defaultdict(list)
    for label, seconds, received, sent in rows:
        gen, count = stats[label]["gen"], stats[label]["tokens"]
        if label.startswith("plain"):
            beyond[count].append(seconds - gen)
        print(f"{label:<20}{count:>8}{seconds:>10.3f}{gen:>8.3f}{seconds - gen:>10.3f}"
              f"{received:>11}{sent:>11}")
    for count, values in sorted(beyond.items()):
        print(f"{count} tokens: beyond generation median {statistics.median(values):.3f} s, "
              f"max {max(values):.3f} s")
    print("Budget: 20,000 tokens in the DOM within 1 s beyond generation time.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--trace", type=Path, default=None)
    args = parser.parse_args()
    if not harness.CHROMIUM.exists():
        sys.exit(harness.MISSING_CHROMIUM)
    asyncio.run(run(args.tokens, args.repeat, args.trace))


if __name__ == "__main__":
    main()
