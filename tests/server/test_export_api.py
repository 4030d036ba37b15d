"""GET /threads/{id}/export: a readable thread as an HTML page or a notebook to download."""

from __future__ import annotations

import json

import nbformat

from seeding import seed
from server.server_helpers import Api, body


async def test_a_thread_exports_as_a_page_and_a_notebook(api: Api) -> None:
    s = await seed(api.data, "alice", "tides <script>")
    page = await api.fetch("GET", f"/threads/{s.thread_id}/export")
    assert page.code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert page.headers["Content-Disposition"].startswith('attachment; filename="about tides')
    assert "sandbox" in page.headers["Content-Security-Policy"]
    html = page.body.decode()
    assert "reply to tides &lt;script&gt;" in html
    assert "secret notes of alice" in html  # the text file's bytes, embedded

    notebook = await api.fetch("GET", f"/threads/{s.thread_id}/export?format=ipynb")
    assert notebook.code == 200
    nb = nbformat.reads(notebook.body.decode(), as_version=4)  # type: ignore[no-untyped-call]
    nbformat.validate(nb)
    assert [c.source.split("\n\n", 1)[1] for c in nb.cells if c.cell_type == "markdown"][1:] == [
        "tides <script>", "reply to tides <script>"]
    assert json.loads(notebook.body)["metadata"]["nbchat"]["threadId"] == s.thread_id


async def test_export_refuses_a_bad_format_and_other_users_threads(api: Api) -> None:
    s = await seed(api.data, "alice")
    bad = await api.fetch("GET", f"/threads/{s.thread_id}/export?format=pdf")
    assert (bad.code, body(bad)["error"]["code"]) == (400, "bad_request")
    assert "format must be one of html, ipynb" in body(bad)["error"]["message"]
    other = await api.fetch("GET", f"/threads/{s.thread_id}/export", user="bob")
    assert other.code == 404
