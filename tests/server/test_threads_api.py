"""Threads over HTTP: list (cursor pages, search, feedback filter, only your own), get,
rename, share, delete. Listing runs on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from nbchat.types import User
from seeding import seed
from server.server_helpers import ROOT, Api, body


async def test_list_pages_through_own_threads_only(any_api: Api) -> None:
    mine = [await seed(any_api.data, "alice", f"topic{i}") for i in range(5)]
    await seed(any_api.data, "bob", "topic9")
    seen: list[str] = []
    cursor = None
    while True:
        query = "?first=2" + (f"&cursor={cursor}" if cursor else "")
        r = await any_api.fetch("GET", "/threads" + query)
        assert r.code == 200
        page = body(r)
        assert len(page["data"]) <= 2
        seen += [t["id"] for t in page["data"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        cursor = page["pageInfo"]["endCursor"]
    assert seen == [s.thread_id for s in reversed(mine)]  # most recent first, no repeats
    thread = body(await any_api.fetch("GET", "/threads?first=1"))["data"][0]
    assert thread["userIdentifier"] == "alice"
    assert thread["shared"] is False
    assert thread["steps"] == []


async def test_list_searches_and_filters_by_feedback(any_api: Api) -> None:
    invoice = await seed(any_api.data, "alice", "invoice overdue")
    await seed(any_api.data, "alice", "weather today")
    await seed(any_api.data, "bob", "invoice for bob")
    r = await any_api.fetch("GET", "/threads?search=invoice")
    assert [t["id"] for t in body(r)["data"]] == [invoice.thread_id]
    await any_api.data.upsert_feedback({"forId": invoice.reply_step, "value": 0})
    r = await any_api.fetch("GET", "/threads?feedback=0")
    assert [t["id"] for t in body(r)["data"]] == [invoice.thread_id]
    r = await any_api.fetch("GET", "/threads?feedback=1")
    assert len(body(r)["data"]) == 1


async def test_list_for_a_user_who_never_wrote_is_empty(any_api: Api) -> None:
    await seed(any_api.data, "alice")
    r = await any_api.fetch("GET", "/threads", user="carol")
    assert body(r) == {"pageInfo": {"hasNextPage": False, "startCursor": None,
                                    "endCursor": None}, "data": []}


@pytest.mark.parametrize("query", ["first=0", "first=201", "first=x", "feedback=2",
                                   "cursor=bogus", "search=" + "a" * 1001])
async def test_list_refuses_bad_parameters(api: Api, query: str) -> None:
    await seed(api.data, "alice")
    r = await api.fetch("GET", "/threads?" + query)
    assert r.code == 400
    assert body(r)["error"]["message"]


async def test_get_returns_steps_elements_and_feedback(api: Api) -> None:
    s = await seed(api.data, "alice")
    thread = body(await api.fetch("GET", f"/threads/{s.thread_id}"))
    assert [st["id"] for st in thread["steps"]] == [s.user_step, s.reply_step]
    assert thread["steps"][1]["feedback"]["value"] == 1
    (element,) = thread["elements"]
    assert "objectKey" not in element
    assert element["url"] == f"{ROOT}/threads/{s.thread_id}/files/{s.element_id}"


async def test_rename_and_share(any_api: Api) -> None:
    s = await seed(any_api.data, "alice")
    r = await any_api.fetch("PATCH", f"/threads/{s.thread_id}", body={"name": "  Taxes  "})
    assert (r.code, body(r)) == (200, {"id": s.thread_id, "name": "Taxes", "shared": False})
    r = await any_api.fetch("PATCH", f"/threads/{s.thread_id}", body={"shared": True})
    assert body(r)["shared"] is True
    stored = await any_api.data.get_thread(s.thread_id)
    assert stored is not None
    assert stored["name"] == "Taxes"
    assert stored["metadata"] == {"is_shared": True}
    r = await any_api.fetch("PATCH", f"/threads/{s.thread_id}", body={"shared": False})
    assert body(r) == {"id": s.thread_id, "name": "Taxes", "shared": False}


@pytest.mark.parametrize(("payload", "status"), [
    ({"name": "x" * 1001}, 400),
    ({"name": ""}, 400),
    ({"name": "   "}, 400),
    ({"name": "a\x00b"}, 400),
    ({"name": 5}, 400),
    ({"name": None}, 400),
    ({"shared": "yes"}, 400),
    ({"name": "ok", "metadata": {"x": 1}}, 400),
    ({}, 400),
    ([1, 2], 400),
    ({"name": "ok", "shared": 1}, 400),
    ({"name": "y" * 2_000_000}, 413),
])
async def test_rename_refuses_bad_input_and_stores_nothing(
        api: Api, payload: object, status: int) -> None:
    s = await seed(api.data, "alice", name="Original")
    r = await api.fetch("PATCH", f"/threads/{s.thread_id}", body=payload)
    assert r.code == status
    assert body(r)["error"]["message"]
    stored = await api.data.get_thread(s.thread_id)
    assert stored is not None
    assert (stored["name"], stored["metadata"]) == ("Original", {})


async def test_rename_refuses_a_body_that_is_not_json(api: Api) -> None:
    s = await seed(api.data, "alice")
    r = await api.fetch("PATCH", f"/threads/{s.thread_id}", raw=b"{name: 1")
    assert (r.code, body(r)["error"]["code"]) == (400, "bad_request")


async def test_delete_removes_thread_and_its_files(api: Api) -> None:
    s = await seed(api.data, "alice")
    assert len(api.blobs()) == 1
    r = await api.fetch("DELETE", f"/threads/{s.thread_id}")
    assert r.code == 204
    assert await api.data.get_thread(s.thread_id) is None
    assert api.blobs() == []
    r = await api.fetch("DELETE", f"/threads/{s.thread_id}")
    assert r.code == 404


async def test_shared_thread_stays_private_under_the_default_identity(api: Api) -> None:
    s = await seed(api.data, "alice")
    await api.data.set_thread_shared(s.thread_id, True)
    r = await api.fetch("GET", f"/threads/{s.thread_id}", user="bob")
    assert r.code == 404


async def test_a_host_that_shows_shared_threads_gives_read_only_access(api: Api) -> None:
    from nbchat.server.auth import shared_or_owned

    class SharingIdentity(type(api.services.identity)):  # type: ignore[misc]
        async def can_read(self, user: User, thread: object) -> bool:
            return shared_or_owned(user, thread)  # type: ignore[arg-type]

    object.__setattr__(api.services, "identity", SharingIdentity())
    s = await seed(api.data, "alice")
    assert (await api.fetch("GET", f"/threads/{s.thread_id}", user="bob")).code == 404
    await api.data.set_thread_shared(s.thread_id, True)
    assert (await api.fetch("GET", f"/threads/{s.thread_id}", user="bob")).code == 200
    r = await api.fetch("PATCH", f"/threads/{s.thread_id}", user="bob", body={"name": "mine"})
    assert (r.code, body(r)["error"]["code"]) == (403, "forbidden")
    assert (await api.fetch("DELETE", f"/threads/{s.thread_id}", user="bob")).code == 403
    assert (await api.data.get_thread(s.thread_id)) is not None
