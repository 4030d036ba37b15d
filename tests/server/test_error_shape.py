"""One error shape for every error on every endpoint, and no handler without declared auth."""

from __future__ import annotations

from typing import ClassVar

import pytest

from nbchat.server import RouteError, public, requires_user
from nbchat.server import routes as routes_module
from nbchat.server.base import ApiHandler
from nbchat.server.routes import check_auth_declared, implemented_methods, resource_handlers
from seeding import seed
from server.server_helpers import Api, assert_error_shape


def every_route() -> list[tuple[str, str]]:
    out = []
    for handler in resource_handlers():
        path = handler.path.format(thread_id="t1", step_id="s1", element_id="e1")
        out += [(m.upper(), path) for m in implemented_methods(handler)]
    return out


@pytest.mark.parametrize(("method", "path"), [r for r in every_route() if r[1] != "/openapi.json"])
async def test_every_endpoint_answers_401_without_a_user(api: Api, method: str, path: str) -> None:
    r = await api.fetch(method, path, user=None, body={} if method in ("PUT", "PATCH") else None)
    assert r.code == 401
    assert_error_shape(r)


async def test_every_kind_of_error_has_the_one_shape(api: Api, monkeypatch: pytest.MonkeyPatch
                                                     ) -> None:
    s = await seed(api.data, "alice")
    t = s.thread_id
    responses = [
        await api.fetch("GET", "/threads?first=0"),                              # 400
        await api.fetch("PATCH", f"/threads/{t}", raw=b"{"),                      # 400
        await api.fetch("PATCH", f"/threads/{t}", body={"name": 1}),              # 400
        await api.fetch("GET", "/threads?cursor=not-a-cursor"),                   # 400 (data layer)
        await api.fetch("GET", f"/threads/{t}", user=None),                       # 401
        await api.fetch("GET", "/threads/nope"),                                  # 404
        await api.fetch("GET", "/no/such/route"),                                 # 404 (no route)
        await api.fetch("GET", ""),                                               # 404 (the root)
        await api.fetch("POST", "/threads"),                                      # 405
        await api.fetch("PUT", f"/threads/{t}", body={}),                         # 405
        await api.fetch("PATCH", f"/threads/{t}", raw=b" " * (2 << 20)),          # 413
        await api.fetch("POST", f"/threads/{t}/files", raw=b"x",
                        headers={"Content-Type": "text/plain"}),                  # 415
    ]
    assert [r.code for r in responses] == [400, 400, 400, 400, 401, 404, 404, 404, 405, 405,
                                           413, 415]
    for r in responses:
        assert_error_shape(r)

    async def broken(thread_id: str) -> None:
        raise RuntimeError("connection to db://admin:hunter2@db failed")

    monkeypatch.setattr(api.data, "get_thread", broken)
    r = await api.fetch("GET", f"/threads/{t}")
    payload = assert_error_shape(r)
    assert r.code == 500
    assert "hunter2" not in r.body.decode()
    assert payload["error"]["message"] == (
        "the server failed on this request; its log has the details")


def test_registration_refuses_a_handler_without_declared_auth(
        monkeypatch: pytest.MonkeyPatch) -> None:
    class Careless(ApiHandler):
        path: ClassVar[str] = "/careless"

        @requires_user
        async def get(self) -> None: ...

        async def delete(self) -> None: ...

    with pytest.raises(RouteError, match=r"Careless\.delete declares no auth"):
        check_auth_declared(Careless)
    monkeypatch.setattr(routes_module, "resource_handlers", lambda: [Careless])
    with pytest.raises(RouteError):
        routes_module.make_handlers("/", None)  # type: ignore[arg-type]


def test_every_mounted_method_declares_auth() -> None:
    for handler in resource_handlers():
        check_auth_declared(handler)
        assert implemented_methods(handler), handler


async def test_an_undeclared_method_still_requires_a_user(api: Api) -> None:
    """Defence in depth: prepare treats a method without a declaration as @requires_user."""

    class Sneaky(ApiHandler):
        path: ClassVar[str] = "/sneaky"

        async def get(self) -> None:
            self.write_json({"leaked": True})

        @public
        async def post(self) -> None:
            self.write_json({"public": True})

    from tornado.httpserver import HTTPServer
    from tornado.testing import bind_unused_port
    from tornado.web import Application

    sock, port = bind_unused_port()
    server = HTTPServer(Application([(r"/sneaky", Sneaky, {"services": api.services,
                                                            "api_root": ""})]))
    server.add_sockets([sock])
    try:
        r = await api.client.fetch(f"http://127.0.0.1:{port}/sneaky", raise_error=False)
        assert r.code == 401
        assert_error_shape(r)
        r = await api.client.fetch(f"http://127.0.0.1:{port}/sneaky", method="POST", body=b"")
        assert r.code == 200
    finally:
        server.stop()
        await server.close_all_connections()
