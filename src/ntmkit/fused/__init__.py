"""The fused engine: a whole NTM sequence, forward and backward, in one C++ call each.

`ntmkit.NTM.forward` uses it automatically where it applies (`why_not` says where it does
not); the eager loop of `ntmkit.cell` stays the readable definition of the model, and
``ntmkit.engine`` selects it instead (``NTMKIT_ENGINE=eager`` or ``reference``). See
``csrc/engine.cpp`` for the engine itself, `ntmkit.fused.build` for how it is built.
"""

import sys
import warnings
from pathlib import Path

import torch

from .. import engine
from ..cell import NTMCell
from .build import load
from .spec import unsupported

FUSED_DTYPES = (torch.float32, torch.float64)

_warned: set[str] = set()


def why_not(cell: NTMCell, inputs: torch.Tensor, trace: bool) -> str | None:
    """Why this forward pass runs eagerly instead of in the fused engine, or None if it does
    not. Choices of the caller (the engine switch, ``trace=True``) come back as reasons too."""
    if engine.current() != "fused":
        return f"ntmkit.engine selects {engine.current()!r}"
    if trace:
        return "trace=True records every step in Python"
    if engine.exporting():
        return "torch.export captures the eager loop"
    if torch._C._are_functorch_transforms_active():
        return "a torch.func transform is active"
    reason = unsupported(cell.config)
    if reason is None and inputs.device.type != "cpu":
        reason = f"the engine runs on the CPU, the inputs are on {inputs.device}"
    if reason is None and inputs.dtype not in FUSED_DTYPES:
        reason = f"the engine runs float32 and float64, the inputs are {inputs.dtype}"
    if reason is None and not _built():
        reason = "the engine's C++ extension is not available"
    return reason


# torch.compile takes the answer as it is, without tracing the build
@torch.compiler.disable  # type: ignore[untyped-decorator]  # torch leaves it unannotated
def _built() -> bool:
    return load() is not None


def warn_once(reason: str) -> None:
    """Say once per process why a model runs eagerly (not for the caller's own choices)."""
    if reason in _warned or reason.startswith(
        ("ntmkit.engine selects", "trace=True", "torch.export")
    ):
        return
    _warned.add(reason)
    warnings.warn(
        f"ntmkit: running the eager path: {reason}", RuntimeWarning, stacklevel=_callers_level()
    )


_LIBRARIES = (str(Path(torch.__file__).parent), str(Path(__file__).parents[1]))
"""torch's and ntmkit's folders: the frames a warning skips to reach the user's line."""


def _callers_level() -> int:
    """The ``stacklevel`` at which `warn_once`'s warning names the first line outside torch
    and ntmkit (the user's ``model(x)``, not torch's module call or ntmkit's forward)."""
    frame, level = sys._getframe(2), 2  # level 2: the caller of warn_once
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_LIBRARIES):
        frame, level = frame.f_back, level + 1
    return level


__all__ = ["FUSED_DTYPES", "load", "warn_once", "why_not"]
