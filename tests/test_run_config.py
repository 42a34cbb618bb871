"""RunConfig is typed all the way down; JSON, --set and 0.1.0 run folders share one path."""

import dataclasses
import json

import pytest
from tiny_runs import tiny_run

from ntmkit.cli import main
from ntmkit.config import NTMConfig
from ntmkit.plots import write_run_figures
from ntmkit.presets import PRESETS
from ntmkit.run.checkpoint import load_checkpoint, save_checkpoint
from ntmkit.run.config import RunConfig
from ntmkit.run.folder import load_run
from ntmkit.run.log import EvaluationRecord, StepRecord, of_kind, read_log
from ntmkit.run.schedules import Restart
from ntmkit.run.train_config import TrainConfig
from ntmkit.tasks.copy import CopyConfig
from ntmkit.training.trainer import Trainer

# config.json of the same run as written by ntmkit 0.1.0: the task's fields under task_fields
# (only those differing from the defaults), model options without defaults, no version.
LEGACY_CONFIG = {
    "model": {
        "activations": {"beta": "softplus", "gamma": "one_plus_softplus"},
        "controller": "lstm", "controller_size": 16, "num_slots": 8, "output_dropout": 0.5,
        "shift_mode": "circular", "step_order": "graves", "word_size": 4,
    },
    "preset": "fast",
    "task": "copy",
    "task_fields": {"max_length": 3, "min_length": 1, "size": 2},
    "train": {
        "batch_size": 8, "checkpoint_every": 4, "clip": 10.0, "clip_mode": "norm",
        "curriculum": None, "device": "cpu", "eval_every": 4, "eval_samples": 50, "lr": 0.003,
        "lr_drop": None, "max_iter": 12, "momentum": 0.9, "optimizer": "adam",
        "restart": {"above": 10.0, "after": 6000, "limit": 3}, "score": "output", "seed": 0,
        "target_error": 0.01,
    },
}  # fmt: skip


def test_every_part_of_a_run_config_is_typed():
    run = tiny_run()
    assert isinstance(run.task_config, CopyConfig) and run.task_config.max_length == 3
    assert isinstance(run.model, NTMConfig) and isinstance(run.train, TrainConfig)
    assert isinstance(run.train.restart, Restart)
    assert (run.model.input_size, run.model.output_size) == (3, 3)  # from the task's config


def test_presets_are_typed_values_for_every_task():
    for name, table in PRESETS.items():
        for task, run in table.items():
            assert isinstance(run, RunConfig) and (run.task, run.preset) == (task, name)
            assert RunConfig.from_json(run.to_json()) == run


def test_changing_the_task_resizes_the_model():
    run = tiny_run().override({"task.size": 5})
    assert (run.model.input_size, run.model.output_size) == (6, 6)


def test_a_model_whose_sizes_are_not_the_tasks_is_refused():
    run = tiny_run()
    wrong = dataclasses.replace(run.model, input_size=9)
    with pytest.raises(
        ValueError, match=r"model\.input_size must be 3, the task's input_size, got 9"
    ):
        dataclasses.replace(run, model=wrong)


def test_the_sizes_cannot_be_set_on_their_own():
    with pytest.raises(ValueError, match=r"unknown setting 'model\.input_size'"):
        tiny_run().override({"model.input_size": 4})


def test_override_and_json_give_the_same_one_line_errors():
    bad = json.loads(tiny_run().to_json())
    bad["train"]["lr"] = -1
    with pytest.raises(ValueError, match=r"^train\.lr must be a finite number > 0, got -1$"):
        RunConfig.from_dict(bad)
    with pytest.raises(ValueError, match=r"^train\.lr must be a finite number > 0, got -1$"):
        tiny_run().override({"train.lr": -1})


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"task.max_length": 0}, r"^task\.max_length must be an integer >= 1 \(task\.min_length\)"),
        ({"model.shift_mode": "wrap"}, r"^model\.shift_mode must be one of circular, zero_pad"),
        ({"train.optimizer": "sgd"}, r"^train\.optimizer must be one of graves_rmsprop, "),
        ({"train.clip_mode": "max"}, r"^train\.clip_mode must be one of norm, value, got 'max'"),
        ({"train.score": "every"}, r"^train\.score must be one of output, all, got 'every'"),
        ({"train.lr_drop.window": 0}, r"^train\.lr_drop needs the fields threshold, low_lr"),
        ({"train.curriculum": {"threshold": 0.1, "cap": 0}}, r"^train\.curriculum\.cap must be"),
        ({"model.activations.gate": "step"}, r"^model\.activations\.gate must be one of "),
        ({"train.restart": "soon"}, r"^train\.restart must be null or an object with the fields"),
    ],
)
def test_bad_settings_are_named_with_their_rule(settings, message):
    with pytest.raises(ValueError, match=message):
        tiny_run().override(settings)


def test_a_config_from_a_newer_ntmkit_is_refused_naming_the_version():
    data = {**tiny_run().to_dict(), "format_version": 3}
    with pytest.raises(ValueError, match=r"format_version must be 2 .*, got 3"):
        RunConfig.from_dict(data)


def test_a_0_1_0_config_reads_as_the_same_typed_run():
    assert RunConfig.from_dict(LEGACY_CONFIG) == tiny_run()


def losses(folder):
    return [r.loss for r in of_kind(read_log(folder / "metrics.jsonl"), StepRecord)]


def write_as_0_1_0(folder):
    """Rewrite a run folder as ntmkit 0.1.0 wrote it: config layout, log without kinds, an
    eval.json with one override."""
    legacy = json.dumps(LEGACY_CONFIG)
    (folder / "config.json").write_text(legacy)
    payload = load_checkpoint(folder / "checkpoint.pt")
    save_checkpoint(folder / "checkpoint.pt", {**payload, "config": legacy})
    lines = []
    for record in read_log(folder / "metrics.jsonl"):
        fields = dataclasses.asdict(record)
        if isinstance(record, EvaluationRecord):
            fields = {k: fields[k] for k in ("step", "sequences", "time", "eval")}
        lines.append(json.dumps(fields) + "\n")
    (folder / "metrics.jsonl").write_text("".join(lines))
    row = {"length": 4, "bit_errors": 1.0, "perfect": 0.5, "cost_bits": 2.0, "samples": 2}
    (folder / "eval.json").write_text(json.dumps({"override": "length", "rows": [row], "step": 6}))


def test_a_0_1_0_run_folder_loads_evaluates_plots_and_resumes(tmp_path, capsys):
    whole, old = tmp_path / "whole", tmp_path / "old"
    Trainer(tiny_run(), whole).fit(progress=False)
    Trainer(tiny_run(), old).fit(progress=False, stop_after=6)
    write_as_0_1_0(old)
    assert "kind" not in (old / "metrics.jsonl").read_text()
    run, _, payload = load_run(old)
    assert run == tiny_run() and payload["step"] == 6
    assert len(write_run_figures(old)) == 4  # curves from the old log, the old eval.json
    assert main(["eval", str(old), "--lengths", "2", "--samples", "4"]) == 0
    assert "bit errors/seq" in capsys.readouterr().out
    write_as_0_1_0(old)  # eval rewrote eval.json in the new layout; back to the old one
    Trainer(None, old, resume=True).fit(progress=False)
    assert losses(old) == losses(whole) and len(losses(old)) == 12
