"""What the training loop does after an evaluation, decided by a pure function.

`after_evaluation` looks at the evaluation error and the restart rule's state and returns a
`Decision`; `ntmkit.training.trainer.Trainer` only carries it out (stops, or replaces the model, the
optimiser and the schedules). Keeping the decision a value makes it testable on its own and
keeps the loop free of bookkeeping.
"""

from typing import NamedTuple

from ..run.schedules import RestartState
from ..run.train_config import TrainConfig


class Decision(NamedTuple):
    """The outcome of one evaluation for the training loop.

    ``converged``: the error fell below ``train.target_error``, training stops.
    ``restart_state``: the restart rule's state from now on.
    ``fresh_start``: begin a new attempt now (``train.restart``); ``message`` says why.
    """

    converged: bool
    restart_state: RestartState
    fresh_start: bool = False
    message: str = ""


def after_evaluation(
    train: TrainConfig, state: RestartState, step: int, error: float, at_cap: bool = True
) -> Decision:
    """The decision after an evaluation with ``error`` bit errors per sequence at ``step``.

    ``at_cap``: a length curriculum (``train.curriculum``), if any, has reached its cap. Until
    it has, the run never counts as converged: it would stop on the short sequences it started
    with.

    A restart is skipped when fewer than ``train.restart.after`` steps of ``max_iter`` are
    left: the new attempt could not even reach its own check, and the run would end on a
    barely trained model.
    """
    if at_cap and train.target_error > 0 and error < train.target_error:
        return Decision(converged=True, restart_state=state)
    rule = train.restart
    if rule is None or step + rule.after > train.max_iter:
        return Decision(converged=False, restart_state=state)
    new_state = rule.update(state, step, error)
    if new_state.restarts == state.restarts:
        return Decision(converged=False, restart_state=new_state)
    message = (
        f"step {step}: evaluation error {error:.2f} > {rule.above:g} after "
        f"{step - state.attempt_start} steps of this attempt; fresh start "
        f"{new_state.restarts} of at most {rule.limit} (train.restart)"
    )
    return Decision(converged=False, restart_state=new_state, fresh_start=True, message=message)
