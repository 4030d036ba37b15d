"""Signed-in users through the REST API: another user's thread is 404 on every endpoint;
a shared thread is readable (not writable) by other signed-in users as
`on_shared_thread_view` decides; an unshared one stays 404."""

from __future__ import annotations

from typing import Any

import pytest

from seeding import ENDPOINTS, UPLOAD, Seeded, T, seed

from .served import API, Browser, Served, body

READS = [e for e in ENDPOINTS if e[0] == "GET"]
WRITES = [e for e in ENDPOINTS if e[0] != "GET"]


async def _call(browser: Browser, method: str, path: str, payload: Any, s: Seeded) -> Any:
    url = API + path.format(**vars(s))
    if method == "POST":
        return await browser.fetch(method, url, raw=UPLOAD,
                                   headers={"Content-Type": "multipart/form-data; boundary=B"})
    return await browser.fetch(method, url, body=payload)


async def _snapshot(served: Served, s: Seeded) -> Any:
    return await served.data.get_thread(s.thread_id), await served.data.export_feedback()


@pytest.mark.parametrize(("method", "path", "payload"), ENDPOINTS)
async def test_another_users_thread_is_404_on_every_endpoint(
        served: Served, bob: Browser, method: str, path: str, payload: Any) -> None:
    s = await seed(served.data, "alice")
    before = await _snapshot(served, s)
    response = await _call(bob, method, path, payload, s)
    assert response.code == 404, (method, path, response.body)
    assert body(response)["error"]["code"] == "not_found"
    assert await _snapshot(served, s) == before
    assert served.probe.share_views == []  # not shared: the app is not even asked


async def _share(served: Served, alice: Browser, s: Seeded) -> None:
    shared = await alice.fetch("PATCH", f"{API}/threads/{s.thread_id}", body={"shared": True})
    assert shared.code == 200, shared.body
    assert body(shared)["shared"] is True


@pytest.mark.parametrize(("method", "path", "payload"), READS)
async def test_a_shared_thread_is_readable_by_another_signed_in_user(
        served: Served, alice: Browser, bob: Browser, method: str, path: str,
        payload: Any) -> None:
    s = await seed(served.data, "alice", "shared words")
    await _share(served, alice, s)
    response = await _call(bob, method, path, payload, s)
    assert response.code == 200, response.body
    assert (s.thread_id, "bob") in served.probe.share_views
    if path == f"/threads/{T}":
        assert [st["output"] for st in body(response)["steps"]] == [
            "shared words", "reply to shared words"]


@pytest.mark.parametrize(("method", "path", "payload"), WRITES)
async def test_a_shared_thread_is_read_only_for_others(
        served: Served, alice: Browser, bob: Browser, method: str, path: str,
        payload: Any) -> None:
    s = await seed(served.data, "alice")
    await _share(served, alice, s)
    before = await _snapshot(served, s)
    response = await _call(bob, method, path, payload, s)
    assert response.code == 403, (method, path, response.body)
    assert body(response)["error"]["code"] == "forbidden"
    assert await _snapshot(served, s) == before


async def test_unsharing_makes_it_404_again(
        served: Served, alice: Browser, bob: Browser) -> None:
    s = await seed(served.data, "alice")
    await _share(served, alice, s)
    assert (await bob.fetch("GET", f"{API}/threads/{s.thread_id}")).code == 200
    off = await alice.fetch("PATCH", f"{API}/threads/{s.thread_id}", body={"shared": False})
    assert off.code == 200
    assert (await bob.fetch("GET", f"{API}/threads/{s.thread_id}")).code == 404


async def test_on_shared_thread_view_can_refuse(
        served: Served, alice: Browser, bob: Browser) -> None:
    s = await seed(served.data, "alice")
    await _share(served, alice, s)
    served.probe.share_policy = lambda thread, viewer: viewer.identifier != "bob"
    for method, path, payload in READS:
        response = await _call(bob, method, path, payload, s)
        assert response.code == 404, (method, path)
        assert body(response)["error"]["code"] == "not_found"
    # The owner is never asked.
    views = len(served.probe.share_views)
    assert (await alice.fetch("GET", f"{API}/threads/{s.thread_id}")).code == 200
    assert len(served.probe.share_views) == views


async def test_a_failing_on_shared_thread_view_refuses(
        served: Served, alice: Browser, bob: Browser) -> None:
    s = await seed(served.data, "alice")
    await _share(served, alice, s)

    def broken(thread: Any, viewer: Any) -> bool:
        raise RuntimeError("app bug")

    served.probe.share_policy = broken
    assert (await bob.fetch("GET", f"{API}/threads/{s.thread_id}")).code == 404


async def test_a_shared_thread_is_not_in_anothers_list(
        served: Served, alice: Browser, bob: Browser) -> None:
    s = await seed(served.data, "alice")
    await _share(served, alice, s)
    await seed(served.data, "bob")
    listed = body(await bob.fetch("GET", f"{API}/threads"))
    assert s.thread_id not in [t["id"] for t in listed["data"]]


async def test_a_share_viewer_never_sees_the_owners_chat_settings(
        served: Served, alice: Browser, bob: Browser) -> None:
    # What the recorder stores with a thread: the profile and the settings as typed.
    s = await seed(served.data, "alice", "shared words")
    await served.data.update_thread(s.thread_id, metadata={
        "chat_profile": "gpt", "chat_settings": {"api_key": "sk-alice-secret"}})
    await served.data.flush()
    await _share(served, alice, s)
    seen = await bob.fetch("GET", f"{API}/threads/{s.thread_id}")
    assert seen.code == 200
    assert b"sk-alice-secret" not in seen.body
    assert b"chat_settings" not in seen.body
    assert body(seen)["metadata"] == {}
    assert body(seen)["shared"] is True
    assert next(st["output"] for st in body(seen)["steps"]) == "shared words"
    own = body(await alice.fetch("GET", f"{API}/threads/{s.thread_id}"))
    assert own["metadata"]["chat_settings"] == {"api_key": "sk-alice-secret"}
