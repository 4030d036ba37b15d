"""The OpenAPI 3.1 document of the REST API, served at `<api root>/openapi.json`.

OPERATIONS has one entry per (route, method) that a handler implements; a test compares
it with the routes `make_handlers` mounts, both ways, so neither can drift.
"""

from __future__ import annotations

from typing import Any

JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(s): {"$ref": f"#/components/responses/E{s}"} for s in (401, *statuses)}


def _path(*names: str) -> list[dict[str, Any]]:
    return [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
            for n in names]


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {JSON: {"schema": schema}}}


_T = ("thread_id",)
OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("/threads", "get"): {
        "summary": "List the user's threads, most recently active first",
        "parameters": [
            _query("first", {"type": "integer", "minimum": 1, "maximum": 200, "default": 20},
                   "page size"),
            _query("cursor", {"type": "string"}, "pageInfo.endCursor of the previous page"),
            _query("search", {"type": "string", "maxLength": 1000},
                   "full-text search over thread names and message text"),
            _query("feedback", {"type": "integer", "enum": [0, 1]},
                   "only threads with a thumbs down (0) or up (1)"),
        ],
        "responses": {"200": _json(_ref("ThreadPage")), **_errors(400)},
    },
    ("/threads/{thread_id}", "get"): {
        "summary": "A thread with its steps (oldest first, with feedback) and elements",
        "parameters": _path(*_T),
        "responses": {"200": _json(_ref("Thread")), **_errors(404)},
    },
    ("/threads/{thread_id}", "patch"): {
        "summary": "Rename the thread and/or turn its read-only share link on or off",
        "parameters": _path(*_T),
        "requestBody": _body({"type": "object", "additionalProperties": False, "minProperties": 1,
                              "properties": {"name": {"type": "string", "minLength": 1,
                                                      "maxLength": 1000},
                                             "shared": {"type": "boolean"}}}),
        "responses": {"200": _json(_ref("ThreadPatched")), **_errors(400, 403, 404, 413)},
    },
    ("/threads/{thread_id}", "delete"): {
        "summary": "Delete the thread with its steps, elements, files and feedback",
        "parameters": _path(*_T),
        "responses": {"204": {"description": "deleted"}, **_errors(403, 404)},
    },
    ("/threads/{thread_id}/steps/{step_id}/feedback", "put"): {
        "summary": "Rate a step of the thread (one feedback per step; replaces the last)",
        "parameters": _path("thread_id", "step_id"),
        "requestBody": _body({"type": "object", "additionalProperties": False,
                              "required": ["value"],
                              "properties": {"value": {"type": "integer", "enum": [0, 1]},
                                             "comment": {"type": ["string", "null"],
                                                         "maxLength": 10000}}}),
        "responses": {"200": _json(_ref("Feedback")), **_errors(400, 403, 404, 413)},
    },
    ("/threads/{thread_id}/steps/{step_id}/feedback", "delete"): {
        "summary": "Remove the feedback of a step",
        "parameters": _path("thread_id", "step_id"),
        "responses": {"204": {"description": "deleted"}, **_errors(403, 404)},
    },
    ("/threads/{thread_id}/files", "post"): {
        "summary": "Upload files into an existing thread of yours; each becomes an element",
        "description": "multipart/form-data, file parts only. Count, type and size limits "
                       "are enforced while the body streams in; a refused upload stores "
                       "nothing.",
        "parameters": _path(*_T),
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "properties": {"file": {"type": "array", "items": {
                "type": "string", "format": "binary"}}}}}}},
        "responses": {"201": _json({"type": "object", "required": ["files"], "properties": {
            "files": {"type": "array", "items": _ref("UploadedFile")}}}, "stored"),
            **_errors(400, 403, 404, 413, 415)},
    },
    ("/threads/{thread_id}/files/{element_id}", "get"): {
        "summary": "Download the bytes of an element (attachment, nosniff)",
        "parameters": _path("thread_id", "element_id"),
        "responses": {"200": {"description": "the file", "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
            **_errors(404)},
    },
    ("/threads/{thread_id}/export", "get"): {
        "summary": "The thread as a file: one self-contained HTML page or a notebook",
        "parameters": [*_path(*_T), {"name": "format", "in": "query", "required": False,
                                     "schema": {"type": "string", "enum": ["html", "ipynb"],
                                                "default": "html"}}],
        "responses": {"200": {"description": "the file (an attachment)", "content": {
            "text/html": {"schema": {"type": "string"}},
            "application/x-ipynb+json": {"schema": {"type": "object"}}}},
            **_errors(400, 404)},
    },
    ("/threads/{thread_id}/elements/{element_id}", "get"): {
        "summary": "One element of the thread",
        "parameters": _path("thread_id", "element_id"),
        "responses": {"200": _json(_ref("Element")), **_errors(404)},
    },
    ("/uploads/{ticket}", "put"): {
        "summary": "The bytes of one upload of a live chat (the ticket of its upload_ticket "
                   "event)",
        "description": "The body is the whole file (its name and type were declared in "
                       "upload_start). A ticket works once, for the chat's own user; its "
                       "byte limit is enforced while the body streams in; a refused or "
                       "cut-off body stores nothing. See docs/protocol.md, HTTP uploads.",
        "parameters": _path("ticket"),
        "requestBody": {"required": True, "content": {"application/octet-stream": {
            "schema": {"type": "string", "format": "binary"}}}},
        "responses": {"200": _json({"type": "object", "required": ["size"], "properties": {
            "size": {"type": "integer"}}}, "received"), **_errors(401, 403, 404, 413)},
    },
    ("/openapi.json", "get"): {
        "summary": "This document",
        "security": [],
        "responses": {"200": _json({"type": "object"})},
    },
}

