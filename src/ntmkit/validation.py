"""Checks for configuration values, all with one message style.

Every failure is a `ValueError` whose message reads ``<where> must be <rule>, got <value>``,
where ``<where>`` is the dotted key a user would type (``model.num_slots``, ``train.lr``,
``task.max_length``, ``--threads``), so the same message serves Python, JSON and the command
line. Unknown keys are rejected by `reject_unknown`, which lists the valid ones.
"""

import dataclasses
import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeGuard, TypeVar

import torch

from .vocabulary import names

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

_Config = TypeVar("_Config", bound="DataclassInstance")


def is_int(value: object) -> TypeGuard[int]:
    """An int that is not a bool (``True`` would otherwise pass as 1)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> TypeGuard[int | float]:
    """An int or float that is not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


LARGEST_INT = 2**53
"""The ceiling of every integer setting: the largest integer a JSON number (an IEEE double)
holds exactly, so a saved config always reads back to the same run."""

LARGEST_SIZE = 2**16
"""The ceiling of every setting that sizes a tensor: widths, slots, heads, batch sizes, sequence
lengths. No published NTM comes within 100x of it; it turns a typo such as 10**9 into this
error instead of an allocation that fails deep inside PyTorch or freezes the machine."""


def fail(where: str, rule: str, value: Any) -> ValueError:
    """The error for ``where`` breaking ``rule``; raise it."""
    return ValueError(f"{where} must be {rule}, got {value!r}")


def check_int(
    where: str, value: Any, low: int | None = None, high: int | None = None, low_name: str = ""
) -> int:
    """``value`` if it is an integer in [low, high] (None: no lower bound, and `LARGEST_INT`
    above); else a `ValueError`.

    ``low_name`` says where ``low`` comes from (e.g. ``"min_length"``) for the message.
    """
    ceiling = LARGEST_INT if high is None else high
    if not is_int(value) or (low is not None and value < low) or value > ceiling:
        above_ceiling = high is None and is_int(value) and value > LARGEST_INT
        shown = LARGEST_INT if above_ceiling else high  # named only to a value above it
        raise fail(where, "an integer" + _bounds(low, shown, low_name), value)
    return value


def check_size(
    where: str, value: Any, low: int = 1, high: int | None = None, low_name: str = ""
) -> int:
    """`check_int` for a setting that sizes a tensor: at most `LARGEST_SIZE` (or ``high``)."""
    if is_int(value) and value > LARGEST_SIZE and (high is None or high > LARGEST_SIZE):
        raise fail(where, f"an integer <= {LARGEST_SIZE} (ntmkit's largest size)", value)
    return check_int(where, value, low=low, high=high, low_name=low_name)


def check_number(
    where: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """``value`` if it is a finite number within the bounds; ``*_open`` excludes the bound."""
    if is_number(value) and math.isfinite(value):
        above = low is None or (value > low if low_open else value >= low)
        below = high is None or (value < high if high_open else value <= high)
        if above and below:
            return value
    lower = "" if low is None else (f" > {low:g}" if low_open else f" >= {low:g}")
    upper = "" if high is None else (f" < {high:g}" if high_open else f" <= {high:g}")
    joined = " and".join(part for part in (lower, upper) if part)
    raise fail(where, "a finite number" + joined, value)


def check_bool(where: str, value: Any) -> bool:
    """``value`` if it is a bool (a 0/1 int would hide a swapped argument)."""
    if not isinstance(value, bool):
        raise fail(where, "true or false", value)
    return value


def check_choice(where: str, value: Any, vocabulary: Any) -> str:
    """``value`` if it is one of the names of a `Literal` vocabulary (or a tuple of names)."""
    allowed = vocabulary if isinstance(vocabulary, tuple) else names(vocabulary)
    if not isinstance(value, str) or value not in allowed:
        raise fail(where, f"one of {', '.join(allowed)}", value)
    return value


def reject_unknown(what: str, keys: Iterable[str], valid: Iterable[str]) -> None:
    """A `ValueError` naming the keys that are not in ``valid``, and listing the valid ones.

    ``what`` names one key's kind, e.g. ``"model field"``: "unknown model field 'size'; ...".
    """
    valid = list(valid)
    unknown = sorted(set(keys) - set(valid))
    if unknown:
        plural = "s" if len(unknown) > 1 else ""
        listed = ", ".join(repr(key) for key in unknown)
        raise ValueError(f"unknown {what}{plural} {listed}; valid: {', '.join(valid)}")


def from_dict(cls: type[_Config], where: str, data: object) -> _Config:
    """``cls(**data)`` for a dataclass, naming unknown or missing keys of ``where``.

    The dataclass validates its own values, so this is the one way a plain mapping (from JSON or
    ``--set``) becomes a typed config.
    """
    if not isinstance(data, Mapping):
        listed = ", ".join(f.name for f in dataclasses.fields(cls))
        raise fail(where, f"an object with the fields {listed}", data)
    fields = dataclasses.fields(cls)
    reject_unknown(f"{where} field", data, [f.name for f in fields if f.init])
    missing = [
        f.name
        for f in fields
        if f.init
        and f.name not in data
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        got = ", ".join(sorted(data)) or "none"
        raise ValueError(f"{where} needs the field{plural} {', '.join(missing)} (got {got})")
    return cls(**data)


def _bounds(low: int | None, high: int | None, low_name: str) -> str:
    parts = []
    if low is not None:
        parts.append(f" >= {low}" + (f" ({low_name})" if low_name else ""))
    if high is not None:
        parts.append(" <= 2**53" if high == LARGEST_INT else f" <= {high}")
    return " and".join(parts)


def check_device(where: str, value: str) -> str:
    """``value`` if it names a torch device (``cpu``, ``cuda``, ``cuda:1``, ...)."""
    try:
        torch.device(value)
    except (RuntimeError, TypeError):
        raise fail(where, "a torch device such as cpu or cuda:0", value) from None
    return value


def available_devices() -> list[str]:
    """The devices this machine and this torch build can run on, ``cpu`` first."""
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        devices.append("mps")
    return devices


def check_available(where: str, value: str) -> str:
    """``value`` if it names a device this machine has; the error lists those it has."""
    device = torch.device(check_device(where, value))
    available = available_devices()
    name = device.type if device.index is None else f"{device.type}:{device.index}"
    if not any(d == name or d.split(":")[0] == name for d in available):
        raise fail(where, f"a device this machine has ({', '.join(available)})", value)
    return value
