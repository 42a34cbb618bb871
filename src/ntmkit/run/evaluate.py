"""Evaluation: the paper's metrics on fixed sets and generalisation sweeps over lengths."""

import dataclasses
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from ..model import NTM
from ..tasks import Batch, Task, score_mask
from ..vocabulary import Scope, TaskName, registry
from . import metrics

EVAL_SEED_OFFSET = 1_000_003
"""The fixed evaluation set is drawn from the task seeded with ``seed + EVAL_SEED_OFFSET``, a
stream that never overlaps the training stream seeded with ``seed``."""

EVAL_BATCH = 100
"""Sequences per forward pass during evaluation; bounds memory on long sweeps."""

Grid = Mapping[str, Sequence[int]]
"""A sweep: for each task override it pins (``length``, ``items``, ``repeats``), its values.
Every combination of the values is one row."""

_COPY_LENGTHS: dict[str, tuple[int, ...]] = {"length": (10, 20, 30, 50, 80, 120)}
# ntm-lasagne's models were scored at these
_LASAGNE_LENGTHS: dict[str, tuple[int, ...]] = {"length": (5, 10, 20, 40, 80, 120)}
DEFAULT_SWEEPS: dict[str, dict[str, tuple[int, ...]]] = registry(
    TaskName,
    {
        "copy": _COPY_LENGTHS,
        "reversed_copy": _LASAGNE_LENGTHS,
        "upside_down_copy": _LASAGNE_LENGTHS,
        "sort": {"length": (1, 2, 3, 4, 5, 10, 15, 20)},
        "repeat_copy": {"repeats": (5, 10, 15, 20)},
        "associative_recall": {"items": (2, 4, 6, 8, 10, 12)},
        "ngrams": {"length": (200,)},
        "priority_sort": {"length": (20,)},
        "dyck_words": {"length": (5, 10, 20, 40, 80)},
    },
)
"""What `ntmkit eval` and the end of training sweep by default, per task (the paper's
generalisation tests where it has them)."""

SWEEP_FLAGS = {"lengths": "length", "items": "items", "repeats": "repeats"}
"""CLI sweep flags and the task override each one pins."""


@dataclass(frozen=True)
class Evaluation:
    """Scores of a set of sequences, per sequence on the scored steps."""

    bit_errors: float  # mean wrong bits (prediction thresholded at 1/2)
    perfect: float  # fraction of sequences without a wrong bit
    cost_bits: float  # mean cross-entropy, in bits
    samples: int  # sequences scored
    # Mean cost of the task's optimal predictor on the same sequences (`Task.optimal_cost`;
    # dynamic n-grams only), so that excess_bits compares like with like.
    optimal_bits: float | None = None

    @property
    def excess_bits(self) -> float | None:
        """Cost above the optimal predictor's on the same sequences, bits per sequence."""
        return None if self.optimal_bits is None else self.cost_bits - self.optimal_bits

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> "Evaluation":
        """The scores of a `sweep` row (or a dict of `to_dict`), its test point left out."""
        return cls(**{name: row[name] for name in METRIC_COLUMNS if name in row})

    def to_dict(self) -> dict[str, Any]:
        """The fields, without ``optimal_bits`` when there is none (logs stay as they were)."""
        fields = dataclasses.asdict(self)
        if self.optimal_bits is None:
            del fields["optimal_bits"]
        return fields


METRIC_COLUMNS = tuple(f.name for f in dataclasses.fields(Evaluation))
"""The columns of a sweep row that hold scores; the others are the pinned overrides."""


def draw_eval_set(task: Task, samples: int, **overrides: int) -> list[Batch]:
    """``samples`` sequences from ``task`` in batches of at most `EVAL_BATCH`.

    Tasks draw one length per batch, so a set drawn with free lengths would hold only one or
    two lengths. When the task supports it, free lengths are drawn per sequence instead (padded
    and masked), so the set covers the whole training distribution.
    """
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
) -> Evaluation:
    """Mean bit errors and cost (bits) per sequence and the fraction of perfect sequences;
    with ``optimum`` (a task's `Task.optimal_cost`), also the optimal predictor's cost."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    errors: list[torch.Tensor] = []
    costs: list[torch.Tensor] = []
    optimal: list[torch.Tensor] = []
    count = 0
    for batch in batches:
        best = None if optimum is None or scope != "output" else optimum(batch)
        if best is not None:
            optimal.append(best)
        batch = batch_to(batch, device)
        logits = scored_logits(model, batch)
        mask = score_mask(batch, scope)
        errors.append(metrics.bit_errors(logits, batch.targets, mask))
        costs.append(metrics.cost_bits(logits, batch.targets, mask))
        count += batch.inputs.shape[1]
    model.train(was_training)
    all_errors, all_costs = torch.cat(errors), torch.cat(costs)
    return Evaluation(
        bit_errors=float(all_errors.mean()),
        perfect=float((all_errors == 0).double().mean()),  # float64: 0.005 prints as 0.005
        cost_bits=float(all_costs.mean()),
        samples=count,
        optimal_bits=float(torch.cat(optimal).mean()) if optimal else None,
    )


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
    """Evaluate at every combination of the grid's pinned values, ``samples`` sequences each.

    Returns:
      One row per combination, in the grid's order (the last key varying fastest): the pinned
      values, then the `Evaluation` fields.
    """
    keys = list(grid)
    rows = []
    for values in itertools.product(*grid.values()):
        pinned = dict(zip(keys, values))
        batches = draw_eval_set(task, samples, **pinned)
        evaluation = evaluate_batches(model, batches, scope, optimum=task.optimal_cost)
        rows.append({**pinned, **evaluation.to_dict()})
    return rows


def sweep_keys(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The pinned overrides of sweep rows, in column order."""
    return [key for key in rows[0] if key not in METRIC_COLUMNS]


def format_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """A fixed-width text table of `sweep` rows; with two swept overrides, also a two-way
    table of bit errors per sequence (rows: the first override, columns: the second)."""
    keys = sweep_keys(rows)
    header = "".join(f"{key:>8}  " for key in keys)
    optimal = all(row.get("optimal_bits") is not None for row in rows)
    extra = f"  {'optimal (bits)':>14}  {'excess (bits)':>13}" if optimal else ""
    lines = [
        f"{header}{'bit errors/seq':>14}  {'perfect':>8}  {'cost (bits)':>11}{extra}  "
        f"{'samples':>7}"
    ]
    for row in rows:
        pinned = "".join(f"{row[key]:>8}  " for key in keys)
        excess = row["cost_bits"] - row["optimal_bits"] if optimal else None
        extra = f"  {row['optimal_bits']:>14.3f}  {excess:>13.3f}" if optimal else ""
        lines.append(
            f"{pinned}{row['bit_errors']:>14.3f}  {row['perfect']:>8.1%}  "
            f"{row['cost_bits']:>11.3f}{extra}  {row['samples']:>7}"
        )
    swept = [key for key in keys if len({row[key] for row in rows}) > 1]
    if len(swept) == 2:
        lines += ["", _two_way_table(rows, *swept)]
    return "\n".join(lines)


def _two_way_table(rows: Sequence[Mapping[str, Any]], down: str, across: str) -> str:
    """Bit errors per sequence with ``down`` values as rows and ``across`` values as columns."""
    downs = sorted({row[down] for row in rows})
    acrosses = sorted({row[across] for row in rows})
    cell = {(row[down], row[across]): row["bit_errors"] for row in rows}
    lines = [f"bit errors/seq, {down} (rows) x {across} (columns)"]
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
