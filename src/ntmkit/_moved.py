"""The module paths of ntmkit 0.1, before the run and training modules moved into `ntmkit.run`
and `ntmkit.training`: they keep working for one release, with a `DeprecationWarning` that
names the new path.

``import ntmkit.train`` (or ``from ntmkit.train import Trainer``) gets a small module that
hands every attribute on to ``ntmkit.training.trainer``; nothing is copied, so the two never
disagree. A finder on `sys.meta_path` makes these modules on first import; no file of the old
name is left in the package.
"""

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from types import ModuleType

MOVED = {
    "ntmkit.run_config": "ntmkit.run.config",
    "ntmkit.train_config": "ntmkit.run.train_config",
    "ntmkit.schedules": "ntmkit.run.schedules",
    "ntmkit.runs": "ntmkit.run.folder",
    "ntmkit.run_log": "ntmkit.run.log",
    "ntmkit.run_lock": "ntmkit.run.lock",
    "ntmkit.checkpoint": "ntmkit.run.checkpoint",
    "ntmkit.files": "ntmkit.run.files",
    "ntmkit.metrics": "ntmkit.run.metrics",
    "ntmkit.evaluate": "ntmkit.run.evaluate",
    "ntmkit.train": "ntmkit.training.trainer",
    "ntmkit.decisions": "ntmkit.training.decisions",
    "ntmkit.guard": "ntmkit.training.guard",
    "ntmkit.optim": "ntmkit.training.optim",
    "ntmkit.process_state": "ntmkit.training.process_state",
    "ntmkit.tensorboard": "ntmkit.training.tensorboard",
    "ntmkit.nan_hunt": "ntmkit.training.nan_hunt",
}
"""Each 0.1 module path and where its contents live now."""

REMOVED_IN = "0.3"


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds the old paths of `MOVED` and makes each a module forwarding to the new one."""

    def find_spec(self, name, path=None, target=None):
        if name not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(name, self)

    def create_module(self, spec):
        return None  # the default: a plain new module, filled in by exec_module

    def exec_module(self, module: ModuleType) -> None:
        new = MOVED[module.__name__]
        warnings.warn(
            f"{module.__name__} is now {new}; the old path goes in ntmkit {REMOVED_IN}",
            DeprecationWarning,
            stacklevel=3,
        )
        target = importlib.import_module(new)
        # PEP 562: the module's own __getattr__ and __dir__, which live in its namespace.
        module.__dict__["__getattr__"] = lambda attribute: getattr(target, attribute)
        module.__dict__["__dir__"] = lambda: dir(target)
        module.__doc__ = f"Moved to `{new}` (this path goes in ntmkit {REMOVED_IN})."


def install() -> None:
    """Put the finder on `sys.meta_path` once (`ntmkit/__init__.py` calls it)."""
    if not any(isinstance(finder, _MovedModules) for finder in sys.meta_path):
        sys.meta_path.append(_MovedModules())
