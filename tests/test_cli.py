"""The ntmkit command: flags reach the config, bad input gives one-line errors."""

import json

import pytest

from ntmkit.cli import main, parse_assignment, parse_memory

TINY = ["--size", "2", "--max-length", "3", "--memory", "8x4", "--batch-size", "4",
        "--max-iter", "3", "--eval-every", "3", "--no-progress", "--set", "train.eval_samples=20",
        "--set", "model.controller_size=8"]  # fmt: skip


def test_train_then_eval_writes_run_folder_and_table(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "copy", "--out", str(out), *TINY]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["model"]["num_slots"] == 8 and config["task_config"]["size"] == 2
    assert main(["eval", str(out), "--lengths", "2,4", "--samples", "5"]) == 0
    printed = capsys.readouterr().out
    assert "bit errors/seq" in printed
    rows = json.loads((out / "eval.json").read_text())["rows"]
    assert [row["length"] for row in rows] == [2, 4]


def test_interrupted_run_resumes_from_its_folder(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "copy", "--out", str(out), *TINY]) == 0
    assert main(["train", "--resume", str(out), "--max-iter", "5", "--no-progress"]) == 0
    assert "Resuming" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "copy", "--set", "model.memory=3"], "unknown setting 'model.memory'"),
        (["train", "copy", "--set", "oops"], "--set expects KEY=VALUE"),
        (["train", "copy", "--memory", "12"], "--memory expects SLOTSxWORD"),
        (["train", "copy", "--lr", "-1"], "train.lr must be a finite number > 0"),
        (["train", "copy", "--set", "model.num_shifts=4"], "num_shifts must be odd"),
        (["train"], "train needs a TASK"),
        (["eval", "/nonexistent/run"], "no checkpoint at /nonexistent/run"),
    ],
)
def test_bad_flags_give_a_one_line_error_and_exit_code_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_parsers_read_json_values_and_memory_shapes():
    assert parse_assignment("train.lr=3e-4") == ("train.lr", 3e-4)
    assert parse_assignment("model.shift_mode=circular") == ("model.shift_mode", "circular")
    assert parse_memory("128x20") == (128, 20)
