"""Evaluation: the paper's metrics on fixed sets and generalisation sweeps over lengths."""

import dataclasses
from collections.abc import Sequence
from typing import Any

import torch

from . import metrics
from .model import NTM
from .tasks import Batch, Task, score_mask

EVAL_SEED_OFFSET = 1_000_003
"""The fixed evaluation set is drawn from the task seeded with ``seed + EVAL_SEED_OFFSET``, a
stream that never overlaps the training stream seeded with ``seed``."""

EVAL_BATCH = 100
"""Sequences per forward pass during evaluation; bounds memory on long sweeps."""

_COPY_LENGTHS = ("length", (10, 20, 30, 50, 80, 120))
DEFAULT_SWEEPS: dict[str, tuple[str, tuple[int, ...]]] = {
    "copy": _COPY_LENGTHS,
    "reversed_copy": _COPY_LENGTHS,
    "upside_down_copy": _COPY_LENGTHS,
    "sort": _COPY_LENGTHS,
    "repeat_copy": ("repeats", (5, 10, 15, 20)),
    "associative_recall": ("items", (2, 4, 6, 8, 10, 12)),
    "ngrams": ("length", (200,)),
    "priority_sort": ("length", (20,)),
    "dyck_words": ("length", (5, 10, 20, 40)),
}
"""What `ntmkit eval` and the end of training sweep by default, per task: the override and
its values (the paper's generalisation tests where it has them)."""

SWEEP_FLAGS = {"lengths": "length", "items": "items", "repeats": "repeats"}
"""CLI sweep flags and the task override each one pins."""


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
    model: NTM, batches: Sequence[Batch], scope: str = "output"
) -> dict[str, float]:
    """Mean bit errors and cost (bits) per sequence and the fraction of perfect sequences."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    errors, costs, count = [], [], 0
    for batch in batches:
        batch = batch_to(batch, device)
        logits = scored_logits(model, batch)
        mask = score_mask(batch, scope)
        errors.append(metrics.bit_errors(logits, batch.targets, mask))
        costs.append(metrics.cost_bits(logits, batch.targets, mask))
        count += batch.inputs.shape[1]
    model.train(was_training)
    errors, costs = torch.cat(errors), torch.cat(costs)
    return {
        "bit_errors": float(errors.mean()),
        "perfect": float((errors == 0).double().mean()),  # float64: 0.005 prints as 0.005
        "cost_bits": float(costs.mean()),
        "samples": count,
    }


def sweep(
    model: NTM,
    task: Task,
    override: str,
    values: Sequence[int],
    samples: int,
    scope: str = "output",
) -> list[dict[str, Any]]:
    """Evaluate at each pinned value of ``override`` (e.g. ``length``): one row per value."""
    rows = []
    for value in values:
        batches = draw_eval_set(task, samples, **{override: value})
        rows.append({override: value, **evaluate_batches(model, batches, scope)})
    return rows


def format_table(rows: list[dict[str, Any]]) -> str:
    """A fixed-width text table of `sweep` rows."""
    key = next(k for k in rows[0] if k not in ("bit_errors", "perfect", "cost_bits", "samples"))
    lines = [
        f"{key:>8}  {'bit errors/seq':>14}  {'perfect':>8}  {'cost (bits)':>11}  {'samples':>7}"
    ]
    for row in rows:
        lines.append(
            f"{row[key]:>8}  {row['bit_errors']:>14.3f}  {row['perfect']:>8.1%}  "
            f"{row['cost_bits']:>11.3f}  {row['samples']:>7}"
        )
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
