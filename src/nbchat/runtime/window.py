"""The page that embeds the chat (an iframe): window messages both ways, and functions it
runs for the app. Chainlit's names:

    @cl.on_window_message
    async def context(data): ...               # the parent posted `data` to the chat page

    await cl.send_window_message({"ready": True})           # posted to the parent
    answer = await cl.CopilotFunction(name="getContext", args={}).acall()

The served page relays `window.postMessage` between its parent and the session, only for
origins in `server.embed_origins` (docs/serving.md, "Embedding"): a `window_message`
event each way; a `call_fn` event the parent answers with a `call_fn_result`.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nbchat.errors import NbchatError, ProtocolError
from nbchat.protocol.client_events import CallFnResult, WindowMessage
from nbchat.runtime.callbacks import run_callback
from nbchat.runtime.context import context

if TYPE_CHECKING:
    from nbchat.runtime.session import ChatSession


class CopilotFunctionError(NbchatError):
    """The embedding page answered a CopilotFunction call with an error."""


async def send_window_message(data: Any) -> None:
    """Post `data` (any JSON value) to the page embedding the chat."""
    await context.emitter.send_window_message(data)


@dataclass
class CopilotFunction:
    """A function of the embedding page: `await CopilotFunction(name, args).acall()` asks
    the page to run it and returns its answer (None when it does not answer in 300 s)."""

    name: str
    args: dict[str, Any]

    def acall(self) -> Awaitable[Any]:
        """Ask the embedding page to run the function; await the answer."""
        return context.emitter.send_call_fn(self.name, self.args)


async def window_message(session: ChatSession, event: WindowMessage, _: list[bytes]) -> None:
    """The `window_message` client event: run @cl.on_window_message with its data."""
    # As on Chainlit, no task_start/task_end: a page may post often, and the chat should
    # not look busy each time.
    session.spawn(run_callback(session, "on_window_message", event["data"], busy=False))


async def call_fn_result(session: ChatSession, event: CallFnResult, _: list[bytes]) -> None:
    """The `call_fn_result` client event: the answer a CopilotFunction call waits for."""
    future = session.calls.get(event["callId"])
    if future is None or future.done():
        raise ProtocolError(f"no pending call with id {event['callId']!r}",
                            code="unknown_call")
    if "error" in event:
        future.set_exception(CopilotFunctionError(str(event["error"])))
    else:
        future.set_result(event.get("result"))
    session.close_call(event["callId"])
