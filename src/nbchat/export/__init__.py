"""Stored conversations as files: a notebook, one self-contained HTML page, a pytest test.

    from nbchat import export
    export.to_notebook(thread_id, "chat.ipynb")     # nbformat: a cell per message
    export.to_html(thread_id, "chat.html")          # one file to mail; nothing loads from afar
    export.to_test(thread_id, "test_chat.py", app="app.ipynb")

`thread` is a thread id (read from the app's data layer in `app_dir`, or the database at
`url`, through nbchat.history) or a thread dict as `nbchat.history.thread()` gives it.
"""

from nbchat.export.html import to_html
from nbchat.export.notebook import to_notebook
from nbchat.export.pytest_file import to_test

__all__ = ["to_html", "to_notebook", "to_test"]
