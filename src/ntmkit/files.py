"""Files written so that a crash never leaves half of one behind."""

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

FILE_MODE = 0o644
"""Mode of the files written here: ordinary, readable files (mkstemp alone creates 0600)."""


def write_atomically(path: str | Path, write: Callable[[IO], None], binary: bool = False) -> None:
    """Call ``write`` on a temporary file in ``path``'s folder, flush it to disk and rename it
    over ``path``: a reader (or a rerun after a kill) sees the old file or the new one, never
    a mix."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb" if binary else "w") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomically(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (see `write_atomically`)."""
    write_atomically(path, lambda handle: handle.write(text))
