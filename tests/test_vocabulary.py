"""One vocabulary per mode, one validation style: registries and checks agree with them."""

import os
import subprocess
import sys

import pytest

from ntmkit.activations import ACTIVATIONS
from ntmkit.config import ACTIVATION_SETS, AUTO_OUTPUT_SOURCES, OUTPUT_SOURCES
from ntmkit.controllers import CONTROLLERS
from ntmkit.presets import PRESETS
from ntmkit.tasks import TASKS
from ntmkit.training.optim import OPTIMIZERS
from ntmkit.validation import check_choice, check_int, check_number, from_dict, reject_unknown
from ntmkit.vocabulary import (
    ActivationName,
    ActivationSet,
    ControllerKind,
    OptimizerName,
    OutputFrom,
    PresetName,
    StepOrder,
    TaskName,
    names,
    registry,
)


@pytest.mark.parametrize(
    ("table", "vocabulary"),
    [
        (ACTIVATIONS, ActivationName), (ACTIVATION_SETS, ActivationSet),
        (CONTROLLERS, ControllerKind), (OPTIMIZERS, OptimizerName), (TASKS, TaskName),
        (PRESETS, PresetName), (OUTPUT_SOURCES, OutputFrom),
        (AUTO_OUTPUT_SOURCES, StepOrder),
    ],
)  # fmt: skip
def test_every_registry_lists_its_vocabulary_in_order(table, vocabulary):
    assert tuple(table) == names(vocabulary)


def test_a_registry_that_misses_or_adds_a_name_fails_at_construction():
    with pytest.raises(TypeError, match=r"missing \['rnn'\], extra \['transformer'\]"):
        registry(ControllerKind, {"dense": 1, "lstm": 2, "gru": 3, "transformer": 4})


@pytest.mark.parametrize(
    ("check", "message"),
    [
        (lambda: check_int("a.b", 0, low=1), "a.b must be an integer >= 1, got 0"),
        (lambda: check_int("a.b", True, low=0), "a.b must be an integer >= 0, got True"),
        (lambda: check_int("a.b", 9, low=1, high=8), "a.b must be an integer >= 1 and <= 8, got 9"),
        (lambda: check_number("a.b", float("nan")), "a.b must be a finite number, got nan"),
        (
            lambda: check_number("a.b", 1, low=0, high=1, high_open=True),
            "a.b must be a finite number >= 0 and < 1, got 1",
        ),
        (
            lambda: check_choice("a.b", "x", StepOrder),
            "a.b must be one of lasagne, graves, got 'x'",
        ),
        (lambda: check_choice("a.b", 3, StepOrder), "a.b must be one of lasagne, graves, got 3"),
        (lambda: reject_unknown("thing", ["z", "y"], ["x"]), "unknown things 'y', 'z'; valid: x"),
    ],
)  # fmt: skip
def test_checks_share_one_message_style(check, message):
    with pytest.raises(ValueError) as info:
        check()
    assert str(info.value) == message


def test_from_dict_names_unknown_missing_and_non_object_values():
    from ntmkit.run.schedules import Restart

    with pytest.raises(ValueError, match=r"unknown train\.restart field 'soon'; valid: after, "):
        from_dict(Restart, "train.restart", {"after": 1, "above": 1, "soon": 2})
    with pytest.raises(ValueError, match=r"train\.restart needs the field above \(got after\)"):
        from_dict(Restart, "train.restart", {"after": 1})
    with pytest.raises(ValueError, match=r"train\.restart must be an object with the fields after"):
        from_dict(Restart, "train.restart", [1, 2])


def test_the_environment_chooses_the_engine_and_a_bad_name_is_one_line():
    def engine_in_subprocess(value):
        env = {**os.environ, "NTMKIT_ENGINE": value}
        code = "import ntmkit.engine as e; print(e.current())"
        return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)

    assert engine_in_subprocess("reference").stdout.strip() == "reference"
    failed = engine_in_subprocess("turbo")
    assert failed.returncode != 0
    assert "NTMKIT_ENGINE must be one of fused, eager, reference, got 'turbo'" in failed.stderr


def test_a_bad_engine_name_in_the_environment_is_the_commands_one_line_error():
    env = {**os.environ, "NTMKIT_ENGINE": "bogus"}
    command = [sys.executable, "-m", "ntmkit", "pretrained"]
    failed = subprocess.run(command, env=env, capture_output=True, text=True)
    assert failed.returncode == 2
    rule = "NTMKIT_ENGINE must be one of fused, eager, reference, got 'bogus'"
    assert failed.stderr.splitlines() == [f"ntmkit pretrained: error: {rule}"]


def test_every_task_of_the_papers_has_a_generalisation_grid():
    assert all(TASKS[name].generalisation for name in names(TaskName))
