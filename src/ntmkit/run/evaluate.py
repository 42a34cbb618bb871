"""Evaluation: the paper's metrics on fixed sets and generalisation sweeps over lengths."""

import dataclasses
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from ..model import NTM
from ..tasks import Batch, Task, score_mask
from ..vocabulary import OutputKind, Scope
from . import metrics

EVAL_SEED_OFFSET = 1_000_003
"""The fixed evaluation set is drawn from the task seeded with ``seed + EVAL_SEED_OFFSET``, a
stream that never overlaps the training stream seeded with ``seed``."""

EVAL_BATCH = 100
"""Sequences per forward pass during evaluation; bounds memory on long sweeps."""

Grid = Mapping[str, Sequence[int]]
"""A sweep: for each task override it pins (``length``, ``items``, ``repeats``), its values.
Every combination of the values is one row."""

SWEEP_FLAGS = {"lengths": "length", "items": "items", "repeats": "repeats"}
"""CLI sweep flags and the task override each one pins."""


@dataclass(frozen=True)
class Evaluation:
    """Scores of a set of sequences, per sequence on the scored steps; each field is None
    where it does not apply to the task's output kind (`ntmkit.vocabulary.OutputKind`).

    Attributes:
      bit_errors: bits: the mean number of wrong bits (prediction thresholded at 1/2).
      perfect: bits and categorical: the fraction of sequences without a wrong bit or class.
      cost_bits: bits and categorical: the mean cross-entropy, in bits per sequence.
      samples: the sequences scored.
      optimal_bits: the mean cost of the task's optimal predictor on the same sequences
        (`Task.optimal_cost`; dynamic n-grams only), so that excess_bits compares like with like.
      symbol_errors: categorical: the mean number of wrong classes (argmax) per sequence.
      accuracy: categorical: the fraction of scored steps whose class is right.
      mse: real: the mean squared error per scored value.
    """

    bit_errors: float | None = None
    perfect: float | None = None
    cost_bits: float | None = None
    samples: int = 0
    optimal_bits: float | None = None
    symbol_errors: float | None = None
    accuracy: float | None = None
    mse: float | None = None

    @property
    def excess_bits(self) -> float | None:
        """Cost above the optimal predictor's on the same sequences, bits per sequence."""
        if self.optimal_bits is None or self.cost_bits is None:
            return None
        return self.cost_bits - self.optimal_bits

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> "Evaluation":
        """The scores of a `sweep` row (or a dict of `to_dict`), its test point left out."""
        return cls(**{name: row[name] for name in METRIC_COLUMNS if name in row})

    def to_dict(self) -> dict[str, Any]:
        """The fields that apply (those not None; logs of bit tasks stay as they were)."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


METRIC_COLUMNS = tuple(f.name for f in dataclasses.fields(Evaluation))
"""The columns of a sweep row that hold scores; the others are the pinned overrides."""


def draw_eval_set(task: Task, samples: int, **overrides: int) -> list[Batch]:
    """``samples`` sequences from ``task`` in batches of at most `EVAL_BATCH`.

    Tasks draw one length per batch, so a set drawn with free lengths would hold only one or
    two lengths. When the task supports it, free lengths are drawn per sequence instead (padded
    and masked), so the set covers the whole training distribution.
    """
    own = None if overrides else task.evaluation_set(samples)
    if own is not None:
        return own
    if not overrides and hasattr(task.config, "per_sequence_lengths"):
        task = type(task)(
            dataclasses.replace(task.config, per_sequence_lengths=True), seed=task.seed
        )
    sizes = [EVAL_BATCH] * (samples // EVAL_BATCH)
    if samples % EVAL_BATCH:
        sizes.append(samples % EVAL_BATCH)
    return [task.sample(size, **overrides) for size in sizes]


@torch.no_grad()
def evaluate_batches(
    model: NTM,
    batches: Sequence[Batch],
    scope: Scope = "output",
    optimum: Callable[[Batch], torch.Tensor | None] | None = None,
    kind: OutputKind = "bits",
) -> Evaluation:
    """The `Evaluation` of the model on ``batches``, by the output ``kind``'s measures; with
    ``optimum`` (a task's `Task.optimal_cost`), also the optimal predictor's cost."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    per_sequence: dict[str, list[torch.Tensor]] = {}
    optimal: list[torch.Tensor] = []
    scored = 0
    for batch in batches:
        best = None if optimum is None or scope != "output" else optimum(batch)
        if best is not None:
            optimal.append(best)
        batch = batch_to(batch, device)
        logits = scored_logits(model, batch)
        mask = score_mask(batch, scope)
        scored += int(mask.sum()) * (logits.shape[-1] if kind == "real" else 1)
        for name, values in _sequence_scores(kind, logits, batch.targets, mask).items():
            per_sequence.setdefault(name, []).append(values)
    model.train(was_training)
    scores = {name: torch.cat(values) for name, values in per_sequence.items()}
    return Evaluation(
        samples=len(next(iter(scores.values()))),
        optimal_bits=float(torch.cat(optimal).mean()) if optimal else None,
        **_summary(kind, scores, scored),
    )


def _sequence_scores(
    kind: OutputKind, logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor
) -> dict[str, torch.Tensor]:
    """Each sequence's scores (`[B]` each) by the output kind's measures."""
    if kind == "bits":
        return {
            "errors": metrics.bit_errors(logits, targets, mask),
            "cost": metrics.cost_bits(logits, targets, mask),
        }
    if kind == "categorical":
        return {
            "errors": metrics.symbol_errors(logits, targets, mask),
            "cost": metrics.class_cost_bits(logits, targets, mask),
            "steps": mask.sum(dim=0).double(),
        }
    return {"squares": metrics.squared_errors(logits, targets, mask)}


def _summary(kind: OutputKind, scores: dict[str, torch.Tensor], scored: int) -> dict[str, float]:
    """The `Evaluation` fields of the per-sequence scores (float64 means: 0.005 stays 0.005)."""
    if kind == "real":
        return {"mse": float(scores["squares"].sum() / max(scored, 1))}
    errors = scores["errors"]
    summary = {
        "perfect": float((errors == 0).double().mean()),
        "cost_bits": float(scores["cost"].mean()),
    }
    if kind == "bits":
        return {"bit_errors": float(errors.mean()), **summary}
    steps = float(scores["steps"].sum())
    accuracy = 1.0 - float(errors.sum()) / steps if steps else 1.0
    return {"symbol_errors": float(errors.mean()), "accuracy": accuracy, **summary}


def measure_of(evaluation: Evaluation, task: Task) -> float:
    """How far from solved ``evaluation`` says the model is, by the task's own measure
    (`Task.measure`: bit errors per sequence; for dynamic n-grams the excess cost, for
    priority sort the cost)."""
    value = getattr(evaluation, task.measure)
    if value is None:
        raise ValueError(f"the evaluation has no {task.measure} for the {task.name} task")
    return value


def sweep(
    model: NTM, task: Task, grid: Grid, samples: int, scope: Scope = "output"
) -> list[dict[str, Any]]:
    """Evaluate at every combination of the grid's pinned values, ``samples`` sequences each;
    an empty grid evaluates once, on the task's own evaluation set if it brings one
    (`Task.evaluation_set`).

    Returns:
      One row per combination, in the grid's order (the last key varying fastest): the pinned
      values, then the `Evaluation` fields.
    """
    keys = list(grid)
    rows = []
    for values in itertools.product(*grid.values()):
        pinned = dict(zip(keys, values))
        batches = draw_eval_set(task, samples, **pinned)
        evaluation = evaluate_batches(
            model, batches, scope, optimum=task.optimal_cost, kind=task.output_kind
        )
        rows.append({**pinned, **evaluation.to_dict()})
    return rows


def sweep_keys(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The pinned overrides of sweep rows, in column order."""
    return [key for key in rows[0] if key not in METRIC_COLUMNS]


COLUMNS = {
    "bit_errors": ("bit errors/seq", ".3f"),
    "symbol_errors": ("wrong/seq", ".3f"),
    "accuracy": ("accuracy", ".2%"),
    "mse": ("mse", ".4g"),
    "perfect": ("perfect", ".1%"),
    "cost_bits": ("cost (bits)", ".3f"),
    "optimal_bits": ("optimal (bits)", ".3f"),
    "excess_bits": ("excess (bits)", ".3f"),
    "samples": ("samples", "d"),
}
"""The score columns of a table, in order: heading and format. A column shows where every row
has its value."""


def format_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """A fixed-width text table of `sweep` rows; with two swept overrides, also a two-way
    table of the error (rows: the first override, columns: the second)."""
    keys = sweep_keys(rows)
    rows = [_with_excess(row) for row in rows]
    shown = [name for name in COLUMNS if all(row.get(name) is not None for row in rows)]
    widths = {name: max(len(COLUMNS[name][0]), 8) for name in shown}
    lines = [
        "".join(f"{key:>8}  " for key in keys)
        + "  ".join(f"{COLUMNS[name][0]:>{widths[name]}}" for name in shown)
    ]
    for row in rows:
        cells = [f"{row[name]:>{widths[name]}{COLUMNS[name][1]}}" for name in shown]
        lines.append("".join(f"{row[key]:>8}  " for key in keys) + "  ".join(cells))
    swept = [key for key in keys if len({row[key] for row in rows}) > 1]
    if len(swept) == 2:
        lines += ["", _two_way_table(rows, *swept)]
    return "\n".join(lines)


def headline(row: Mapping[str, Any]) -> str:
    """The error field a row has: ``bit_errors``, ``symbol_errors`` or ``mse``."""
    return next(name for name in ("bit_errors", "symbol_errors", "mse") if name in row)


def _with_excess(row: Mapping[str, Any]) -> dict[str, Any]:
    if row.get("optimal_bits") is None or row.get("cost_bits") is None:
        return dict(row)
    return {**row, "excess_bits": row["cost_bits"] - row["optimal_bits"]}


def _two_way_table(rows: Sequence[Mapping[str, Any]], down: str, across: str) -> str:
    """The error with ``down`` values as rows and ``across`` values as columns."""
    field = headline(rows[0])
    downs = sorted({row[down] for row in rows})
    acrosses = sorted({row[across] for row in rows})
    cell = {(row[down], row[across]): row[field] for row in rows}
    lines = [f"{COLUMNS[field][0]}, {down} (rows) x {across} (columns)"]
    lines.append(f"{down:>8}" + "".join(f"{across + '=' + str(a):>12}" for a in acrosses))
    for d in downs:
        values = "".join(
            f"{cell[(d, a)]:>12.3f}" if (d, a) in cell else f"{'-':>12}" for a in acrosses
        )
        lines.append(f"{d:>8}{values}")
    return "\n".join(lines)


def batch_to(batch: Batch, device: str | torch.device) -> Batch:
    """``batch`` with every tensor on ``device``."""
    return Batch(*(t.to(device) for t in batch))


def scored_logits(model: NTM, batch: Batch) -> torch.Tensor:
    """The logits of ``batch`` for scoring with ``batch.mask``: `[T, B, out]`.

    Padding only ever follows a sequence's last step and the NTM is causal, so the logits of a
    sequence's real steps do not depend on the padded steps after them, and the mask drops the
    padded steps from every loss and score. Passing ``lengths`` (which freezes a finished
    sequence's state) would therefore give the same loss and gradients, only more slowly.
    """
    return model(batch.inputs)[0]
