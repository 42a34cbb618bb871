"""The algorithmic tasks of Graves et al. 2014 and ntm-lasagne, one file per task.

Every task samples time-major `Batch`es from its own seeded random stream:

    from ntmkit.tasks import make_task
    task = make_task("copy", seed=1, max_length=5, end_marker=True)
    batch = task.sample(16)             # lengths drawn from the config
    long = task.sample(16, length=60)   # a pinned length, to test generalisation
"""

from __future__ import annotations

from typing import Any

from ntmkit.tasks.associative_recall import AssociativeRecallTask
from ntmkit.tasks.base import Batch, Task, score_mask
from ntmkit.tasks.copy import CopyTask
from ntmkit.tasks.dyck_words import DyckWordsTask
from ntmkit.tasks.ngrams import NGramsTask
from ntmkit.tasks.priority_sort import PrioritySortTask
from ntmkit.tasks.repeat_copy import RepeatCopyTask
from ntmkit.tasks.reversed_copy import ReversedCopyTask
from ntmkit.tasks.sort import SortTask
from ntmkit.tasks.upside_down_copy import UpsideDownCopyTask
from ntmkit.validation import check_choice
from ntmkit.vocabulary import TaskName, names, registry

TASKS: dict[str, type[Task]] = registry(
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


def task_names() -> list[str]:
    """The registered task names, in registry order."""
    return list(names(TaskName))


def make_task(name: TaskName, seed: int = 0, **fields: Any) -> Task:
    """Builds the task registered as `name`; `fields` override its config defaults."""
    return TASKS[check_choice("task", name, TaskName)](seed=seed, **fields)


__all__ = [
    "TASKS",
    "AssociativeRecallTask",
    "Batch",
    "CopyTask",
    "DyckWordsTask",
    "NGramsTask",
    "PrioritySortTask",
    "RepeatCopyTask",
    "ReversedCopyTask",
    "SortTask",
    "Task",
    "UpsideDownCopyTask",
    "make_task",
    "score_mask",
    "task_names",
]
