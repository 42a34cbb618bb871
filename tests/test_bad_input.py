"""Bad input, everywhere, by tables: every config field with wrong types, NaN/inf, empty and huge
values; CLI flags; model inputs; damaged files; disks that refuse writes. Each gives a one-line
error naming the field or file, exit code 2 from the CLI, and changes nothing on disk."""

import dataclasses
import errno
import json
import math
import pickle
import shutil
import types
import typing
from pathlib import Path

import numpy as np
import pytest
import torch

from ntmkit import NTM, NTMConfig
from ntmkit.cli import main
from ntmkit.presets import preset
from ntmkit.run.config import RunConfig
from ntmkit.run.train_config import SCHEDULES, TrainConfig
from ntmkit.vocabulary import TaskName, names

HUGE = 10**30
BAD_VALUES: dict[str, list] = {
    "bool": ["abc", "", 1, 0.5, None, math.nan, [True]],
    "int": ["abc", "", "5", 1.5, True, None, math.nan, math.inf, -math.inf, [1], {}, HUGE],
    "float": ["abc", "", "0.1", True, None, math.nan, math.inf, -math.inf, [1.0], {}],
    "optional_float": ["abc", "", True, math.nan, math.inf, -math.inf, [1.0]],
    "optional_int": ["abc", "", 1.5, True, math.nan, math.inf, [1], HUGE],
    "choice": ["", "no-such-name", 3, None, [1], {}],
    "object": [5, "", [1], {"no_such_field": 1}],
}
"""Values that are wrong for every field of a kind (wrong type, not finite, empty, huge)."""


def _kind(annotation) -> str:
    if annotation is bool:
        return "bool"
    if annotation is int:
        return "int"
    if annotation is float:
        return "float"
    if annotation is str or typing.get_origin(annotation) is typing.Literal:
        return "choice"
    if isinstance(annotation, types.UnionType) and set(annotation.__args__) == {float, type(None)}:
        return "optional_float"
    if isinstance(annotation, types.UnionType) and set(annotation.__args__) == {int, type(None)}:
        return "optional_int"
    return "object"


def _annotation(run: RunConfig, key: str):
    section, *path = key.split(".")
    cls = {"task": type(run.task_config), "model": NTMConfig, "train": TrainConfig}[section]
    for depth, name in enumerate(path):
        hint = typing.get_type_hints(cls)[name]
        if depth == len(path) - 1:
            return hint
        nested = [a for a in getattr(hint, "__args__", (hint,)) if dataclasses.is_dataclass(a)]
        cls = nested[0]
    raise AssertionError(key)


def base_run(task: str) -> RunConfig:
    """The task's fast preset with every schedule set (so each of their fields is tested)."""
    run = preset(task, "fast")
    schedules = {
        "train.lr_drop": {"threshold": 0.1, "low_lr": 1e-4},
        "train.restart": {"after": 100, "limit": 2, "above": 1.0},
    }
    if hasattr(run.task_config, "max_length"):  # a curriculum grows max_length
        schedules["train.curriculum"] = {"threshold": 0.1, "cap": 2 * run.task_config.max_length}
    return run.override({k: v for k, v in schedules.items() if getattr(run.train, k[6:]) is None})


def config_cases(task: str) -> list[tuple[str, object]]:
    """Every (key, bad value) pair of the table for one task's settings."""
    run = base_run(task)
    cases = []
    for key in sorted(run.override_keys()):
        kind = _kind(_annotation(run, key))
        if key in ("train.device",):
            kind = "choice"  # a device string: the empty string and nonsense are wrong
        cases += [(key, value) for value in BAD_VALUES[kind]]
    return cases


def _named(key: str, message: str) -> bool:
    """The message is one line naming the key; a field of a nested setting may be named by
    that setting (``train.curriculum`` for ``train.curriculum.cap`` on a task that cannot
    have a curriculum)."""
    parts = key.split(".")
    names_it = key in message or (len(parts) == 3 and ".".join(parts[:2]) in message)
    return names_it and "\n" not in message


