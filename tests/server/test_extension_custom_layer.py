"""The Jupyter extension's REST API (the History panel's) answers from a layer the server
process's app brings: `@cl.data_layer` in jupyter_server_config.py, in a real
`jupyter server` process; no default `.nbchat/nbchat.db` is made in the root."""

from __future__ import annotations

import json
from pathlib import Path

from tornado.httpclient import AsyncHTTPClient

from server.jupyter_process import TOKEN, fetch, running_jupyter, token_header
from server.server_helpers import ROOT

TESTS = Path(__file__).resolve().parents[1]

# Runs in the server process before the extension loads. The layer is the tests' in-memory
# Chainlit-style one, holding one thread of the local user (written straight into its
# store: the layer's methods are coroutines and no loop runs yet).
CONFIG = f'''
import sys
sys.path.insert(0, {str(TESTS)!r})

import memory_layer
import nbchat as cl
from nbchat.types import PersistedUser

CALLS = []


@cl.data_layer
def layer():
    CALLS.append(1)
    store = memory_layer.MemoryStore()
    store.users["local"] = PersistedUser("local", None, {{}}, id="u-local",
                                         createdAt="2026-01-01T00:00:00.000Z")
    store.threads["t-custom"] = {{"id": "t-custom", "createdAt": "2026-01-01T00:00:00.000Z",
                                 "name": "from the custom layer (call %d)" % len(CALLS),
                                 "userId": "u-local", "tags": None, "metadata": {{}},
                                 "activity": 1}}
    return memory_layer.MemoryDataLayer(store)
'''


async def test_the_history_api_reads_the_server_apps_own_layer(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    config_dir = tmp_path / "home" / "config"
    config_dir.mkdir(parents=True)
    (config_dir / "jupyter_server_config.py").write_text(CONFIG, encoding="utf-8")
    client = AsyncHTTPClient(force_instance=True)
    try:
        with running_jupyter(tmp_path, root) as (port, log):
            base = f"http://127.0.0.1:{port}"
            for _ in range(2):  # the function was called once, for the server
                r = await fetch(client, base + f"{ROOT}/threads", headers=token_header())
                assert r.code == 200, "".join(log)
                threads = json.loads(r.body)["data"]
                assert [(t["id"], t["name"]) for t in threads] == [
                    ("t-custom", "from the custom layer (call 1)")]
            r = await fetch(client, base + f"{ROOT}/threads/t-custom?token={TOKEN}")
            assert r.code == 200  # ownership through the layer's get_thread_author
            assert json.loads(r.body)["name"] == "from the custom layer (call 1)"
    finally:
        client.close()
    assert not (root / ".nbchat" / "nbchat.db").exists()
