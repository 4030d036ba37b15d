"""Who is asking, and what they may see: auth declarations and the Identity strategy.

Every HTTP method of every handler declares its auth with one of two decorators:

    @requires_user     # the request must carry a user (Identity.current_user)
    @public            # anyone the host lets through (the OpenAPI document)

`make_handlers` refuses a handler with an undeclared method, and `ApiHandler.prepare`
enforces the declaration before any body is read. Ownership is decided by the Identity:
another user's thread (and its steps, elements, files and feedback) is answered with 404,
exactly as an id that does not exist (BRIEF §4.2).
"""

from __future__ import annotations

import ipaddress
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Literal, TypeVar

from tornado.web import RequestHandler

from nbchat.data import is_shared
from nbchat.types import ThreadDict, User

AuthKind = Literal["user", "public"]
AUTH_ATTR = "__nbchat_auth__"
F = TypeVar("F", bound=Callable[..., object])


def _declare(kind: AuthKind) -> Callable[[F], F]:
    def mark(method: F) -> F:
        setattr(method, AUTH_ATTR, kind)
        return method

    return mark


requires_user = _declare("user")
"""The method needs a signed-in user; without one the answer is 401."""

public = _declare("public")
"""The method needs no user (the host's own checks, such as Jupyter's token, still apply)."""


def declared_auth(method: object) -> AuthKind | None:
    kind = getattr(method, AUTH_ATTR, None)
    return kind if kind in ("user", "public") else None


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or an address) is this machine only: where serving without
    login is safe, and where an OAuth endpoint may be plain http."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Identity(ABC):
    """The host's answer to "who is this request from" and "may they touch this thread".

    Implementations: `SingleUserIdentity` (everyone is one user), `JupyterIdentity`
    (nbchat.server.extension: Jupyter authenticates, the notebook owner is "local");
    served mode adds signed-cookie auth. The defaults of `can_read`/`can_write` are
    owner-only; a host that shows shared threads read-only overrides `can_read`.
    """

    @abstractmethod
    async def current_user(self, handler: RequestHandler) -> User | None:
        """The user of this request, or None when it carries none (→ 401)."""

    async def can_read(self, user: User, thread: ThreadDict) -> bool:
        """May `user` read the thread, its steps, elements, files and feedback?"""
        return owns(user, thread)

    async def can_write(self, user: User, thread: ThreadDict) -> bool:
        """May `user` rename, delete, share the thread, upload to it, rate its steps?"""
        return owns(user, thread)

    def mount(self, handler: type[RequestHandler]) -> type[RequestHandler]:
        """The class the host actually registers for `handler` (a host may mix in its own
        base class, as the Jupyter extension does with Jupyter's APIHandler)."""
        return handler


def owns(user: User, thread: ThreadDict) -> bool:
    return thread.get("userIdentifier") is not None and thread["userIdentifier"] == user.identifier


def shared_or_owned(user: User, thread: ThreadDict) -> bool:
    """A `can_read` for hosts with read-only share links."""
    return owns(user, thread) or is_shared(thread)


class SingleUserIdentity(Identity):
    """Every request comes from one user (a local, single-user host without login)."""

    def __init__(self, identifier: str = "local", display_name: str | None = None) -> None:
        self.user = User(identifier=identifier, display_name=display_name)

    async def current_user(self, handler: RequestHandler) -> User | None:
        return self.user
