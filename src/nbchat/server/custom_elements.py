"""The code of the app's custom elements: `GET {root}public/elements/{Name}.js` answers
`<app>/public/elements/<Name>.js` (nbchat.element.custom_element_source: a plain name, a
regular file directly in that folder; else 400 or 404 with a JSON error saying why).

The page runs that code in a sandboxed frame with an opaque origin (docs/api.md, "Custom
elements"): its `import()` of the module is a cross-origin request, sent without cookies,
so the answer allows any origin. The route is public, as Chainlit's `/public` is: an
element's code is part of the app, not user data.
"""

from __future__ import annotations

from pathlib import Path

from tornado.web import RequestHandler

from nbchat.element import custom_element_source
from nbchat.server.auth import public
from nbchat.server.pages import finish_json_error, security_headers


class CustomElementHandler(RequestHandler):
    def initialize(self, app_dir: Path) -> None:
        self.app_dir = app_dir

    def set_default_headers(self) -> None:
        security_headers(self)
        self.set_header("Access-Control-Allow-Origin", "*")
        self.set_header("Cache-Control", "no-cache")

    def write_error(self, status_code: int, **kwargs: object) -> None:
        finish_json_error(self, status_code,
                          "bad_element_name" if status_code == 400 else "not_found",
                          str(kwargs.get("message") or self._reason))

    @public
    def get(self, name: str) -> None:
        try:
            path = custom_element_source(self.app_dir, name)
        except ValueError as exc:
            self.send_error(400, message=str(exc))
            return
        except FileNotFoundError as exc:
            self.send_error(404, message=str(exc))
            return
        self.set_header("Content-Type", "text/javascript; charset=UTF-8")
        self.finish(path.read_bytes())


def custom_element_spec(root_regex: str, app_dir: Path) -> tuple[str, type, dict[str, object]]:
    """The route for `make_app`."""
    return (rf"{root_regex}public/elements/([^/]+)\.js", CustomElementHandler,
            {"app_dir": app_dir})
