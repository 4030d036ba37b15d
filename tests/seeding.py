"""Stored chats for HTTP-level tests: a thread of a user with a message, a rated reply and
a stored file, written straight through the data layer (tests/server, tests/serve_auth);
and the table of every HTTP route that touches a thread, which the ownership and sharing
tests walk (tests/server/test_ownership.py checks that it covers every route)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nbchat.data import NativeDataLayer
from nbchat.ids import new_id, utc_now
from nbchat.types import StepDict, User


@dataclass
class Seeded:
    thread_id: str
    user_step: str
    reply_step: str
    element_id: str
    feedback_id: str


def step(thread_id: str, kind: str, text: str) -> StepDict:
    return {"id": new_id(), "threadId": thread_id, "name": kind,  # type: ignore[typeddict-item]
            "type": kind, "createdAt": utc_now(), "output": text}


async def seed(data: NativeDataLayer, identifier: str, words: str = "hello world",
               name: str | None = None) -> Seeded:
    """A thread of `identifier`: a user message, a reply with thumbs up, a file element
    whose bytes are `secret notes of <identifier>`."""
    user = await data.get_user(identifier) or await data.create_user(User(identifier))
    thread_id = new_id()
    await data.update_thread(thread_id, name=name or f"about {words}", user_id=user.id)
    asked = step(thread_id, "user_message", words)
    reply = step(thread_id, "assistant_message", f"reply to {words}")
    await data.create_step(asked)
    await data.create_step(reply)
    element = await data.create_element(
        {"id": new_id(), "threadId": thread_id, "type": "file", "name": "notes.txt",  # type: ignore[typeddict-item]
         "display": "inline", "forId": reply["id"], "mime": "text/plain"},
        content=b"secret notes of " + identifier.encode())
    feedback_id = await data.upsert_feedback({"forId": reply["id"], "value": 1})
    await data.flush()
    return Seeded(thread_id, asked["id"], reply["id"], element["id"], feedback_id)


T = "{thread_id}"
# (method, path, JSON body): every route and method that touches a thread. Path fields
# are filled from a Seeded.
ENDPOINTS: list[tuple[str, str, Any]] = [
    ("GET", f"/threads/{T}", None),
    ("PATCH", f"/threads/{T}", {"name": "stolen"}),
    ("PATCH", f"/threads/{T}", {"shared": True}),
    ("DELETE", f"/threads/{T}", None),
    ("PUT", f"/threads/{T}/steps/{{reply_step}}/feedback", {"value": 0}),
    ("DELETE", f"/threads/{T}/steps/{{reply_step}}/feedback", None),
    ("POST", f"/threads/{T}/files", None),
    ("GET", f"/threads/{T}/files/{{element_id}}", None),
    ("GET", f"/threads/{T}/elements/{{element_id}}", None),
]
# The body of a one-file multipart upload (boundary B) for the POST route.
UPLOAD = (b"--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.txt\"\r\n"
          b"Content-Type: text/plain\r\n\r\nmine now\r\n--B--\r\n")
