"""A stored thread as a notebook (nbformat 4): a markdown cell per message, each step a
collapsed cell with its input as source and its output as output, elements as outputs."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from nbchat.export.source import IMAGE_TYPES, Exported, load, rating_of
from nbchat.types import ElementDict, StepDict, ThreadDict

ROLES = {"user_message": "🧑", "assistant_message": "🤖", "system_message": "⚙️"}


def to_notebook(thread: str | ThreadDict, path: str | Path | None = None, *,
                app_dir: str | Path = ".", url: str | None = None) -> Any:
    """The thread as an `nbformat.NotebookNode`, written to `path` when given.

    Each message is a markdown cell (author and time, then its text); each step (tool,
    LLM call, …) a code cell with its source and output collapsed, and its input and
    output as a comment and a stream output; elements are display outputs (images,
    text, tables, Plotly figures) of a hidden cell after their message. Nothing runs:
    the cells have no execution count."""
    nb = render_notebook(load(thread, app_dir, url))
    if path is not None:
        _nbformat().write(nb, str(path))
    return nb


def render_notebook(exported: Exported) -> Any:
    """The notebook of an exported thread (what `to_notebook` writes)."""
    nbformat = _nbformat()
    nb = nbformat.v4.new_notebook()
    t = exported.thread
    nb.metadata["nbchat"] = {"threadId": t["id"], "createdAt": t["createdAt"],
                             "userIdentifier": t.get("userIdentifier")}
    nb.cells.append(nbformat.v4.new_markdown_cell(
        f"# {exported.title}\n\nExported from nbchat thread `{t['id']}`, "
        f"started {t['createdAt']}."))
    for step, depth in exported.outline():
        if depth == 0:
            nb.cells.append(_message_cell(step))
        else:
            nb.cells.append(_step_cell(step, depth))
        outputs = [o for e in exported.elements(step["id"]) if (o := _output(exported, e))]
        if outputs:
            cell = nbformat.v4.new_code_cell(f"# elements of {step['name'] or step['type']}",
                                             outputs=outputs)
            cell.metadata["jupyter"] = {"source_hidden": True}
            cell.metadata["nbchat"] = {"elementsFor": step["id"]}
            nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def _nbformat() -> Any:
    """nbformat (untyped), imported on use: `import nbchat.export` stays light."""
    import nbformat

    return nbformat


def _message_cell(step: StepDict) -> Any:
    nbformat = _nbformat()

    mark = ROLES.get(step["type"], "")
    head = f"**{mark} {step['name'] or step['type']}** · {step['createdAt']}"
    if step.get("isError"):
        head += " · error"
    rating = rating_of(step)
    if rating is not None:
        head += " · 👍" if rating == 1 else " · 👎"
    cell = nbformat.v4.new_markdown_cell(f"{head}\n\n{step['output']}")
    cell.metadata["nbchat"] = {"stepId": step["id"], "type": step["type"]}
    return cell


def _step_cell(step: StepDict, depth: int) -> Any:
    nbformat = _nbformat()

    indent = "  " * (depth - 1)
    lines = [f"# {indent}{step['type']} step: {step['name']}"]
    if step["input"]:
        lines += ["# input:", *(f"#   {line}" for line in step["input"].splitlines())]
    outputs = []
    if step["output"]:
        stream = "stderr" if step.get("isError") else "stdout"
        outputs.append(nbformat.v4.new_output("stream", name=stream, text=step["output"]))
    cell = nbformat.v4.new_code_cell("\n".join(lines), outputs=outputs)
    # Collapsed in JupyterLab (jupyter.*) and in the classic notebook (collapsed).
    cell.metadata["collapsed"] = True
    cell.metadata["jupyter"] = {"source_hidden": True, "outputs_hidden": True}
    cell.metadata["nbchat"] = {"stepId": step["id"], "type": step["type"],
                               "generation": step.get("generation")}
    return cell


def _output(exported: Exported, element: ElementDict) -> Any:
    nbformat = _nbformat()

    data = exported.data(element)
    mime = element.get("mime") or ""
    name = element.get("name") or element["type"]
    bundle: dict[str, Any]
    if data is not None and mime in IMAGE_TYPES:
        bundle = {mime: base64.b64encode(data).decode(), "text/plain": f"<image {name}>"}
    elif data is not None and element["type"] == "plotly":
        bundle = {"application/vnd.plotly.v1+json": json.loads(data),
                  "text/plain": f"<Plotly figure {name}>"}
    elif data is not None and element["type"] == "dataframe":
        bundle = {"text/html": _frame_html(data), "text/plain": data.decode(errors="replace")}
    elif data is not None and (element["type"] == "text" or mime.startswith("text/")):
        bundle = {"text/plain": data.decode(errors="replace")}
    else:
        where = element.get("url") or "not embedded"
        bundle = {"text/markdown": f"📎 **{name}** ({mime or element['type']}, {where})",
                  "text/plain": f"{name} ({where})"}
    return nbformat.v4.new_output("display_data", data=bundle,
                                  metadata={"nbchat": {"elementId": element["id"]}})


def _frame_html(data: bytes) -> str:
    """A stored Dataframe element (pandas' split JSON) as an HTML table."""
    import html

    try:
        split = json.loads(data)
        columns, rows = split["columns"], split["data"]
    except (ValueError, KeyError, TypeError):
        return f"<pre>{html.escape(data.decode(errors='replace'))}</pre>"
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
