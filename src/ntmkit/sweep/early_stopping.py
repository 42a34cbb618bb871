"""Early stopping for sweeps: Ray Tune's ASHA on the evaluation error.

ASHA (asynchronous successive halving, Li et al. 2018) compares trials at rungs of sequences
seen: ``grace``, ``grace * 4``, ``grace * 16``, ...; a trial reaching a rung in the worse
three quarters of the errors recorded there so far is stopped. It is the principled form of
``train.restart``: instead of a fixed error threshold, a seed is judged against the others at
the same point. Its decisions depend on the order in which trials report, so a sweep with it
is not exactly reproducible (the trials it lets run are).
"""

from ray.tune.schedulers import ASHAScheduler, TrialScheduler

from ..run.config import RunConfig

GRACE_EVALUATIONS = 10
"""No trial is stopped before it has been evaluated this many times (of the base run's
``eval_every`` steps of ``batch_size`` sequences)."""

REDUCTION_FACTOR = 4
"""Each rung is this many times further than the last and keeps the best 1/4 of trials."""


class RecordingASHA(ASHAScheduler):
    """ASHA that remembers which trials it stopped, so a sweep can tell them from trials
    that an interruption stopped (those resume when the sweep is run again)."""

    def __init__(self, **options) -> None:
        super().__init__(**options)
        self.stopped: set[str] = set()

    def on_trial_result(self, tune_controller, trial, result) -> str:
        action = super().on_trial_result(tune_controller, trial, result)
        if action == TrialScheduler.STOP and "status" not in result:  # not its last report
            self.stopped.add(trial.trial_id)
        return action


def asha(base: RunConfig, max_sequences: int) -> RecordingASHA:
    """ASHA on ``error``, the task's measure (lower is better), against ``sequences`` seen."""
    grace = GRACE_EVALUATIONS * base.train.eval_every * base.train.batch_size
    return RecordingASHA(
        time_attr="sequences",
        metric="error",
        mode="min",
        max_t=max(max_sequences, grace),
        grace_period=grace,
        reduction_factor=REDUCTION_FACTOR,
        stop_last_trials=False,  # a trial at its max_iter ends by itself, recording how
    )
