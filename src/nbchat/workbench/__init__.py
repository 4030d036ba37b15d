"""The notebook as the assistant's workbench: drive a chat from cells (`cl.chat()`'s
handle), prototype with a plain function (`cl.chat(fn)`), replay stored threads against the
current handler (`nbchat.replay`)."""
