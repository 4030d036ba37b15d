"""Integrations with other libraries, each loaded only when used.

- `nbchat.integrations.langchain`: `LangchainCallbackHandler`, which shows LangChain runs
  (chains, chat models, tools, retrievers) as nested steps.
"""
