"""Chainlit's module path for users (`chainlit.user`), so `from nbchat.user import User`
in a custom data layer works as written; the classes live in nbchat.types."""

from nbchat.types import PersistedUser, User

__all__ = ["PersistedUser", "User"]
