"""Crash safety: `kill -9` of `ntmkit train` at any moment, then `--resume`, gives the run an
uninterrupted one would have had; what a kill leaves behind never stops a command."""

import json
import random
import signal
import subprocess
import sys
import time

import pytest
from tiny_runs import tiny_run

from ntmkit.cli import build_parser, main
from ntmkit.cli.flags import run_from_flags
from ntmkit.presets import preset
from ntmkit.run.checkpoint import CheckpointError, load_checkpoint
from ntmkit.run.log import EvaluationRecord, StepRecord, read_log
from ntmkit.training.trainer import Trainer

FLAGS = ["--size", "2", "--max-length", "3", "--memory", "8x4", "--batch-size", "4",
         "--max-iter", "150", "--eval-every", "20", "--target-error", "0", "--no-progress",
         "--set", "train.eval_samples=20", "--set", "model.controller_size=8",
         "--set", "train.checkpoint_every=15"]  # fmt: skip
"""A tiny copy run of 150 steps, evaluated every 20 and checkpointed every 15."""

CHILD = """
import io, sys, time
import torch
from ntmkit.cli import main

pause_at = int(sys.argv[1])  # pause halfway through writing this checkpoint (0: never)
real_save, saves = torch.save, [0]

def half_then_pause(obj, handle, *args, **kwargs):
    saves[0] += 1
    if saves[0] != pause_at:
        return real_save(obj, handle, *args, **kwargs)
    data = io.BytesIO()
    real_save(obj, data, *args, **kwargs)
    handle.write(data.getvalue()[: len(data.getvalue()) // 2])
    handle.flush()
    print("MID-CHECKPOINT", flush=True)
    time.sleep(600)

torch.save = half_then_pause
sys.exit(main(sys.argv[2:]))
"""
"""`ntmkit train` in a child process; with a checkpoint number it stops halfway through writing
that checkpoint's file, to be killed there."""


def _comparable(records) -> list[tuple]:
    """What a resumed run must reproduce: each step's loss and errors, each evaluation."""
    rows = []
    for record in records:
        if isinstance(record, StepRecord):
            rows.append(("step", record.step, record.loss, record.bit_errors, record.lr))
        elif isinstance(record, EvaluationRecord):
            rows.append(("evaluation", record.step, record.eval.bit_errors, record.eval.cost_bits))
    return rows


def _start_child(out, pause_at: int) -> subprocess.Popen:
    argv = [sys.executable, "-c", CHILD, str(pause_at), "train", "copy", "--out", str(out), *FLAGS]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def _wait_for_line(child: subprocess.Popen, prefix: str) -> None:
    for line in child.stdout:
        if line.startswith(prefix):
            return
    raise AssertionError(f"the child ended before printing {prefix!r}")


@pytest.mark.slow
def test_kill_9_at_random_moments_and_mid_checkpoint_then_resume_gives_the_uninterrupted_run(
    tmp_path,
):
    run = run_from_flags(build_parser().parse_args(["train", "copy", *FLAGS]), preset("copy"))
    reference = Trainer(run, tmp_path / "reference")
    reference.fit(progress=False)
    expected = _comparable(read_log(reference.folder.metrics))
    chooser = random.Random(0)
    outcomes = []
    for trial in range(20):
        out = tmp_path / f"trial{trial}"
        pause_at = 2 + trial % 8 if trial % 3 == 0 else 0  # 7 of 20 die writing a checkpoint
        child = _start_child(out, pause_at)
        _wait_for_line(child, "MID-CHECKPOINT" if pause_at else "Training")
        if not pause_at:
            time.sleep(chooser.uniform(0.0, 1.5))
        child.send_signal(signal.SIGKILL)
        child.wait()
        outcomes.append(child.returncode)
        resumed = Trainer(None, out, resume=True)
        assert list(out.glob(".*.tmp")) == []  # what the kill left mid-write is gone
        resumed.fit(progress=False)
        records = read_log(resumed.folder.metrics)
        steps = [r.step for r in records if isinstance(r, StepRecord)]
        assert steps == list(range(1, 151)), f"trial {trial}: steps missing or repeated"
        assert _comparable(records) == expected, f"trial {trial}: resumed run differs"
        resumed.close()
    killed = sum(code == -signal.SIGKILL for code in outcomes)
    assert killed >= 15, f"only {killed} of 20 children were killed before they finished"


def test_a_checkpoint_exists_from_the_first_moment_of_a_new_run(tmp_path):
    trainer = Trainer(tiny_run(), tmp_path / "run")
    assert load_checkpoint(trainer.folder.checkpoint)["step"] == 0
    resumed = Trainer(None, tmp_path / "run", resume=True)
    assert resumed.step == 0


