"""A stored thread as one self-contained HTML page, safe to mail.

Markdown is rendered with mistune with raw HTML escaped and harmful link schemes (such
as `javascript:`) dropped; images are embedded as data: URLs of a few raster types; the
page's Content-Security-Policy loads nothing from anywhere and runs no script.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from nbchat.export.source import Exported, load, rating_of
from nbchat.types import ElementDict, StepDict, ThreadDict

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
STYLE = """
body{font:15px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;
color:#1f2328;background:#fff}
header{border-bottom:1px solid #d0d7de;margin-bottom:1rem}
.msg{margin:1rem 0;padding:.6rem .9rem;border-radius:8px;background:#f6f8fa}
.msg.user_message{background:#ddf4ff}
.msg.error{background:#ffebe9}
.who{font-weight:600;font-size:.85em;color:#57606a}
details{margin:.4rem 0 .4rem calc(var(--depth,1)*1rem);border-left:3px solid #d0d7de;
padding-left:.6rem}
summary{cursor:pointer;color:#57606a}
pre{background:#f6f8fa;padding:.5rem;overflow:auto;white-space:pre-wrap}
img{max-width:100%}
table{border-collapse:collapse}td,th{border:1px solid #d0d7de;padding:2px 6px}
"""


def to_html(thread: str | ThreadDict, path: str | Path | None = None, *,
            app_dir: str | Path = ".", url: str | None = None) -> str:
    """The thread as one HTML page (returned, and written to `path` when given): its
    messages with markdown rendered, steps as collapsible blocks with input and output,
    images embedded, other files named. Nothing in it loads from the network or runs."""
    page = render_html(load(thread, app_dir, url))
    if path is not None:
        Path(path).write_text(page, encoding="utf-8")
    return page


def render_html(exported: Exported) -> str:
    """The page of an exported thread (what `to_html` writes)."""
    render = _markdown()
    parts = []
    for step, depth in exported.outline():
        parts.append(_message(step, render) if depth == 0 else _step(step, depth))
        parts.extend(_element(exported, e) for e in exported.elements(step["id"]))
    t = exported.thread
    title = html.escape(exported.title)
    return (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">"
        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
        f"<title>{title}</title><style>{STYLE}</style></head><body>"
        f"<header><h1>{title}</h1><p>nbchat thread <code>{html.escape(t['id'])}</code>, "
        f"started {html.escape(t['createdAt'])}</p></header><main>"
        + "\n".join(parts) + "</main></body></html>\n"
    )


def _markdown() -> Any:
    import mistune

    return mistune.create_markdown(escape=True, plugins=["strikethrough", "table", "url"])


def _message(step: StepDict, render: Any) -> str:
    classes = f"msg {step['type']}" + (" error" if step.get("isError") else "")
    rating = rating_of(step)
    mark = "" if rating is None else (" · 👍" if rating == 1 else " · 👎")
    who = html.escape(step["name"] or step["type"])
    return (f"<section class=\"{classes}\"><div class=\"who\">{who} · "
            f"{html.escape(step['createdAt'])}{mark}</div>{render(step['output'])}</section>")


def _step(step: StepDict, depth: int) -> str:
    body = ""
    if step["input"]:
        body += f"<div>Input</div><pre>{html.escape(step['input'])}</pre>"
    if step["output"]:
        body += f"<div>Output</div><pre>{html.escape(step['output'])}</pre>"
    error = " (error)" if step.get("isError") else ""
    return (f"<details style=\"--depth:{depth}\"><summary>{html.escape(step['type'])}: "
            f"{html.escape(step['name'])}{error}</summary>{body}</details>")


def _element(exported: Exported, element: ElementDict) -> str:
    name = html.escape(element.get("name") or element["type"])
    src = exported.data_url(element)
    if src is not None:
        return f"<figure><img alt=\"{name}\" src=\"{src}\"><figcaption>{name}</figcaption></figure>"
    data = exported.data(element)
    if data is not None and (element["type"] == "text"
                             or (element.get("mime") or "").startswith("text/")):
        return f"<figure><pre>{html.escape(data.decode(errors='replace'))}</pre>" \
               f"<figcaption>{name}</figcaption></figure>"
    return f"<p>📎 {name} (not embedded)</p>"
