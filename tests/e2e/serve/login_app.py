"""An app with password login for the served-page e2e tests (users ada and bob), and
spontaneous uploads (nbchat.yaml is written beside it by the test)."""

import nbchat as cl

PASSWORDS = {"ada": "ada-pw", "bob": "bob-pw"}


@cl.password_auth_callback
def check(username: str, password: str) -> cl.User | None:
    if PASSWORDS.get(username) != password:
        return None
    return cl.User(identifier=username, display_name=username.title())


@cl.on_message
async def echo(message: cl.Message) -> None:
    names = ", ".join(element.name for element in message.elements)
    attached = f" with {names}" if names else ""
    await cl.Message(content=f"Echo: {message.content}{attached}").send()
