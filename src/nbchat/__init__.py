"""nbchat: conversational AI apps in Jupyter."""
