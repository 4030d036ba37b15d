"""What the chat shows when an app callback raises (runtime.callbacks.run_callback calls `report`).

Who may read the traceback decides how much is shown. A served page's users are not the
app's author: they get one line, and the traceback goes to the server log only, unless
`runtime.debug`. In a notebook the viewer wrote the code (the widget host sets
`ChatSession.viewer_is_author`), and a notebook user cannot read the kernel's log, so the
traceback is shown there too: under the error message, in a collapsed "Traceback" step.
"""

from __future__ import annotations

import traceback
from typing import TYPE_CHECKING

from nbchat.message import ErrorMessage
from nbchat.step import Step

if TYPE_CHECKING:
    # dispatch (which the session imports) calls report: the session is only named here.
    from nbchat.runtime.session import ChatSession

TRACEBACK_STEP = "Traceback"


def _summary(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


async def report(session: ChatSession, hook: str, exc: BaseException) -> None:
    """Show that `hook` raised `exc`; call it in the except block (it formats that traceback)."""
    trace = traceback.format_exc()
    if session.config.runtime.debug:
        await ErrorMessage(content=_summary(exc) + "\n\n```text\n" + trace + "```").send()
    elif session.viewer_is_author:
        message = ErrorMessage(content=f"{_summary(exc)} (in {hook})")
        await message.send()
        async with Step(name=TRACEBACK_STEP, type="undefined", parent_id=message.id,
                        language="text", show_input=False) as step:
            # Not is_error: the UI opens error steps by itself, and the message above is
            # already the error; this one stays collapsed until clicked.
            step.output = trace
    else:
        await ErrorMessage(
            content=f"An error occurred in {hook}. The details are in the server log.").send()
