"""Sweeps on a real local Ray: every trial is an ordinary run folder, reruns train nothing
twice, a killed sweep continues, ASHA's stops are recorded.

The in-process tests share one local Ray for the module (starting Ray takes seconds); the
kill test runs the command in its own process group, so that the kill takes Ray with it.
"""

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import ray
from tiny_runs import TINY_SETTINGS

from ntmkit.cli import main
from ntmkit.presets import preset
from ntmkit.run.log import StepRecord, of_kind, read_log
from ntmkit.sweep import SweepSpec, read_outcome, run_sweep
from ntmkit.sweep.early_stopping import GRACE_EVALUATIONS, asha
from ntmkit.sweep.ray_session import OBJECT_STORE_BYTES
from ntmkit.sweep.summary import SUMMARY_FILE
from ntmkit.training.trainer import Trainer

TINY = tuple(TINY_SETTINGS.items())
SHORT_TEST = (("length", (3, 6)),)


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             object_store_memory=OBJECT_STORE_BYTES)  # fmt: skip
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def finished_sweep(local_ray, tmp_path_factory):
    """A tiny copy sweep, 2 settings x 2 seeds, run to the end."""
    spec = SweepSpec("copy", seeds=2, grid=(("model.controller_size", (8, 16)),),
                     overrides=TINY, generalisation=SHORT_TEST)  # fmt: skip
    out = tmp_path_factory.mktemp("sweep")
    printed = io.StringIO()
    result = run_sweep(spec, out, stream=printed)
    return spec, out, result, printed.getvalue()


def test_every_trial_is_an_ordinary_run_folder_and_the_summary_counts_them(finished_sweep):
    spec, out, result, printed = finished_sweep
    assert result.complete and len(result.outcomes) == 4
    for trial in spec.trials(out):
        folder = Path(trial.folder)
        assert folder.parent.name == trial.setting and folder.name == f"seed{trial.seed}"
        assert main(["eval", str(folder), "--lengths", "3", "--samples", "5"]) == 0
        assert (folder / "report.html").is_file()
        assert f"{trial.setting} seed {trial.seed}: " in printed
    summary = json.loads((out / SUMMARY_FILE).read_text())
    assert summary["trials"] == summary["ended"] == 4
    for row in summary["settings"]:
        mine = [o for o in result.outcomes if o.setting == row["setting"]]
        assert row["finished"] == 2 and row["converged"] == sum(o.converged for o in mine)
        assert [p["length"] for p in row["generalisation"]] == [3, 6]
    page = (out / "report.html").read_text()
    assert page.count("/report.html'>") == 4 and (out / "sweep_curves.png").is_file()


def test_a_trial_trains_exactly_as_the_same_run_trained_alone(finished_sweep, tmp_path):
    spec, out, _, _ = finished_sweep
    trial = spec.trials(out)[3]
    Trainer(trial.run, tmp_path / "alone").fit(progress=False)

    def losses(folder):
        return [r.loss for r in of_kind(read_log(Path(folder) / "metrics.jsonl"), StepRecord)]

    assert losses(trial.folder) == losses(tmp_path / "alone")


def test_running_a_finished_sweep_again_trains_nothing(finished_sweep):
    spec, out, result, _ = finished_sweep
    logs = {t.folder: (Path(t.folder) / "metrics.jsonl").read_bytes() for t in spec.trials(out)}
    printed = io.StringIO()
    again = run_sweep(spec, out, stream=printed)
    assert "4 ended before" in printed.getvalue()
    assert again.outcomes == result.outcomes
    assert {f: (Path(f) / "metrics.jsonl").read_bytes() for f in logs} == logs


def test_a_trial_stops_at_its_budget_and_says_so(local_ray, tmp_path):
    spec = SweepSpec("copy", seeds=1, overrides=TINY, max_iter=10**6, budget=1.0,
                     generalisation=SHORT_TEST, trial_reports=False)  # fmt: skip
    (outcome,) = run_sweep(spec, tmp_path, stream=io.StringIO()).outcomes
    assert outcome.status in ("not_converged", "converged")
    assert outcome.status == "converged" or 1.0 <= outcome.seconds < 10.0
    assert outcome.step < 10**6


def test_asha_records_the_trials_it_stops_and_not_their_last_report():
    base = preset("copy").override(dict(TINY))
    scheduler = asha(base, max_sequences=10**6)
    grace = GRACE_EVALUATIONS * base.train.eval_every * base.train.batch_size
    trials = [SimpleNamespace(trial_id=name) for name in ("good", "bad", "last")]
    for trial in trials:
        scheduler.on_trial_add(None, trial)
    good, bad, last = trials
    assert scheduler.on_trial_result(None, good, {"sequences": grace, "error": 1.0}) == "CONTINUE"
    assert scheduler.on_trial_result(None, bad, {"sequences": grace, "error": 9.0}) == "STOP"
    final = {"sequences": grace, "error": 9.0, "status": "not_converged"}
    assert scheduler.on_trial_result(None, last, final) == "STOP"
    assert scheduler.stopped == {"bad"}


def test_an_asha_sweep_ends_every_trial_and_counts_the_stopped_ones(local_ray, tmp_path):
    overrides = (*TINY, ("train.eval_every", 1), ("train.max_iter", 60))
    spec = SweepSpec("copy", seeds=4, overrides=overrides, scheduler="asha",
                     generalisation=SHORT_TEST, trial_reports=False)  # fmt: skip
    result = run_sweep(spec, tmp_path, stream=io.StringIO())
    assert result.complete
    stopped = [o for o in result.outcomes if o.status == "stopped"]
    assert result.rows[0]["stopped_early"] == len(stopped)
    for outcome in stopped:
        folder = tmp_path / outcome.setting / f"seed{outcome.seed}"
        assert outcome.generalisation == () and not (folder / "eval.json").exists()
        assert outcome.sequences >= GRACE_EVALUATIONS * 8  # never before the grace period


