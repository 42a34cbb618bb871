"""Where a task name leads: the built-in tasks, tasks that installed packages register, and
tasks given by import path.

A task is named one of three ways, everywhere a task is named (``ntmkit train TASK``,
``RunConfig.task``, a run's ``config.json``, a sweep):

``copy``
    a built-in task (`BUILT_IN`), or one an installed package registers under the entry-point
    group ``ntmkit.tasks`` (``[project.entry-points."ntmkit.tasks"] addition =
    "mypackage.tasks:AdditionTask"`` in its ``pyproject.toml``);
``mypackage.tasks:AdditionTask``
    ``module:Class``, imported like any module (the current folder is searched too, so a file
    ``addition.py`` beside the command is ``addition:AdditionTask``);
``path/to/addition.py:AdditionTask``
    a Python file and a class in it; `canonical` makes the path absolute, so the run folder
    that records it works from any folder of the machine.

`resolve` returns the class after checking it has the task interface (`check_interface`), or
raises one `ValueError` naming what is wrong. `task_source` gives the text of the module that
defines a task given by path, so a sweep's workers can load it where the file is not
(`load_source`).
"""

import hashlib
import importlib
import inspect
import sys
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

from .base import REQUIRED_INTERFACE, Task

ENTRY_POINT_GROUP = "ntmkit.tasks"


@cache
def registered() -> dict[str, str]:
    """The tasks installed packages register: name -> ``module:Class``."""
    return {point.name: point.value for point in entry_points(group=ENTRY_POINT_GROUP)}


def is_path(name: str) -> bool:
    """Whether ``name`` is an import path (``module:Class`` or ``file.py:Class``)."""
    return ":" in name


def canonical(name: str) -> str:
    """``name`` as a run records it: a file path made absolute, anything else unchanged."""
    if not isinstance(name, str) or not is_path(name):
        return name
    where, _, cls = name.rpartition(":")
    if where.endswith(".py"):
        return f"{Path(where).expanduser().resolve()}:{cls}"
    return name


def resolve(name: str, built_in: dict[str, type[Task]]) -> type[Task]:
    """The task class ``name`` leads to (see the module doc); one `ValueError` if none."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"task must be a task name or an import path, got {name!r}")
    if name in built_in:
        return built_in[name]
    if not is_path(name) and name in registered():
        return _checked(_import(registered()[name], f"task {name!r} (entry point)"), name)
    if not is_path(name):
        known = ", ".join([*built_in, *registered()])
        raise ValueError(
            f"task must be one of {known}, or an import path like mypackage.tasks:MyTask or "
            f"tasks.py:MyTask, got {name!r}"
        )
    return _checked(_import(name, f"task {name!r}"), name)


def _import(path: str, what: str) -> Any:
    where, _, attribute = path.rpartition(":")
    if not where or not attribute:
        raise ValueError(f"{what}: an import path is MODULE:CLASS or FILE.py:CLASS")
    module = _module_of_file(where, what) if where.endswith(".py") else _module(where, what)
    if not hasattr(module, attribute):
        raise ValueError(f"{what}: {module.__name__} has no {attribute!r}")
    return getattr(module, attribute)


def _module(name: str, what: str) -> ModuleType:
    if "" not in sys.path and str(Path.cwd()) not in sys.path:
        sys.path.append(str(Path.cwd()))  # `ntmkit train addition:Task` beside addition.py
    try:
        return importlib.import_module(name)
    except Exception as error:  # the user's module may fail in any way; say how, in one line
        raise ValueError(f"{what}: cannot import {name}: {_first_line(error)}") from None


def _module_of_file(path: str, what: str) -> ModuleType:
    file = Path(path).expanduser().resolve()
    name = file_module_name(file)
    if name in sys.modules:  # loaded before, perhaps from the source a sweep's trial brought
        return sys.modules[name]
    if not file.is_file():
        raise ValueError(f"{what}: no file {file}")
    return load_source(name, file.read_text(encoding="utf-8"), str(file))


def file_module_name(file: Path) -> str:
    """The module name a task file is loaded under: its stem and a hash of its path, so that a
    file called ``copy.py`` never stands in for the standard library's ``copy``."""
    digest = hashlib.sha256(str(file).encode()).hexdigest()[:10]
    return f"_ntmkit_task_{file.stem}_{digest}"


def load_source(module_name: str, source: str, filename: str) -> ModuleType:
    """The module ``module_name`` made from ``source`` (once per process: later calls return
    it); how a task defined in a file reaches a process that cannot read the file."""
    if module_name in sys.modules:
        return sys.modules[module_name]
    module = ModuleType(module_name)
    module.__file__ = filename
    sys.modules[module_name] = module  # before running it, as the import system does
    try:
        exec(compile(source, filename, "exec"), module.__dict__)
    except Exception as error:
        del sys.modules[module_name]
        raise ValueError(f"cannot load {filename}: {_first_line(error)}") from None
    return module


def task_source(name: str, built_in: dict[str, type[Task]]) -> tuple[str, str, str] | None:
    """For a task given by path whose module is a plain file: (module name, its source, its
    file name), which `load_source` turns back into the module; None for other tasks."""
    if not is_path(name) or name in built_in:
        return None
    cls = resolve(name, built_in)
    module = sys.modules[cls.__module__]
    file = getattr(module, "__file__", None)
    if file is None or not Path(file).is_file() or Path(file).name == "__init__.py":
        return None
    return cls.__module__, Path(file).read_text(encoding="utf-8"), file


def _checked(cls: Any, name: str) -> type[Task]:
    check_interface(cls, name)
    return cls


def check_interface(cls: Any, name: str = "") -> None:
    """One `ValueError` naming what ``cls`` lacks of the task interface (`ntmkit.tasks.base`):
    a `Task` subclass with a ``name``, a frozen config dataclass with ``input_size`` and
    ``output_size``, and the hooks ``sample_fixed`` and ``pinnable``."""
    what = f"task {name or cls!r}"
    if not (inspect.isclass(cls) and issubclass(cls, Task)):
        raise ValueError(f"{what} must be a subclass of ntmkit.tasks.Task, got {cls!r}")
    missing = [
        part
        for part in REQUIRED_INTERFACE
        if getattr(cls, part, None) is getattr(Task, part, None) or not hasattr(cls, part)
    ]
    if missing:
        raise ValueError(f"{what} lacks part of the task interface: {', '.join(missing)}")
    config = cls.config_class
    if not hasattr(config, "__dataclass_params__") or not config.__dataclass_params__.frozen:
        raise ValueError(f"{what}: config_class must be a frozen dataclass, got {config!r}")
    for size in ("input_size", "output_size"):
        if not hasattr(config, size):
            raise ValueError(f"{what}: config_class {config.__name__} has no {size}")


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0]}" if text else type(error).__name__
