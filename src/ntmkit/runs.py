"""A run folder: where a training run keeps its config, checkpoint, logs and pictures.

RUN/
  config.json        the RunConfig (task, model, training), as JSON
  checkpoint.pt      the latest checkpoint (see ntmkit.checkpoint)
  metrics.jsonl      one JSON object per training step and per evaluation
  eval.json          the last generalisation sweep (ntmkit eval)
  *.png, report.html pictures (ntmkit plot / report)
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .checkpoint import CheckpointError, load_checkpoint
from .model import NTM
from .run_config import RunConfig


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


def read_metrics(path: Path) -> list[dict[str, Any]]:
    """The records of a metrics log; an absent log has none."""
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def load_run(path: str | Path, device: str = "cpu") -> tuple[RunConfig, NTM, dict[str, Any]]:
    """Load a run folder (or a checkpoint file inside one) for evaluation or plotting.

    Returns the run config, the model with its trained weights in eval mode, and the
    checkpoint payload. Raises `CheckpointError` with a clear message if something is missing.
    """
    path = Path(path)
    checkpoint_path = path / "checkpoint.pt" if path.is_dir() else path
    if path.is_dir() and not checkpoint_path.is_file():
        raise CheckpointError(f"{path} has no checkpoint.pt: is it an ntmkit run folder?")
    payload = load_checkpoint(checkpoint_path, map_location=device)
    run = RunConfig.from_json(payload["config"])
    model = NTM(run.ntm_config()).to(device)
    model.load_state_dict(payload["model"])
    model.eval()
    return run, model, payload


def load_model(path: str | Path, device: str = "cpu") -> NTM:
    """Just the trained `NTM` of a run folder or checkpoint."""
    return load_run(path, device)[1]
