"""A FastAPI app of its own with the chat mounted in it, as Chainlit's `mount_chainlit`
documents (written for this project); run with `uvicorn mounted_app:app`. The chat is
routes_app.py's sibling chainlit_app.py-style `mounted_chat.py` next to this file."""

from pathlib import Path

import nbchat

nbchat.alias_chainlit()  # outside nbchat's own loader: the one line that maps chainlit

from chainlit.utils import mount_chainlit  # noqa: E402
from fastapi import FastAPI  # noqa: E402

app = FastAPI()


@app.get("/app")
def read_main() -> dict[str, str]:
    return {"message": "the app's own route"}


mount_chainlit(app=app, target=str(Path(__file__).with_name("mounted_chat.py")), path="/chat")
