"""Every public Chainlit 2.x callable nbchat offers takes Chainlit's parameters, with
Chainlit's defaults.

The Chainlit side is written down here (read from Chainlit 2.x's source: callbacks.py,
message.py, step.py, action.py, element.py, input_widget.py, types.py, mode.py,
user_session.py, __init__.py); chainlit is never imported. Parameter names and defaults
are compared, not their order (Chainlit apps pass all but the first one or two by keyword).
A parameter nbchat forwards through `**kwargs` to a base class counts as taken if the base
takes it. Deliberate differences are in ALLOWED, each with its reason.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

import nbchat as cl
from nbchat.chainlit_compat import auth, utils
from nbchat.user_session import UserSession

REQUIRED = object()  # no default in Chainlit
NAME = object()  # Chainlit's default is config.ui.name read at import: nbchat's is None
EMPTY = object()  # a fresh empty list/dict (default_factory); nbchat may use None or a factory
TOOLTIP = {"tooltip": None, "description": None}

ELEMENT_OWN: dict[str, dict[str, Any]] = {
    "Text": {}, "File": {}, "Image": {"size": "medium"}, "Pdf": {"page": None},
    "Audio": {"auto_play": False}, "Video": {"player_config": None},
    "Plotly": {"figure": None, "size": "medium"}, "Pyplot": {"figure": None, "size": "medium"},
    "TaskList": {"status": "Ready"}, "CustomElement": {"props": EMPTY},
    "Dataframe": {"data": None, "size": "large"},
}

CHAINLIT: dict[str, tuple[Any, dict[str, Any]]] = {
    # decorators: each takes the decorated function
    **{hook: (getattr(cl, hook), {"func": REQUIRED}) for hook in (
        "on_chat_start", "on_chat_resume", "on_message", "on_chat_end", "on_stop",
        "on_settings_update", "on_settings_edit", "on_feedback", "set_chat_profiles",
        "set_starters", "set_starter_categories", "author_rename", "password_auth_callback",
        "header_auth_callback", "oauth_callback", "on_logout", "on_shared_thread_view",
        "on_app_startup", "on_app_shutdown", "on_window_message")},
    "action_callback": (cl.action_callback, {"name": REQUIRED}),
    "step": (cl.step, {"original_function": None, "name": None, "type": "undefined",
                       "id": None, "parent_id": None, "tags": None, "metadata": None,
                       "language": None, "show_input": "json", "default_open": False,
                       "auto_collapse": False, "icon": None}),
    "sleep": (cl.sleep, {"duration": REQUIRED}),
    "cache": (cl.cache, {"func": REQUIRED}),
    "make_async": (cl.make_async, {"function": REQUIRED}),
    # messages and asks
    "Message": (cl.Message, {"content": REQUIRED, "author": None, "language": None,
                             "actions": None, "elements": None, "type": "assistant_message",
                             "metadata": None, "tags": None, "id": None, "parent_id": None,
                             "command": None, "modes": None, "created_at": None}),
    "ErrorMessage": (cl.ErrorMessage, {"content": REQUIRED, "author": NAME,
                                       "fail_on_persist_error": False}),
    "AskUserMessage": (cl.AskUserMessage, {"content": REQUIRED, "author": NAME,
                                           "type": "assistant_message", "timeout": 60,
                                           "raise_on_timeout": False}),
    "AskFileMessage": (cl.AskFileMessage, {"content": REQUIRED, "accept": REQUIRED,
                                           "max_size_mb": 2, "max_files": 1, "author": NAME,
                                           "type": "assistant_message", "timeout": 90,
                                           "raise_on_timeout": False}),
    "AskActionMessage": (cl.AskActionMessage, {"content": REQUIRED, "actions": REQUIRED,
                                               "author": NAME, "timeout": 90,
                                               "raise_on_timeout": False}),
    "AskElementMessage": (cl.AskElementMessage, {"content": REQUIRED, "element": REQUIRED,
                                                 "author": NAME, "timeout": 90,
                                                 "raise_on_timeout": False}),
    "Step": (cl.Step, {"name": NAME, "type": "undefined", "id": None, "parent_id": None,
                       "elements": None, "metadata": None, "tags": None, "language": None,
                       "show_input": "json", "default_open": False, "auto_collapse": False,
                       "icon": None, "thread_id": None}),
    "Action": (cl.Action, {"name": REQUIRED, "payload": REQUIRED, "label": "", "tooltip": "",
                           "icon": None, "forId": None, "id": None}),
    # elements: Element's fields, and each type's own
    **{name: (getattr(cl, name), {"name": REQUIRED, "url": None, "path": None, "content": None,
                                  "display": "inline", "size": None, "for_id": None,
                                  "language": None, "mime": None, "id": None,
                                  "thread_id": None, **own})
       for name, own in ELEMENT_OWN.items()},
    "Task": (cl.Task, {"title": REQUIRED, "status": cl.TaskStatus.READY, "forId": None}),
    # what the chat offers
    "ChatSettings": (cl.ChatSettings, {"inputs": REQUIRED}),
    "Starter": (cl.Starter, {"label": REQUIRED, "message": REQUIRED, "command": None,
                             "icon": None}),
    "StarterCategory": (cl.StarterCategory, {"label": REQUIRED, "icon": None,
                                             "starters": EMPTY}),
    "ChatProfile": (cl.ChatProfile, {"name": REQUIRED, "markdown_description": REQUIRED,
                                     "icon": None, "display_name": None, "default": False,
                                     "starters": None, "config_overrides": None}),
    "Mode": (cl.Mode, {"id": REQUIRED, "name": REQUIRED, "options": EMPTY}),
    "ModeOption": (cl.ModeOption, {"id": REQUIRED, "name": REQUIRED, "description": None,
                                   "icon": None, "default": False}),
    "User": (cl.User, {"identifier": REQUIRED, "display_name": None, "metadata": EMPTY}),
    "user_session.get": (UserSession.get, {"self": REQUIRED, "key": REQUIRED,
                                           "default": None}),
    "user_session.set": (UserSession.set, {"self": REQUIRED, "key": REQUIRED,
                                           "value": REQUIRED}),
    "user_session.create_accessor": (UserSession.create_accessor, {
        "self": REQUIRED, "key": REQUIRED, "default": REQUIRED, "apply_fn": None}),
    "context.emitter.send_toast": (type(cl.context.emitter).send_toast, {
        "self": REQUIRED, "message": REQUIRED, "type": "info"}),
    "context.emitter.update_token_count": (type(cl.context.emitter).update_token_count, {
        "self": REQUIRED, "count": REQUIRED}),
    "context.emitter.send_window_message": (type(cl.context.emitter).send_window_message, {
        "self": REQUIRED, "data": REQUIRED}),
    "context.emitter.send_call_fn": (type(cl.context.emitter).send_call_fn, {
        "self": REQUIRED, "name": REQUIRED, "args": REQUIRED, "timeout": 300,
        "raise_on_timeout": False}),
    # the embedding page (callbacks.py, __init__.py)
    "send_window_message": (cl.send_window_message, {"data": REQUIRED}),
    "CopilotFunction": (cl.CopilotFunction, {"name": REQUIRED, "args": REQUIRED}),
    # HTTP: chainlit.auth (jwt.py, __init__.py) and chainlit.utils
    "auth.create_jwt": (auth.create_jwt, {"data": REQUIRED}),
    "auth.decode_jwt": (auth.decode_jwt, {"token": REQUIRED}),
    "auth.get_jwt_secret": (auth.get_jwt_secret, {}),
    "auth.require_login": (auth.require_login, {}),
    "auth.get_current_user": (auth.get_current_user, {"token": REQUIRED}),
    "utils.mount_chainlit": (utils.mount_chainlit, {"app": REQUIRED, "target": REQUIRED,
                                                    "path": "/chainlit"}),
    "utils.check_file": (utils.check_file, {"target": REQUIRED}),
    # input widgets
    "Switch": (cl.Switch, {"id": REQUIRED, "label": REQUIRED, "initial": False, **TOOLTIP}),
    "Checkbox": (cl.Checkbox, {"id": REQUIRED, "label": REQUIRED, "initial": False,
                               **TOOLTIP}),
    "Slider": (cl.Slider, {"id": REQUIRED, "label": REQUIRED, "initial": 0, "min": 0,
                           "max": 10, "step": 1, **TOOLTIP}),
    "Select": (cl.Select, {"id": REQUIRED, "label": REQUIRED, "values": EMPTY, "items": EMPTY,
                           "initial_index": None, "initial_value": None, **TOOLTIP}),
    "RadioGroup": (cl.RadioGroup, {"id": REQUIRED, "label": REQUIRED, "values": EMPTY,
                                   "items": EMPTY, "initial_index": None,
                                   "initial_value": None, **TOOLTIP}),
    "TextInput": (cl.TextInput, {"id": REQUIRED, "label": REQUIRED, "initial": None,
                                 "placeholder": None, "multiline": False, **TOOLTIP}),
    "NumberInput": (cl.NumberInput, {"id": REQUIRED, "label": REQUIRED, "initial": None,
                                     "placeholder": None, **TOOLTIP}),
    "Tags": (cl.Tags, {"id": REQUIRED, "label": REQUIRED, "initial": EMPTY, "values": EMPTY,
                       **TOOLTIP}),
    "MultiSelect": (cl.MultiSelect, {"id": REQUIRED, "label": REQUIRED, "values": EMPTY,
                                     "items": EMPTY, "initial": EMPTY, **TOOLTIP}),
    "DatePicker": (cl.DatePicker, {"id": REQUIRED, "label": REQUIRED, "initial": None,
                                   "min_date": None, "max_date": None, "mode": "single",
                                   "format": None, "placeholder": None, **TOOLTIP}),
    "Tab": (cl.Tab, {"id": REQUIRED, "label": REQUIRED, "inputs": EMPTY}),
}

# (entry, parameter) → why nbchat differs on purpose.
ALLOWED: dict[tuple[str, str], str] = {
    ("Message", "content"): "defaults to '' so Message().stream_token(...) needs no content",
    ("ErrorMessage", "author"): "'Error' names the speaker; Chainlit's is the app's name",
    ("ErrorMessage", "kwargs"): "forwards Message's options (metadata, id, …)",
    ("make_async", "function"): "named func; used positionally (cl.make_async(fn))",
    ("Step", "thread_id"): "a step takes its session's thread when it is shown",
    ("Action", "payload"): "optional: {} when left out (Chainlit requires it)",
    ("Action", "forId"): "spelled for_id, nbchat's Python naming; set by the message",
    ("Action", "for_id"): "Chainlit's forId",
    ("Task", "forId"): "spelled for_id",
    ("Task", "for_id"): "Chainlit's forId",
    ("ChatProfile", "markdown_description"): "optional ('' when left out)",
    ("make_async", "func"): "Chainlit's function",
    **{(n, "name"): "optional ('' when left out); Element's name is shown when given"
       for n in ELEMENT_OWN},
    **{(n, "display"): "None picks the element type's own default place (text and task "
                       "lists at the side)"
       for n in ELEMENT_OWN},
    ("Tab", "tooltip"): "a tab has no tooltip", ("Tab", "description"): "nor a description",
    ("auth.get_current_user", "token"): "takes the request (FastAPI hands it over): served, "
                                        "the server has identified it already",
}


def _own_parameters(obj: Any) -> set[str]:
    """The names `obj` itself declares (a class: its own __init__)."""
    target = obj
    if inspect.isclass(obj):
        target = next(vars(c)["__init__"] for c in type.mro(obj) if "__init__" in vars(c))
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return {n for n, p in inspect.signature(target).parameters.items()
            if p.kind not in variadic and not (n == "self" and inspect.isclass(obj))}


def _parameters(obj: Any) -> dict[str, inspect.Parameter]:
    """Named parameters of `obj`, following `**kwargs` into base classes' __init__."""
    params: dict[str, inspect.Parameter] = {}
    targets = [vars(c)["__init__"] for c in type.mro(obj) if "__init__" in vars(c)] \
        if inspect.isclass(obj) else [obj]
    for target in targets:
        sig = inspect.signature(target)
        for name, p in sig.parameters.items():
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            if inspect.isclass(obj) and name == "self":
                continue
            params.setdefault(name, p)
        if not any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
            break
    return params


