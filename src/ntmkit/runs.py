"""A run folder: where a training run keeps its config, checkpoint, logs and pictures.

RUN/
  config.json        the RunConfig (task, model, training), as JSON
  checkpoint.pt      the latest checkpoint (see ntmkit.checkpoint)
  metrics.jsonl      one record per training step, evaluation and fresh start (ntmkit.run_log)
  eval.json          the last generalisation sweep (ntmkit eval): its grid, rows, step, scope
  *.png, report.html pictures (ntmkit plot / report)
"""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .checkpoint import CheckpointError, load_checkpoint
from .files import read_json, write_text_atomically
from .model import NTM
from .run_config import RunConfig
from .validation import check_available
from .vocabulary import Scope


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


def load_run(path: str | Path, device: str = "cpu") -> tuple[RunConfig, NTM, dict[str, Any]]:
    """Load a run folder (or a checkpoint file inside one) for evaluation or plotting.

    Returns the run config, the model with its trained weights in eval mode, and the
    checkpoint payload. Raises `CheckpointError` with a clear message if something is missing.
    """
    check_available("device", device)
    path = Path(path)
    checkpoint_path = path / "checkpoint.pt" if path.is_dir() else path
    if path.is_dir() and not checkpoint_path.is_file():
        raise CheckpointError(f"{path} has no checkpoint.pt: is it an ntmkit run folder?")
    payload = load_checkpoint(checkpoint_path, map_location=device)
    run = RunConfig.from_json(payload["config"])
    model = NTM(run.model).to(device)
    model.load_state_dict(payload["model"])
    model.eval()
    return run, model, payload


def write_eval(
    path: Path, grid: Mapping[str, Sequence[int]], rows: list[dict[str, Any]], step: int,
    scope: Scope,
) -> dict[str, Any]:  # fmt: skip
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
