"""The base of every REST handler: one JSON error shape, declared auth, thread access.

Every error, whoever raises it (a handler, tornado's 405, Jupyter's XSRF check, a data
layer validation error, a bug), is written by `write_error` as

    {"error": {"code": "not_found", "message": "no thread 'x'"}, "status": 404}

tests/server/test_errors.py checks that shape on every endpoint.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from http.client import responses
from typing import Any, ClassVar

from tornado.web import HTTPError, RequestHandler

from nbchat.data import (
    BlobStorage,
    DataLayerError,
    InvalidDataError,
    Limits,
    NativeDataLayer,
    NotFoundError,
)
from nbchat.data.storage import BlobTooLargeError
from nbchat.data.validation import check_id
from nbchat.errors import ProtocolError
from nbchat.protocol import client_json
from nbchat.server.auth import Identity, declared_auth
from nbchat.server.services import Services
from nbchat.types import ThreadDict, User

log = logging.getLogger("nbchat.server")

ERROR_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    411: "length_required",
    413: "payload_too_large",
    415: "unsupported_media_type",
    500: "internal_error",
}
_ID_LIMITS = Limits()


class ApiError(HTTPError):
    """An error answered to the client as it is: status, a stable code and a message."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(status)
        self.code = code or ERROR_CODES.get(status, "error")
        self.message = message


def describe(status: int, exc: BaseException | None) -> tuple[int, str, str]:
    """(status, code, message) of an error; internal details never reach the client."""
    if isinstance(exc, ApiError):
        return exc.status_code, exc.code, exc.message
    if isinstance(exc, HTTPError):
        status = exc.status_code
        message = exc.reason or responses.get(status, "error")
        if exc.log_message:
            message = exc.log_message % exc.args if exc.args else exc.log_message
    elif isinstance(exc, BlobTooLargeError):
        status, message = 413, str(exc)
    elif isinstance(exc, InvalidDataError):
        status, message = 400, str(exc)
    elif isinstance(exc, NotFoundError):
        status, message = 404, str(exc)
    elif exc is not None or status >= 500:
        status, message = 500, "the server failed on this request; its log has the details"
    else:
        message = responses.get(status, "error")
    return status, ERROR_CODES.get(status, "error"), message


