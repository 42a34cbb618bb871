"""What a resumed run may change: the one rule that `Trainer` and ``ntmkit train --resume``
both apply.

A run is defined by its config; resuming it goes on with that config. Four settings may
change on the way: ``train.max_iter`` and ``train.target_error`` (extend or tighten a run),
and ``train.lr`` and ``train.lr_drop`` (polish it at a lower rate: the rate's schedule then
starts afresh at the resumed step). Anything else is refused, naming the first setting that
differs.
"""

from collections.abc import Mapping
from typing import Any

from ..run.config import RunConfig

RESUMABLE = ("train.max_iter", "train.target_error", "train.lr", "train.lr_drop")
"""The settings (dotted keys, as ``--set`` takes them) a resumed run may change."""

LR_SCHEDULE = ("train.lr", "train.lr_drop")
"""The settings whose change starts the learning rate's schedule afresh at the resumed step."""


def not_resumable(saved: RunConfig, other: RunConfig) -> list[str]:
    """The settings in which ``other`` differs from ``saved`` that a resume may not change."""
    allowed = tuple(RESUMABLE)
    return [key for key in saved.differences(other) if not key.startswith(allowed)]


def check_resumable(saved: RunConfig, other: RunConfig, where: str) -> None:
    """A one-line `ValueError` if ``other`` changes ``saved`` beyond `RESUMABLE`; ``where``
    says what is being compared (it opens the message)."""
    changed = not_resumable(saved, other)
    if changed:
        raise ValueError(
            f"{where}: {changed[0]} may not change on resume (only {', '.join(RESUMABLE)} may)"
        )


def resumed_config(saved: RunConfig, changes: Mapping[str, Any]) -> RunConfig:
    """``saved`` with ``changes`` (dotted keys) applied, refused unless all are resumable. A
    new ``train.lr`` alone drops the saved rate schedule: it is a constant rate from here on."""
    if "train.lr" in changes and "train.lr_drop" not in changes:
        changes = {**changes, "train.lr_drop": None}
    run = saved.override(changes)
    check_resumable(saved, run, "resume continues the saved run")
    return run


def restarts_lr_schedule(trained: RunConfig, run: RunConfig) -> bool:
    """Whether resuming ``trained`` as ``run`` starts the learning rate's schedule afresh."""
    return any(key.startswith(LR_SCHEDULE) for key in trained.differences(run))