@pytest.mark.parametrize("task", names(TaskName))
def test_every_config_field_refuses_wrong_types_non_finite_empty_and_huge_values(task):
    run = base_run(task)
    wrong = []
    for key, value in config_cases(task):
        try:
            run.override({key: value})
        except ValueError as error:
            if not _named(key, str(error)):
                wrong.append(f"{key}={value!r}: message does not name it: {error}")
        except Exception as error:  # anything but a one-line ValueError is a defect
            wrong.append(f"{key}={value!r}: {type(error).__name__}: {error}")
        else:
            wrong.append(f"{key}={value!r}: accepted")
    assert not wrong, "\n".join(wrong)


def test_schedule_fields_are_all_in_the_table():
    keys = preset("copy", "fast").override_keys()
    assert {f"train.{name}" for name in SCHEDULES} <= keys


# ---- the command line -----------------------------------------------------------------------

TINY = ["--size", "2", "--max-length", "3", "--memory", "8x4", "--max-iter", "3", "--no-progress"]

CLI_CASES = [
    # train: flags with wrong types, out of range, not finite, empty, huge
    (["train", "copy", "--batch-size", "abc"], "argument --batch-size: invalid int value"),
    (["train", "copy", "--batch-size", "0"], "train.batch_size must be an integer >= 1"),
    (["train", "copy", "--batch-size", str(HUGE)], "train.batch_size must be an integer <= 65536"),
    (["train", "copy", "--max-iter", "-1"], "train.max_iter must be an integer >= 1"),
    (["train", "copy", "--max-iter", str(HUGE)], "train.max_iter must be an integer >= 1 and <="),
    (["train", "copy", "--seed", "-1"], "train.seed must be an integer >= 0"),
    (["train", "copy", "--size", "0"], "task.size must be an integer >= 1"),
    (["train", "copy", "--size", ""], "argument --size: invalid int value: ''"),
    (["train", "copy", "--min-length", "0"], "task.min_length must be an integer >= 1"),
    (["train", "copy", "--min-length", "9", "--max-length", "3"], "task.max_length must be"),
    (["train", "copy", "--max-length", str(HUGE)], "task.max_length must be an integer <= 65536"),
    (["train", "copy", "--read-heads", "0"], "model.read_heads must be an integer >= 1"),
    (
        ["train", "copy", "--write-heads", "100000"],
        "model.write_heads must be an integer >= 1 and <= 64",
    ),
    (["train", "copy", "--set", "model.controller_size=100000"], "model.controller_size must be"),
    (["train", "copy", "--eval-every", "0"], "train.eval_every must be an integer >= 1"),
    (["train", "copy", "--lr", "nan"], "train.lr must be a finite number > 0, got nan"),
    (["train", "copy", "--lr", "inf"], "train.lr must be a finite number > 0, got inf"),
    (["train", "copy", "--lr", "0"], "train.lr must be a finite number > 0"),
    (["train", "copy", "--lr", "1e999"], "train.lr must be a finite number > 0, got inf"),
    (["train", "copy", "--clip", "-1"], "train.clip must be a finite number >= 0"),
    (["train", "copy", "--clip", "nan"], "train.clip must be a finite number >= 0"),
    (["train", "copy", "--target-error=-inf"], "train.target_error must be a finite number"),
    (["train", "copy", "--time-limit", "0"], "--time-limit must be a finite number > 0"),
    (["train", "copy", "--time-limit", "nan"], "--time-limit must be a finite number > 0"),
    (["train", "copy", "--controller", "cnn"], "argument --controller: invalid choice: 'cnn'"),
    (["train", "copy", "--optimizer", "sgd"], "argument --optimizer: invalid choice: 'sgd'"),
    (["train", "copy", "--preset", "best"], "argument --preset: invalid choice: 'best'"),
    (["train", "cpy"], "task must be one of copy, repeat_copy, "),
    (["train", "copy", "--memory", "0x20"], "model.num_slots must be an integer >= 1"),
    (["train", "copy", "--memory", "128x"], "--memory expects SLOTSxWORD like 128x20"),
    (["train", "copy", "--memory", "100000x20"], "model.num_slots must be an integer <= 65536"),
    (["train", "copy", "--memory", "60000x60000"], "model.word_size must be at most"),
    (["train", "copy", "--device", ""], "train.device must be a torch device"),
    (["train", "copy", "--device", "cuda:7"], "train.device must be a device this machine has"),
    (["train", "copy", "--set", ""], "--set expects KEY=VALUE, got ''"),
    (["train", "copy", "--set", "=1"], "unknown setting ''"),
    (["train", "copy", "--set", "train.lr="], "train.lr must be a finite number > 0, got ''"),
    (["train", "copy", "--set", "train.lr=NaN"], "train.lr must be a finite number > 0, got nan"),
    (["train", "copy", "--set", "train.lr=Infinity"], "train.lr must be a finite number > 0"),
    (["train", "copy", "--set", "train.batch_size=8.5"], "train.batch_size must be an integer"),
    (["train", "copy", "--set", "train.score=every"], "train.score must be one of output, all"),
    (["train", "copy", "--set", "train.lr_drop=3"], "train.lr_drop must be null or an object"),
    (["train", "copy", "--set", "model.memory_init_value=NaN"], "model.memory_init_value must"),
    (["train", "copy", "--threads", "0"], "--threads must be an integer >= 1"),
    (["train", "copy", "--threads", "x"], "argument --threads: invalid int value: 'x'"),
    (["train", "--resume", "no/such/run"], "no run folder at no/such/run to resume"),
    (["train", "copy", *TINY], "RUN already holds a run: continue it with `ntmkit train --resume"),
    (["train", "--resume", "RUN", "--overwrite"], "so --overwrite cannot apply"),
    # tasks of one's own and data sets
    (["train", "no_such_module:MyTask"], "cannot import no_such_module: ModuleNotFoundError"),
    (["train", "nosuchfile.py:MyTask"], "no file"),
    (["train", "json:JSONDecoder"], "must be a subclass of ntmkit.tasks.Task"),
    (["train", "json:NoSuchClass"], "json has no 'NoSuchClass'"),
    (["train", "json:"], "an import path is MODULE:CLASS or FILE.py:CLASS"),
    (["train", "--data", "missing.npz"], "no data set at missing.npz"),
    (["eval", "RUN", "--at", "length"], "--at expects NAME=V1,V2 like pairs=5,10"),
    (["eval", "RUN", "--at", "pairs=2"], "copy sample override 'pairs'"),
    # eval, plot, animate, report, pretrained
    (["eval", "RUN", "--samples", "0"], "--samples must be an integer >= 1, got 0"),
    (["eval", "RUN", "--lengths", "a,b"], "--lengths expects comma-separated integers"),
    (["eval", "RUN", "--lengths", "0"], "--lengths must be an integer >= 1, got 0"),
    (["eval", "RUN", "--lengths", ","], "--lengths expects comma-separated integers"),
    (["eval", "RUN", "--lengths", str(HUGE)], "--lengths must be an integer <= 65536"),
    (["eval", "RUN", "--seed", "-1"], "seed must be an integer >= 0, got -1"),
    (["eval", "RUN", "--scope", "every"], "argument --scope: invalid choice: 'every'"),
    (["eval", "RUN", "--device", "gpu"], "device must be a torch device such as cpu"),
    (["eval", "no/such/run"], "no checkpoint at no/such/run"),
    (["eval"], "give a RUN folder, or --pretrained TASK"),
    (["eval", "--pretrained", "chess"], "chess"),
    (["plot", "RUN", "--length", "0"], "--length must be an integer >= 1"),
    (["plot", "RUN", "--index", "-1"], "--index must be an integer >= 0"),
    (["plot", "RUN", "--head", "7"], "head=7 does not exist: this model has heads 0..1"),
    (["plot", "RUN", "--head", "-1"], "--head must be an integer >= 0"),
    (["plot", "RUN", "--length", str(HUGE)], "--length must be an integer <= 65536"),
    (["plot", "RUN", "--out", "RUN/dash.bmpx"], "cannot save a figure as 'dash.bmpx': use one of"),
    (["animate", "RUN", "--length", "-2"], "--length must be an integer >= 1"),
    (["report", "no/such/run"], "no/such/run"),
    # sweep
    (["sweep", "copy", "--seeds", "0"], "seeds must be an integer >= 1"),
    (["sweep", "copy", "--seeds", "2", "--budget", "nan"], "budget must be a finite number > 0"),
    (["sweep", "copy", "--seeds", "2", "--budget", "-5"], "budget must be a finite number > 0"),
    (
        ["sweep", "copy", "--seeds", "2", "--first-seed", "-1"],
        "--first-seed must be an integer >= 0",
    ),
    (["sweep", "copy", "--seeds", "2", "--grid", "train.lr"], "--grid expects KEY=V1,V2"),
    (
        ["sweep", "copy", "--seeds", "2", "--cpus-per-trial", "0"],
        "--cpus-per-trial must be a finite number > 0",
    ),
    (["sweep", "copy", "--seeds", "2", "--scheduler", "pbt"], "invalid choice: 'pbt'"),
    (["sweep", "copy", "--seeds", "2", "--cpus", "0"], "--cpus must be an integer >= 1, got 0"),
    (
        ["sweep", "copy", "--seeds", "2", "--cpus", "1", "--address", "auto"],
        "--cpus sizes a local Ray; a cluster joined with --address has its own",
    ),
    # import-lasagne
    (["import-lasagne", "no/such.npy", "--task", "copy", "--out", "x"], "no/such.npy"),
]
"""(argv, what the one-line error must say); RUN is a finished tiny run."""


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    out = tmp_path_factory.mktemp("finished") / "run"
    assert main(["train", "copy", "--out", str(out), *TINY]) == 0
    return out


