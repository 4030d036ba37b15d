"""nbchat: conversational AI apps in Jupyter, with an API close to Chainlit's.

    import nbchat as cl

Everything public is re-exported here. Heavy parts (the notebook widget, LangChain) load
on first use, so `import nbchat` stays fast.
"""

from __future__ import annotations

from typing import Any as _Any

from nbchat.action import Action
from nbchat.app import (
    App,
    action_callback,
    author_rename,
    data_layer,
    header_auth_callback,
    oauth_callback,
    on_app_shutdown,
    on_app_startup,
    on_chat_end,
    on_chat_resume,
    on_chat_start,
    on_logout,
    on_message,
    on_settings_update,
    on_shared_thread_view,
    on_stop,
    password_auth_callback,
    set_chat_profiles,
    set_starters,
)
from nbchat.ask import AskActionMessage, AskElementMessage, AskFileMessage, AskUserMessage
from nbchat.chainlit_compat import alias_chainlit
from nbchat.chat_settings import ChatProfile, ChatSettings, Starter, set_commands
from nbchat.element import (
    Audio,
    CustomElement,
    Dataframe,
    Element,
    File,
    Image,
    Pdf,
    Plotly,
    Pyplot,
    Task,
    TaskList,
    TaskStatus,
    Text,
    Video,
)
from nbchat.errors import (
    AppLoadError,
    AskTimeoutError,
    ConfigError,
    ContextError,
    NbchatError,
    ProtocolError,
)
from nbchat.generation import ChatGeneration, CompletionGeneration
from nbchat.input_widget import (
    InputWidget,
    MultiSelect,
    NumberInput,
    Select,
    Slider,
    Switch,
    Tags,
    TextInput,
)
from nbchat.message import ErrorMessage, Message
from nbchat.runtime.context import context
from nbchat.step import Step, step
from nbchat.sync import make_async
from nbchat.types import PersistedUser, User
from nbchat.uploads.files import UploadedFile
from nbchat.user_session import user_session

__version__ = "0.1.0"

# Loaded on first access: importing them pulls in langchain-core / ipywidgets.
_LAZY = {
    "LangchainCallbackHandler": "nbchat.integrations.langchain",
    "LangchainTracer": "nbchat.integrations.langchain",
    "AsyncLangchainCallbackHandler": "nbchat.integrations.langchain",
    "ChatWidget": "nbchat.jupyter.widget",
    "chat": "nbchat.jupyter.widget",
}


def __getattr__(name: str) -> _Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nbchat' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "Action",
    "App",
    "AppLoadError",
    "AskActionMessage",
    "AskElementMessage",
    "AskFileMessage",
    "AskTimeoutError",
    "AskUserMessage",
    "AsyncLangchainCallbackHandler",
    "Audio",
    "ChatGeneration",
    "ChatProfile",
    "ChatSettings",
    "ChatWidget",
    "CompletionGeneration",
    "ConfigError",
    "ContextError",
    "CustomElement",
    "Dataframe",
    "Element",
    "ErrorMessage",
    "File",
    "Image",
    "InputWidget",
    "LangchainCallbackHandler",
    "LangchainTracer",
    "Message",
    "MultiSelect",
    "NbchatError",
    "NumberInput",
    "Pdf",
    "PersistedUser",
    "Plotly",
    "ProtocolError",
    "Pyplot",
    "Select",
    "Slider",
    "Starter",
    "Step",
    "Switch",
    "Tags",
    "Task",
    "TaskList",
    "TaskStatus",
    "Text",
    "TextInput",
    "UploadedFile",
    "User",
    "Video",
    "action_callback",
    "alias_chainlit",
    "author_rename",
    "chat",
    "context",
    "data_layer",
    "header_auth_callback",
    "make_async",
    "oauth_callback",
    "on_app_shutdown",
    "on_app_startup",
    "on_chat_end",
    "on_chat_resume",
    "on_chat_start",
    "on_logout",
    "on_message",
    "on_settings_update",
    "on_shared_thread_view",
    "on_stop",
    "password_auth_callback",
    "set_chat_profiles",
    "set_commands",
    "set_starters",
    "step",
    "user_session",
]
