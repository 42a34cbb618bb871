"""One writer per run folder: a second process is refused in one line, a dead holder's lock is
taken over."""

import os
import signal
import subprocess
import sys

from tiny_runs import tiny_run

from ntmkit.cli import main
from ntmkit.run.lock import LOCK_FILE, RunLock
from ntmkit.training.trainer import Trainer

HOLDER = """
import sys, time
from ntmkit.run.lock import RunLock
RunLock(sys.argv[1]).acquire()
print("HOLDING", flush=True)
time.sleep(600)
"""


def _holder(folder) -> subprocess.Popen:
    """Another process holding the lock of ``folder``, as a training process would."""
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(folder)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout.readline().strip() == "HOLDING"
    return child


def _snapshot(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def test_a_second_writer_is_refused_in_one_line_naming_the_holder_and_changes_nothing(
    tmp_path, capsys
):
    out = tmp_path / "run"
    Trainer(tiny_run(), out).close()  # an existing run, then another process trains it
    holder = _holder(out)
    before = _snapshot(out)
    try:
        overwrite = ["train", "copy", "--out", str(out), "--overwrite", "--no-progress"]
        for argv in (overwrite, ["train", "--resume", str(out), "--no-progress"]):
            assert main(argv) == 2
            err = capsys.readouterr().err.strip().splitlines()
            assert (
                len(err) == 1 and f"in use by another ntmkit process (pid {holder.pid})" in err[0]
            )
        assert _snapshot(out) == before
    finally:
        holder.kill()
        holder.wait()


def test_the_lock_of_a_killed_process_is_taken_over(tmp_path):
    out = tmp_path / "run"
    holder = _holder(out)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert (out / LOCK_FILE).read_text().strip() == str(holder.pid)  # left behind
    trainer = Trainer(tiny_run(), out)
    assert (out / LOCK_FILE).read_text().strip() == str(os.getpid())
    trainer.close()


def test_the_lock_is_reentrant_within_a_process_and_released_by_the_last_holder(tmp_path):
    first = Trainer(tiny_run(), tmp_path / "run")
    first.fit(progress=False)
    second = Trainer(None, tmp_path / "run", resume=True)  # e.g. a notebook reopening the run
    first.close()
    assert second.lock.held
    second.close()
    probe = subprocess.run(
        [sys.executable, "-c", HOLDER.replace("time.sleep(600)", ""), str(tmp_path / "run")],
        capture_output=True,
        text=True,
    )
    assert probe.stdout.strip() == "HOLDING"  # free for other processes again
    assert not RunLock(tmp_path / "run").held
