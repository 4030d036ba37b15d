"""The chat runtime: a session's state and dispatch, its event emitter, the mirror of what
it sent, persistence of its events, the context variables callbacks find it by, and the
live sessions of a server. Authors use `nbchat` (the top level); hosts use these."""
