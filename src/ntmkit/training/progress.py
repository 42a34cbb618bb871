"""The progress bar of `Trainer.fit` (tqdm): loss, bit errors and speed of the last step, the
last evaluation's score by the task's measure, and skipped steps if any."""

from ..run.log import StepRecord
from .state import TrainingState

MEASURE_LABELS = {
    "bit_errors": "eval_err",
    "symbol_errors": "eval_err",
    "mse": "eval_mse",
    "excess_bits": "excess",
    "cost_bits": "eval_cost",
}
"""How the bar names each task measure (`Task.measure`) of the last evaluation."""


class ProgressBar:
    """A tqdm bar over the run's steps, or nothing at all when not ``enabled``."""

    def __init__(self, enabled: bool, total: int, initial: int, measure: str) -> None:
        self.measure = measure
        self.bar = None
        if enabled:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, initial=initial, unit="step", dynamic_ncols=True)

    def update(self, record: StepRecord, state: TrainingState) -> None:
        """One step more, with its figures."""
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(postfix(record, state, self.measure), refresh=False)

    def write(self, message: str) -> None:
        """A line above the bar (a fresh start's reason)."""
        if self.bar is not None:
            self.bar.write(message)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def postfix(record: StepRecord, state: TrainingState, measure: str) -> dict[str, str]:
    """The figures shown after the bar."""
    shown = {
        "loss": f"{record.loss:.4f}",
        "err": f"{record.errors:.3g}",
        "seq/s": f"{record.seq_per_s:.0f}",
    }
    if state.last_eval is not None:
        shown[MEASURE_LABELS[measure]] = f"{getattr(state.last_eval, measure):.3f}"
    if state.skipped.total:
        shown["skipped"] = str(state.skipped.total)
    return shown
