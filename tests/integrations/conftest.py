"""Every integration test checks that the LangChain handler never failed silently:
LangChain logs handler errors instead of raising them, and the event loop logs errors of
callbacks queued from threads."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _handler_never_fails(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.WARNING)
    yield
    failures = [
        r.getMessage() for r in caplog.records
        if (r.name.startswith("langchain_core") and "Handler" in r.getMessage())
        or (r.name == "asyncio" and r.levelno >= logging.ERROR)
    ]
    assert not failures, failures
