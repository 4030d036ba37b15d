"""Attack class 5: path traversal in name-like parameters. Upload file names are shown,
never used as paths: stored under server ids, served back with a sanitized
Content-Disposition, and nothing lands outside the storage folder. A step's `language`
cannot come from a client at all (test_authorship_and_hijack.py), and there is no avatar
route to traverse."""

from __future__ import annotations

import json
import re
from pathlib import Path

from nbchat.config import Config, FeaturesConfig, UploadConfig
from serve.helpers import fetch

from .conftest import Start, api, connect

NAMES = [b"../../x.txt", b"..\\..\\y.txt", b"a\x00b.txt", b"/etc/passwd",
         b"z" * 5000 + b".txt", "caf\u00e9\r\nX-Evil: 1.txt".encode()]


def multipart(names: list[bytes]) -> bytes:
    parts = [b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + name
             + b"\"\r\nContent-Type: text/plain\r\n\r\nbytes of " + str(i).encode() + b"\r\n"
             for i, name in enumerate(names)]
    return b"".join(parts) + b"--B--\r\n"


def tree(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


async def test_upload_names_never_become_paths(start: Start, tmp_path: Path) -> None:
    folder = tmp_path / "app"
    folder.mkdir()
    config = Config(app_dir=folder, features=FeaturesConfig(
        spontaneous_file_upload=UploadConfig(enabled=True)))
    async with start(config=config, folder=folder) as served:
        ws = await connect(served, "alice")
        await ws.hello()
        await ws.reply("a thread")
        thread = next(e for e in ws.events if e["type"] == "thread")["id"]
        await ws.close()
        outside = tree(tmp_path) - tree(folder / "files")
        stored_before = tree(folder / "files")

        for name in NAMES:
            r = await api(served, "alice", "POST", f"/threads/{thread}/files",
                          raw=multipart([name]),
                          headers={"Content-Type": "multipart/form-data; boundary=B"})
            if r.code != 201:   # refused outright is fine too, as long as nothing is stored
                assert 400 <= r.code < 500, (name[:40], r.code, r.body)
                continue
            [file] = json.loads(r.body)["files"]
            shown = file["name"]
            for bad in ("/", "\\", "\x00", "\r", "\n"):
                assert bad not in shown, shown
            assert not shown.startswith(".."), shown
            download = await fetch(served.base.rstrip("/") + file["url"],
                                   headers={"X-Test-User": "alice"})
            assert download.code == 200, file
            disposition = download.headers["Content-Disposition"]
            assert disposition.startswith(("attachment;", "inline;"))
            assert re.fullmatch(r'[ -~]*', disposition), disposition  # one printable line
            assert "/" not in disposition.split("filename", 1)[1].replace("%2F", ""), \
                disposition
            assert download.headers["X-Content-Type-Options"] == "nosniff"

        new = tree(folder / "files") - stored_before
        assert new, "no upload was stored"
        # Stored under server-made ids only, inside the storage folder.
        for path in new:
            assert re.fullmatch(r"[0-9a-f-]{36}", path.name), path
        assert tree(tmp_path) - tree(folder / "files") - outside <= {
            p for p in tree(tmp_path) if p.parent == folder / ".nbchat" or
            p.name.startswith("db.sqlite")}
        assert not (tmp_path.parent / "x.txt").exists()


async def test_websocket_upload_names_never_become_paths(start: Start, tmp_path: Path) -> None:
    config = Config(app_dir=tmp_path, features=FeaturesConfig(
        spontaneous_file_upload=UploadConfig(enabled=True)))
    async with start(config=config) as served:
        before = tree(tmp_path)
        ws = await connect(served, "alice")
        await ws.hello()
        for i, name in enumerate(["../../ws.txt", "a\x00b", "/etc/passwd", "q" * 5000]):
            upload = f"u{i}"
            await ws.send({"type": "upload_start", "uploadId": upload, "name": name,
                           "mime": "text/plain", "size": 5})
            header = json.dumps({"type": "upload_chunk", "uploadId": upload}).encode()
            await ws.conn.write_message(len(header).to_bytes(4, "big") + header + b"hello",
                                        binary=True)
            await ws.send({"type": "upload_end", "uploadId": upload})
            done = await ws.until(lambda e: e["type"] in ("upload_done", "error"))
            if done["type"] == "upload_done":
                assert re.fullmatch(r"[\w-]+", done["fileId"]), done
        await ws.reply("alive")
        await ws.close()
        for path in tree(tmp_path) - before:
            assert tmp_path / "files" in path.parents or path.name.startswith("db.sqlite"), \
                path
        assert not (tmp_path.parent / "ws.txt").exists()
        assert not (tmp_path.parent.parent / "ws.txt").exists()


async def test_the_avatar_route_answers_only_files_of_public_avatars(start: Start) -> None:
    # (The route itself: tests/serve/test_serve_avatars.py.) A traversal is refused before
    # any lookup, an author without a file and other paths are 404, never another file.
    async with start() as served:
        r = await fetch(served.base + "avatars/..%2F..%2Fetc%2Fpasswd",
                        headers={"X-Test-User": "alice"})
        assert r.code in (400, 404)
        assert b"root:" not in r.body
        for path in ("avatars/assistant", "public/avatars/x.png", "nbchat/api/avatars/x"):
            r = await fetch(served.base + path, headers={"X-Test-User": "alice"})
            assert r.code == 404, path
