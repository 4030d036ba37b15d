"""Every compat test starts without the chainlit alias and leaves none behind."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from nbchat.chainlit_compat import alias

APP = Path(__file__).with_name("chainlit_app.py")


@pytest.fixture(autouse=True)
def no_alias() -> Iterator[None]:
    alias.uninstall()
    yield
    alias.uninstall()
