"""The `nbchat` command.

    nbchat chat APP      talk to an app (.py or .ipynb) in the terminal
    nbchat serve APP     publish it as a web app (see docs/serving.md)
    nbchat create-secret print a value for NBCHAT_AUTH_SECRET (see docs/auth.md)
    nbchat convert-chainlit-config [APP_DIR]
                         write nbchat.yaml from .chainlit/config.toml and chainlit.md
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

from nbchat.errors import NbchatError
from nbchat.testing import ChatTestClient
from nbchat.types import MESSAGE_STEP_TYPES

HELP = "Type a message and press Enter. /click NAME clicks an action, /quit leaves."


class TerminalView:
    """Prints protocol events as they arrive: streamed text appears as it is generated."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.streamed: set[str] = set()
        self.shown: set[str] = set()
        self.open_line = False

    def _line(self, text: str) -> None:
        if self.open_line:
            self.out.write("\n")
            self.open_line = False
        self.out.write(text + "\n")

    def __call__(self, batch: list[dict[str, Any]]) -> None:
        for event in batch:
            self.render(event)
        self.out.flush()

    def render(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        if kind == "step":
            self._step(event["step"])
        elif kind == "token" and event["id"] in self.streamed:
            self.out.write(event["delta"])
            self.open_line = True
        elif kind == "action":
            action = event["action"]
            self._line(f"  [{action['label']}]  (/click {action['name']})")
        elif kind == "element":
            element = event["element"]
            self._line(f"  📎 {element['type']}: {element['name']}")
        elif kind == "error":
            self._line(f"! {event['message']}")
        elif kind == "ask" and event["kind"] == "action":
            names = ", ".join(a["name"] for a in event["spec"]["actions"])
            self._line(f"  choose with /click NAME: {names}")
        elif kind == "ask" and event["kind"] == "file":
            self._line(f"  type the path of {file_limits(event['spec'])} and press Enter "
                       "(several paths: separated by spaces)")

    def _step(self, step: dict[str, Any]) -> None:
        if step["type"] == "user_message":
            return
        if step["type"] in MESSAGE_STEP_TYPES:
            if step["streaming"] and step["id"] not in self.streamed:
                self.streamed.add(step["id"])
                self._line(f"{step['name']}:")
                self.out.write(step["output"])
                self.open_line = True
            elif not step["streaming"] and step["id"] not in self.shown:
                self.shown.add(step["id"])
                if step["id"] in self.streamed:
                    if self.open_line:
                        self.out.write("\n")
                        self.open_line = False
                else:
                    prefix = "error" if step["isError"] else step["name"]
                    self._line(f"{prefix}: {step['output']}")
            return
        if step["end"] is None and step["id"] not in self.shown:
            self.shown.add(step["id"])
            self._line(f"  ⚙ {step['name']} ({step['type']})")
        elif step["end"] is not None:
            mark = "✗" if step["isError"] else "✓"
            self._line(f"  {mark} {step['name']}: {step['output'][:200]}")


def file_limits(spec: dict[str, Any]) -> str:
    """'up to 3 files (image/*, .pdf; at most 2 MB each)' from a file ask's spec."""
    count = spec.get("maxFiles", 1)
    accept = spec.get("accept") or ["*/*"]
    kinds = accept if isinstance(accept, list) else [t for ts in accept.values() for t in ts]
    what = "a file" if count == 1 else f"up to {count} files"
    shown = ", ".join(str(k) for k in kinds if k != "*/*")
    size = f"at most {spec['maxSizeMb']} MB each" if "maxSizeMb" in spec else ""
    detail = "; ".join(part for part in (shown, size) if part)
    return f"{what} ({detail})" if detail else what


class StdinLines:
    """stdin's lines for the event loop, read by a daemon thread. (A thread of asyncio's
    executor blocked in readline made Ctrl-C wait for Enter: asyncio.run joins it on exit.)"""

    def __init__(self, stdin: TextIO) -> None:
        self.loop = asyncio.get_running_loop()
        self.lines: asyncio.Queue[str] = asyncio.Queue()
        threading.Thread(target=self._read, args=(stdin,), name="nbchat-stdin",
                         daemon=True).start()

    def _read(self, stdin: TextIO) -> None:
        while True:
            line = stdin.readline()
            with contextlib.suppress(RuntimeError):  # the loop closed: the chat is over
                self.loop.call_soon_threadsafe(self.lines.put_nowait, line)
            if not line:
                return

    async def readline(self) -> str:
        return await self.lines.get()


async def chat(path: Path, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> None:
    view = TerminalView(stdout)
    client = ChatTestClient(path, timeout=3600, on_events=view)
    stdout.write(HELP + "\n")
    lines = StdinLines(stdin)
    async with client:
        while True:
            line = await lines.readline()
            if not line or line.strip() == "/quit":
                return
            text = line.rstrip("\n")
            try:
                if text.startswith("/click "):
                    name = text.removeprefix("/click ").strip()
                    if client.pending_ask and client.pending_ask["kind"] == "action":
                        await client.choose(name)
                    else:
                        await client.click(name)
                elif client.pending_ask and client.pending_ask["kind"] == "file":
                    await client.upload([p for p in text.split() if p])
                elif text.strip():
                    await client.send(text)
                while client.call_fns:  # no page embeds the terminal: the call gets None
                    call = client.call_fns[0]
                    view._line(f"  (no embedding page to run {call['name']}: None)")
                    await client.answer_call_fn(None, name=call["name"])
            except (AssertionError, OSError) as exc:
                view._line(f"! {exc}")
            stdout.flush()


def convert_chainlit_config(app_dir: Path, force: bool = False) -> str:
    """Write `<app_dir>/nbchat.yaml` from the Chainlit files; return what to tell the user."""
    from nbchat.chainlit_compat import config_toml
    from nbchat.config import CONFIG_FILE, load

    target = app_dir / CONFIG_FILE
    if not config_toml.has_chainlit_config(app_dir):
        raise NbchatError(f"{app_dir} has neither {config_toml.TOML_FILE} nor "
                          f"{config_toml.README_FILE}: nothing to convert")
    if target.exists() and not force:
        raise NbchatError(f"{target} exists; pass --force to replace it")
    tree, unmapped = config_toml.read(app_dir)
    text = config_toml.to_yaml(tree, unmapped)
    previous = target.read_bytes() if target.exists() else None
    target.write_text(text, encoding="utf-8")
    try:
        load(app_dir, environ={})  # what was written must load (a wrong value names its key)
    except NbchatError:
        if previous is None:
            target.unlink()
        else:
            target.write_bytes(previous)
        raise
    skipped = f"; not carried over: {', '.join(unmapped)}" if unmapped else ""
    return f"wrote {target}{skipped}"


def export_thread(args: argparse.Namespace) -> Path:
    """`nbchat export`: the format is the output file's suffix."""
    from nbchat import export

    where = {"app_dir": args.app_dir, "url": args.url}
    suffix = args.out.suffix
    if suffix == ".ipynb":
        export.to_notebook(args.thread_id, args.out, **where)
    elif suffix == ".html":
        export.to_html(args.thread_id, args.out, **where)
    elif suffix == ".py":
        if args.app is None:
            raise ValueError("a .py export is a test of an app: name it with --app APP")
        export.to_test(args.thread_id, args.out, app=args.app, **where)
    else:
        raise ValueError(f"export to .ipynb, .html or .py, not {suffix or 'no suffix'!r}")
    return Path(args.out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nbchat", description="nbchat command line")
    sub = parser.add_subparsers(dest="command", required=True)
    chat_cmd = sub.add_parser("chat", help="talk to an app in the terminal")
    chat_cmd.add_argument("app", type=Path, help="an app file (.py) or notebook (.ipynb)")
    serve_cmd = sub.add_parser("serve", help="serve an app as a web page, API and WebSocket")
    serve_cmd.add_argument("app", type=Path, help="an app file (.py) or notebook (.ipynb)")
    serve_cmd.add_argument("--host", default="127.0.0.1",
                           help="address to bind (default 127.0.0.1, this machine only)")
    serve_cmd.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve_cmd.add_argument("--watch", action="store_true",
                           help="reload the app when the file is saved")
    serve_cmd.add_argument("--headless", action="store_true",
                           help="API and WebSocket only, no page")
    serve_cmd.add_argument("--root-path", default="/",
                           help="URL prefix when deployed under a sub-path (e.g. /chat/)")
    serve_cmd.add_argument("--loop", choices=("auto", "asyncio", "uvloop"), default="auto",
                           help="event loop: uvloop when installed (auto, the default), "
                                "asyncio's own, or uvloop")
    serve_cmd.add_argument("--workers", type=int, default=1,
                           help="processes serving the port (default 1; more need "
                                "server.redis_url and a shared database: docs/deploying.md)")
    sub.add_parser("create-secret", help="print a new value for NBCHAT_AUTH_SECRET")
    convert_cmd = sub.add_parser(
        "convert-chainlit-config",
        help="write nbchat.yaml from a Chainlit app's .chainlit/config.toml and chainlit.md")
    convert_cmd.add_argument("app_dir", type=Path, nargs="?", default=Path("."),
                             help="the app folder (default: the current one)")
    convert_cmd.add_argument("--force", action="store_true",
                             help="replace an existing nbchat.yaml")
    migrate_cmd = sub.add_parser(
        "migrate-from-chainlit",
        help="copy a database of Chainlit's SQLAlchemy schema into nbchat's own schema")
    migrate_cmd.add_argument("src", help="SQLAlchemy URL, e.g. sqlite+aiosqlite:///chainlit.db")
    migrate_cmd.add_argument("dst", help="nbchat data.url: a SQLite path or postgresql://…")
    export_cmd = sub.add_parser(
        "export", help="write a stored thread as a notebook (.ipynb), a page (.html) or a "
                       "pytest file (.py, with --app)")
    export_cmd.add_argument("thread_id", help="the thread's id (nbchat.history.threads())")
    export_cmd.add_argument("out", type=Path, help="the file to write: .ipynb, .html or .py")
    export_cmd.add_argument("--app-dir", type=Path, default=Path("."),
                            help="the app folder whose data layer holds the thread")
    export_cmd.add_argument("--url", help="a data.url instead of the app folder's")
    export_cmd.add_argument("--app", type=Path, help="for .py: the app the test drives")
    args = parser.parse_args(argv)
    try:
        if args.command == "create-secret":
            from nbchat.server.auth.cookies import create_secret

            print(create_secret())
        elif args.command == "convert-chainlit-config":
            print(convert_chainlit_config(args.app_dir, force=args.force))
        elif args.command == "migrate-from-chainlit":
            from nbchat.data.migrate_chainlit import migrate_from_chainlit

            report = asyncio.run(migrate_from_chainlit(args.src, args.dst, Path.cwd()))
            print(f"nbchat: copied {report}")
        elif args.command == "chat":
            asyncio.run(chat(args.app))
        elif args.command == "export":
            print(f"nbchat: wrote {export_thread(args)}")
        elif args.command == "serve":
            from nbchat.server.serve import ServeOptions, run, serve, serve_workers

            options = ServeOptions(args.app, host=args.host, port=args.port,
                                   root_path=args.root_path, headless=args.headless,
                                   watch=args.watch)
            if args.workers != 1:
                return serve_workers(options, args.workers, args.loop)
            run(lambda: serve(options), args.loop)
    except NbchatError as exc:
        print(f"nbchat: {exc}", file=sys.stderr)
        return 1
    except (LookupError, ValueError, TypeError) as exc:  # e.g. no such thread
        print(f"nbchat: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # e.g. the port is taken
        print(f"nbchat: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nnbchat: interrupted (Ctrl-C), stopped", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