_NULLABLE_STR = {"type": ["string", "null"]}
SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error", "status"], "properties": {
        "error": {"type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "string"}, "message": {"type": "string"}}},
        "status": {"type": "integer"}}},
    "PageInfo": {"type": "object", "properties": {
        "hasNextPage": {"type": "boolean"}, "startCursor": _NULLABLE_STR,
        "endCursor": _NULLABLE_STR}},
    "Feedback": {"type": "object", "properties": {
        "id": {"type": "string"}, "forId": {"type": "string"}, "threadId": _NULLABLE_STR,
        "value": {"type": "integer", "enum": [0, 1]}, "comment": _NULLABLE_STR}},
    "Step": {"type": "object", "description": "nbchat.types.StepDict", "properties": {
        "id": {"type": "string"}, "threadId": {"type": "string"}, "parentId": _NULLABLE_STR,
        "name": {"type": "string"}, "type": {"type": "string"}, "input": {"type": "string"},
        "output": {"type": "string"}, "createdAt": {"type": "string"},
        "feedback": {"oneOf": [_ref("Feedback"), {"type": "null"}]}}},
    "Element": {"type": "object", "description": "nbchat.types.ElementDict without its "
                "storage key; url is the download route when the server holds the bytes",
                "properties": {
                    "id": {"type": "string"}, "threadId": _NULLABLE_STR,
                    "type": {"type": "string"}, "name": {"type": "string"},
                    "mime": _NULLABLE_STR, "size": _NULLABLE_STR, "url": _NULLABLE_STR,
                    "forId": _NULLABLE_STR, "display": {"type": "string"}}},
    "Thread": {"type": "object", "properties": {
        "id": {"type": "string"}, "createdAt": {"type": "string"}, "name": _NULLABLE_STR,
        "userIdentifier": _NULLABLE_STR, "shared": {"type": "boolean"},
        "tags": {"type": ["array", "null"], "items": {"type": "string"}},
        "metadata": {"type": ["object", "null"]},
        "steps": {"type": "array", "items": _ref("Step")},
        "elements": {"type": ["array", "null"], "items": _ref("Element")}}},
    "ThreadPage": {"type": "object", "required": ["pageInfo", "data"], "properties": {
        "pageInfo": _ref("PageInfo"), "data": {"type": "array", "items": _ref("Thread")}}},
    "ThreadPatched": {"type": "object", "properties": {
        "id": {"type": "string"}, "name": _NULLABLE_STR, "shared": {"type": "boolean"}}},
    "UploadedFile": {"type": "object", "properties": {
        "id": {"type": "string", "description": "the element id"},
        "name": {"type": "string"}, "mime": {"type": "string"}, "size": {"type": "integer"},
        "type": {"type": "string"}, "url": {"type": "string"}}},
}

_REASONS = {400: "bad input (the message names the field and the limit)",
            401: "no user", 403: "read-only for this user, or refused by the host's "
            "XSRF/origin check", 404: "no such thread, step, element or file for this user",
            413: "over a size limit", 415: "a content type that is not accepted"}


# Jupyter extension only: the store a kernel registered (nbchat.jupyter.kernel_stores).
STORE_PARAM = _query("store", {"type": "string", "pattern": "^[0-9a-f]{32}$"},
                     "In Jupyter: the chat store a notebook's kernel registered (the "
                     "widget's history_store); 404 unknown_store if none did")


def document(api_root: str, version: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for (path, method), operation in OPERATIONS.items():
        if operation.get("security") != [] and path != "/uploads/{ticket}":
            operation = {**operation,
                         "parameters": [*operation.get("parameters", []), STORE_PARAM]}
        paths.setdefault(path, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "nbchat history API", "version": version,
                 "description": "Threads, feedback, files and elements of the current "
                                "user. Every error is an Error object. See docs/rest-api.md."},
        "servers": [{"url": api_root}],
        "paths": paths,
        "components": {"schemas": SCHEMAS, "responses": {
            f"E{s}": _json(_ref("Error"), text) for s, text in _REASONS.items()}},
    }