def test_log_records_after_the_checkpoint_are_dropped_on_resume_never_repeated(tmp_path):
    trainer = Trainer(tiny_run(max_iter=12, checkpoint_every=4), tmp_path / "run")
    trainer.fit(progress=False, stop_after=6)  # Ctrl-C's path: a checkpoint at step 6
    with trainer.folder.metrics.open("a") as log:  # as if the log had run on to step 9
        for step in (7, 8, 9):
            log.write(json.dumps({"kind": "step", "step": step, "sequences": 0, "time": 0.0,
                                  "loss": 1.0, "bit_errors": 0.0, "lr": 0.0,
                                  "seq_per_s": 0.0}) + "\n")  # fmt: skip
    resumed = Trainer(None, tmp_path / "run", resume=True)
    resumed.fit(progress=False)
    steps = [r.step for r in read_log(resumed.folder.metrics) if isinstance(r, StepRecord)]
    assert steps == list(range(1, 13))


CUT_SHORT = '{"kind": "step", "step": 13, "sequences": 104, "ti'


@pytest.fixture
def finished_run(tmp_path):
    out = tmp_path / "run"
    tiny = ["--size", "2", "--max-length", "3", "--memory", "8x4", "--batch-size", "4",
            "--max-iter", "8", "--eval-every", "4", "--no-progress"]  # fmt: skip
    assert main(["train", "copy", "--out", str(out), *tiny]) == 0
    return out


def test_a_log_line_cut_short_by_a_kill_stops_neither_resume_nor_plot_nor_report(
    finished_run, capsys
):
    with (finished_run / "metrics.jsonl").open("a") as log:
        log.write(CUT_SHORT)  # no newline: the write the kill interrupted
    resume = ["train", "--resume", str(finished_run), "--max-iter", "10", "--no-progress"]
    for argv in (["plot", str(finished_run)], ["report", str(finished_run)], resume):
        assert main(argv) == 0, capsys.readouterr().err
    text = (finished_run / "metrics.jsonl").read_text()
    assert CUT_SHORT not in text and text.endswith("\n")  # resume rewrote the log whole


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("metrics", "metrics.jsonl, line 2: not a metrics record"),
        ("config", "config.json is not a readable ntmkit run config (damaged or truncated JSON"),
        ("config-fields", "config.json: unknown run config field 'tsak'"),
    ],
)
def test_a_damaged_file_is_named_in_one_line_by_every_command(
    finished_run, damage, message, capsys
):
    log, config = finished_run / "metrics.jsonl", finished_run / "config.json"
    if damage == "metrics":
        lines = log.read_text().splitlines(keepends=True)
        log.write_text(lines[0] + lines[1][:20] + "\n" + "".join(lines[2:]))
    elif damage == "config":
        config.write_text(config.read_text()[:40])
    else:
        config.write_text(config.read_text().replace('"task"', '"tsak"'))
    before = {path.name: path.read_bytes() for path in finished_run.iterdir() if path.is_file()}
    commands = [["train", "--resume", str(finished_run), "--no-progress"]]
    if damage == "metrics":
        commands += [["plot", str(finished_run)], ["report", str(finished_run)]]
    for argv in commands:
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err
    after = {path.name: path.read_bytes() for path in finished_run.iterdir() if path.is_file()}
    assert after == before  # the refusal changed nothing on disk


def _losses(folder) -> list[float]:
    return [r.loss for r in read_log(folder / "metrics.jsonl") if isinstance(r, StepRecord)]


@pytest.mark.parametrize("killed_after", ["config", "log", "half_a_checkpoint"])
def test_a_run_killed_before_its_first_checkpoint_is_created_again_by_a_new_run_or_a_resume(
    tmp_path, killed_after
):
    """What a kill leaves at each moment of a run's creation: then a new run in the folder and
    a resume of it both train the run an uninterrupted one would have."""
    run = tiny_run(max_iter=6)
    reference = Trainer(run, tmp_path / "reference")
    reference.fit(progress=False)
    for start in ("new", "resume"):
        out = tmp_path / start
        Trainer(run, out).close()
        (out / "checkpoint.pt").unlink()  # as if killed before it was written
        if killed_after == "config":
            (out / "metrics.jsonl").unlink()
        elif killed_after == "half_a_checkpoint":
            payload = (reference.folder.checkpoint).read_bytes()
            (out / ".checkpoint.pt.x1y2.tmp").write_bytes(payload[: len(payload) // 2])
        trainer = Trainer(run if start == "new" else None, out, resume=start == "resume")
        assert list(out.glob(".*.tmp")) == []
        trainer.fit(progress=False)
        trainer.close()
        assert _losses(out) == _losses(reference.folder.root), start


def test_a_folder_whose_run_trained_is_never_taken_over_even_without_its_checkpoint(tmp_path):
    run = tiny_run(max_iter=4)
    trainer = Trainer(run, tmp_path / "run")
    trainer.fit(progress=False)
    trainer.close()
    (tmp_path / "run" / "checkpoint.pt").unlink()
    with pytest.raises(ValueError, match="already holds a run"):
        Trainer(run, tmp_path / "run")
    with pytest.raises(CheckpointError, match="no checkpoint at"):
        Trainer(None, tmp_path / "run", resume=True)
