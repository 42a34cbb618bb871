"""Checkpoints: written atomically, loaded without ever running code from the file.

A checkpoint is a `torch.save` dict of tensors and plain Python values (the run config as JSON
text, the model and optimiser state dicts, RNG states, the step, schedule states and metrics so
far). It is written to a temporary file in the same folder and renamed over the old one, so a
crash or Ctrl-C mid-write never leaves a half-written checkpoint. It is read with
``torch.load(weights_only=True)``, which refuses any pickled object that is not a tensor or a
plain container, so a checkpoint from an untrusted source cannot execute code.
"""

import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

from .files import write_atomically

FORMAT = "ntmkit.checkpoint"
VERSION = 1


class CheckpointError(ValueError):
    """A file that is not a readable ntmkit checkpoint (truncated, foreign or too new)."""


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` (plus format and version tags) to ``path`` atomically."""
    tagged = {"format": FORMAT, "version": VERSION, **payload}
    write_atomically(path, lambda handle: torch.save(tagged, handle), binary=True)


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by `save_checkpoint`; raises `CheckpointError` otherwise."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except (pickle.UnpicklingError, zipfile.BadZipFile, RuntimeError, EOFError, OSError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(
            f"{path} is not a readable ntmkit checkpoint (truncated, corrupted or foreign "
            f"file): {first_line}"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is a PyTorch file but not an ntmkit checkpoint")
    if payload.get("version", 0) > VERSION:
        raise CheckpointError(
            f"{path} has checkpoint version {payload['version']}; this ntmkit reads up to {VERSION}"
        )
    return payload
