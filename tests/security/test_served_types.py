"""Attack class: a user's file served as something that runs. Bytes of the live chat
(`nbchat/blobs/…`) are never served with a script or style type (an uploaded `.js` under
`text/javascript` passed `script-src 'self'` in a `<script src>`); a declared type is one
`type/subtype` or the upload is refused (`application/pdf, text/html` was served inline,
unsandboxed, and rendered as HTML); an exact accepted type needs an agreeing extension (a
PDF-only ask took `page.html` declared as PDF); PDFs, inline, carry the sandbox CSP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbchat as cl
from nbchat.app import App, registering_on
from nbchat.config import Config, FeaturesConfig, UploadConfig
from serve.helpers import WsClient, fetch

from .conftest import Start, connect

PDF = b"%PDF-1.7\n<script>alert(1)</script>"


def uploads(folder: Path) -> Config:
    return Config(app_dir=folder, features=FeaturesConfig(
        spontaneous_file_upload=UploadConfig(enabled=True)))


async def send_file(ws: WsClient, upload: str, name: str, mime: str, data: bytes) -> Any:
    """upload_start, one chunk, upload_end: the upload_done, or the error upload_start
    got (the chunk's and the end's errors, for an upload that never started, are read)."""
    await ws.send({"type": "upload_start", "uploadId": upload, "name": name, "mime": mime,
                   "size": len(data)})
    header = json.dumps({"type": "upload_chunk", "uploadId": upload}).encode()
    await ws.conn.write_message(len(header).to_bytes(4, "big") + header + data, binary=True)
    await ws.send({"type": "upload_end", "uploadId": upload})
    first = await ws.until(lambda e: e["type"] in ("upload_done", "error"))
    if first["type"] == "error":
        for _ in range(2):
            await ws.until(lambda e: e["type"] == "error" and f"no upload {upload!r}"
                           in e["message"])
    return first


async def test_an_uploaded_script_is_served_as_bytes_not_as_script(start: Start,
                                                                   tmp_path: Path) -> None:
    async with start(config=uploads(tmp_path)) as served:
        ws = await connect(served, "alice")
        session = (await ws.hello())["sessionId"]
        for i, (name, mime) in enumerate([("evil.js", "text/javascript"),
                                          ("evil.mjs", "application/x-javascript"),
                                          ("evil.css", "text/css")]):
            done = await send_file(ws, f"u{i}", name, mime, b"alert(document.cookie)")
            assert done["type"] == "upload_done", done
            r = await fetch(f"{served.base}nbchat/blobs/{session}/{done['fileId']}",
                            headers={"X-Test-User": "alice"})
            assert r.code == 200
            assert r.headers["Content-Type"] == "application/octet-stream", name
            assert r.headers["X-Content-Type-Options"] == "nosniff"
            assert r.headers["Content-Disposition"].startswith("attachment"), name
        await ws.close()


async def test_a_declared_type_is_one_media_type_or_refused(start: Start,
                                                           tmp_path: Path) -> None:
    async with start(config=uploads(tmp_path)) as served:
        ws = await connect(served, "alice")
        await ws.hello()
        for i, mime in enumerate(["application/pdf, text/html", "application/pdf;x=1",
                                  "text/html application/pdf", "application/pdf\ntext/html"]):
            error = await send_file(ws, f"u{i}", "report.pdf", mime, PDF)
            assert (error["type"], error["code"]) == ("error", "upload_rejected"), mime
            assert "not one media type" in error["message"]
        files = served.host.sessions.sessions[(await ws.hello())["sessionId"]].files
        assert files.files == {}  # nothing stored
        assert (await ws.reply("still here"))["step"]["output"]  # the session lives
        await ws.close()


def pdf_ask_app(answers: list[Any]) -> App:
    app = App("pdf-ask")
    with registering_on(app):

        @cl.on_message
        async def ask(message: cl.Message) -> None:
            files = await cl.AskFileMessage(content="a PDF please",
                                            accept=["application/pdf"]).send()
            answers.append([(f.name, f.type) for f in files or []])
            pdf = cl.Pdf(name="back.pdf", content=PDF, display="inline")
            await cl.Message(content="thanks", elements=[pdf]).send()

    return app


async def test_a_pdf_only_ask_refuses_html_declared_as_pdf_and_serves_pdfs_sandboxed(
        start: Start) -> None:
    answers: list[Any] = []
    async with start(app=pdf_ask_app(answers)) as served:
        ws = await connect(served, "alice")
        session = (await ws.hello())["sessionId"]
        await ws.send({"type": "user_message", "content": "here"})
        ask = await ws.until(lambda e: e["type"] == "ask")
        error = await send_file(ws, "u1", "page.html", "application/pdf",
                                b"<script>alert(1)</script>")
        assert (error["type"], error["code"]) == ("error", "upload_rejected")
        assert "page.html" in error["message"]
        assert "extension" in error["message"]
        done = await send_file(ws, "u2", "report.pdf", "application/pdf", PDF)
        assert done["type"] == "upload_done", done
        await ws.send({"type": "ask_response", "askId": ask["askId"],
                       "fileIds": [done["fileId"]]})
        await ws.until(lambda e: e["type"] == "step" and e["step"]["output"] == "thanks"
                       and not e["step"]["streaming"])
        element = next(e["element"] for e in ws.events if e["type"] == "element"
                       and e["element"]["name"] == "back.pdf")
        assert answers == [[("report.pdf", "application/pdf")]]
        r = await fetch(f"{served.base}nbchat/blobs/{session}/{element['objectKey']}",
                        headers={"X-Test-User": "alice"})
        assert r.headers["Content-Type"] == "application/pdf"
        assert r.headers["Content-Disposition"].startswith("inline")
        assert "sandbox" in r.headers["Content-Security-Policy"].split("; ")
        await ws.close()
