"""What several `nbchat serve` processes share, behind small interfaces.

One process keeps this state in memory (`memory.py`, the behaviour without Redis); with
`server.redis_url` every worker of every host reads and writes it in Redis
(`redis_state.py`), so a request may land on any of them:

- `Revocations`: signed-out cookie sessions, and the signal that closes their sockets.
- `AttemptCounter`: the sign-in limiter's failures (nbchat.server.limiter).
- `OneTimeValues`: OAuth `state` values already used (a replayed callback is refused).
- `SessionDirectory`: which worker owns each live chat session, and how many one user
  holds (`server.max_sessions_per_user` counts them on every worker).
- the session bus (`bus.py`, Redis only): a reconnect that lands on another worker is
  relayed to the worker running the chat.

Share lookups need nothing here: whether a thread is shared is read from the data layer on
every request. `SharedState` bundles one of each; `shared_state(config)` picks the kind.
"""

from __future__ import annotations

from nbchat.cluster.choice import shared_state
from nbchat.cluster.state import (
    AttemptCounter,
    OneTimeValues,
    Revocations,
    SessionDirectory,
    SessionOwner,
    SharedState,
)

__all__ = ["AttemptCounter", "OneTimeValues", "Revocations", "SessionDirectory",
           "SessionOwner", "SharedState", "shared_state"]
