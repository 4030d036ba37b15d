"""An app with OAuth login only, for the served-page e2e test against a real OIDC provider:
it lets in users whose provider verified their e-mail, with the provider's display name."""

from typing import Any

import nbchat as cl


@cl.oauth_callback
def decide(provider_id: str, token: str, raw: dict[str, Any],
           default: cl.User) -> cl.User | None:
    if raw.get("email_verified") is not True:
        return None
    return default


@cl.on_message
async def echo(message: cl.Message) -> None:
    await cl.Message(content=f"Echo: {message.content}").send()
