"""The package is laid out by layer, and the layers only look down.

model (the top-level modules, ``fused/``, ``tasks/``)  <  a run (``run/``, and what is made of
runs' configs and folders: ``presets/``, ``plots/``)  <  ``training/``  <  the applications
(``sweep/``, ``pretrained/``, ``compat/``, ``cli/``, ``__main__``). A module may import its own
layer and the layers below it, never one above, and no modules import each other in a circle.
The paths of ntmkit 0.1 still import, with a DeprecationWarning naming the new one.
"""

import ast
import importlib
import warnings
from pathlib import Path

import pytest

from ntmkit._moved import MOVED

SOURCE = Path(__file__).resolve().parent.parent / "src" / "ntmkit"
LAYERS = {"model": 0, "run": 1, "training": 2, "above": 3}
FOLDER_LAYERS = {"fused": "model", "tasks": "model", "run": "run", "presets": "run",
                 "plots": "run", "training": "training"}  # fmt: skip
"""The layer of each folder of the package; any other folder is an application ("above")."""


def _module(path: Path) -> str:
    parts = list(path.relative_to(SOURCE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> str:
    parts = module.split(".")
    if module == "ntmkit.__main__":
        return "above"
    if len(parts) == 1 or (len(parts) == 2 and (SOURCE / f"{parts[1]}.py").exists()):
        return "model"
    return FOLDER_LAYERS.get(parts[1], "above")


def _imports(path: Path) -> set[str]:
    """The ntmkit modules ``path`` imports (its own package's ``__init__`` left out)."""
    module = _module(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [f"{target}.{a.name}" for a in node.names]
            for name in [target, *names]:
                if name.startswith("ntmkit") and (_exists(name)):
                    found.add(name)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("ntmkit")}
    return {name for name in found if name != package or path.name == "__init__.py"} - {module}


def _exists(module: str) -> bool:
    path = SOURCE.parent / module.replace(".", "/")
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


GRAPH = {_module(p): _imports(p) for p in SOURCE.rglob("*.py")}


def test_every_module_imports_only_its_own_layer_and_those_below():
    upward = [
        f"{module} ({_layer(module)}) imports {target} ({_layer(target)})"
        for module, targets in GRAPH.items()
        for target in targets
        if LAYERS[_layer(target)] > LAYERS[_layer(module)] and target != "ntmkit"
    ]
    assert not upward, "\n".join(sorted(upward))


def test_no_modules_import_each_other_in_a_circle():
    def reach(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for target in GRAPH.get(todo.pop(), ()):
                if target not in seen and target != "ntmkit":
                    seen.add(target)
                    todo.append(target)
        return seen

    circles = [m for m in GRAPH if m != "ntmkit" and m in reach(m)]
    assert not circles, circles


def test_the_top_level_holds_the_model_and_the_folders_one_per_layer():
    top = sorted(p.name for p in SOURCE.iterdir() if not p.name.startswith("__pycache__"))
    moved = {old.split(".")[1] + ".py" for old in MOVED}
    assert not moved & set(top)
    assert {"run", "training", "cell.py", "model.py", "addressing.py"} <= set(top)


@pytest.mark.parametrize("old", sorted(MOVED))
def test_a_path_of_ntmkit_0_1_still_imports_with_a_warning_naming_the_new_one(old):
    new = importlib.import_module(MOVED[old])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module(old)
    public = [name for name in vars(new) if not name.startswith("_")]
    assert all(getattr(module, name) is getattr(new, name) for name in public)
    if caught:  # the first import of the path in this process warns
        assert f"{old} is now {MOVED[old]}" in str(caught[0].message)
        assert caught[0].category is DeprecationWarning


def test_the_first_import_of_an_old_path_warns(tmp_path):
    import subprocess
    import sys

    code = "import warnings; warnings.simplefilter('error'); import ntmkit.train"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode != 0
    assert "DeprecationWarning: ntmkit.train is now ntmkit.training.trainer" in done.stderr


def test_the_names_users_import_come_from_the_top():
    import ntmkit

    for name in ntmkit.__all__:
        assert getattr(ntmkit, name) is not None, name
    from ntmkit.training.trainer import Trainer

    assert ntmkit.Trainer is Trainer
