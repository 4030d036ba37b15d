"""Types of the runtime tests' fixtures (tests/runtime/conftest.py), for annotating tests.

A conftest cannot be imported by name (every test folder has one), so the types live here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nbchat.config import Config
from nbchat.testing import ChatTestClient

# `connect(...)`: a ChatTestClient of the test's app, used as `async with connect() as client`.
Connect = Callable[..., ChatTestClient]
# `of_type(client, "message")`: the events of that type the client received.
OfType = Callable[[ChatTestClient, str], list[dict[str, Any]]]
# `make_config(debug=True)`: a Config for the test.
MakeConfig = Callable[..., Config]
