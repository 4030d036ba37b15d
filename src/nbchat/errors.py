"""Exceptions raised by nbchat. Each message says what went wrong and what to do.

    NbchatError
    ├── ConfigError          nbchat.yaml or an NBCHAT_* variable is wrong
    ├── ContextError         session-bound API used outside a chat session
    ├── ProtocolError        a client event is malformed (becomes an `error` event)
    ├── AppLoadError         an app file or notebook could not be loaded
    └── AskTimeoutError      an Ask*Message got no answer in time (raise_on_timeout=True)
"""

from __future__ import annotations


class NbchatError(Exception):
    """Base class of every nbchat error."""


class ConfigError(NbchatError, ValueError):
    """The configuration is invalid; the message names the key and the expected value."""


class ContextError(NbchatError, RuntimeError):
    """Session-bound API (Message.send, user_session, …) was used outside a chat session."""


class ProtocolError(NbchatError, ValueError):
    """A client event did not match the protocol; `code` is sent in the error event."""

    def __init__(self, message: str, code: str = "bad_event") -> None:
        super().__init__(message)
        self.code = code


class AppLoadError(NbchatError, RuntimeError):
    """An app (.py) or notebook (.ipynb) failed to load; the message names the cell or line."""


class AskTimeoutError(NbchatError, TimeoutError):
    """An ask got no answer within its timeout and was sent with raise_on_timeout=True."""
