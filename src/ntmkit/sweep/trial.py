"""One trial of a sweep: train its run folder, report each evaluation to Ray Tune, and record
how it ended.

All a trial knows lives in its run folder, so a sweep continues from the folders alone:

* ``trial.json`` (`TrialOutcome`), written once when the trial has ended: its presence means
  done, and a rerun of the sweep never trains that trial again;
* ``trial_progress.json``: the wall-clock seconds spent so far, so a resumed trial gets only
  the rest of its budget;
* the checkpoint, from which an unfinished trial resumes (`Trainer(resume=True)`).
"""

import importlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from ..run.evaluate import Evaluation, headline, measure_of
from ..run.files import write_text_atomically
from ..run.folder import RunFolder
from ..run.log import EvaluationRecord
from ..tasks import Task
from ..tasks.registry import load_source
from ..training.trainer import Trainer, TrainResult
from ..vocabulary import TrialStatus
from .spec import TrialSpec

OUTCOME_FILE = "trial.json"
PROGRESS_FILE = "trial_progress.json"


@dataclass(frozen=True)
class TrialOutcome:
    """How a trial ended. ``seconds`` is wall-clock time in training (evaluations included,
    the final generalisation test and report not); ``generalisation`` holds the final test's
    rows (the pinned values and the error, `ntmkit.run.evaluate.headline`), empty for a trial
    stopped early."""

    setting: str
    seed: int
    status: TrialStatus
    step: int
    sequences: int
    seconds: float
    eval_error: float | None  # the last evaluation's error by the task's measure (Task.measure)
    generalisation: tuple[dict[str, Any], ...] = ()

    @property
    def converged(self) -> bool:
        return self.status == "converged"

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "generalisation": list(self.generalisation)}, indent=2)

    @classmethod
    def from_json(cls, text: str) -> "TrialOutcome":
        data = json.loads(text)
        return cls(**{**data, "generalisation": tuple(data.get("generalisation", ()))})


def read_outcome(folder: str | Path) -> TrialOutcome | None:
    """The outcome recorded in a trial's folder, or None while the trial has not ended."""
    path = Path(folder) / OUTCOME_FILE
    if not path.exists():
        return None
    try:
        return TrialOutcome.from_json(path.read_text())
    except (ValueError, TypeError) as error:  # JSONDecodeError is a ValueError
        raise ValueError(f"{path} is not a readable trial outcome: {error}") from None


def write_outcome(folder: str | Path, outcome: TrialOutcome) -> None:
    write_text_atomically(Path(folder) / OUTCOME_FILE, outcome.to_json())


def seconds_spent(folder: str | Path) -> float:
    """Wall-clock seconds an unfinished trial has trained so far (0 for a new one)."""
    path = Path(folder) / PROGRESS_FILE
    return float(json.loads(path.read_text())["seconds"]) if path.exists() else 0.0


def train_trial(config: dict[str, Any]) -> None:
    """The Ray Tune function trainable: trains (or resumes) one trial and records its outcome.

    ``config`` holds ``trial`` (a `TrialSpec` dict), ``budget`` (seconds or None),
    ``threads``, ``generalisation`` (the final test's grid) and ``report`` (write the trial's
    report.html). Each evaluation is reported to Tune as ``error`` (the task's measure,
    `Task.measure`) at ``sequences``; when
    Tune stops the trial (a scheduler's decision, or the sweep interrupted) `tune.report`
    raises inside training, and the trial saves a checkpoint before it lets go.
    """
    from ray import tune

    _load_task_source(config.get("task_source"))
    trial = TrialSpec.from_dict(config["trial"])
    folder = Path(trial.folder)
    if read_outcome(folder) is not None:
        return  # ended in an earlier run of the sweep
    torch.set_num_threads(max(1, int(config["threads"])))
    resume = RunFolder(folder).checkpoint.exists()
    trainer = Trainer(None if resume else trial.run, folder, resume=resume)
    spent, started = seconds_spent(folder), time.perf_counter()

    def elapsed() -> float:
        return spent + time.perf_counter() - started

    def report(record: EvaluationRecord) -> None:
        write_text_atomically(folder / PROGRESS_FILE, json.dumps({"seconds": elapsed()}))
        tune.report(_metrics(record.step, record.sequences, elapsed(), record.eval, trainer.task))

    result = _fit(trainer, config["budget"], spent, report)
    outcome = _finish(trainer, trial, result, elapsed(), config)
    tune.report(
        {
            **_metrics(
                result.step, result.sequences, outcome.seconds, result.last_eval, trainer.task
            ),
            "status": outcome.status,
        }
    )


def _load_task_source(source: list[str] | tuple[str, str, str] | None) -> None:
    """Make the module of a task defined in a user's file from the source that came with the
    trial, unless this process can already import it (`ntmkit.tasks.registry.task_source`)."""
    if source is None:
        return
    name, text, filename = source
    try:
        importlib.import_module(name)
    except ImportError:
        load_source(name, text, filename)


def _fit(trainer: Trainer, budget: float | None, spent: float, report) -> TrainResult:
    """Train for what is left of the budget; on any interruption save a checkpoint first."""
    left = None if budget is None else max(budget - spent, 1e-3)
    try:
        return trainer.fit(progress=False, time_limit=left, on_evaluation=report)
    except BaseException:  # Tune stopping the trial raises SystemExit from tune.report
        trainer.save()
        raise


def _finish(trainer, trial: TrialSpec, result: TrainResult, seconds: float, config) -> TrialOutcome:
    """The final generalisation test (eval.json), the report if asked, and trial.json."""
    table = trainer.final_sweep(grid=config["generalisation"])
    if config["report"]:
        from ..plots import write_report

        write_report(trainer.folder.root)
    outcome = TrialOutcome(
        setting=trial.setting,
        seed=trial.seed,
        status="converged" if result.converged else "not_converged",
        step=result.step,
        sequences=result.sequences,
        seconds=seconds,
        eval_error=None if result.last_eval is None else measure_of(result.last_eval, trainer.task),
        generalisation=tuple(
            _final_row(row, table["grid"], trainer.task.measure) for row in table["rows"]
        ),
    )
    write_outcome(trainer.folder.root, outcome)
    return outcome


def _final_row(row: dict[str, Any], grid: dict[str, Any], measure: str) -> dict[str, Any]:
    """A final-test row as the outcome keeps it: the test point, its error (`headline`) and,
    where it is another score, the task's own measure (`Task.measure`: dynamic n-grams' cost
    above the optimal predictor, ``excess_bits``; priority sort's cost, ``cost_bits``)."""
    error = headline(row)  # bit_errors, symbol_errors or mse
    kept = {**{k: row[k] for k in grid}, error: row[error]}
    score = getattr(Evaluation.from_row(row), measure)
    if score is not None:
        kept[measure] = score
    return kept


def _metrics(
    step: int, sequences: int, seconds: float, evaluation: Evaluation | None, task: Task
) -> dict[str, Any]:
    """What a trial reports to Tune: ``error`` (the metric: the task's measure, `measure_of`)
    at ``sequences`` (its time)."""
    error = float("inf") if evaluation is None else measure_of(evaluation, task)  # inf: none yet
    return {"error": error, "sequences": sequences, "step": step, "seconds": seconds}
