"""Kernel ↔ Jupyter-server plumbing: the notebook widget, the kernel's chat-store
registrations and the runtime dir both processes share. The server side of the extension
is `nbchat.server.extension` (its documented entry point)."""
