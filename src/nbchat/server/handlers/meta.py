"""The API's own description (OpenAPI) and the JSON 404 for unknown API paths."""

from __future__ import annotations

from typing import ClassVar

from nbchat.server.auth import public
from nbchat.server.base import ApiError, ApiHandler
from nbchat.server.openapi import document


class OpenApiHandler(ApiHandler):
    path: ClassVar[str] = "/openapi.json"

    @public
    async def get(self) -> None:
        from nbchat import __version__

        self.write_json(document(self.api_root, __version__))


class UnknownRouteHandler(ApiHandler):
    """Any other path under the API root: 404 in the one error shape."""

    path: ClassVar[str] = "/{rest}"

    def _missing(self) -> None:
        raise ApiError(404, f"no API route {self.request.path!r}; see "
                            f"{self.api_root}/openapi.json")

    @public
    def get(self, *args: str) -> None:
        self._missing()

    post = put = patch = delete = head = get


default_handlers: list[type[ApiHandler]] = [OpenApiHandler]
