"""Files written so that a crash never leaves half of one behind, and errors that name them."""

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

FILE_MODE = 0o644
"""Mode of the files written here: ordinary, readable files (mkstemp alone creates 0600)."""

TEMPORARY_SUFFIX = ".tmp"
"""Suffix of the temporary files `write_atomically` renames into place; one left behind by a
kill mid-write is named ``.NAME.XXXX.tmp`` and is removed by `remove_temporaries`."""


class FileWriteError(OSError):
    """A file that could not be written (read-only folder, full disk): the message names the
    file and the system's reason, in one line."""

    def __str__(self) -> str:
        return self.strerror or super().__str__()


def write_error(path: str | Path, error: OSError) -> FileWriteError:
    """The `FileWriteError` for ``path`` failing with ``error``; raise it."""
    reason = error.strerror or str(error) or type(error).__name__
    return FileWriteError(error.errno, f"cannot write {path}: {reason}")


def write_atomically(
    path: str | Path, write: Callable[[IO[Any]], object], binary: bool = False
) -> None:
    """Call ``write`` on a temporary file in ``path``'s folder, flush it to disk and rename it
    over ``path``: a reader (or a rerun after a kill) sees the old file or the new one, never
    a mix. A failure to write raises `FileWriteError` naming ``path``; ``path`` is unchanged."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=TEMPORARY_SUFFIX, dir=path.parent
        )
    except OSError as error:
        raise write_error(path, error) from None
    try:
        with os.fdopen(fd, "wb" if binary else "w") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except OSError as error:
        Path(tmp).unlink(missing_ok=True)
        raise write_error(path, error) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomically(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (see `write_atomically`)."""
    write_atomically(path, lambda handle: handle.write(text))


def is_temporary(path: Path) -> bool:
    """Whether ``path`` is named like `write_atomically`'s temporary files."""
    return path.name.startswith(".") and path.name.endswith(TEMPORARY_SUFFIX)


def remove_temporaries(folder: str | Path) -> list[Path]:
    """Delete the temporary files a kill during `write_atomically` left in ``folder``."""
    left = sorted(path for path in Path(folder).iterdir() if is_temporary(path))
    for path in left:
        path.unlink(missing_ok=True)
    return left


def read_json(path: str | Path, what: str = "file") -> Any:
    """The JSON value in ``path``; a missing, unreadable or damaged file is a `ValueError`
    naming the file (``what`` says what it should have been, e.g. ``"run config"``)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no {what} at {path}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not a {what}: it is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{path} is not a readable {what} (damaged or truncated JSON: {error.msg} at line "
            f"{error.lineno} column {error.colno})"
        ) from None
    except RecursionError:
        raise ValueError(f"{path} is not a {what}: its JSON is nested too deeply") from None