def _matches(expected: Any, actual: Any) -> bool:
    if expected is REQUIRED:
        return actual is inspect.Parameter.empty
    if expected is NAME:
        return actual is None
    if expected is EMPTY:
        return actual is None or repr(actual) == "<factory>"
    return bool(actual == expected and type(actual) is type(expected))


@pytest.mark.parametrize("entry", sorted(CHAINLIT))
def test_signature_matches_chainlit(entry: str) -> None:
    obj, expected = CHAINLIT[entry]
    params = _parameters(obj)
    problems = []
    for name, default in expected.items():
        if (entry, name) in ALLOWED:
            continue
        if name not in params:
            problems.append(f"missing parameter {name!r}")
        elif not _matches(default, params[name].default):
            problems.append(f"{name}: default {params[name].default!r}, Chainlit's "
                            f"{'required' if default is REQUIRED else default!r}")
    if "." not in entry:
        # Only what the callable itself declares: a base class's parameter reached through
        # **kwargs may be one the subclass sets itself.
        extra = [n for n in params if n in _own_parameters(obj) and n not in expected
                 and (entry, n) not in ALLOWED]
        if extra:
            problems.append(f"parameters Chainlit does not have: {extra}")
    assert not problems, f"{entry}: " + "; ".join(problems)


def test_every_allowed_difference_is_still_a_difference() -> None:
    # An allowlist entry whose difference was fixed must go (it would hide a regression).
    for (entry, name), _reason in ALLOWED.items():
        obj, expected = CHAINLIT[entry]
        params = _parameters(obj)
        same = name in expected and name in params and _matches(expected[name],
                                                                 params[name].default)
        assert not same, f"{entry}.{name} now matches Chainlit: drop it from ALLOWED"
