"""Transports move batches of protocol events; they know nothing of messages or steps."""
