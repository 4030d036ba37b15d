"""The session bus with two real workers: a chat socket that reconnects to the other worker
keeps its live reply (relayed from the worker running it), with the replay after its last
seq complete and nothing doubled; when the running worker is killed, the client is told and
the stored thread goes on where the socket is."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

from wsclient import WsClient

from .cluster import Browser, Cluster, Endpoint, expected_reply, hang_up

Event = dict[str, Any]


def is_final_reply(event: Event) -> bool:
    return (event["type"] == "step" and event["step"]["type"] == "assistant_message"
            and not event["step"]["streaming"])


def reply_started(event: Event) -> bool:
    return event["type"] == "token" or (
        event["type"] == "step" and event["step"]["type"] == "assistant_message"
        and "t1 " in event["step"]["output"])


async def signed_in(cluster: Endpoint, name: str) -> Browser:
    conn = await asyncio.to_thread(cluster.http)
    await asyncio.to_thread(conn.login, name)
    return conn.browser


async def cut_and_reconnect_elsewhere(cluster: Cluster, browser: Browser, content: str
                                      ) -> tuple[WsClient, WsClient, Event, str, int]:
    """Chat on one worker, cut the socket once the reply streams, reconnect on the other:
    (first, second socket, the first welcome, the owner's worker id, the last seq seen)."""
    first, owner = await cluster.socket(browser)
    welcome = await first.hello()
    await first.send({"type": "user_message", "content": content})
    await first.until(reply_started)
    last = max(e["seq"] for e in first.events)
    await hang_up(first)  # cut mid-reply
    second, relay = await cluster.socket(browser, avoid=owner)
    assert relay != owner
    await second.send({"type": "hello", "protocolVersion": 1,
                       "sessionId": welcome["sessionId"], "lastSeq": last})
    return first, second, welcome, owner, last


def reply_text(events: list[Event]) -> str:
    """The assistant message as the events build it, applied in the order received."""
    step_id = next(e["step"]["id"] for e in events if e["type"] == "step"
                   and e["step"]["type"] == "assistant_message")
    merged = WsClient.__new__(WsClient)
    merged.events = events
    return merged.text(step_id)


async def test_a_reconnect_to_the_other_worker_streams_the_reply_on(cluster: Cluster) -> None:
    browser = await signed_in(cluster, "ada")
    first, second, _, _, last = await cut_and_reconnect_elsewhere(cluster, browser, "40x0.03")
    final = await second.until(is_final_reply)
    assert final["step"]["output"] == expected_reply(40)
    seqs = [e["seq"] for e in second.events]
    assert seqs == list(range(last + 1, last + 1 + len(seqs))), "a gap or a repeat"
    assert reply_text(first.events + second.events) == expected_reply(40)

    # The relayed socket is the session's now: a new message is answered through it.
    await second.send({"type": "user_message", "content": "3x0"})
    again = await second.until(lambda e: is_final_reply(e) and e["step"]["id"] != final[
        "step"]["id"])
    assert again["step"]["output"] == expected_reply(3)
    await hang_up(second)


async def test_a_killed_worker_s_chat_goes_on_where_the_client_is(cluster: Cluster) -> None:
    browser = await signed_in(cluster, "bea")
    _, second, welcome, owner, last = await cut_and_reconnect_elsewhere(
        cluster, browser, "200x0.03")
    await second.until(lambda e: e["seq"] > last + 1)  # the reply streams through the bus
    os.kill(int(owner.rsplit("-", 1)[1]), signal.SIGKILL)

    lost = await second.until(lambda e: e["type"] == "error" and e["code"] == "worker_lost")
    assert "continues here" in lost["message"]
    resumed = await second.until(lambda e: e["type"] == "welcome"
                                 and e["sessionId"] != welcome["sessionId"])
    stored = await second.until(lambda e: e["type"] == "step"
                                and e["step"]["type"] == "user_message"
                                and e["step"]["output"] == "200x0.03")
    assert stored["seq"] > resumed["seq"]
    thread = await second.until(lambda e: e["type"] == "thread")
    assert thread["id"] == welcome["threadId"]
    partial = [e for e in second.events if e["seq"] > resumed["seq"] and e["type"] == "step"
               and e["step"]["type"] == "assistant_message"]
    # What the dead worker had saved of its reply (checkpoints), never more than it wrote.
    assert all(expected_reply(200).startswith(e["step"]["output"]) for e in partial)
    # The thread continues on this worker.
    await second.send({"type": "user_message", "content": "2x0"})
    answer = await second.until(lambda e: is_final_reply(e) and e["seq"] > stored["seq"]
                                and e["step"]["output"] == expected_reply(2))
    assert answer["step"]["threadId"] == welcome["threadId"]
    await hang_up(second)


async def test_a_live_element_s_bytes_are_served_by_any_worker(cluster: Cluster) -> None:
    browser = await signed_in(cluster, "dee")
    chat, owner = await cluster.socket(browser)
    welcome = await chat.hello()
    await chat.send({"type": "user_message", "content": "picture"})
    element = (await chat.until(lambda e: e["type"] == "element"))["element"]
    path = f"/nbchat/blobs/{welcome['sessionId']}/{element['objectKey']}"
    elsewhere = await asyncio.to_thread(cluster.http, None, browser, owner)
    status, body = await asyncio.to_thread(elsewhere.request, "GET", path)
    assert (status, body) == (200, b"\x89PNG-bytes")
    # Another user asking that worker gets nothing, as on the owner.
    other = await signed_in(cluster, "eve")
    stranger = await asyncio.to_thread(cluster.http, None, other, owner)
    assert (await asyncio.to_thread(stranger.request, "GET", path))[0] == 404
    missing = path.rsplit("/", 1)[0] + "/no-such-key"
    assert (await asyncio.to_thread(elsewhere.request, "GET", missing))[0] == 404
    await hang_up(chat)
