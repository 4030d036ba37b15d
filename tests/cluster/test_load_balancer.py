"""Two hosts behind HAProxy, round-robin, no stickiness: one `nbchat serve` on 127.0.0.2
and one on 127.0.0.3 (loopback addresses standing in for two machines), sharing Redis and
PostgreSQL, behind examples/deploy/haproxy.cfg as shipped. A conversation whose socket is
cut again and again, each reconnect landing wherever the balancer sends it, gets its
reply complete and once."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from .cluster import Cluster, Endpoint, expected_reply, hang_up
from .redis_fixtures import drop_prefix, require_redis, run_prefix
from .test_bus import Event, is_final_reply, reply_started, reply_text, signed_in

CONFIG = Path(__file__).resolve().parents[2] / "examples" / "deploy" / "haproxy.cfg"
HOSTS = ("127.0.0.2", "127.0.0.3")


def free_port_on(address: str) -> int:
    with socket.socket() as sock:
        sock.bind((address, 0))
        return int(sock.getsockname()[1])


def wait_listening(address: str, port: int, deadline: float = 30.0) -> None:
    """Until a TCP connect succeeds (HAProxy prints nothing when it is ready)."""
    end = time.monotonic() + deadline
    while True:
        try:
            socket.create_connection((address, port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > end:
                raise AssertionError(f"nothing listens on {address}:{port}") from None
            time.sleep(0.05)  # between connection attempts, not a synchronization


@pytest.fixture
def hosts(tmp_path: Path, pg_url: str) -> Iterator[list[Cluster]]:
    require_redis()
    prefix = run_prefix()
    running = [Cluster(tmp_path / address, free_port_on(address), pg_url, prefix, workers=1,
                       address=address,
                       extra_env={"NBCHAT_SERVER_TRUSTED_PROXIES": "127.0.0.1"})
               for address in HOSTS]
    try:
        for host in running:
            host.start()
        yield running
    finally:
        statuses = [host.stop() for host in running]
        asyncio.run(drop_prefix(prefix))
    assert statuses == [0, 0], "".join(o for h in running for o in h.output)


@pytest.fixture
def balancer(hosts: list[Cluster]) -> Iterator[Endpoint]:
    haproxy = shutil.which("haproxy")
    assert haproxy, "the load-balancer test needs HAProxy: bash scripts/system-deps.sh test"
    port = free_port_on("127.0.0.1")
    env = {**os.environ, "LB_BIND": f"127.0.0.1:{port}",
           "LB_HOST_1": f"{hosts[0].address}:{hosts[0].port}",
           "LB_HOST_2": f"{hosts[1].address}:{hosts[1].port}"}
    proc = subprocess.Popen([haproxy, "-db", "-f", str(CONFIG)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    endpoint = Endpoint("127.0.0.1", port)
    try:
        wait_listening("127.0.0.1", port)
        yield endpoint
    finally:
        endpoint.close_connections()
        proc.terminate()
        _, errors = proc.communicate(timeout=10)
        assert "ALERT" not in errors, errors


def moved_on(last: int, event: Event) -> bool:
    """The reply went on past the replay (or ended)."""
    return bool(event["seq"] > last + 2) or is_final_reply(event)


async def test_a_conversation_survives_reconnects_through_round_robin(
        hosts: list[Cluster], balancer: Endpoint) -> None:
    browser = await signed_in(balancer, "cyd")
    current, worker = await balancer.socket(browser)
    welcome = await current.hello()
    await current.send({"type": "user_message", "content": "60x0.03"})
    await current.until(reply_started)
    workers = [worker]
    events: list[Event] = []
    for _ in range(3):
        last = max(e["seq"] for e in [*events, *current.events])
        events += current.events
        await hang_up(current)  # cut mid-reply; the balancer picks the next host
        current, worker = await balancer.socket(browser)
        workers.append(worker)
        await current.send({"type": "hello", "protocolVersion": 1,
                            "sessionId": welcome["sessionId"], "lastSeq": last})
        progress = await current.until(partial(moved_on, last))
        assert current.events[0]["seq"] == last + 1, "the replay does not start after lastSeq"
        if is_final_reply(progress):
            break
    final = await current.until(is_final_reply)
    events += current.events
    await hang_up(current)
    numbered = [e["seq"] for e in events]
    assert numbered == list(range(1, len(numbered) + 1)), "a gap or a repeat"
    assert final["step"]["output"] == expected_reply(60)
    assert reply_text(events) == expected_reply(60)
    assert len(set(workers)) == 2, f"round-robin never changed host: {workers}"
    print("sockets landed on", workers)
