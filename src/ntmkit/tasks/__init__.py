"""The tasks: the algorithmic tasks of Graves et al. 2014 and ntm-lasagne, one file each, the
DNC paper's copy series (`ntmkit.tasks.copy_series`), a data set from files
(`ntmkit.tasks.data`), and the user's own (`Task` is the interface; `ntmkit.tasks.registry`
finds a task by name or import path).

Every task samples time-major `Batch`es from its own seeded random stream:

    from ntmkit.tasks import make_task
    task = make_task("copy", seed=1, max_length=5, end_marker=True)
    batch = task.sample(16)             # lengths drawn from the config
    long = task.sample(16, length=60)   # a pinned length, to test generalisation
    mine = make_task("mypackage.tasks:AdditionTask", seed=1)
"""

from __future__ import annotations

from typing import Any

from ntmkit.tasks import registry
from ntmkit.tasks.associative_recall import AssociativeRecallTask
from ntmkit.tasks.base import Batch, Grid, Task, score_mask
from ntmkit.tasks.copy import CopyTask
from ntmkit.tasks.copy_series import CopySeriesTask
from ntmkit.tasks.data import DataTask
from ntmkit.tasks.dyck_words import DyckWordsTask
from ntmkit.tasks.ngrams import NGramsTask
from ntmkit.tasks.priority_sort import PrioritySortTask
from ntmkit.tasks.repeat_copy import RepeatCopyTask
from ntmkit.tasks.reversed_copy import ReversedCopyTask
from ntmkit.tasks.sort import SortTask
from ntmkit.tasks.upside_down_copy import UpsideDownCopyTask
from ntmkit.vocabulary import TaskName
from ntmkit.vocabulary import registry as name_registry

TASKS: dict[str, type[Task]] = name_registry(
    TaskName,
    {
        task.name: task
        for task in (
            CopyTask,
            RepeatCopyTask,
            AssociativeRecallTask,
            NGramsTask,
            PrioritySortTask,
            DyckWordsTask,
            ReversedCopyTask,
            UpsideDownCopyTask,
            SortTask,
        )
    },
)


"""The tasks of the papers, by name (`TaskName`)."""

BUILT_IN: dict[str, type[Task]] = {
    **TASKS,
    CopySeriesTask.name: CopySeriesTask,
    DataTask.name: DataTask,
}
"""Every task that ships with ntmkit, by name: the NTM papers', the DNC paper's copy series
(whose recipes are the presets' shared options with its own, like a user's task) and
``data``."""


def task_class(name: str) -> type[Task]:
    """The task class ``name`` leads to: a built-in or installed task's name, or an import
    path (``module:Class``, ``file.py:Class``); one `ValueError` saying why if none."""
    return registry.resolve(name, BUILT_IN)


def task_names() -> list[str]:
    """The task names, built-in first, then those installed packages register."""
    return [*BUILT_IN, *(name for name in registry.registered() if name not in BUILT_IN)]


def make_task(name: str, seed: int = 0, **fields: Any) -> Task:
    """Builds the task ``name`` leads to (`task_class`); `fields` override its config."""
    return task_class(name)(seed=seed, **fields)


__all__ = [
    "BUILT_IN",
    "TASKS",
    "AssociativeRecallTask",
    "Batch",
    "CopySeriesTask",
    "CopyTask",
    "DataTask",
    "DyckWordsTask",
    "Grid",
    "NGramsTask",
    "PrioritySortTask",
    "RepeatCopyTask",
    "ReversedCopyTask",
    "SortTask",
    "Task",
    "UpsideDownCopyTask",
    "make_task",
    "score_mask",
    "task_class",
    "task_names",
]
