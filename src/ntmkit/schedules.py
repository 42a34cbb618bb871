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

    def initial(self, start_length: int) -> ScheduleState:
        return ScheduleState(self.start if self.start is not None else start_length)

    def update(self, state: ScheduleState, loss: float) -> ScheduleState:
        if state.value >= self.cap:
            return state
        recent = _push(state.recent, loss, self.window)
        if len(recent) == self.window and sum(recent) / self.window < self.threshold:
            return ScheduleState(min(int(state.value) * self.factor, self.cap))
        return ScheduleState(state.value, recent)


def replay(schedule, start: float, losses: Sequence[float]) -> ScheduleState:
    """The schedule's state after seeing ``losses`` from the initial value ``start``."""
    state = schedule.initial(start)
    for loss in losses:
        state = schedule.update(state, loss)
    return state
