"""Uploads: the per-session file store and limits (files), and the single-use HTTP
tickets that carry the bytes past the protocol (tickets)."""
