"""A sweep's grid: ``--grid KEY=V1,V2,...`` flags, and every combination of their values.

Each combination is a `Setting`: a named set of overrides of the sweep's base run, with the
same dotted keys as ``--set`` (``train.batch_size``, ``model.controller_size``, ...), checked by
the same typed validation (`RunConfig.override`).
"""

import itertools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..run.config import RunConfig
from ..validation import reject_unknown

DEFAULT_SETTING = "default"
"""The name of a sweep's one setting when it has no grid."""

_UNSAFE = re.compile(r"[^A-Za-z0-9._=+-]+")
"""Characters a setting's folder name does not keep (JSON braces, quotes, spaces, slashes)."""


@dataclass(frozen=True)
class Setting:
    """One combination of grid values: ``name`` is its folder in the sweep."""

    name: str
    overrides: tuple[tuple[str, Any], ...]

    def as_dict(self) -> dict[str, Any]:
        return dict(self.overrides)


def parse_grid_flag(text: str) -> tuple[str, tuple[Any, ...]]:
    """``train.lr=0.001,0.003`` -> ("train.lr", (0.001, 0.003)); values are read as JSON when
    they parse (numbers, true, null, objects), else kept as strings. Commas inside brackets,
    braces or quotes do not split values: ``train.restart={"after":1500,"above":10},null``."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip() or not raw.strip():
        raise ValueError(f"--grid expects KEY=V1,V2,..., got {text!r}")
    return key.strip(), tuple(_value(part) for part in _split_top_level(raw))


def settings(base: RunConfig, grid: Sequence[tuple[str, Sequence[Any]]]) -> list[Setting]:
    """Every combination of ``grid``'s values (the last key varying fastest), each validated
    against ``base``; one `DEFAULT_SETTING` for an empty grid."""
    keys = [key for key, _ in grid]
    reject_unknown("--grid key", keys, sorted(base.override_keys()))
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise ValueError(f"--grid key {repeated[0]!r} is given more than once")
    for key, values in grid:
        texts = [json.dumps(value, sort_keys=True) for value in values]
        twice = next((t for t in texts if texts.count(t) > 1), None)
        if twice is not None:
            raise ValueError(f"--grid {key} has the value {twice} more than once")
    combos = [tuple(zip(keys, values)) for values in itertools.product(*(v for _, v in grid))]
    result: list[Setting] = []
    taken: set[str] = set()
    for overrides in combos:
        base.override(dict(overrides))  # raises, naming the field, for a bad value
        name = _unique(setting_name(overrides), taken)
        taken.add(name)
        result.append(Setting(name, overrides))
    return result


def setting_name(overrides: Sequence[tuple[str, Any]]) -> str:
    """A folder name for a combination: ``train.batch_size=4+model.memory=dnc`` (a string as
    it is, anything else as compact JSON)."""
    if not overrides:
        return DEFAULT_SETTING
    parts = [
        f"{key}={value if isinstance(value, str) else json.dumps(value, separators=(',', ':'))}"
        for key, value in overrides
    ]
    return _UNSAFE.sub("-", "+".join(parts)).strip("-") or DEFAULT_SETTING


def _unique(name: str, taken: set[str]) -> str:
    """``name``, or ``name-2``, ``name-3``, ... if cleaning characters made it collide."""
    candidate, count = name, 1
    while candidate in taken:
        count += 1
        candidate = f"{name}-{count}"
    return candidate


def _split_top_level(raw: str) -> list[str]:
    """``raw`` split at the commas outside brackets, braces and double quotes."""
    parts, depth, quoted, start = [], 0, False, 0
    for i, char in enumerate(raw):
        if char == '"' and (i == 0 or raw[i - 1] != "\\"):
            quoted = not quoted
        elif not quoted and char in "[{":
            depth += 1
        elif not quoted and char in "]}":
            depth -= 1
        elif not quoted and depth == 0 and char == ",":
            parts.append(raw[start:i])
            start = i + 1
    parts.append(raw[start:])
    if any(not part.strip() for part in parts):
        raise ValueError(f"--grid values must not be empty, got {raw!r}")
    return parts


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text.strip()
