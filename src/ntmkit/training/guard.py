"""The non-finite guard: a NaN or infinite loss or gradient never reaches the weights.

The trainer asks `finite_update` after each backward pass. A step that fails is skipped (no
optimiser step, no schedule update), logged with ``skipped`` in ``metrics.jsonl``, and counted
in the run's state (`ntmkit.training.state.SkippedSteps`); after ``train.max_skipped_steps``
such steps in a row, training stops with `NonFiniteTraining`, whose message names the step
and the last good checkpoint. That checkpoint is not written over: `check_finite_weights`
refuses to save non-finite weights.
"""

from collections.abc import Iterable

import torch

from ..numerics import GRADIENT_NORM_FALLBACK_DTYPE


class NonFiniteTraining(RuntimeError):
    """Training stopped: too many steps in a row had a non-finite loss or gradient."""


def gradient_norm(
    parameters: Iterable[torch.Tensor], dtype: torch.dtype | None = None
) -> torch.Tensor:
    """The global L2 norm of the parameters' gradients (0 when none has one), computed in
    ``dtype`` (default: the gradients'); inf or NaN when any gradient element is."""
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return torch.zeros((), dtype=dtype)
    norms = [torch.linalg.vector_norm(g, dtype=dtype) for g in grads]
    return torch.linalg.vector_norm(torch.stack(norms))


def robust_gradient_norm(parameters: Iterable[torch.Tensor]) -> torch.Tensor:
    """`gradient_norm` as float32 computes it, or, where that overflows, in
    `GRADIENT_NORM_FALLBACK_DTYPE`: non-finite only when a gradient element is."""
    parameters = list(parameters)
    norm = _float32_norm(parameters)
    if bool(torch.isfinite(norm)):
        return norm
    return gradient_norm(parameters, dtype=GRADIENT_NORM_FALLBACK_DTYPE)


def clip_to_norm(parameters: Iterable[torch.Tensor], max_norm: float) -> torch.Tensor:
    """Scale the gradients to a global norm of at most ``max_norm`` using
    `robust_gradient_norm`; returns the norm before clipping. The scale is
    ``torch.nn.utils.clip_grad_norm_``'s, ``min(max_norm / (norm + 1e-6), 1)``, so ordinary
    steps clip bit for bit as it does. A non-finite norm makes the gradients non-finite too;
    the guard skips that step."""
    parameters = list(parameters)
    norm = robust_gradient_norm(parameters)
    scale = torch.clamp(max_norm / (norm.float() + 1e-6), max=1.0)
    for p in parameters:
        if p.grad is not None:
            p.grad.mul_(scale.to(p.grad.dtype))
    return norm


def _float32_norm(parameters: list[torch.Tensor]) -> torch.Tensor:
    if hasattr(torch.nn.utils, "get_total_norm"):  # torch >= 2.6: clip_grad_norm_'s own norm
        grads = [p.grad for p in parameters if p.grad is not None]
        return torch.nn.utils.get_total_norm(grads) if grads else torch.zeros(())
    return gradient_norm(parameters)


def finite_update(loss: torch.Tensor, norm: torch.Tensor) -> bool:
    """Whether a step with this loss and gradient norm may reach the weights."""
    return bool(torch.isfinite(loss) & torch.isfinite(norm))


def check_finite_weights(module: torch.nn.Module, where: str) -> None:
    """Raise `NonFiniteTraining` if any parameter of ``module`` is NaN or infinite."""
    for name, parameter in module.named_parameters():
        if not bool(torch.isfinite(parameter).all()):
            raise NonFiniteTraining(f"{where}: parameter {name} is not finite; not saved")
