"""Named training recipes for every task: ``fast`` (the default), ``lasagne`` and ``paper``.

Each preset is a table of typed `RunConfig` values, one per task (`PRESETS`):

``fast`` (`ntmkit.presets.fast`)
    the measured fastest reliable recipe on a 2-core CPU.
``lasagne`` (`ntmkit.presets.lasagne`)
    the recipe ntm-lasagne trained each task with, from the one table (`LASAGNE_RECIPES`)
    that `ntmkit.compat` also reads.
``paper`` (`ntmkit.presets.paper`)
    Graves et al. 2014, Table 2 (the LSTM-controller NTM).
"""

from ..run.config import RunConfig
from ..validation import check_choice
from ..vocabulary import PRESET_NAMES, TASK_NAMES, PresetName, TaskName, registry
from .fast import FAST
from .lasagne import LASAGNE_RECIPES, LasagneRecipe, lasagne_preset
from .paper import PAPER

PRESETS: dict[str, dict[str, RunConfig]] = registry(
    PresetName,
    {
        "fast": FAST,
        "lasagne": registry(TaskName, {task: lasagne_preset(task) for task in TASK_NAMES}),
        "paper": PAPER,
    },
)
"""Every preset's `RunConfig` for every task: ``PRESETS[preset][task]``."""


def preset(task: TaskName, name: PresetName = "fast") -> RunConfig:
    """The `RunConfig` of preset ``name`` (one of `PRESET_NAMES`) for ``task``."""
    return PRESETS[check_choice("preset", name, PresetName)][check_choice("task", task, TaskName)]


def describe(run: RunConfig) -> str:
    """A one-line summary of a run's recipe, for logs."""
    train = run.train
    schedules = ""
    if train.restart is not None:
        restart = train.restart
        schedules = f"fresh start if above {restart.above:g} errors after {restart.after} steps, "
    if train.lr_drop is not None:
        schedules += f"lr {train.lr_drop.low_lr:g} below loss {train.lr_drop.threshold:g}, "
    if train.curriculum is not None:
        rule = train.curriculum
        schedules += f"max_length x{rule.factor} below loss {rule.threshold:g} up to {rule.cap}, "
    return (
        f"{run.task} ({run.preset}): {run.model.controller} controller, "
        f"{train.optimizer} lr={train.lr:g}, batch {train.batch_size}, {schedules}"
        f"{run.task_config}"
    )


__all__ = ["LASAGNE_RECIPES", "PRESETS", "PRESET_NAMES", "LasagneRecipe", "describe", "preset"]
