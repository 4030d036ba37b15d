"""Constructors of the server events the runtime emits.

Every server → client event is built here, so mypy checks each against its TypedDict in
`server_events` (the emit entry points take `ServerEvent`). `seq` is 0 until the session's
emitter numbers the event at flush."""

from __future__ import annotations

from typing import Any, Literal

from nbchat.protocol.server_events import (
    ActionDelete,
    ActionDict,
    ActionEvent,
    AskCancel,
    AskEvent,
    AskSpec,
    CallActionResult,
    CallFn,
    CommandsEvent,
    ElementDelete,
    ElementEvent,
    ErrorEvent,
    FeedbackEvent,
    Forked,
    McpStatus,
    ModesEvent,
    Notice,
    SettingsEvent,
    SidebarEvent,
    StepDelete,
    StepEvent,
    TaskEnd,
    TaskStart,
    ThreadEvent,
    TokenEvent,
    TokenUsage,
    UploadDone,
    UploadTicket,
    WindowMessageEvent,
)
from nbchat.types import ElementDict, FeedbackDict, StepDict

AskKind = Literal["text", "action", "file", "element"]
NoticeLevel = Literal["info", "success", "warning", "error"]


def error(code: str, message: str) -> ErrorEvent:
    return {"type": "error", "seq": 0, "code": code, "message": message}


def forked(thread_id: str, from_thread_id: str, step_id: str) -> Forked:
    return {"type": "forked", "seq": 0, "threadId": thread_id, "fromThreadId": from_thread_id,
            "stepId": step_id}


def notice(level: NoticeLevel, message: str) -> Notice:
    return {"type": "notice", "seq": 0, "level": level, "message": message}


def step(step: StepDict, client_id: str | None = None) -> StepEvent:
    if client_id is None:
        return {"type": "step", "seq": 0, "step": step}
    return {"type": "step", "seq": 0, "step": step, "clientId": client_id}


def step_delete(step_id: str) -> StepDelete:
    return {"type": "step_delete", "seq": 0, "id": step_id}


def token(step_id: str, delta: str, replace: bool = False) -> TokenEvent:
    if replace:
        return {"type": "token", "seq": 0, "id": step_id, "delta": delta, "replace": True}
    return {"type": "token", "seq": 0, "id": step_id, "delta": delta}


def element(element: ElementDict) -> ElementEvent:
    return {"type": "element", "seq": 0, "element": element}


def element_delete(element_id: str) -> ElementDelete:
    return {"type": "element_delete", "seq": 0, "id": element_id}


def sidebar(*, title: str | None = None, elements: list[ElementDict] | None = None,
            key: str | None = None) -> SidebarEvent:
    """A title, elements (with their key), or both: what is None is left as it is."""
    event: SidebarEvent = {"type": "sidebar", "seq": 0}
    if title is not None:
        event["title"] = title
    if elements is not None:
        event["elements"] = elements
        event["key"] = key
    return event


def call_action_result(call_id: str, *, response: Any = None,
                       error: str | None = None) -> CallActionResult:
    if error is not None:
        return {"type": "call_action_result", "seq": 0, "callId": call_id, "success": False,
                "error": error}
    return {"type": "call_action_result", "seq": 0, "callId": call_id, "success": True,
            "response": response}


def action(action: ActionDict) -> ActionEvent:
    return {"type": "action", "seq": 0, "action": action}


def action_delete(action_id: str) -> ActionDelete:
    return {"type": "action_delete", "seq": 0, "id": action_id}


def ask_cancel(ask_id: str) -> AskCancel:
    return {"type": "ask_cancel", "seq": 0, "askId": ask_id}


def task_start() -> TaskStart:
    return {"type": "task_start", "seq": 0}


def task_end() -> TaskEnd:
    return {"type": "task_end", "seq": 0}


def settings(inputs: list[dict[str, Any]]) -> SettingsEvent:
    return {"type": "settings", "seq": 0, "inputs": inputs}


def commands(commands: list[dict[str, Any]]) -> CommandsEvent:
    return {"type": "commands", "seq": 0, "commands": commands}


def modes(modes: list[dict[str, Any]]) -> ModesEvent:
    return {"type": "modes", "seq": 0, "modes": modes}


def feedback(step_id: str, feedback: FeedbackDict | None) -> FeedbackEvent:
    return {"type": "feedback", "seq": 0, "stepId": step_id, "feedback": feedback}


def thread(thread_id: str, name: str | None) -> ThreadEvent:
    return {"type": "thread", "seq": 0, "id": thread_id, "name": name}


def upload_ticket(upload_id: str, ticket: str) -> UploadTicket:
    return {"type": "upload_ticket", "seq": 0, "uploadId": upload_id, "ticket": ticket}


def upload_done(upload_id: str, file_id: str) -> UploadDone:
    return {"type": "upload_done", "seq": 0, "uploadId": upload_id, "fileId": file_id}


def ask(ask_id: str, kind: AskKind, step_id: str, timeout: float, spec: AskSpec) -> AskEvent:
    return {"type": "ask", "seq": 0, "askId": ask_id, "kind": kind, "stepId": step_id,
            "timeout": timeout, "spec": spec}


McpState = Literal["connected", "failed", "disconnected"]


def mcp_status(name: str, client_type: str, status: McpState, tools: list[str],
               error: str | None = None) -> McpStatus:
    event: McpStatus = {"type": "mcp_status", "seq": 0, "name": name,
                        "clientType": client_type, "status": status, "tools": tools}
    if error is not None:
        event["error"] = error
    return event
def window_message(data: Any) -> WindowMessageEvent:
    return {"type": "window_message", "seq": 0, "data": data}


def call_fn(call_id: str, name: str, args: dict[str, Any], timeout: float) -> CallFn:
    return {"type": "call_fn", "seq": 0, "callId": call_id, "name": name, "args": args,
            "timeout": timeout}


def token_usage(count: int) -> TokenUsage:
    return {"type": "token_usage", "seq": 0, "count": count}
