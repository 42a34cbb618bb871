"""`TrainingState`: everything the training loop carries from one step to the next, as one
immutable value (besides the weights, the optimiser's moments and the random streams, which
live in their torch objects).

Each step and each evaluation return a new state (``state._replace(...)``); a checkpoint holds
its fields under the keys checkpoints have always used (`to_payload` / `from_payload`), so a
run saved by any ntmkit since 0.1 resumes exactly.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from ..run.checkpoint import CheckpointError, check_fields, is_count
from ..run.evaluate import Evaluation
from ..run.schedules import RestartState, ScheduleState
from ..run.train_config import TrainConfig
from ..validation import is_int, is_number


class SkippedSteps(NamedTuple):
    """Steps whose loss or gradient was not finite (`ntmkit.training.guard`): ``in_a_row``
    since the last good one, and ``total``."""

    in_a_row: int = 0
    total: int = 0

    def after(self, finite: bool) -> "SkippedSteps":
        """The count after one more step."""
        if finite:
            return self._replace(in_a_row=0)
        return SkippedSteps(self.in_a_row + 1, self.total + 1)


class TrainingState(NamedTuple):
    """Where a run stands.

    Attributes:
      step: optimiser steps taken (skipped ones included).
      sequences: training sequences drawn.
      seconds: wall-clock seconds spent in training steps and evaluations.
      lr: the learning-rate schedule's state; ``lr.value`` is the rate of the next step.
      length: the length curriculum's state (``length.value``: the task's maximum length),
        or None without a curriculum.
      restarts: the restart rule's state (`ntmkit.run.schedules.Restart`).
      last_eval: the last evaluation of the current attempt, or None.
      skipped: the non-finite steps so far.
    """

    step: int
    sequences: int
    seconds: float
    lr: ScheduleState
    length: ScheduleState | None
    restarts: RestartState
    last_eval: Evaluation | None
    skipped: SkippedSteps

    @classmethod
    def start(cls, train: TrainConfig, max_length: int | None) -> "TrainingState":
        """A new run's state: nothing done, the schedules at their start."""
        lr, length = schedules_at_start(train, max_length)
        return cls(
            step=0,
            sequences=0,
            seconds=0.0,
            lr=lr,
            length=length,
            restarts=RestartState(),
            last_eval=None,
            skipped=SkippedSteps(),
        )

    def to_payload(self) -> dict[str, Any]:
        """The state as a checkpoint's fields (plain values that `torch.load` reads safely)."""
        return {
            "step": self.step,
            "sequences": self.sequences,
            "seconds": self.seconds,
            "lr_state": _saved(self.lr),
            "length_state": None if self.length is None else _saved(self.length),
            "restart_state": list(self.restarts),
            "last_eval": None if self.last_eval is None else self.last_eval.to_dict(),
            "guard": list(self.skipped),
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any], path: str | Path) -> "TrainingState":
        """The state a checkpoint holds; a missing or wrong field is a one-line
        `CheckpointError` naming the file and the field. ``restart_state`` and ``guard`` are
        optional (checkpoints of ntmkit 0.1 lack them)."""
        check_fields(path, payload, {k: v for k, v in _FIELDS.items() if k not in _OPTIONAL})
        check_fields(path, payload, {k: _FIELDS[k] for k in _OPTIONAL}, some=True)
        length = payload["length_state"]
        last_eval = payload["last_eval"]
        try:
            evaluation = None if last_eval is None else Evaluation(**last_eval)
        except TypeError as error:
            raise CheckpointError(f"{path} field 'last_eval' cannot be restored: {error}") from None
        return cls(
            step=payload["step"],
            sequences=payload["sequences"],
            seconds=float(payload["seconds"]),
            lr=_schedule(payload["lr_state"]),
            length=None if length is None else _schedule(length),
            restarts=RestartState(*payload.get("restart_state", ())),
            last_eval=evaluation,
            skipped=SkippedSteps(*payload.get("guard", ())),
        )


def schedules_at_start(
    train: TrainConfig, max_length: int | None
) -> tuple[ScheduleState, ScheduleState | None]:
    """The learning-rate and length schedules at their start (a new run or a fresh attempt):
    ``max_length`` is the task's, where a curriculum grows it."""
    lr = train.lr_drop.initial(train.lr) if train.lr_drop else ScheduleState(train.lr)
    if train.curriculum is None:
        return lr, None
    return lr, train.curriculum.initial(max_length or 0)


def _saved(schedule: ScheduleState) -> list:
    return [schedule.value, list(schedule.recent)]


def _schedule(saved: list) -> ScheduleState:
    value, recent = saved
    return ScheduleState(value, tuple(recent))


def _is_schedule(value: Any) -> bool:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        return False
    current, recent = value
    return is_number(current) and isinstance(recent, (list, tuple)) and all(map(is_number, recent))


def _is_restart(value: Any) -> bool:
    return (
        isinstance(value, (list, tuple))
        and len(value) == 3
        and all(is_int(v) or isinstance(v, bool) for v in value)
    )


def _is_skipped(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and len(value) == 2 and all(map(is_count, value))


_FIELDS = {
    "step": (is_count, "an integer >= 0"),
    "sequences": (is_count, "an integer >= 0"),
    "seconds": (lambda v: is_number(v) and v >= 0, "a number >= 0"),
    "lr_state": (_is_schedule, "[value, [recent losses]]"),
    "length_state": (lambda v: v is None or _is_schedule(v), "null or [value, [recent losses]]"),
    "restart_state": (_is_restart, "[attempt start, restarts, settled]"),
    "last_eval": (lambda v: v is None or isinstance(v, Mapping), "null or an evaluation's fields"),
    "guard": (_is_skipped, "[skipped in a row, skipped in all]"),
}
"""The checkpoint fields of a `TrainingState`: each one's check and rule."""

_OPTIONAL = ("restart_state", "guard")
