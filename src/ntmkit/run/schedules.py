"""Training schedules as small pure functions of the training history.

ntm-lasagne's recipes changed the learning rate or the task lengths once the running mean of
the loss was low enough. Each rule here is a frozen dataclass with a pure transition
``update(state, loss) -> state`` over a small immutable state; `replay` folds it over a loss
history. The state is saved in checkpoints, so a resumed run follows the same schedule, and the
training loop only calls ``update`` and reads ``state.value``.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from ..validation import check_int, check_number, check_size


class ScheduleState(NamedTuple):
    """``value``: the learning rate or length to use next; ``recent``: the window of losses
    the running mean is taken over (cleared when the value changes)."""

    value: float
    recent: tuple[float, ...] = ()


def _push(recent: tuple[float, ...], loss: float, window: int) -> tuple[float, ...]:
    return (*recent, loss)[-window:]


@dataclass(frozen=True)
class LearningRateDrop:
    """Switch to ``low_lr`` once the mean of the last ``window`` losses is below ``threshold``.

    ntm-lasagne's associative recall: 1e-4, then 1e-5 once the mean loss is below 0.01.
    The drop is permanent.
    """

    threshold: float
    low_lr: float
    window: int = 100

    def __post_init__(self) -> None:
        check_number("train.lr_drop.threshold", self.threshold, low=0, low_open=True)
        check_number("train.lr_drop.low_lr", self.low_lr, low=0, low_open=True)
        check_int("train.lr_drop.window", self.window, low=1)

    def initial(self, base_lr: float) -> ScheduleState:
        return ScheduleState(base_lr)

    def update(self, state: ScheduleState, loss: float) -> ScheduleState:
        if state.value == self.low_lr:
            return state
        recent = _push(state.recent, loss, self.window)
        if len(recent) == self.window and sum(recent) / self.window < self.threshold:
            return ScheduleState(self.low_lr)
        return ScheduleState(state.value, recent)


@dataclass(frozen=True)
class LengthCurriculum:
    """Multiply the maximum length by ``factor`` (up to ``cap``) each time the mean of the last
    ``window`` losses falls below ``threshold`` (ntm-lasagne's Dyck words: double below 1e-4).

    After each increase the window restarts, so the next increase needs ``window`` new steps
    under the threshold at the new length.
    """

    threshold: float
    cap: int
    factor: int = 2
    window: int = 100
    start: int | None = None  # first maximum length; None starts from the task's max_length

    def __post_init__(self) -> None:
        check_number("train.curriculum.threshold", self.threshold, low=0, low_open=True)
        check_size("train.curriculum.cap", self.cap)
        check_int("train.curriculum.factor", self.factor, low=2)
        check_int("train.curriculum.window", self.window, low=1)
        if self.start is not None:
            check_int("train.curriculum.start", self.start, low=1, high=self.cap)

    def initial(self, start_length: int) -> ScheduleState:
        return ScheduleState(self.start if self.start is not None else start_length)

    def at_cap(self, state: ScheduleState) -> bool:
        """Whether the maximum length has reached ``cap`` (it grows no further)."""
        return state.value >= self.cap

    def update(self, state: ScheduleState, loss: float) -> ScheduleState:
        if self.at_cap(state):
            return state
        recent = _push(state.recent, loss, self.window)
        if len(recent) == self.window and sum(recent) / self.window < self.threshold:
            return ScheduleState(min(int(state.value) * self.factor, self.cap))
        return ScheduleState(state.value, recent)


class RestartState(NamedTuple):
    """``attempt_start``: the step the current attempt began at; ``restarts``: how many fresh
    starts so far; ``settled``: the current attempt passed its check and runs on unchecked."""

    attempt_start: int = 0
    restarts: int = 0
    settled: bool = False


@dataclass(frozen=True)
class Restart:
    """Start again from a fresh initialisation when an attempt has not taken off.

    NTMs learn copy-like tasks suddenly: the error sits on a plateau until the heads find a
    working addressing pattern, then falls to zero within a few hundred steps; some
    initialisations never find it and settle on a controller that memorises short sequences.
    At the first evaluation at least ``after`` steps into an attempt, an attempt whose
    evaluation error (bit errors per sequence) is still above ``above`` is replaced by a fresh
    model, optimiser and schedules (up to ``limit`` times); one at or below it is left alone
    from then on. The trainer skips a restart when fewer than ``after`` steps of ``max_iter``
    are left. Steps, sequences and time keep counting across attempts.
    """

    after: int
    above: float
    limit: int = 3

    def __post_init__(self) -> None:
        check_int("train.restart.after", self.after, low=1)
        check_int("train.restart.limit", self.limit, low=1)
        check_number("train.restart.above", self.above, low=0)

    def update(self, state: RestartState, step: int, error: float) -> RestartState:
        """The state after an evaluation with ``error`` at ``step``; a new attempt starts when
        ``restarts`` goes up."""
        if state.settled or step - state.attempt_start < self.after:
            return state
        if error <= self.above or state.restarts >= self.limit:
            return state._replace(settled=True)
        return RestartState(attempt_start=step, restarts=state.restarts + 1)


def replay(schedule, start: float, losses: Sequence[float]) -> ScheduleState:
    """The schedule's state after seeing ``losses`` from the initial value ``start``."""
    state = schedule.initial(start)
    for loss in losses:
        state = schedule.update(state, loss)
    return state
