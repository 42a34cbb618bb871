"""Optimisers: Graves' centred RMSProp (the paper's) and the usual torch ones, by name."""

from collections.abc import Callable, Iterable

import torch

from ..numerics import GRAVES_RMSPROP_EPSILON
from ..validation import check_choice
from ..vocabulary import OptimizerName, registry


class GravesRMSProp(torch.optim.Optimizer):
    """RMSProp with momentum in the centred form of Graves (2013), eqs. 38-41::

        n     = rho n + (1 - rho) g^2
        gbar  = rho gbar + (1 - rho) g
        delta = momentum delta - lr g / sqrt(n - gbar^2 + eps)
        theta = theta + delta

    with rho = 0.95, momentum = 0.9 and eps = `GRAVES_RMSPROP_EPSILON` (1e-4) by default.

    ``legacy=True`` reproduces ntm-lasagne's ``graves_rmsprop``, which adds ``gbar^2`` instead of
    subtracting it (a bug that makes it an uncentred RMSProp with a smaller step). Use it only to
    reproduce ntm-lasagne's training runs.
    """

    def __init__(
        self,
        params: Iterable[torch.nn.Parameter],
        lr: float = 1e-4,
        rho: float = 0.95,
        momentum: float = 0.9,
        eps: float = GRAVES_RMSPROP_EPSILON,
        legacy: bool = False,
    ) -> None:
        if lr <= 0 or not 0 <= rho < 1 or not 0 <= momentum < 1 or eps <= 0:
            raise ValueError(
                f"GravesRMSProp needs lr > 0, 0 <= rho < 1, 0 <= momentum < 1 and eps > 0; "
                f"got lr={lr}, rho={rho}, momentum={momentum}, eps={eps}"
            )
        defaults = dict(lr=lr, rho=rho, momentum=momentum, eps=eps, legacy=legacy)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            for p in params:
                if not self.state[p]:
                    self.state[p].update(
                        n=torch.zeros_like(p), gbar=torch.zeros_like(p), delta=torch.zeros_like(p)
                    )
            self._update(group, params)
        return loss

    def _update(self, group: dict, params: list[torch.Tensor]) -> None:
        """Eqs. 38-41 for every parameter of a group at once (`torch._foreach_*`: a few
        kernels per group instead of a few per parameter)."""
        rho, sign = group["rho"], 1.0 if group["legacy"] else -1.0
        grads = [p.grad for p in params if p.grad is not None]  # all of them (see `step`)
        n, gbar, delta = ([self.state[p][key] for p in params] for key in ("n", "gbar", "delta"))
        torch._foreach_mul_(n, rho)
        torch._foreach_addcmul_(n, grads, grads, value=1 - rho)
        torch._foreach_mul_(gbar, rho)
        torch._foreach_add_(gbar, grads, alpha=1 - rho)
        denom = torch._foreach_mul(gbar, gbar)
        torch._foreach_mul_(denom, sign)
        torch._foreach_add_(denom, n)
        torch._foreach_add_(denom, group["eps"])
        torch._foreach_sqrt_(denom)
        torch._foreach_mul_(delta, group["momentum"])
        torch._foreach_addcdiv_(delta, grads, denom, value=-group["lr"])
        torch._foreach_add_(params, delta)


def _adam(params: Iterable[torch.nn.Parameter], lr: float) -> torch.optim.Adam:
    """`torch.optim.Adam`, with its fused kernel where every parameter allows it (CPU or CUDA
    floating point): one kernel for all parameters instead of a dozen per parameter."""
    params = list(params)
    fused = all(p.device.type in ("cpu", "cuda") and p.dtype.is_floating_point for p in params)
    return torch.optim.Adam(params, lr=lr, fused=fused)


Params = Iterable[torch.nn.Parameter]

OPTIMIZERS: dict[str, Callable[[Params, float, float], torch.optim.Optimizer]] = registry(
    OptimizerName,
    {
        "graves_rmsprop": lambda params, lr, momentum: GravesRMSProp(params, lr, momentum=momentum),
        "graves_rmsprop_legacy": lambda params, lr, momentum: GravesRMSProp(
            params, lr, momentum=momentum, legacy=True
        ),
        "adam": lambda params, lr, momentum: _adam(params, lr),
        "rmsprop": lambda params, lr, momentum: torch.optim.RMSprop(params, lr, momentum=momentum),
    },
)
"""Each optimiser's constructor from (parameters, learning rate, momentum)."""


def make_optimizer(
    name: OptimizerName, params: Params, lr: float, momentum: float = 0.9
) -> torch.optim.Optimizer:
    """The optimiser called ``name`` (one of `ntmkit.vocabulary.OptimizerName`).

    ``momentum`` is used by Graves' RMSProp and torch's RMSprop (the paper's 0.9); Adam keeps
    its own defaults (betas 0.9 and 0.999).
    """
    return OPTIMIZERS[check_choice("train.optimizer", name, OptimizerName)](params, lr, momentum)
