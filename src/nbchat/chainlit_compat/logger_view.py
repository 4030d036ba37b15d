"""`chainlit.logger` served by nbchat: `logger` is nbchat's logger, so an app's
`logger.info(...)` shows where nbchat's own messages do (configure `logging` for "nbchat")."""

from __future__ import annotations

import logging

logger = logging.getLogger("nbchat")

__all__ = ["logger"]
