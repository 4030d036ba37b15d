"""Feedback and element fetch over HTTP."""

from __future__ import annotations

import pytest

from seeding import seed
from server.server_helpers import ROOT, Api, body


async def test_feedback_upsert_replaces_and_delete_removes(api: Api) -> None:
    s = await seed(api.data, "alice")
    path = f"/threads/{s.thread_id}/steps/{s.user_step}/feedback"
    r = await api.fetch("PUT", path, body={"value": 0, "comment": "wrong"})
    assert r.code == 200
    first = body(r)
    assert (first["value"], first["comment"], first["forId"]) == (0, "wrong", s.user_step)
    r = await api.fetch("PUT", path, body={"value": 1})
    assert body(r)["id"] == first["id"]  # one feedback per step
    rows = await api.data.export_feedback()
    assert sorted((f["forId"], f["value"]) for f in rows) == sorted(
        [(s.user_step, 1), (s.reply_step, 1)])
    assert (await api.fetch("DELETE", path)).code == 204
    assert (await api.fetch("DELETE", path)).code == 404
    assert [f["forId"] for f in await api.data.export_feedback()] == [s.reply_step]


@pytest.mark.parametrize("payload", [
    {"value": 2}, {"value": True}, {"value": "1"}, {}, {"value": 1, "comment": 5},
    {"value": 1, "comment": "c" * 10_001}, {"value": 1, "forId": "other"}, None])
async def test_feedback_refuses_bad_input_and_keeps_the_old(api: Api, payload: object) -> None:
    s = await seed(api.data, "alice")
    path = f"/threads/{s.thread_id}/steps/{s.reply_step}/feedback"
    r = await api.fetch("PUT", path, body=payload, raw=b"null" if payload is None else None)
    assert r.code == 400
    assert body(r)["error"]["message"]
    assert [(f["forId"], f["value"]) for f in await api.data.export_feedback()] == [
        (s.reply_step, 1)]


async def test_feedback_for_a_step_of_another_thread_is_404(api: Api) -> None:
    mine, other = await seed(api.data, "alice"), await seed(api.data, "alice", "second")
    r = await api.fetch("PUT", f"/threads/{mine.thread_id}/steps/{other.reply_step}/feedback",
                        body={"value": 0})
    assert r.code == 404
    r = await api.fetch("DELETE", f"/threads/{mine.thread_id}/steps/{other.reply_step}/feedback")
    assert r.code == 404
    assert {f["value"] for f in await api.data.export_feedback()} == {1}


async def test_element_fetch_hides_the_storage_key(api: Api) -> None:
    s = await seed(api.data, "alice")
    r = await api.fetch("GET", f"/threads/{s.thread_id}/elements/{s.element_id}")
    element = body(r)
    assert (element["id"], element["name"], element["forId"]) == (
        s.element_id, "notes.txt", s.reply_step)
    assert "objectKey" not in element
    assert element["url"] == f"{ROOT}/threads/{s.thread_id}/files/{s.element_id}"


async def test_an_element_is_only_found_in_its_own_thread(api: Api) -> None:
    s, other = await seed(api.data, "alice"), await seed(api.data, "alice", "other")
    r = await api.fetch("GET", f"/threads/{other.thread_id}/elements/{s.element_id}")
    assert r.code == 404
    r = await api.fetch("GET", f"/threads/{other.thread_id}/files/{s.element_id}")
    assert r.code == 404


async def test_a_client_supplied_url_is_passed_on_never_fetched(api: Api) -> None:
    s = await seed(api.data, "alice")
    await api.data.create_element({
        "id": "el-link", "threadId": s.thread_id, "type": "image", "name": "x",
        "display": "inline", "forId": None, "mime": "image/png", "size": None,
        "language": None, "url": "http://169.254.169.254/latest/meta-data", "objectKey": None})
    r = await api.fetch("GET", f"/threads/{s.thread_id}/elements/el-link")
    assert body(r)["url"] == "http://169.254.169.254/latest/meta-data"
    r = await api.fetch("GET", f"/threads/{s.thread_id}/files/el-link")
    assert r.code == 404
