"""One writer per run folder: a lock file that holds the training process's pid.

``RUN/.lock`` is locked with ``fcntl.flock`` for as long as a `Trainer` works on the folder. The
operating system releases the lock when the process ends, however it ends, so a lock left by a
killed process is simply taken over; the pid written inside is only there to name the holder in
the error the second writer gets. Within one process the lock is re-entrant (tests and
notebooks open a finished run again while the first trainer object is still alive).

On a platform without ``fcntl`` (Windows) the lock is not taken and nothing is refused.
"""

import os
from pathlib import Path
from typing import IO

from .files import write_error

try:
    import fcntl
except ImportError:  # Windows: no advisory locks through fcntl
    _HAS_FCNTL = False
else:
    _HAS_FCNTL = True

LOCK_FILE = ".lock"

_HELD: dict[Path, tuple[IO, int]] = {}
"""The folders this process has locked: the open lock file and how many holders share it."""


class RunInUseError(RuntimeError):
    """Another process is writing to the run folder."""


class RunLock:
    """The lock of one run folder; `acquire` it before writing, `release` it when done."""

    def __init__(self, folder: str | Path) -> None:
        self.path = Path(folder).resolve() / LOCK_FILE
        self.held = False

    def acquire(self) -> "RunLock":
        """Take the lock, or raise `RunInUseError` naming the process that holds it."""
        if self.held or not _HAS_FCNTL:
            return self
        if self.path in _HELD:
            handle, holders = _HELD[self.path]
            _HELD[self.path] = (handle, holders + 1)
        else:
            _HELD[self.path] = (self._lock_file(), 1)
        self.held = True
        return self

    def release(self) -> None:
        """Give the lock back (the last holder in this process unlocks the file)."""
        if not self.held:
            return
        self.held = False
        handle, holders = _HELD.pop(self.path)
        if holders > 1:
            _HELD[self.path] = (handle, holders - 1)
        else:
            handle.close()  # closing the file releases the flock

    def _lock_file(self) -> IO:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = self.path.open("a+", encoding="utf-8")
        except OSError as error:
            raise write_error(self.path, error) from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise RunInUseError(
                f"{self.path.parent} is in use by another ntmkit process (pid {holder}); "
                f"wait for it to finish or stop it first"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        return handle
