"""What a sweep shows while it runs: one line per finished trial and a live count.

`SweepProgress` is a Ray Tune callback. It also records the outcome of a trial that the
scheduler stopped early (the trial itself cannot tell that stop from an interruption).
"""

from pathlib import Path
from typing import TextIO

from ray import tune
from tqdm import tqdm

from .spec import TrialSpec
from .trial import TrialOutcome, read_outcome, write_outcome


class SweepProgress(tune.Callback):
    """Prints each finished trial and keeps a bar of trials done, with running/converged.

    ``done`` and ``converged`` start from the trials an earlier run of the sweep finished;
    ``stopped_early`` is the set of Tune trial ids the scheduler stopped (or None).
    """

    def __init__(
        self,
        stream: TextIO,
        total: int,
        outcomes: list[TrialOutcome],
        stopped_early: set[str] | None = None,
        log: Path | None = None,
    ) -> None:
        self.stream, self.stopped_early, self.log = stream, stopped_early, log
        self.running, self.failed = 0, 0
        self.converged = sum(outcome.converged for outcome in outcomes)
        self.bar = tqdm(
            total=total,
            initial=len(outcomes),
            unit="trial",
            file=stream,
            dynamic_ncols=True,
            leave=True,
            disable=None,  # no bar where the stream is not a terminal (lines still print)
        )
        self._refresh()

    def __getstate__(self) -> dict:
        """Tune pickles its callbacks with the experiment's state: leave the terminal out."""
        return {**self.__dict__, "stream": None, "bar": None}

    def on_trial_start(self, iteration, trials, trial, **info) -> None:
        self.running += 1
        self._refresh()

    def on_trial_complete(self, iteration, trials, trial, **info) -> None:
        spec = TrialSpec.from_dict(trial.config["trial"])
        outcome = read_outcome(spec.folder)
        if (
            outcome is None
            and self.stopped_early is not None
            and (trial.trial_id in self.stopped_early)
        ):
            outcome = _stopped(spec, trial.last_result)
            write_outcome(spec.folder, outcome)
        self.running -= 1
        if outcome is not None:
            self.converged += outcome.converged
            self.bar.update(1)
            self.bar.write(format_outcome(outcome), file=self.stream)
        self._refresh()

    def on_trial_error(self, iteration, trials, trial, **info) -> None:
        spec = TrialSpec.from_dict(trial.config["trial"])
        self.running -= 1
        self.failed += 1
        where = f" (Ray's log: {self.log})" if self.log else ""
        self.bar.write(
            f"{spec.setting} seed {spec.seed}: failed: {_error_of(trial)}{where}",
            file=self.stream,
        )
        self._refresh()

    def close(self) -> None:
        self.bar.close()

    def _refresh(self) -> None:
        failed = f", {self.failed} failed" if self.failed else ""
        self.bar.set_postfix_str(
            f"{self.running} running, {self.converged} converged{failed}", refresh=True
        )


def format_outcome(outcome: TrialOutcome) -> str:
    """One line for a finished trial: setting, seed, how it ended, sequences and seconds."""
    error = "-" if outcome.eval_error is None else f"{outcome.eval_error:.3f}"
    return (
        f"{outcome.setting} seed {outcome.seed}: {outcome.status.replace('_', ' ')} after "
        f"{outcome.sequences:,} sequences, {outcome.seconds:.0f} s (eval error {error})"
    )


def _error_of(trial) -> str:
    """The last line of the traceback Tune wrote for a failed trial: the exception and its
    message (ntmkit's own errors say in that line what to do)."""
    path = trial.error_file
    text = Path(path).read_text(errors="replace") if path and Path(path).is_file() else ""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no error recorded"


def _stopped(spec: TrialSpec, last: dict) -> TrialOutcome:
    """The outcome of a trial the scheduler stopped, from its last report."""
    errors = last.get("error")
    return TrialOutcome(
        setting=spec.setting,
        seed=spec.seed,
        status="stopped",
        step=int(last.get("step", 0)),
        sequences=int(last.get("sequences", 0)),
        seconds=float(last.get("seconds", 0.0)),
        eval_error=None if errors is None or errors == float("inf") else float(errors),
    )
