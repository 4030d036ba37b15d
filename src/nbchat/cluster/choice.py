"""Which shared state a server uses: memory, or Redis when `server.redis_url` is set."""

from __future__ import annotations

from nbchat.cluster.state import SharedState
from nbchat.config import ServerConfig


def shared_state(config: ServerConfig, *, worker: str | None = None) -> SharedState:
    """In memory without `config.redis_url`, in Redis with it (not connected yet: call
    `start`). `worker` names this process in the session directory (default: random)."""
    if config.redis_url:
        from nbchat.cluster.redis_state import redis_state

        return redis_state(config.redis_url, config.redis_prefix, worker=worker)
    from nbchat.cluster.memory import memory_state

    return memory_state()
