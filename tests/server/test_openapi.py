"""The served OpenAPI document is valid and lists exactly the mounted routes and methods."""

from __future__ import annotations

import json
import re

import jsonschema
from openapi_spec_validator import validate

from nbchat.server.base import ApiHandler
from nbchat.server.live_uploads import LiveUploadHandler
from nbchat.server.openapi import SCHEMAS
from nbchat.server.routes import implemented_methods, resource_handlers
from seeding import seed
from server.server_helpers import ROOT, Api, body


async def test_document_is_valid_openapi_and_public(api: Api) -> None:
    r = await api.fetch("GET", "/openapi.json", user=None)
    assert r.code == 200
    doc = body(r)
    validate(doc)
    assert doc["servers"] == [{"url": ROOT}]


async def test_document_matches_the_routes_both_ways(api: Api) -> None:
    doc = body(await api.fetch("GET", "/openapi.json"))
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    handlers: list[type[ApiHandler]] = [*resource_handlers(), LiveUploadHandler]
    mounted = {(h.path, m) for h in handlers
               for m in implemented_methods(h)}
    assert documented == mounted
    for path, ops in doc["paths"].items():
        names = set(re.findall(r"\{(\w+)\}", path))
        for op in ops.values():
            params = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert params == names, path


async def test_responses_follow_the_documented_schemas(api: Api) -> None:
    s = await seed(api.data, "alice")
    defs = json.loads(json.dumps(SCHEMAS).replace("#/components/schemas/", "#/$defs/"))

    def check(value: object, name: str) -> None:
        jsonschema.validate(value, {"$defs": defs, "$ref": f"#/$defs/{name}"})

    check(body(await api.fetch("GET", "/threads")), "ThreadPage")
    check(body(await api.fetch("GET", f"/threads/{s.thread_id}")), "Thread")
    check(body(await api.fetch("GET", f"/threads/{s.thread_id}/elements/{s.element_id}")),
          "Element")
    check(body(await api.fetch("GET", "/threads/nope")), "Error")
