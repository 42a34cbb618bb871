"""Running a sweep: every trial not yet ended as a Ray Tune trial, then the summary, the
curves and the report.

The sweep folder is the record: ``sweep.json`` (what the sweep runs), one run folder per trial
with its ``trial.json`` once ended, ``summary.json``, ``sweep_curves.png``, ``report.html``,
``ray.log`` (everything Ray printed) and ``ray_results/`` (Tune's own files). Running the same
sweep again trains only the trials without a ``trial.json``, resuming them from their
checkpoints.
"""

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from ..presets import describe
from ..run.files import write_text_atomically
from ..tasks import BUILT_IN
from ..tasks.registry import task_source
from .grid import Setting
from .ray_session import output_to, ray_session
from .spec import SPEC_FILE, SweepSpec, TrialSpec
from .summary import SUMMARY_FILE, format_table, summarize, to_json
from .trial import TrialOutcome, read_outcome

RAY_LOG = "ray.log"
TUNE_FOLDER = "ray_results"


@dataclass(frozen=True)
class SweepResult:
    """What a call to `run_sweep` leaves: the summary rows and the trials ended so far."""

    rows: list[dict[str, Any]]
    outcomes: list[TrialOutcome]
    trials: int

    @property
    def complete(self) -> bool:
        return len(self.outcomes) == self.trials


def run_sweep(
    spec: SweepSpec,
    out: str | Path,
    address: str | None = None,
    stream: TextIO | None = None,
    num_cpus: int | None = None,
) -> SweepResult:
    """Run (or continue) the sweep ``spec`` in the folder ``out``.

    Args:
      address: a Ray cluster to join (``"auto"`` or ``HOST:PORT``); None starts Ray locally
        with ``num_cpus`` CPUs (default: all of them) and stops it at the end.
      stream: where progress and the table go (default: the terminal's stdout; Ray's own
        output goes to ``out/ray.log`` either way).
    """
    out = Path(out).resolve()
    settings = spec.settings()  # a bad grid key or value fails here, before anything is written
    _claim(out, spec)
    trials = spec.trials(out)
    pending = [trial for trial in trials if read_outcome(trial.folder) is None]
    headline = _headline(spec, settings, trials, len(trials) - len(pending), out)
    if not pending:
        print(headline, file=stream, flush=True)
        return _conclude(spec, out, settings, trials, stream)
    with output_to(out / RAY_LOG) as terminal:
        stream = stream or terminal
        print(headline, file=stream, flush=True)
        with ray_session(address, num_cpus):
            _run_trials(spec, out, pending, len(trials), stream)
        return _conclude(spec, out, settings, trials, stream)


def _claim(out: Path, spec: SweepSpec) -> None:
    """Write ``sweep.json``, or check that the one there describes this same sweep."""
    path = out / SPEC_FILE
    if path.is_file():
        try:
            saved = SweepSpec.from_json(path.read_text())
        except (ValueError, TypeError, KeyError) as error:  # JSONDecodeError is a ValueError
            raise ValueError(f"{path} is not a readable ntmkit sweep spec: {error}") from None
        spec.check_continues(saved, out)
    else:
        out.mkdir(parents=True, exist_ok=True)
        write_text_atomically(path, spec.to_json())


def _headline(spec: SweepSpec, settings: list[Setting], trials: list, done: int, out: Path) -> str:
    before = f", {done} ended before" if done else ""
    return (
        f"Sweep {describe(spec.base_run())}\n{len(settings)} setting(s) x {spec.seeds} seed(s) "
        f"= {len(trials)} trials{before} -> {out} (Ray's output: {out / RAY_LOG})"
    )


def _run_trials(spec: SweepSpec, out: Path, pending: list[TrialSpec], total: int, stream) -> None:
    from ray import tune

    from .early_stopping import asha
    from .progress import SweepProgress
    from .trial import train_trial

    ended = [o for o in (read_outcome(t.folder) for t in spec.trials(out)) if o is not None]
    base = spec.base_run()
    longest = max(t.run.train.max_iter * t.run.train.batch_size for t in pending)
    scheduler = asha(base, longest) if spec.scheduler == "asha" else None
    progress = SweepProgress(
        stream, total, ended, scheduler.stopped if scheduler else None, out / RAY_LOG
    )
    resources = {"cpu": spec.cpus_per_trial, "gpu": spec.gpus_per_trial}
    tuner = tune.Tuner(
        tune.with_resources(train_trial, {k: v for k, v in resources.items() if v}),
        param_space={
            "trial": tune.grid_search([trial.to_dict() for trial in pending]),
            "budget": spec.budget,
            "threads": max(1, int(spec.cpus_per_trial)),
            "generalisation": spec.generalisation_grid(),
            "report": spec.trial_reports,
            # A task defined in a file of the user's travels with the trial, so a worker on
            # another machine (or without the file's folder on its path) can load it.
            "task_source": task_source(spec.task, BUILT_IN),
        },
        tune_config=tune.TuneConfig(
            reuse_actors=True,
            scheduler=scheduler,
            trial_name_creator=_trial_name,
            trial_dirname_creator=_trial_name,
        ),
        run_config=tune.RunConfig(
            name=time.strftime("sweep-%Y%m%d-%H%M%S"),
            storage_path=str(out / TUNE_FOLDER),
            verbose=0,
            callbacks=[progress],
        ),
    )
    try:
        tuner.fit()
    finally:
        progress.close()


def _trial_name(trial) -> str:
    spec = trial.config["trial"]
    return f"{spec['setting'][:80]}-seed{spec['seed']}"


def _conclude(spec: SweepSpec, out: Path, settings, trials: list[TrialSpec], stream) -> SweepResult:
    """summary.json, the table, sweep_curves.png and report.html from the trials' folders."""
    outcomes = [o for o in (read_outcome(t.folder) for t in trials) if o is not None]
    rows = summarize(settings, outcomes, spec.seeds)
    result = SweepResult(rows, outcomes, len(trials))
    meta = {
        "sweep": spec.to_dict(),
        "trials": len(trials),
        "ended": len(outcomes),
        "stopped_early": sum(o.status == "stopped" for o in outcomes),
    }
    write_text_atomically(out / SUMMARY_FILE, to_json(rows, meta))
    table = format_table(rows, spec.budget)
    print(table, file=stream, flush=True)
    if not result.complete:
        print(
            f"{len(outcomes)} of {len(trials)} trials have ended; run the same command "
            "again to continue the others",
            file=stream,
            flush=True,
        )
    _draw(spec, out, settings, trials, outcomes, table)
    return result


def _draw(spec, out: Path, settings, trials: list[TrialSpec], outcomes, table: str) -> None:
    from ..plots.sweep_curves import SWEEP_CURVES, save_sweep_curves
    from ..plots.sweep_report import write_sweep_report

    folders = {s.name: [t.folder for t in trials if t.setting == s.name] for s in settings}
    save_sweep_curves(out / SWEEP_CURVES, folders)
    status = {(o.setting, o.seed): o.status.replace("_", " ") for o in outcomes}
    listed = [
        {
            "setting": t.setting,
            "seed": t.seed,
            "folder": t.folder,
            "status": status.get((t.setting, t.seed), "not ended"),
        }
        for t in trials
    ]
    write_sweep_report(out, _title(spec), table, listed)


def _title(spec: SweepSpec) -> str:
    grid = "; ".join(f"{key} in {list(values)}" for key, values in spec.grid) or "no grid"
    return f"{describe(spec.base_run())}; {grid}; seeds {spec.first_seed}-" + str(
        spec.first_seed + spec.seeds - 1
    )
