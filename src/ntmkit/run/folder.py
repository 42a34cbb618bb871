"""A run folder: where a training run keeps its config, checkpoint, logs and pictures.

RUN/
  config.json        the RunConfig (task, model, training), as JSON
  checkpoint.pt      the latest checkpoint (see ntmkit.run.checkpoint)
  metrics.jsonl      one record per training step, evaluation and fresh start (ntmkit.run.log)
  eval.json          the last generalisation sweep (ntmkit eval): its grid, rows, step, scope
  *.png, report.html pictures (ntmkit plot / report)
"""

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import sharing
from ..model import NTM
from ..validation import check_available
from ..vocabulary import Scope
from .checkpoint import MODEL_FIELDS, CheckpointError, check_fields, load_checkpoint, load_weights
from .config import RunConfig
from .files import is_temporary, read_json, write_text_atomically
from .lock import LOCK_FILE, RunLock

CHECKPOINT = "checkpoint.pt"


@dataclass(frozen=True)
class RunFolder:
    """Paths inside a run folder."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.json"

    @property
    def checkpoint(self) -> Path:
        return self.root / "checkpoint.pt"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.jsonl"

    @property
    def eval(self) -> Path:
        return self.root / "eval.json"


RUN_FILES = ("config.json", "checkpoint.pt", "metrics.jsonl")
"""A folder holding any of these holds a run (perhaps one killed before its first checkpoint)."""

CREATION_FILES = ("config.json", "metrics.jsonl", LOCK_FILE)
"""What a new run writes before its first checkpoint (`Trainer` writes config.json, an empty
metrics.jsonl, then checkpoint.pt, holding the lock)."""


def holds_run(root: Path) -> bool:
    """Whether the folder ``root`` holds an ntmkit run."""
    return any((root / name).exists() for name in RUN_FILES)


def stopped_before_first_checkpoint(root: Path) -> bool:
    """Whether ``root`` holds only what a run killed while it was being created leaves: no
    checkpoint, a log with no records, and besides them only `CREATION_FILES` and the
    temporaries of an unfinished write. Nothing was trained there, so nothing can be lost:
    a new run may take the folder, and a resume starts the run afresh from its config."""
    if not root.is_dir() or (root / CHECKPOINT).exists():
        return False
    for path in root.iterdir():
        if is_temporary(path):
            continue
        if path.name not in CREATION_FILES or not path.is_file():
            return False
    metrics = RunFolder(root).metrics
    return not metrics.exists() or not metrics.read_bytes().strip()


def check_new_run_folder(root: Path, overwrite: bool = False) -> None:
    """Refuse, in one line, to start a new run in ``root`` where that would lose something.

    A new run may go into a folder that does not exist yet, is empty (a stale lock file
    aside), or holds a run killed before its first checkpoint
    (`stopped_before_first_checkpoint`). A folder that holds a run, or anything else, is
    refused unless ``overwrite``, and a path that is a file always is.
    """
    if root.exists() and not root.is_dir():
        raise ValueError(f"{root} is a file, not a run folder; choose another --out")
    if (
        overwrite
        or not root.exists()
        or not _contents(root)
        or stopped_before_first_checkpoint(root)
    ):
        return
    if holds_run(root):
        raise ValueError(
            f"{root} already holds a run: continue it with `ntmkit train --resume {root}` "
            f"(Trainer(resume=True)), or start over with --overwrite (overwrite=True), which "
            f"moves the old run aside to {root.name}{REPLACED_SUFFIX}DATE"
        )
    raise ValueError(
        f"{root} is not empty and holds no ntmkit run; choose a new or empty folder, or "
        f"--overwrite (overwrite=True) to move what is there aside to "
        f"{root.name}{REPLACED_SUFFIX}DATE"
    )


REPLACED_SUFFIX = ".replaced-"
"""``--overwrite`` renames an existing folder to ``NAME.replaced-YYYYmmdd-HHMMSS``: nothing
is deleted, and the folder beside it says where the old run went."""


def move_aside(root: Path) -> Path | None:
    """Rename a non-empty ``root`` beside itself (see `REPLACED_SUFFIX`) and return the new
    path; None if there was nothing to move. A run another process is training is refused
    (`ntmkit.run.lock.RunInUseError`): its lock is taken for the move."""
    if not root.is_dir() or not _contents(root):
        return None
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = root.with_name(f"{root.name}{REPLACED_SUFFIX}{stamp}")
    count = 1
    while aside.exists():
        count += 1
        aside = root.with_name(f"{root.name}{REPLACED_SUFFIX}{stamp}-{count}")
    lock = RunLock(root).acquire()
    try:
        root.rename(aside)
    finally:
        lock.release()
    return aside


def _contents(root: Path) -> list[Path]:
    """What is in ``root`` but a lock file (which a run that failed to start leaves)."""
    return [path for path in root.iterdir() if path.name != LOCK_FILE]


def read_run_config(path: str | Path) -> RunConfig:
    """The `RunConfig` in a ``config.json`` (or in the run folder ``path``). A missing,
    damaged or invalid file is a one-line `ValueError` naming it."""
    path = Path(path)
    if path.is_dir():
        path = RunFolder(path).config
    data = read_json(path, "ntmkit run config")
    try:
        return RunConfig.from_dict(data)
    except (ValueError, TypeError) as error:
        raise ValueError(f"{path}: {error}") from None


def config_of(path: str | Path, payload: dict[str, Any]) -> RunConfig:
    """The `RunConfig` a checkpoint's payload was trained with; one line naming the file if it
    is not a valid one."""
    try:
        return RunConfig.from_json(payload["config"])
    except (ValueError, TypeError, RecursionError) as error:  # JSONDecodeError is a ValueError
        reason = "nested too deeply" if isinstance(error, RecursionError) else error
        raise CheckpointError(f"{path} holds no valid run config: {reason}") from None


def load_run(path: str | Path, device: str = "cpu") -> tuple[RunConfig, NTM, dict[str, Any]]:
    """Load a run folder (or a checkpoint file inside one) for evaluation or plotting.

    A run folder holds ``checkpoint.pt``; a model-only folder (a shipped model's, or one a
    run was exported to) holds ``config.json`` and ``model.safetensors`` instead
    (`ntmkit.sharing`). Returns the run config, the model with its trained weights in eval
    mode, and the checkpoint payload (for a model-only folder: its ``step``, ``sequences`` and
    ``seconds``). Raises `CheckpointError` with a clear message if something is missing.
    """
    check_available("device", device)
    path = Path(path)
    if path.is_dir() and (path / sharing.WEIGHTS).is_file() and not (path / CHECKPOINT).is_file():
        return _load_model_only(path, device)
    checkpoint_path = path / CHECKPOINT if path.is_dir() else path
    if path.is_dir() and not checkpoint_path.is_file():
        raise CheckpointError(f"{path} has no checkpoint.pt: is it an ntmkit run folder?")
    payload = load_checkpoint(checkpoint_path, map_location=device)
    check_fields(checkpoint_path, payload, MODEL_FIELDS)
    run = config_of(checkpoint_path, payload)
    model = NTM(run.model).to(device)
    load_weights(model, payload["model"], checkpoint_path)
    model.eval()
    return run, model, payload


def _load_model_only(folder: Path, device: str) -> tuple[RunConfig, NTM, dict[str, Any]]:
    """A folder of ``config.json`` (the run's) and ``model.safetensors``."""
    config = read_json(folder / "config.json", "run config")
    if isinstance(config, dict) and config.get("format") == sharing.FORMAT:
        raise CheckpointError(
            f"{folder} holds a model saved by save_pretrained, with no task: load it with "
            "NTM.from_pretrained (ntmkit export RUN OUT writes a folder both can read)"
        )
    run = read_run_config(folder / "config.json")
    model = NTM.from_pretrained(folder, device)
    if model.config != run.model:
        raise CheckpointError(f"{folder / sharing.WEIGHTS} is not the model of its config.json")
    metadata = sharing.read_metadata(folder / sharing.WEIGHTS)
    counts = {k: metadata.get(k, "0") for k in ("step", "sequences", "seconds")}
    try:
        payload = {
            "step": int(counts["step"]),
            "sequences": int(counts["sequences"]),
            "seconds": float(counts["seconds"]),
        }
    except ValueError:
        raise CheckpointError(
            f"{folder / sharing.WEIGHTS}: its step metadata is not a number"
        ) from None
    return run, model, payload


def write_eval(
    path: Path,
    grid: Mapping[str, Sequence[int]],
    rows: list[dict[str, Any]],
    step: int,
    scope: Scope,
) -> dict[str, Any]:
    """Write a generalisation sweep to ``path`` (a run's ``eval.json``); returns what it wrote."""
    result = {
        "grid": {key: list(values) for key, values in grid.items()},
        "rows": rows,
        "step": step,
        "scope": scope,
    }
    write_text_atomically(path, json.dumps(result, indent=2))
    return result


def read_eval(path: Path) -> dict[str, Any]:
    """A sweep written by `write_eval`, or by ntmkit 0.1.0 (one ``override``, no ``grid``)."""
    result = read_json(path, "ntmkit eval.json")
    if "override" in result:  # 0.1.0: one swept override
        key = result.pop("override")
        result["grid"] = {key: [row[key] for row in result.get("rows", [])]}
    result.setdefault("scope", "output")
    return result