def _tree(root) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _cli(argv, capsys) -> tuple[int, list[str]]:
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse's own errors
        code = exit_.code
    return code, capsys.readouterr().err.strip().splitlines()


@pytest.mark.parametrize(("argv", "message"), CLI_CASES)
def test_bad_flags_give_one_line_naming_the_flag_exit_2_and_change_nothing(
    argv, message, finished, tmp_path, monkeypatch, capsys
):
    run = tmp_path / "RUN"
    shutil.copytree(finished, run)
    monkeypatch.chdir(tmp_path)
    if argv[0] == "train" and "--resume" not in argv:
        argv = [*argv, "--out", "RUN"]
    before = _tree(tmp_path)
    code, err = _cli(argv, capsys)
    assert code == 2 and len(err) == 1 and message in err[0], err
    assert _tree(tmp_path) == before


def test_a_new_run_refuses_a_file_or_a_folder_with_something_else_in_it(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "FILE").write_text("mine")
    (tmp_path / "NOTES").mkdir()
    (tmp_path / "NOTES" / "todo.txt").write_text("mine")
    before = _tree(tmp_path)
    code, err = _cli(["train", "copy", *TINY, "--out", "FILE"], capsys)
    assert code == 2 and err == [
        "ntmkit train: error: FILE is a file, not a run folder; choose another --out"
    ]
    code, err = _cli(["train", "copy", *TINY, "--out", "NOTES"], capsys)
    assert code == 2 and len(err) == 1 and "NOTES is not empty and holds no ntmkit run" in err[0]
    assert _tree(tmp_path) == before