@pytest.mark.slow
def test_a_killed_sweep_run_again_finishes_every_trial_exactly_once(tmp_path):
    out = tmp_path / "sweep"
    argv = [sys.executable, "-m", "ntmkit", "sweep", "copy", "--seeds", "2", "--out", str(out),
            "--grid", "train.max_iter=20,1500", "--cpus-per-trial", "0.5",
            "--no-trial-reports"]  # fmt: skip
    for key, value in TINY:
        if key != "train.max_iter":
            argv += ["--set", f"{key}={json.dumps(value)}"]
    first = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)  # fmt: skip
    try:
        _wait_for_an_ended_and_a_resumable_trial(out, timeout=180)
    finally:
        _kill_process_tree(first.pid)  # the command and every Ray process it started
        first.wait()
    finished = _ended_trials(out)
    spec = SweepSpec.from_json((out / "sweep.json").read_text())
    ended_before = {f: (Path(f) / "metrics.jsonl").read_bytes() for f in finished}
    unfinished = [t for t in spec.trials(out) if t.folder not in ended_before]
    assert unfinished, "the kill came after the whole sweep"
    assert _resumable_trials(out), "no unfinished trial had a checkpoint to resume from"
    again = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    for trial in spec.trials(out):
        outcome = read_outcome(trial.folder)
        assert outcome is not None
        steps = [
            r.step for r in of_kind(read_log(Path(trial.folder) / "metrics.jsonl"), StepRecord)
        ]
        assert steps == list(range(1, outcome.step + 1))  # every step once, none twice
    for folder, log in ended_before.items():
        assert (Path(folder) / "metrics.jsonl").read_bytes() == log  # not trained again
    assert f"{len(ended_before)} ended before" in again.stdout


def _kill_process_tree(pid: int) -> None:
    """SIGKILL ``pid`` and every process it started, until none is left. Ray's trial workers
    run in process groups of their own, so killing the command's group alone leaves them a
    moment in which they could still write; one started while the others are being killed
    is caught by the next round (by its session, as its parent may be gone by then)."""
    deadline = time.monotonic() + 60  # a process inside a disk write dies when it returns
    while members := _tree_and_session(pid):
        if time.monotonic() > deadline:
            raise AssertionError(f"processes of the sweep outlived 60 s of SIGKILL: {members}")
        for member in members:
            with contextlib.suppress(ProcessLookupError):
                os.kill(member, signal.SIGKILL)
        time.sleep(0.05)


def _tree_and_session(pid: int) -> list[int]:
    """The live (not zombie) processes descended from ``pid`` or in its session (the command
    was started with ``start_new_session``, so its session id is ``pid``)."""
    children: dict[int, list[int]] = {}
    live, found = set(), {pid}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        member = int(stat.parent.name)
        children.setdefault(int(fields[1]), []).append(member)
        live.update([member] if fields[0] != "Z" else [])
        found.update([member] if int(fields[3]) == pid else [])
    todo = [pid]
    while todo:
        todo += children.get(todo.pop(), [])
        found.update(todo)
    return sorted(found & live)


def _ended_trials(out: Path) -> list[str]:
    return [str(path.parent) for path in out.glob("*/seed*/trial.json")]


def _resumable_trials(out: Path) -> list[str]:
    """Unfinished trials with a checkpoint to resume from."""
    ended = set(_ended_trials(out))
    return [str(p.parent) for p in out.glob("*/seed*/checkpoint.pt") if str(p.parent) not in ended]


def _wait_for_an_ended_and_a_resumable_trial(out: Path, timeout: float) -> None:
    """Until one trial has ended and another has checkpointed (the moment to kill the sweep)."""
    deadline = time.monotonic() + timeout
    while not (_ended_trials(out) and _resumable_trials(out)):
        if time.monotonic() > deadline:
            raise AssertionError(f"no trial of {out} ended and another checkpointed in {timeout} s")
        time.sleep(0.2)


def test_a_trial_killed_while_its_run_was_created_trains_when_the_sweep_runs_again(
    local_ray, tmp_path
):
    spec = SweepSpec("copy", seeds=2, overrides=TINY, generalisation=SHORT_TEST,
                     trial_reports=False)  # fmt: skip
    first, _ = spec.trials(tmp_path)
    Trainer(first.run, first.folder).close()
    (Path(first.folder) / "checkpoint.pt").unlink()  # killed before its first checkpoint
    result = run_sweep(spec, tmp_path, stream=io.StringIO())
    assert result.complete and all(o.step == first.run.train.max_iter for o in result.outcomes)


def test_a_failed_trial_is_named_with_its_error_and_the_sweep_says_it_has_not_ended(
    local_ray, tmp_path
):
    spec = SweepSpec("copy", seeds=2, overrides=TINY, generalisation=SHORT_TEST,
                     trial_reports=False)  # fmt: skip
    first, _ = spec.trials(tmp_path)
    Path(first.folder).mkdir(parents=True)
    (Path(first.folder) / "notes.txt").write_text("mine")
    printed = io.StringIO()
    result = run_sweep(spec, tmp_path, stream=printed)
    assert not result.complete and len(result.outcomes) == 1
    text = printed.getvalue()
    assert f"{first.setting} seed 0: failed: ValueError: {first.folder} is not empty" in text
    assert "1 of 2 trials have ended; run the same command again" in text
