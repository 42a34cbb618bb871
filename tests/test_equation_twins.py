"""Each paper equation is findable in both engines: every C++ block that implements one is
tagged ``// eq. N, ntmkit.module.function`` naming its Python twin, every tag names a real
Python function, and every Python function that implements an equation names its C++ twin."""

import importlib
import inspect
import re
from pathlib import Path

import ntmkit
from ntmkit import addressing, memory

CSRC = Path(ntmkit.__file__).parent / "fused" / "csrc"
TAG = re.compile(r"// eqs?\. ([\d-]+)(?: then eq\. \d+)?(?: backward)?, (ntmkit\.[\w.]+)")
EQUATIONS = {2, 3, 4, 5, 6, 7, 8, 9}
"""The equations of Graves et al. 2014, section 3, that the engines implement."""


def _tags() -> list[tuple[set[int], str]]:
    found = []
    for path in sorted(CSRC.glob("*.h")):
        for numbers, name in TAG.findall(path.read_text()):
            low, _, high = numbers.partition("-")
            found.append((set(range(int(low), int(high or low) + 1)), name))
    return found


def _resolve(dotted: str):
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:split]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[split:]:
            target = getattr(target, attribute)
        return target
    raise AssertionError(dotted)


def test_every_equation_has_a_tagged_cpp_block_naming_a_real_python_twin():
    tags = _tags()
    tagged = set().union(*(numbers for numbers, _ in tags))
    assert tagged >= EQUATIONS
    for _, name in tags:
        assert callable(_resolve(name)), name


def test_every_python_function_of_an_equation_names_its_cpp_twin():
    for module in (addressing, memory):
        for name, function in inspect.getmembers(module, inspect.isfunction):
            doc = function.__doc__ or ""
            if function.__module__ == module.__name__ and re.search(r"paper eqs?\. \d", doc):
                assert "C++ twin:" in doc, f"{module.__name__}.{name}"
                for twin in re.findall(r"``(\w+)``", doc.split("C++ twin:")[1]):
                    assert any(twin in p.read_text() for p in CSRC.glob("*.h")), twin
