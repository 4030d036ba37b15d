"""Another user's thread, step, element, file or feedback answers 404 on every endpoint,
exactly like an id that does not exist, and changes nothing (BRIEF §4.2). SQLite and
PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from nbchat.server.routes import implemented_methods, resource_handlers
from seeding import ENDPOINTS, UPLOAD, Seeded, seed
from server.server_helpers import Api, body


def test_the_table_covers_every_route_that_takes_a_thread() -> None:
    covered = {(m.lower(), p.replace("{reply_step}", "{step_id}")) for m, p, _ in ENDPOINTS}
    routes = {(m, h.path) for h in resource_handlers() for m in implemented_methods(h)
              if "{thread_id}" in h.path}
    assert routes == covered


async def _call(api: Api, method: str, path: str, payload: Any, user: str) -> Any:
    if method == "POST":
        return await api.fetch(method, path, user=user, raw=UPLOAD,
                               headers={"Content-Type": "multipart/form-data; boundary=B"})
    return await api.fetch(method, path, user=user, body=payload)


async def _snapshot(api: Api, s: Seeded) -> Any:
    thread = await api.data.get_thread(s.thread_id)
    return thread, await api.data.export_feedback(), api.blobs()


@pytest.mark.parametrize(("method", "path", "payload"), ENDPOINTS)
async def test_another_users_ids_answer_404_and_change_nothing(
        any_api: Api, method: str, path: str, payload: Any) -> None:
    s = await seed(any_api.data, "alice")
    await seed(any_api.data, "bob")  # bob exists and has threads of his own
    before = await _snapshot(any_api, s)
    r = await _call(any_api, method, path.format(**vars(s)), payload, user="bob")
    assert r.code == 404, (method, path, r.body)
    assert body(r)["error"]["code"] == "not_found"
    assert await _snapshot(any_api, s) == before


@pytest.mark.parametrize(("method", "path", "payload"), ENDPOINTS)
async def test_unknown_and_malformed_ids_answer_the_same_404(
        api: Api, method: str, path: str, payload: Any) -> None:
    s = await seed(api.data, "alice")
    cases = [{"thread_id": "..%2F..%2Fetc%2Fpasswd", "reply_step": "%00",
              "element_id": "a%20b"}]
    if method != "POST":  # an upload to a new thread id creates it (test_files_api)
        cases.append({**vars(s), "thread_id": "no-such-thread"})
    if path.count("{") == 2:
        cases += [{**vars(s), "reply_step": "no-such-step", "element_id": "no-such-element"},
                  {**vars(s), "reply_step": "..%2Fx", "element_id": "..%5Cx"}]
    for ids in cases:
        r = await _call(api, method, path.format(**ids), payload, user="alice")
        assert r.code == 404, (method, path, ids, r.body)
        assert body(r)["error"]["code"] == "not_found"


async def test_listing_never_shows_another_users_thread(any_api: Api) -> None:
    await seed(any_api.data, "alice", "apples")
    await seed(any_api.data, "bob", "apples")
    for query in ("", "?search=apples", "?feedback=1"):
        r = await any_api.fetch("GET", "/threads" + query, user="bob")
        assert [t["userIdentifier"] for t in body(r)["data"]] == ["bob"]
