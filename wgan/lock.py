"""One process at a time in a folder: a study folder (`compare --runs-dir`) and each run directory.

The lock is an ``fcntl.flock`` on ``.lock`` in the folder, so the kernel drops it when its process
dies however it dies: a killed compare never leaves a folder held. The holder writes its pid into
the file, so the process refused can name it; a clean release deletes the file. A process may take
the same folder again while it holds it (a compare's run directory, then the trainer inside it).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from wgan.errors import WganbenchError

LOCK_FILE = ".lock"
_held: dict[Path, int] = {}  # folder → times this process holds it


def holder(folder: Path) -> str:
    """The pid written in ``folder``'s lock file, or a phrase when it is not written yet."""
    with contextlib.suppress(OSError, ValueError):
        return f"process {int((folder / LOCK_FILE).read_text())}"
    return "another process"


def _acquire(path: Path) -> int:
    """The locked file's descriptor; a file deleted by a releasing holder between open and lock is retried."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise
        with contextlib.suppress(FileNotFoundError):
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                return fd
        os.close(fd)


@contextlib.contextmanager
def hold(folder: str | os.PathLike, what: str, hint: str) -> Iterator[None]:
    """Hold ``folder`` (created if missing) for this process, or refuse naming the process holding it.

    ``what`` names the folder in the message (``"study folder"``, ``"run directory"``), ``hint`` says
    what to do instead."""
    folder = Path(folder).resolve()
    if folder.exists() and not folder.is_dir():
        raise WganbenchError(f"{folder} exists and is not a folder; choose another")
    if folder in _held:
        _held[folder] += 1
        try:
            yield
        finally:
            _held[folder] -= 1
        return
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_FILE
    try:
        fd = _acquire(path)
    except BlockingIOError:
        raise WganbenchError(f"{what} {folder} is held by {holder(folder)} (a compare or train running there); "
                             f"{hint}") from None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    _held[folder] = 1
    try:
        yield
    finally:
        del _held[folder]
        path.unlink(missing_ok=True)  # before the close: a process waiting on this file retries (_acquire)
        os.close(fd)
