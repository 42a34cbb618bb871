"""Checkpoints: written atomically, loaded without ever running code from the file.

A checkpoint is a `torch.save` dict of tensors and plain Python values (the run config as JSON
text, the model and optimiser state dicts, RNG states, the step, schedule states and metrics so
far). It is written to a temporary file in the same folder and renamed over the old one, so a
crash or Ctrl-C mid-write never leaves a half-written checkpoint. It is read with
``torch.load(weights_only=True)``, which refuses any pickled object that is not a tensor or a
plain container, so a checkpoint from an untrusted source cannot execute code.
"""

import contextlib
import pickle
import re
import zipfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..sharing import first_mismatch
from ..validation import is_int
from .files import write_atomically

FORMAT = "ntmkit.checkpoint"  # the tag every checkpoint carries since 0.1.0 (not a module path)
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
        raise CheckpointError(_refusal(path, exc)) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is a PyTorch file but not an ntmkit checkpoint")
    if payload.get("version", 0) > VERSION:
        raise CheckpointError(
            f"{path} has checkpoint version {payload['version']}; this ntmkit reads up to {VERSION}"
        )
    return payload


_FORBIDDEN = re.compile(r"GLOBAL ([\w.]+)")
"""How torch's refusal names the object a pickle would have called (``GLOBAL posix.system``)."""


def _refusal(path: Path, error: Exception) -> str:
    """One line for a file `torch.load(weights_only=True)` refused: for a pickle that names a
    callable, which one (loading it unsafely would run it), else the first line of the error."""
    text = str(error).strip()
    forbidden = _FORBIDDEN.search(text)
    if forbidden is not None:
        return (
            f"{path} is refused: loading it would call {forbidden.group(1)}, which no ntmkit "
            f"checkpoint holds; do not load it with weights_only=False unless you trust its source"
        )
    first_line = text.splitlines()[0] if text else type(error).__name__
    return (
        f"{path} is not a readable ntmkit checkpoint (truncated, corrupted or foreign file): "
        f"{first_line}"
    )


def _is_weights(value: Any) -> bool:
    return isinstance(value, Mapping) and all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in value.items()
    )


def is_count(value: Any) -> bool:
    """An integer >= 0 (a step or sequence count)."""
    return is_int(value) and value >= 0


def _is_rng(value: Any) -> bool:
    return isinstance(value, torch.Tensor) and value.dtype == torch.uint8


MODEL_FIELDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "config": (lambda v: isinstance(v, str), "the run config as JSON text"),
    "model": (_is_weights, "a dict of named weight tensors"),
    "step": (is_count, "an integer >= 0"),
}
"""What every checkpoint holds (shipped models too): each field's check and its rule."""

RESUME_FIELDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    **MODEL_FIELDS,
    "optimizer": (
        lambda v: isinstance(v, Mapping) and {"state", "param_groups"} <= set(v),
        "an optimizer state dict (state, param_groups)",
    ),
    "task_rng": (_is_rng, "a uint8 tensor"),
    "torch_rng": (_is_rng, "a uint8 tensor"),
}
"""What a checkpoint to resume training from holds besides the `TrainingState`'s fields
(`ntmkit.training.state`), which that class checks; ``cuda_rng`` is optional."""


def check_fields(
    path: str | Path,
    payload: Mapping[str, Any],
    fields: Mapping[str, tuple[Callable, str]],
    some: bool = False,
) -> None:
    """A `CheckpointError` naming the file and the first field that is missing or wrong;
    with ``some``, only the fields ``payload`` has are checked."""
    for name, (check, rule) in fields.items():
        if name not in payload and some:
            continue
        if name not in payload:
            raise CheckpointError(f"{path} has no field {name!r} ({rule}): it is damaged")
        if not check(payload[name]):
            shown = repr(payload[name])
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            raise CheckpointError(f"{path} field {name!r} must be {rule}, got {shown}")


def load_weights(model: nn.Module, weights: Mapping[str, torch.Tensor], path: str | Path) -> None:
    """``model.load_state_dict(weights)``, with a one-line `CheckpointError` naming the file
    and the first weight that is missing, extra or of another shape than the config's model."""
    found = first_mismatch(model.state_dict(), weights)
    if found is not None and found.kind != "shape":
        what = "lacks the weight" if found.kind == "missing" else "has an extra weight"
        raise CheckpointError(
            f"{path} {what} {found.name}; it does not belong to its config's model"
        )
    if found is not None:
        raise CheckpointError(
            f"{path} weight {found.name} has shape {found.shape} where its config's model has "
            f"{found.expected}"
        )
    model.load_state_dict(weights)


@contextlib.contextmanager
def restoring(path: str | Path, field: str) -> Iterator[None]:
    """Turn a failure to restore checkpoint ``field`` (an optimiser state that does not fit
    the model, say) into a one-line `CheckpointError` naming the file and the field."""
    try:
        yield
    except (ValueError, TypeError, KeyError, RuntimeError, IndexError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckpointError(f"{path} field {field!r} cannot be restored: {first}") from None
