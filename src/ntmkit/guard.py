"""The non-finite guard: a NaN or infinite loss or gradient never reaches the weights.

The trainer asks `finite_update` after each backward pass. A step that fails is skipped (no
optimiser step, no schedule update), logged with ``skipped`` in ``metrics.jsonl``, and counted
by a `NonFiniteGuard`; after ``train.max_skipped_steps`` such steps in a row, training stops
with `NonFiniteTraining`, whose message names the step and the last good checkpoint. That
checkpoint is not written over: `check_finite_weights` refuses to save non-finite weights.
"""

from collections.abc import Iterable
from dataclasses import dataclass

import torch


class NonFiniteTraining(RuntimeError):
    """Training stopped: too many steps in a row had a non-finite loss or gradient."""


def gradient_norm(parameters: Iterable[torch.Tensor]) -> torch.Tensor:
    """The global L2 norm of the parameters' gradients (0 when none has one); inf or NaN when
    any gradient element is."""
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return torch.zeros(())
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))


def finite_update(loss: torch.Tensor, norm: torch.Tensor) -> bool:
    """Whether a step with this loss and gradient norm may reach the weights."""
    return bool(torch.isfinite(loss) & torch.isfinite(norm))


def check_finite_weights(module: torch.nn.Module, where: str) -> None:
    """Raise `NonFiniteTraining` if any parameter of ``module`` is NaN or infinite."""
    for name, parameter in module.named_parameters():
        if not bool(torch.isfinite(parameter).all()):
            raise NonFiniteTraining(f"{where}: parameter {name} is not finite; not saved")


@dataclass
class NonFiniteGuard:
    """Counts skipped steps: ``in_a_row`` since the last good one, and ``total``."""

    limit: int  # stop once this many steps in a row were skipped
    in_a_row: int = 0
    total: int = 0

    def record(self, finite: bool) -> bool:
        """Count one step; True once ``limit`` non-finite steps have come in a row."""
        if finite:
            self.in_a_row = 0
            return False
        self.in_a_row += 1
        self.total += 1
        return self.in_a_row >= self.limit
