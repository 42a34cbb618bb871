"""Named training recipes for every task: ``fast`` (the default), ``lasagne`` and ``paper``.

Each preset is a table of typed `RunConfig` values, one per task (`PRESETS`):

``fast`` (`ntmkit.presets.fast`)
    the measured fastest reliable recipe on a 2-core CPU.
``lasagne`` (`ntmkit.presets.lasagne`)
    the recipe ntm-lasagne trained each task with, from the one table (`LASAGNE_RECIPES`)
    that `ntmkit.compat` also reads.
``paper`` (`ntmkit.presets.paper`)
    Graves et al. 2014, Table 2 (the LSTM-controller NTM).
``dnc`` (`ntmkit.presets.dnc`)
    ``fast`` with the Differentiable Neural Computer's memory (``NTMConfig(memory="dnc")``).

A task without an entry of its own (the user's task, a data set) gets the preset's shared
model and training options (`generic`) with the task's default config and its own ``recipe``
settings on top (`ntmkit.tasks.Task.recipe`).
"""

import dataclasses
from typing import Any

from ..run.config import RunConfig, model_for
from ..tasks import task_class
from ..validation import check_choice, from_dict
from ..vocabulary import PRESET_NAMES, TASK_NAMES, PresetName, TaskName, registry
from .dnc import DNC, DNC_MODEL, DNC_TRAIN
from .fast import FAST, FAST_MODEL, FAST_TRAIN
from .lasagne import LASAGNE_RECIPES, LasagneRecipe, lasagne_preset
from .paper import PAPER, PAPER_MODEL, PAPER_TRAIN

PRESETS: dict[str, dict[str, RunConfig]] = registry(
    PresetName,
    {
        "fast": FAST,
        "lasagne": registry(TaskName, {task: lasagne_preset(task) for task in TASK_NAMES}),
        "paper": PAPER,
        "dnc": DNC,
    },
)
"""Every preset's `RunConfig` for every task: ``PRESETS[preset][task]``."""


GENERIC: dict[str, tuple[dict[str, Any], Any]] = {
    "fast": (FAST_MODEL, FAST_TRAIN),
    "paper": (PAPER_MODEL, dataclasses.replace(PAPER_TRAIN, lr=1e-4)),
    "dnc": (DNC_MODEL, DNC_TRAIN),
}
"""The model options and training config each preset gives a task without an entry of its own
(the paper's most common rate, 1e-4, for ``paper``). ``lasagne`` has none: its recipes are
ntm-lasagne's, for ntm-lasagne's tasks."""


def preset(task: str, name: PresetName = "fast", **task_fields: Any) -> RunConfig:
    """The `RunConfig` of preset ``name`` (one of `PRESET_NAMES`) for ``task``: the preset's
    entry for a task of the papers, else `generic`; ``task_fields`` replace fields of the
    task's config (a data set's paths, say)."""
    table = PRESETS[check_choice("preset", name, PresetName)]
    if task not in table:
        return generic(task, name, **task_fields)
    fields = {f"task.{field}": value for field, value in task_fields.items()}
    return table[task].override(fields) if fields else table[task]


def generic(task: str, name: PresetName = "fast", **task_fields: Any) -> RunConfig:
    """Preset ``name`` for any task: the preset's shared model and training options, the
    task's config (its defaults, ``task_fields`` replaced), then the task's own ``recipe``."""
    if name not in GENERIC:
        raise ValueError(
            f"--preset {name} has recipes for ntm-lasagne's tasks only; use fast, paper or dnc for "
            f"task {task!r}"
        )
    cls = task_class(task)
    config: Any = from_dict(cls.config_class, "task", task_fields)
    model_options, train = GENERIC[name]
    run = RunConfig(task, config, model_for(config, model_options), train, preset=name)
    return run.override(dict(cls.recipe)) if cls.recipe else run


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
    memory = " with the DNC's memory" if run.model.memory == "dnc" else ""
    return (
        f"{run.task} ({run.preset}): {run.model.controller} controller{memory}, "
        f"{train.optimizer} lr={train.lr:g}, batch {train.batch_size}, {schedules}"
        f"{run.task_config}"
    )


__all__ = [
    "LASAGNE_RECIPES",
    "PRESETS",
    "PRESET_NAMES",
    "LasagneRecipe",
    "describe",
    "generic",
    "preset",
]
