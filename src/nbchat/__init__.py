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
    cache,
    data_layer,
    header_auth_callback,
    oauth_callback,
    on_app_shutdown,
    on_app_startup,
    on_chat_end,
    on_chat_resume,
    on_chat_start,
    on_feedback,
    on_logout,
    on_mcp_connect,
    on_mcp_disconnect,
    on_message,
    on_settings_edit,
    on_settings_update,
    on_shared_thread_view,
    on_slack_reaction_added,
    on_stop,
    on_window_message,
    password_auth_callback,
    set_chat_profiles,
    set_starter_categories,
    set_starters,
    sleep,
)
from nbchat.ask import AskActionMessage, AskElementMessage, AskFileMessage, AskUserMessage
from nbchat.chainlit_compat import alias_chainlit
from nbchat.chat_settings import (
    ChatProfile,
    ChatSettings,
    Mode,
    ModeOption,
    Starter,
    StarterCategory,
    set_commands,
    set_modes,
)
from nbchat.element import (
    Audio,
    CustomElement,
    Dataframe,
    Element,
    ElementSidebar,
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
from nbchat.generation import ChatGeneration, CompletionGeneration, GenerationMessage
from nbchat.input_widget import (
    Checkbox,
    DatePicker,
    InputWidget,
    MultiSelect,
    NumberInput,
    RadioGroup,
    Select,
    Slider,
    Switch,
    Tab,
    Tags,
    TextInput,
)
from nbchat.message import ErrorMessage, Message, chat_context
from nbchat.runtime.context import context
from nbchat.runtime.window import CopilotFunction, CopilotFunctionError, send_window_message
from nbchat.step import Step, step
from nbchat.sync import make_async
from nbchat.types import PersistedUser, User
from nbchat.uploads.files import UploadedFile
from nbchat.user_session import user_session

__version__ = "0.1.0"

# Loaded on first access: importing them pulls in langchain-core / ipywidgets / openai.
_LAZY = {
    "LangchainCallbackHandler": "nbchat.integrations.langchain",
    "LangchainTracer": "nbchat.integrations.langchain",
    "AsyncLangchainCallbackHandler": "nbchat.integrations.langchain",
    "ChatWidget": "nbchat.jupyter.widget",
    "instrument_openai": "nbchat.integrations.openai",
    "OpenAIAgentsTracingProcessor": "nbchat.integrations.openai_agents",
    "run_graph": "nbchat.integrations.langgraph",
    "instrument_mistralai": "nbchat.integrations.mistralai",
    "chat": "nbchat.jupyter.widget",
    "replay": "nbchat.workbench.replay",
}


# Subpackages `cl.<name>` imports on first access (`from nbchat import export` works too).
_SUBPACKAGES = {"export"}


def __getattr__(name: str) -> _Any:
    import importlib

    if name in _SUBPACKAGES:
        return importlib.import_module(f"nbchat.{name}")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nbchat' has no attribute {name!r}")
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
    "Checkbox",
    "CompletionGeneration",
    "ConfigError",
    "ContextError",
    "CopilotFunction",
    "CopilotFunctionError",
    "CustomElement",
    "Dataframe",
    "DatePicker",
    "Element",
    "ElementSidebar",
    "ErrorMessage",
    "File",
    "GenerationMessage",
    "Image",
    "InputWidget",
    "LangchainCallbackHandler",
    "LangchainTracer",
    "Message",
    "Mode",
    "ModeOption",
    "MultiSelect",
    "NbchatError",
    "NumberInput",
    "OpenAIAgentsTracingProcessor",
    "Pdf",
    "PersistedUser",
    "Plotly",
    "ProtocolError",
    "Pyplot",
    "RadioGroup",
    "Select",
    "Slider",
    "Starter",
    "StarterCategory",
    "Step",
    "Switch",
    "Tab",
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
    "cache",
    "chat",
    "chat_context",
    "context",
    "data_layer",
    "header_auth_callback",
    "instrument_mistralai",
    "instrument_openai",
    "make_async",
    "oauth_callback",
    "on_app_shutdown",
    "on_app_startup",
    "on_chat_end",
    "on_chat_resume",
    "on_chat_start",
    "on_feedback",
    "on_logout",
    "on_mcp_connect",
    "on_mcp_disconnect",
    "on_message",
    "on_settings_edit",
    "on_settings_update",
    "on_shared_thread_view",
    "on_slack_reaction_added",
    "on_stop",
    "on_window_message",
    "password_auth_callback",
    "replay",
    "run_graph",
    "send_window_message",
    "set_chat_profiles",
    "set_commands",
    "set_modes",
    "set_starter_categories",
    "set_starters",
    "sleep",
    "step",
    "user_session",
]
