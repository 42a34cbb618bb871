"""``ntmkit tasks``: every task ``ntmkit train`` can name, and how to name one's own."""

import argparse
import inspect

from ..tasks import BUILT_IN, Task, task_class
from ..tasks.registry import ENTRY_POINT_GROUP, registered


def add_parser(sub) -> None:
    sub.add_parser(
        "tasks", help="list the tasks (built in and installed) and how to use your own"
    ).set_defaults(run_command=tasks_command)


def tasks_command(args: argparse.Namespace) -> int:
    rows = [(name, _summary(cls)) for name, cls in BUILT_IN.items()]
    for name, path in registered().items():
        if name not in BUILT_IN:
            try:
                rows.append((name, f"{_summary(task_class(name))} ({path})"))
            except ValueError as error:  # an installed package's broken task: say so, go on
                rows.append((name, f"cannot be loaded: {error}"))
    width = max(len(name) for name, _ in rows)
    for name, summary in rows:
        print(f"{name:<{width}}  {summary}")
    print(
        f"\nYour own task: a subclass of ntmkit.tasks.Task in a file or module, named by import "
        f"path (ntmkit train mypackage.tasks:MyTask, ntmkit train tasks.py:MyTask), or "
        f"registered by an installed package under the entry-point group {ENTRY_POINT_GROUP!r}."
    )
    return 0


def _summary(cls: type[Task]) -> str:
    """The class docstring's first line and the task's output kind."""
    first = (inspect.getdoc(cls) or "").strip().splitlines()
    kind = cls.output_kind if isinstance(cls.output_kind, str) else "set by its data"
    return f"{first[0] if first else cls.__name__} [{kind}]"
