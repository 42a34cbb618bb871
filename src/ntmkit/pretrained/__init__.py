"""Pretrained models shipped inside the package, one per task where a recipe has been measured,
and one with the DNC's memory (``TASK-dnc``) where the DNC's has been.

    from ntmkit import pretrained
    pretrained.available()          # ('copy', 'copy-dnc', ...)
    model = pretrained.load("copy")  # an NTM in eval mode
    pretrained.card("copy")          # how it was trained and what it scores

Each model is a folder ``ntmkit/pretrained/models/NAME/`` (`model_name`) in the layout models
are shared in (`ntmkit.sharing`): ``model.safetensors`` (the weights and, in its metadata, the
model's config and the run's step; safetensors holds no pickle, so loading it never runs code),
``config.json`` (the run config it was trained with), ``card.json`` (its `ModelCard`) and
``metrics.jsonl`` (its learning curve: every fresh start, steps and evaluations thinned).
``NTM.from_pretrained(folder)`` loads it like any shared model. `materialize` writes it out as
a run folder, which is how ``ntmkit eval``, ``plot``, ``animate`` and ``report`` take
``--pretrained NAME``. ``python -m ntmkit.pretrained.ship`` makes the folder from a trained run.
"""

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .. import sharing
from ..model import NTM
from ..run.config import RunConfig
from ..run.evaluate import METRIC_COLUMNS, Evaluation
from ..run.files import write_text_atomically
from ..run.folder import RunFolder, load_run, read_run_config, write_eval

MODELS = Path(__file__).parent / "models"
"""Where the shipped models live (package data), one folder each."""

CARD = "card.json"


@dataclass(frozen=True)
class ModelCard:
    """What a shipped model is: how it was trained and what it scores.

    ``generalisation`` holds one row per test point: the pinned task values (e.g. ``length``),
    ``samples``, and ``output`` and ``all``, each an `ntmkit.run.evaluate` row (``bit_errors`` per
    sequence, ``perfect``, ``cost_bits``) scored on the output phase (the paper's cost) and on
    every step (how ntm-lasagne scored its models).
    """

    task: str
    preset: str
    seed: int
    recipe: str  # `ntmkit.presets.describe` of its run
    sequences: int  # sequences trained on
    seconds: float  # wall-clock of its training, evaluations included
    command: str  # how it was trained (and chosen: e.g. the sweep it is the best seed of)
    chosen: str  # why this seed
    generalisation: tuple[dict[str, Any], ...]
    date: str

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "generalisation": list(self.generalisation)}, indent=2)

    @classmethod
    def from_json(cls, text: str) -> "ModelCard":
        data = json.loads(text)
        return cls(**{**data, "generalisation": tuple(data["generalisation"])})


def model_name(run: RunConfig) -> str:
    """The name a model of ``run`` ships under: its task's (``copy``), with ``-dnc`` for the
    DNC's memory (``copy-dnc``)."""
    return run.task if run.model.memory == "ntm" else f"{run.task}-{run.model.memory}"


def available() -> tuple[str, ...]:
    """The names of the shipped models (`model_name`), in name order."""
    return tuple(sorted(path.parent.name for path in MODELS.glob(f"*/{sharing.WEIGHTS}")))


def folder(task: str) -> Path:
    """The folder of ``task``'s shipped model (`NTM.from_pretrained` loads it)."""
    if task not in available():
        shipped = ", ".join(available()) or "none yet"
        raise ValueError(f"no pretrained model for task {task!r}; shipped: {shipped}")
    return MODELS / task


def card(task: str) -> ModelCard:
    """The `ModelCard` of ``task``'s shipped model."""
    return ModelCard.from_json((folder(task) / CARD).read_text())


def load(task: str, device: str = "cpu") -> NTM:
    """The shipped model ``task`` (a task's name, or ``TASK-dnc``), in eval mode (run it like
    any `NTM`)."""
    return NTM.from_pretrained(folder(task), device=device)


def run_config(task: str) -> RunConfig:
    """The run config ``task``'s shipped model was trained with."""
    return read_run_config(folder(task) / "config.json")


def run_or_shipped(
    run: str | Path | None, task: str, time_first: bool = False
) -> tuple[RunConfig, NTM]:
    """The config and model of the run folder ``run``, or of ``task``'s shipped model where
    ``run`` is None (for scripts that take either). A run of another task is refused, and
    with ``time_first`` a model that takes `[batch, time, ...]` inputs (``batch_first``)."""
    config, model, _ = load_run(folder(task) if run is None else run)
    if run is not None and config.task != task:
        raise ValueError(f"run {str(run)!r} trained task {config.task}; a {task} run is needed")
    if time_first and config.model.batch_first:
        raise ValueError(f"run {str(run)!r}: a time-first model is needed, model.batch_first is on")
    return config, model


def materialize(task: str, out: str | Path) -> Path:
    """Write ``task``'s shipped model as a run folder ``out`` (config, weights, learning curve,
    the card's generalisation as ``eval.json``); an existing folder of the same model is
    reused, anything else there is refused. Returns the folder."""
    run_folder, source = RunFolder(Path(out)), folder(task)
    marker = run_folder.root / "pretrained.json"
    if run_folder.root.exists() and any(run_folder.root.iterdir()):
        if not marker.is_file() or ModelCard.from_json(marker.read_text()) != card(task):
            raise ValueError(f"{out} exists and is not the pretrained {task} model's folder")
        return run_folder.root
    run_folder.root.mkdir(parents=True, exist_ok=True)
    for name in (sharing.WEIGHTS, "config.json", "metrics.jsonl"):
        shutil.copyfile(source / name, run_folder.root / name)
    shown = card(task)
    rows = [{**test_point(row), **row["output"]} for row in shown.generalisation]
    grid = {key: sorted({row[key] for row in rows}) for key in test_point(rows[0])} if rows else {}
    step = load_run(run_folder.root)[2]["step"]
    write_eval(run_folder.eval, grid, rows, step, scope="output")
    write_text_atomically(marker, shown.to_json())
    return run_folder.root


def test_point(row: dict[str, Any]) -> dict[str, Any]:
    """A card or eval row's task values (``length``, ``repeats``, ...), without the scores."""
    return {k: v for k, v in row.items() if k not in ("output", "all", *METRIC_COLUMNS)}


def score_line(row: dict[str, Any], every_step: bool = False, measure: str = "bit_errors") -> str:
    """A card row's scores in words: bit errors per sequence, for dynamic n-grams (rows with
    the optimal predictor's cost) the cost and its excess over that optimum, and the cost first
    where it is the task's ``measure`` (priority sort)."""
    output = Evaluation.from_row(row["output"])
    if output.excess_bits is not None:
        return (
            f"{output.cost_bits:.3f} bits/seq, {output.excess_bits:.3f} above the optimal "
            f"predictor's {output.optimal_bits:.3f}"
        )
    also = f", {row['all']['bit_errors']:.3f} (all steps)" if every_step else ""
    cost = f"cost {output.cost_bits:.3f} bits/seq, " if measure == "cost_bits" else ""
    return f"{cost}{output.bit_errors:.3f} bit errors/seq (output phase){also}"
