"""One way to build a session: every host hands its decisions to a SessionBuilder, which
gives them to each ChatSession at construction (nothing is set on a session afterwards)."""

from __future__ import annotations

import ast
from pathlib import Path

from nbchat.app import App
from nbchat.config import Config, DataConfig
from nbchat.jupyter.widget import ChatWidget
from nbchat.runtime.builder import SessionBuilder
from nbchat.runtime.hosting import ChatHost
from nbchat.testing import ChatTestClient
from nbchat.transports.memory import MemoryTransport
from nbchat.types import User
from nbchat.uploads.tickets import HostTickets

SRC = Path(__file__).resolve().parents[2] / "src" / "nbchat"


def test_only_the_builder_constructs_sessions_in_the_package() -> None:
    callers = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "ChatSession"):
                callers.append(str(path.relative_to(SRC)))
    assert callers == ["runtime/builder.py"], callers


async def test_a_built_session_has_every_host_decision(tmp_path: Path) -> None:
    tickets = HostTickets()
    sent: list[list[dict[str, object]]] = []
    transport = MemoryTransport(sent.append)
    builder = SessionBuilder(App("b"), Config(app_dir=tmp_path), tickets=tickets,
                             client_type="notebook", viewer_is_author=True)
    session = builder.build(User(identifier="ann"), thread_id="t1", transport=transport)
    try:
        assert session.files.tickets is tickets
        assert session.builtin_values()["client_type"] == "notebook"
        assert session.viewer_is_author
        assert session.recorder is None
        assert session.thread_id == "t1"
        assert session.emitter.transport is transport
        assert session.user is not None
        assert session.user.identifier == "ann"
    finally:
        await session.close()


async def test_the_hosts_build_their_sessions_as_they_should(tmp_path: Path) -> None:
    app = App("hosts")
    config = Config(data=DataConfig(enabled=False), app_dir=tmp_path)
    host = ChatHost(app, config)
    served = host.new_session(None)
    widget = ChatWidget(app, config=config)
    try:
        assert served.files.tickets is host.upload_tickets
        assert served.client_type == "webapp"
        assert not served.viewer_is_author
        assert widget.session.client_type == "notebook"
        assert widget.session.viewer_is_author
        async with ChatTestClient(app, config=config) as client:
            assert client.session.client_type == "webapp"
            assert client.session.emitter.transport is client.transport
    finally:
        widget.close()
        await host.close()