def test_overwrite_moves_the_old_run_aside_whole_and_starts_a_new_one(
    finished, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(finished, tmp_path / "RUN")
    old = _tree(tmp_path / "RUN")
    assert main(["train", "copy", *TINY, "--max-iter", "2", "--out", "RUN", "--overwrite"]) == 0
    (aside,) = tmp_path.glob("RUN.replaced-*")
    assert f"Moved the old contents of RUN to {aside.name}" in capsys.readouterr().out
    assert {k: v for k, v in _tree(aside).items() if k != ".lock"} == {
        k: v for k, v in old.items() if k != ".lock"
    }
    assert len((tmp_path / "RUN" / "metrics.jsonl").read_text().splitlines()) < len(
        old["metrics.jsonl"].decode().splitlines()
    )


# ---- model inputs ---------------------------------------------------------------------------


INPUT_CASES = [
    ("rank 2", torch.rand(5, 4), None, "inputs must have shape [time, batch, features]"),
    ("rank 4", torch.rand(5, 2, 4, 1), None, "inputs must have shape [time, batch, features]"),
    ("features", torch.rand(5, 2, 3), None, "with features=4, got [5, 2, 3]"),
    ("no steps", torch.rand(0, 2, 4), None, "at least one step and one sequence"),
    ("no batch", torch.rand(5, 0, 4), None, "at least one step and one sequence"),
    (
        "integer",
        torch.ones(5, 2, 4, dtype=torch.int64),
        None,
        "dtype torch.float32, got torch.int64",
    ),
    ("float16", torch.rand(5, 2, 4).half(), None, "dtype torch.float32, got torch.float16"),
    ("float64", torch.rand(5, 2, 4).double(), None, "dtype torch.float32, got torch.float64"),
    ("complex", torch.rand(5, 2, 4, dtype=torch.complex64), None, "got torch.complex64"),
    ("bool", torch.ones(5, 2, 4, dtype=torch.bool), None, "got torch.bool"),
    ("nan", torch.full((5, 2, 4), math.nan), None, "inputs must be finite"),
    ("inf", torch.full((5, 2, 4), math.inf), None, "inputs must be finite"),
    ("device", torch.rand(5, 2, 4, device="meta"), None, "on the model's device cpu, got meta"),
    ("lengths 0", torch.rand(5, 2, 4), torch.tensor([0, 5]), "lengths must lie in 1..5"),
    ("lengths > T", torch.rand(5, 2, 4), torch.tensor([6, 5]), "lengths must lie in 1..5"),
    ("lengths float", torch.rand(5, 2, 4), torch.tensor([1.0, 5.0]), "integer tensor of shape [2]"),
    ("lengths shape", torch.rand(5, 2, 4), torch.tensor([5]), "integer tensor of shape [2]"),
    ("lengths negative", torch.rand(5, 2, 4), torch.tensor([-1, 5]), "lengths must lie in 1..5"),
]


@pytest.fixture(scope="module")
def ntm() -> NTM:
    return NTM(NTMConfig(input_size=4, output_size=3, num_slots=8, word_size=4, controller_size=8))


@pytest.mark.parametrize(("name", "inputs", "lengths", "message"), INPUT_CASES)
def test_bad_model_inputs_give_one_line_naming_the_rule(ntm, name, inputs, lengths, message):
    with pytest.raises(ValueError) as error:
        ntm(inputs, lengths=lengths)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_bad_step_inputs_are_refused_like_sequences(ntm):
    state = ntm.initial_state(2)
    with pytest.raises(ValueError, match="step input must be finite"):
        ntm.step(torch.full((2, 4), math.nan), state)
    with pytest.raises(ValueError, match="step input must have the model's dtype"):
        ntm.step(torch.ones(2, 4, dtype=torch.int32), state)


def _state_cases(ntm) -> dict[str, tuple[object, str]]:
    """A given initial state that does not fit the model or the batch of 2, and the message."""
    state = ntm.initial_state(2)
    return {
        "batch 3": (ntm.initial_state(3), "state.memory must have shape [2, 8, 4] (a batch of 2"),
        "slots": (state._replace(memory=torch.zeros(2, 9, 4)), "got [2, 9, 4]"),
        "float64": (state._replace(memory=state.memory.double()), "state.memory must have the "
                    "model's dtype torch.float32, got torch.float64"),
        "device": (state._replace(reads=state.reads.to("meta")),
                   "state.reads must be on the model's device"),
        "nan": (state._replace(reads=torch.full((2, 4), math.nan)), "state.reads must be finite"),
        "a tuple": (tuple(state), "state must be an ntmkit.NTMState, got tuple"),
        "controller state": (state._replace(controller_state=(state.memory,)),
                             "state must hold 5 tensors"),
        "not a tensor": (state._replace(reads=[0.0] * 8), "state.reads must be a tensor, got list"),
    }  # fmt: skip


STATE_CASES = ("batch 3", "slots", "float64", "device", "nan", "a tuple", "controller state",
               "not a tensor")  # fmt: skip


@pytest.mark.parametrize("case", STATE_CASES)
@pytest.mark.parametrize("how", ["forward", "step"])
def test_a_given_state_that_does_not_fit_is_refused_in_one_line_naming_the_tensor(ntm, case, how):
    state, message = _state_cases(ntm)[case]
    inputs = torch.rand(5, 2, 4)
    with pytest.raises(ValueError) as error:
        ntm(inputs, state=state) if how == "forward" else ntm.step(inputs[0], state)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_non_contiguous_inputs_give_the_same_outputs_as_contiguous_ones(ntm):
    wide = torch.rand(2, 5, 4)  # [B, T, F] transposed below: a non-contiguous [T, B, F] view
    view = wide.transpose(0, 1)
    assert not view.is_contiguous()
    assert torch.equal(ntm(view)[0], ntm(view.contiguous())[0])


# ---- damaged files and disks that refuse writes ----------------------------------------------


class _Exploit:
    def __reduce__(self):
        return (exec, ("import pathlib; pathlib.Path('PWNED').write_text('x')",))


def _damage_checkpoint(path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "garbage":
        path.write_bytes(bytes(range(256)) * 4)
    elif how == "foreign":
        torch.save({"weights": torch.zeros(2)}, path)
    elif how == "code":  # a pickle that runs code when loaded unsafely
        path.write_bytes(pickle.dumps({"format": "ntmkit.checkpoint", "x": _Exploit()}, protocol=2))
    else:  # a readable checkpoint with one field made wrong
        payload = torch.load(path, weights_only=True)
        _FIELD_DAMAGE[how](payload)
        torch.save(payload, path)


def _drop_a_weight(payload) -> None:
    del payload["model"][sorted(payload["model"])[0]]


def _resize_a_weight(payload) -> None:
    name = sorted(payload["model"])[0]
    payload["model"][name] = torch.zeros(3, 3, 3)


_FIELD_DAMAGE = {
    "tag only": lambda p: [p.pop(k) for k in list(p) if k not in ("format", "version")],
    "config a number": lambda p: p.update(config=5),
    "config nested deep": lambda p: p.update(config="[" * 100_000 + "]" * 100_000),
    "config invalid": lambda p: p.update(config='{"task": "chess"}'),
    "missing weight": _drop_a_weight,
    "weight shape": _resize_a_weight,
    "step a string": lambda p: p.update(step="abc"),
    "no model": lambda p: p.pop("model"),
}
"""Damage that leaves a loadable file whose content is wrong, by name."""

CHECKPOINT_DAMAGE = ["truncated", "empty", "garbage", "foreign", "code", *_FIELD_DAMAGE]


@pytest.mark.parametrize("how", CHECKPOINT_DAMAGE)
# (report reads only the config, the log and the figures already drawn)
@pytest.mark.parametrize("command", ["eval", "plot", "animate", "resume"])
def test_a_damaged_checkpoint_is_named_in_one_line_by_every_command(
    how, command, finished, tmp_path, monkeypatch, capsys
):
    run = tmp_path / "RUN"
    shutil.copytree(finished, run)
    monkeypatch.chdir(tmp_path)
    _damage_checkpoint(run / "checkpoint.pt", how)
    before = _tree(tmp_path)
    argv = ["train", "--resume", "RUN"] if command == "resume" else [command, "RUN"]
    code, err = _cli(argv, capsys)
    assert code == 2 and len(err) == 1 and "RUN/checkpoint.pt" in err[0], err
    assert _tree(tmp_path) == before and not (tmp_path / "PWNED").exists()
    if how == "code":  # the reason is the callable, not torch's advice to load it unsafely
        assert "would call exec" in err[0] and "will likely succeed" not in err[0]


TRAINING_DAMAGE = {
    "optimizer": ({"optimizer": {"state": {}, "param_groups": []}}, "field 'optimizer'"),
    "optimizer type": ({"optimizer": 3}, "field 'optimizer' must be an optimizer state dict"),
    "task_rng": ({"task_rng": torch.zeros(3, dtype=torch.uint8)}, "field 'task_rng'"),
    "lr_state": ({"lr_state": "fast"}, "field 'lr_state' must be [value, [recent losses]]"),
    "seconds": ({"seconds": -1.0}, "field 'seconds' must be a number >= 0"),
    "last_eval": ({"last_eval": {"no_such": 1}}, "field 'last_eval' cannot be restored"),
    "guard": ({"guard": [1]}, "field 'guard' must be [skipped in a row, skipped in all]"),
}
"""Fields only a resumed run reads, each replaced by a wrong value, and what the error says."""


@pytest.mark.parametrize("name", TRAINING_DAMAGE)
def test_a_wrong_training_field_is_named_in_one_line_on_resume(
    name, finished, tmp_path, monkeypatch, capsys
):
    run = _copy_run(finished, tmp_path, monkeypatch)
    change, message = TRAINING_DAMAGE[name]
    payload = torch.load(run / "checkpoint.pt", weights_only=True)
    torch.save({**payload, **change}, run / "checkpoint.pt")
    err = _resume_refused(tmp_path, capsys, message)
    assert "RUN/checkpoint.pt" in err


def _copy_run(finished: Path, tmp_path: Path, monkeypatch) -> Path:
    """A copy of the finished run as ``RUN`` in the working folder ``tmp_path``."""
    run = tmp_path / "RUN"
    shutil.copytree(finished, run)
    monkeypatch.chdir(tmp_path)
    return run


def _resume_refused(tmp_path: Path, capsys, message: str) -> str:
    """Resuming ``RUN`` exits 2 with one line holding ``message``, touching no file."""
    before = _tree(tmp_path)
    code, err = _cli(["train", "--resume", "RUN"], capsys)
    assert code == 2 and len(err) == 1 and message in err[0], err
    assert _tree(tmp_path) == before
    return err[0]


CONFIG_DAMAGE = {
    "a number": ("5", "RUN/config.json: run config must be an object, got 5"),
    "nested deep": ("[" * 100_000 + "]" * 100_000, "RUN/config.json is not a ntmkit run config: "
                    "its JSON is nested too deeply"),
    "controller size": ({"model.controller_size": 17}, "RUN/config.json and RUN/checkpoint.pt "
                        "disagree: model.controller_size may not change on resume"),
    "task": ({"task": "reversed_copy"}, "disagree: task may not change"),
    "batch size": ({"train.batch_size": 3}, "disagree: train.batch_size may not change"),
}  # fmt: skip
"""A run's config.json edited (text, or changed settings) and what resuming it says."""


@pytest.mark.parametrize("name", CONFIG_DAMAGE)
def test_a_config_json_that_is_damaged_or_disagrees_with_its_checkpoint_is_refused_on_resume(
    name, finished, tmp_path, monkeypatch, capsys
):
    run = _copy_run(finished, tmp_path, monkeypatch)
    edit, message = CONFIG_DAMAGE[name]
    if isinstance(edit, str):
        (run / "config.json").write_text(edit)
    else:
        data = json.loads((run / "config.json").read_text())
        for key, value in edit.items():
            section, *field = key.split(".")
            if field:
                data[section][field[0]] = value
            else:
                data[section] = value
                data["task_config"] = {}
        (run / "config.json").write_text(json.dumps(data))
    _resume_refused(tmp_path, capsys, message)


@pytest.mark.parametrize(
    ("failure", "reason"),
    [(errno.EROFS, "Read-only file system"), (errno.ENOSPC, "No space left on device")],
)
def test_a_disk_that_refuses_writes_is_named_with_the_file_and_leaves_no_partial_file(
    failure, reason, tmp_path, monkeypatch, capsys
):
    import ntmkit.run.files

    def refuse(fd):
        raise OSError(failure, reason)

    monkeypatch.setattr(ntmkit.run.files.os, "fsync", refuse)
    monkeypatch.chdir(tmp_path)
    code, err = _cli(["train", "copy", "--out", "RUN", *TINY], capsys)
    assert code == 2 and err == [f"ntmkit train: error: cannot write RUN/config.json: {reason}"]
    assert sorted(p.name for p in (tmp_path / "RUN").iterdir()) == [".lock"]


# ---- tasks of one's own and data files --------------------------------------------------------

HALF_TASK = """
from dataclasses import dataclass
from ntmkit.tasks import Task

@dataclass(frozen=True)
class HalfConfig:
    input_size: int = 2
    output_size: int = 2

class HalfTask(Task):
    name = "half"
    config_class = HalfConfig
"""


def test_a_task_class_that_lacks_part_of_the_interface_names_what_is_missing(
    tmp_path, monkeypatch, capsys
):
    (tmp_path / "half.py").write_text(HALF_TASK)
    monkeypatch.chdir(tmp_path)
    code, err = _cli(["train", "half.py:HalfTask", "--out", "RUN", *TINY], capsys)
    assert code == 2 and len(err) == 1
    assert "lacks part of the task interface: sample_fixed, pinnable" in err[0]
    assert not (tmp_path / "RUN").exists()


def _arrays(**changes):
    arrays = {
        "inputs": np.zeros((4, 5, 3), dtype=np.float32),
        "targets": np.zeros((4, 5, 2), dtype=np.float32),
        "lengths": np.array([5, 4, 3, 5]),
    }
    arrays.update(changes)
    return {k: v for k, v in arrays.items() if v is not None}


DATA_TINY = ["--memory", "8x4", "--max-iter", "3", "--no-progress"]

DATA_CASES = {
    "inputs rank 2": (_arrays(inputs=np.zeros((4, 5))), "array 'inputs' must be [N, T, C] numbers"),
    "targets steps": (_arrays(targets=np.zeros((4, 6, 2))), "array 'targets' must start [N, T]"),
    "strings": (_arrays(inputs=np.full((4, 5, 3), "a")), "array 'inputs' must be [N, T, C]"),
    "nan": (_arrays(inputs=np.full((4, 5, 3), np.nan)), "array 'inputs' holds NaN"),
    "empty": (_arrays(inputs=np.zeros((0, 5, 3)), targets=np.zeros((0, 5, 2)), lengths=None),
              "array 'inputs' is empty"),
    "lengths range": (_arrays(lengths=np.array([5, 9, 3, 5])), "array 'lengths' must lie in 1..5"),
    "lengths shape": (_arrays(lengths=np.array([5, 4])), "array 'lengths' must be [4] integers"),
    "mask shape": (_arrays(mask=np.ones((4, 4), dtype=bool)), "array 'mask' must be [4, 5]"),
    "class floats": (_arrays(targets=np.zeros((4, 5))), "[N, T] targets must be integer class"),
    "negative class": (_arrays(targets=-np.ones((4, 5), dtype=np.int64)), "negative class"),
    "unknown array": (_arrays(weights=np.zeros(3)), "unknown arrays ['weights']"),
    "no targets": (_arrays(targets=None), "has no array 'targets'"),
}  # fmt: skip
"""Bad ``.npz`` data sets, and what the one-line error names (besides the file)."""


@pytest.mark.parametrize("case", DATA_CASES)
def test_a_bad_data_file_is_named_with_its_array_in_one_line(case, tmp_path, monkeypatch, capsys):
    arrays, message = DATA_CASES[case]
    monkeypatch.chdir(tmp_path)
    np.savez(tmp_path / "bad.npz", **arrays)
    code, err = _cli(["train", "--data", "bad.npz", "--out", "RUN", *DATA_TINY], capsys)
    assert code == 2 and len(err) == 1 and "bad.npz" in err[0] and message in err[0], err
    assert not (tmp_path / "RUN").exists()


def test_garbage_and_a_folder_without_pairs_are_named_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "garbage.npz").write_bytes(b"not a zip file at all")
    (tmp_path / "folder").mkdir()
    cases = (
        ("garbage.npz", "is not a readable .npz file"),
        ("folder", "holds no NAME.inputs.npy and NAME.targets.npy pairs"),
    )
    for path, message in cases:
        code, err = _cli(["train", "--data", path, "--out", "RUN", *DATA_TINY], capsys)
        assert code == 2 and len(err) == 1 and message in err[0], err
