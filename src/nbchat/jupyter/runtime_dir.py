"""Private folders under Jupyter's runtime directory, shared by a Jupyter server and the
kernels it starts: kernels inherit the server's JUPYTER_RUNTIME_DIR, so both processes
find the same folder. Only the user's own processes can write into a 0700 folder of
theirs, which is what lets a kernel hand the server upload tickets (uploads/tickets.py)
and the location of its chat history (kernel_stores.py) without a shared secret."""

from __future__ import annotations

import os
from pathlib import Path


def runtime_folder(name: str) -> Path:
    """`<Jupyter runtime dir>/<name>`, created private (0700)."""
    from jupyter_core.paths import jupyter_runtime_dir

    return private_folder(Path(jupyter_runtime_dir()) / name)


def private_folder(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)  # mkdir's mode is masked by the umask
    return path


def write_private(path: Path, text: str) -> None:
    """Write a 0600 file atomically: a reader never sees half of it."""
    temp = path.with_name(f"{path.name}.{os.getpid()}.new")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(temp, path)
