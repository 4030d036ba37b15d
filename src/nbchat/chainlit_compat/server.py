"""`chainlit.server`: `app`, the FastAPI app an app adds its own HTTP routes to.

    from chainlit.server import app

    @app.get("/hello")
    async def hello(user = Depends(get_current_user)): ...

Each loaded app gets its own FastAPI app (`App.asgi`, made on first use, so two apps in
one process keep their routes apart), which `nbchat serve` serves after its own routes
(nbchat.server.asgi_routes). FastAPI is the optional `nbchat[asgi]` extra; without it the
import says so. FastAPI's own /docs and /openapi.json are off: nbchat serves its API's
document at nbchat/api/openapi.json.
"""

from __future__ import annotations

from typing import Any

from nbchat.app import App, current_app
from nbchat.chainlit_compat.modules import ChainlitModuleError, not_offered_name

INSTALL = "pip install 'nbchat[asgi]' (FastAPI)"


def fastapi_app(app: App) -> Any:
    """The FastAPI app of `app`, made the first time it is asked for."""
    if app.asgi is None:
        try:
            from fastapi import FastAPI
        except ImportError:
            raise ChainlitModuleError(
                f"'app' from chainlit.server is a FastAPI app, and FastAPI is not installed: "
                f"{INSTALL}", name="chainlit.server") from None
        app.asgi = FastAPI(title=app.name, docs_url=None, redoc_url=None, openapi_url=None)
    return app.asgi


OFFERED = "`app` (the FastAPI app for the app's own routes)"


def __getattr__(name: str) -> Any:
    if name == "app":
        return fastapi_app(current_app())
    if name.startswith("__"):
        raise AttributeError(name)
    raise not_offered_name("chainlit.server", name, OFFERED)