class ApiHandler(RequestHandler):
    """Base class of the nbchat REST handlers (host-neutral: plain tornado underneath, or
    Jupyter's APIHandler when mounted by the Jupyter extension)."""

    # The route template under the API root, e.g. "/threads/{thread_id}".
    path: ClassVar[str]
    services: Services
    identity: Identity
    api_root: str
    user: User | None = None
    # The store this request works on: the services' own, or `?store=<id>`'s.
    data: NativeDataLayer
    storage: BlobStorage

    def initialize(self, services: Services, api_root: str) -> None:
        self.services = services
        self.identity = services.identity
        self.api_root = api_root
        self.data, self.storage = services.data, services.storage

    def set_default_headers(self) -> None:
        super().set_default_headers()
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")

    async def prepare(self) -> None:
        result = super().prepare()
        if result is not None:
            await result
        if self._finished:
            return
        method = getattr(self, (self.request.method or "get").lower(), None)
        if declared_auth(method) == "public":
            return
        self.user = await self.identity.current_user(self)
        if self.user is None:
            raise ApiError(401, "this request carries no user; sign in first")
        self.select_store()

    def select_store(self) -> None:
        """`?store=<id>`: work on the store a kernel registered (nbchat.jupyter.kernel_stores)."""
        store_id = self.get_query_argument("store", None)
        if store_id is not None:
            store = self.services.stores.open(store_id) if self.services.stores else None
            if store is None:
                raise ApiError(404, f"no history store {store_id[:40]!r}; reload the notebook's "
                                    "chat so its kernel registers it", code="unknown_store")
            self.data, self.storage = store

    # -- errors ----------------------------------------------------------------------------

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc_info = kwargs.get("exc_info")
        exc = exc_info[1] if exc_info else None
        status, code, message = describe(status_code, exc)
        if status != status_code:
            self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps({"error": {"code": code, "message": message}, "status": status}))

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, DataLayerError) and describe(500, value)[0] < 500:
            log.info("%s %s: %s", self.request.method, self.request.path, value)
        else:
            super().log_exception(typ, value, tb)

    # -- helpers for handlers --------------------------------------------------------------

    @property
    def current(self) -> User:
        """The user of a `@requires_user` method (prepare guarantees there is one)."""
        if self.user is None:
            raise ApiError(401, "this request carries no user; sign in first")
        return self.user

    def write_json(self, value: object, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps(value, separators=(",", ":")))

    def no_content(self) -> None:
        self.set_status(204)
        self.finish()

    @staticmethod
    def path_id(value: str, what: str) -> str:
        """A path id, or 404 when it cannot be an id (so nothing malformed reaches storage)."""
        try:
            return check_id(value, what, _ID_LIMITS)
        except InvalidDataError:
            raise ApiError(404, f"no {what} {value[:60]!r}") from None

    async def readable_thread(self, thread_id: str) -> ThreadDict:
        """The thread, or 404 when it does not exist *or* this user may not read it."""
        thread_id = self.path_id(thread_id, "thread")
        thread = await self.data.get_thread(thread_id)
        if thread is None or not await self.services.identity.can_read(self.current, thread):
            raise ApiError(404, f"no thread {thread_id!r}")
        return thread

    async def writable_thread(self, thread_id: str) -> ThreadDict:
        """The thread, or 404 (not readable) / 403 (readable, e.g. shared, but not yours)."""
        thread = await self.readable_thread(thread_id)
        if not await self.services.identity.can_write(self.current, thread):
            raise ApiError(403, f"thread {thread['id']!r} is read-only for you")
        return thread

    async def writable_thread_id(self, thread_id: str) -> str:
        """writable_thread's check for callers that need no content. The user's own thread
        costs one indexed lookup (get_thread_author) instead of loading every step, when
        the identity keeps the default write rule (owners write); anyone else goes through
        writable_thread, so the answers stay the same: 404 unreadable, 403 read-only."""
        thread_id = self.path_id(thread_id, "thread")
        if (type(self.services.identity).can_write is Identity.can_write
                and await self.thread_author(thread_id) == self.current.identifier):
            return thread_id
        return (await self.writable_thread(thread_id))["id"]

    async def readable_thread_id(self, thread_id: str) -> str:
        """readable_thread's check for callers that need no content: the user's own thread
        costs one author lookup (every Identity lets owners read); anyone else goes through
        readable_thread (shared threads, 404 otherwise)."""
        thread_id = self.path_id(thread_id, "thread")
        if await self.thread_author(thread_id) == self.current.identifier:
            return thread_id
        return (await self.readable_thread(thread_id))["id"]

    async def thread_author(self, thread_id: str) -> str | None:
        """The identifier of the thread's user; None if no thread (or one without a user)."""
        try:
            return await self.data.get_thread_author(thread_id)
        except NotFoundError:
            return None

    def json_body(self, fields: Mapping[str, type | tuple[type, ...]]) -> dict[str, Any]:
        """The request's JSON object; only `fields` allowed, each of the given type(s)."""
        body = self.request.body
        if len(body) > self.services.max_json_body:
            raise ApiError(413, f"the JSON body is {len(body)} bytes; the limit is "
                                f"{self.services.max_json_body}")
        try:
            value = client_json.parse(body or b"null")
        except ProtocolError as exc:
            raise ApiError(400, f"the body is {exc}" if exc.code == "bad_json"
                           else str(exc)) from None
        if not isinstance(value, dict):
            raise ApiError(400, f"the body must be a JSON object, got {type(value).__name__}")
        unknown = sorted(set(value) - set(fields))
        if unknown:
            raise ApiError(400, f"unknown field(s) {unknown}; allowed: {sorted(fields)}")
        for key, kind in fields.items():
            if key in value and not _is(value[key], kind):
                names = kind if isinstance(kind, tuple) else (kind,)
                expected = " or ".join(_json_name(k) for k in names)
                raise ApiError(400, f"{key} must be {expected}, got "
                                    f"{_json_name(type(value[key]))}")
        return value


def _is(value: object, kind: type | tuple[type, ...]) -> bool:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        return False  # true/false is not a number here
    return isinstance(value, kinds)


def _json_name(kind: type) -> str:
    return {str: "a string", bool: "true or false", int: "an integer", dict: "an object",
            list: "an array", type(None): "null", float: "a number"}.get(kind, kind.__name__)
