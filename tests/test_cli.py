"""The ntmkit command: flags reach the config, bad input gives one-line errors."""

import json

import pytest
import torch

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


def test_resume_with_lr_goes_on_at_that_constant_rate(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "copy", "--out", str(out), *TINY]) == 0
    argv = ["train", "--resume", str(out), "--max-iter", "5", "--lr", "1e-4", "--no-progress"]
    assert main(argv) == 0
    config = json.loads((out / "config.json").read_text())["train"]
    assert config["lr"] == 1e-4 and config["lr_drop"] is None and config["max_iter"] == 5
    steps = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["lr"] for r in steps if r["kind"] == "step" and r["step"] > 3] == [1e-4, 1e-4]


@pytest.mark.parametrize(
    "flags",
    [["--batch-size", "8"], ["--seed", "3"], ["--set", "train.clip=1"], ["copy"],
     ["--preset", "paper"], ["--device", "cpu"]],
)  # fmt: skip
def test_resume_refuses_flags_it_would_ignore(tmp_path, capsys, flags):
    out = tmp_path / "run"
    assert main(["train", "copy", "--out", str(out), *TINY]) == 0
    capsys.readouterr()
    before = (out / "metrics.jsonl").read_text()
    assert main(["train", "--resume", str(out), "--max-iter", "5", *flags]) == 2
    error = capsys.readouterr().err.strip()
    name = "TASK" if flags == ["copy"] else flags[0]
    assert error.startswith("ntmkit train: error: --resume goes on with the run's own settings")
    assert f"so {name} cannot apply" in error and "\n" not in error
    assert (out / "metrics.jsonl").read_text() == before  # nothing trained


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "copy", "--set", "model.memory_size=3"], "unknown setting 'model.memory_size'"),
        (
            ["train", "copy", "--set", "model.memory=sam"],
            "model.memory must be one of ntm, dnc, got 'sam'",
        ),
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


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--device", "cuda:7"], "train.device must be a device this machine has (cpu"),
        (["--device", "gpu"], "train.device must be a torch device such as cpu or cuda:0"),
        (["--time-limit", "-5"], "--time-limit must be a finite number > 0, got -5.0"),
        (["--threads", "0"], "--threads must be an integer >= 1, got 0"),
    ],
)
def test_bad_device_time_limit_and_threads_are_refused_before_anything_is_written(
    flags, message, tmp_path, capsys
):
    out = tmp_path / "run"
    assert main(["train", "copy", "--out", str(out), *TINY, *flags]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not out.exists()


@pytest.fixture(scope="module")
def repeat_copy_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "repeat"
    assert (
        main(["train", "repeat_copy", "--out", str(out), *TINY, "--set", "task.max_repeats=3"]) == 0
    )
    return out


def test_eval_with_one_value_of_a_flag_pins_it_while_another_flag_sweeps(repeat_copy_run, capsys):
    argv = ["eval", str(repeat_copy_run), "--lengths", "4", "--repeats", "1,2,5", "--samples", "3"]
    assert main(argv) == 0
    result = json.loads((repeat_copy_run / "eval.json").read_text())
    assert result["grid"] == {"length": [4], "repeats": [1, 2, 5]}
    assert [(row["length"], row["repeats"]) for row in result["rows"]] == [(4, 1), (4, 2), (4, 5)]
    assert "length   repeats" in capsys.readouterr().out


def test_eval_with_two_swept_flags_prints_a_two_way_table(repeat_copy_run, capsys):
    argv = ["eval", str(repeat_copy_run), "--lengths", "2,4", "--repeats", "1,5", "--samples", "3"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "length (rows) x repeats (columns)" in printed
    table = printed.split("length (rows) x repeats (columns)")[1].splitlines()
    assert table[1].split() == ["length", "repeats=1", "repeats=5"]
    assert [line.split()[0] for line in table[2:4]] == ["2", "4"]
    rows = json.loads((repeat_copy_run / "eval.json").read_text())["rows"]
    assert len(rows) == 4


def test_eval_of_a_flag_the_task_does_not_have_names_the_valid_ones(repeat_copy_run, capsys):
    assert main(["eval", str(repeat_copy_run), "--items", "3", "--samples", "2"]) == 2
    assert "unknown repeat_copy sample override 'items'; valid: length, repeats" in (
        capsys.readouterr().err
    )


def test_cli_choices_come_from_the_vocabulary():
    from ntmkit.cli import build_parser
    from ntmkit.vocabulary import ControllerKind, OptimizerName, PresetName, Scope, names

    parser = build_parser()
    subcommands = next(a for a in parser._actions if a.dest == "command").choices
    train = {a.dest: a for a in subcommands["train"]._actions}
    evaluate = {a.dest: a for a in subcommands["eval"]._actions}
    assert tuple(train["controller"].choices) == names(ControllerKind)
    assert tuple(train["optimizer"].choices) == names(OptimizerName)
    assert tuple(train["preset"].choices) == names(PresetName)
    assert tuple(evaluate["scope"].choices) == names(Scope)


def test_version_names_ntmkit_and_torch(capsys):
    import ntmkit

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert (
        capsys.readouterr().out.strip()
        == f"ntmkit {ntmkit.__version__} (torch {torch.__version__})"
    )


def test_one_flag_table_drives_parser_settings_resume_and_help():
    from ntmkit.cli import build_parser
    from ntmkit.cli.flags import TRAIN_FLAGS, help_of
    from ntmkit.presets import preset
    from ntmkit.training.resume import RESUMABLE

    keys = preset("copy", "fast").override_keys() | {"task.train", "task.val"}  # data's
    train_help = build_parser()._subparsers._group_actions[0].choices["train"].format_help()
    for flag in TRAIN_FLAGS:
        assert flag.name in train_help and help_of(flag), flag.name
        if flag.setting is not None:
            assert flag.setting in keys, flag.name
            assert flag.setting in help_of(flag), flag.name  # the help names the setting
        if flag.on_resume and flag.setting is not None:
            assert flag.setting in RESUMABLE, flag.name


def test_a_flag_with_a_setting_sets_exactly_what_set_would():
    from ntmkit.cli.flags import TRAIN_FLAGS

    by_flag = ["train", "copy", "--batch-size", "3", "--lr", "0.002", "--controller", "gru",
               "--memory", "16x6", "--max-length", "7", "--read-heads", "2"]  # fmt: skip
    by_set = ["train", "copy", "--set", "train.batch_size=3", "--set", "train.lr=0.002",
              "--set", "model.controller=gru", "--set", "model.num_slots=16",
              "--set", "model.word_size=6", "--set", "task.max_length=7",
              "--set", "model.read_heads=2"]  # fmt: skip
    from ntmkit.cli import build_parser
    from ntmkit.cli.flags import run_from_flags
    from ntmkit.presets import preset

    start = preset("copy", "fast")
    runs = [run_from_flags(build_parser().parse_args(argv), start) for argv in (by_flag, by_set)]
    assert runs[0] == runs[1] != start
    assert len(TRAIN_FLAGS) == len({flag.name for flag in TRAIN_FLAGS})
