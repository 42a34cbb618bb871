"""Optimisers: Graves' centred RMSProp (the paper's) and the usual torch ones, by name."""

from collections.abc import Callable, Iterable

import torch

from .numerics import GRAVES_RMSPROP_EPSILON
from .validation import check_choice
from .vocabulary import OptimizerName, registry


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
            rho, sign = group["rho"], 1.0 if group["legacy"] else -1.0
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["n"] = torch.zeros_like(p)
                    state["gbar"] = torch.zeros_like(p)
                    state["delta"] = torch.zeros_like(p)
                g = p.grad
                state["n"].mul_(rho).addcmul_(g, g, value=1 - rho)
                state["gbar"].mul_(rho).add_(g, alpha=1 - rho)
                denom = (state["n"] + sign * state["gbar"] ** 2 + group["eps"]).sqrt_()
                state["delta"].mul_(group["momentum"]).addcdiv_(g, denom, value=-group["lr"])
                p.add_(state["delta"])
        return loss


Params = Iterable[torch.nn.Parameter]

OPTIMIZERS: dict[str, Callable[[Params, float, float], torch.optim.Optimizer]] = registry(
    OptimizerName,
    {
        "graves_rmsprop": lambda params, lr, momentum: GravesRMSProp(params, lr, momentum=momentum),
        "graves_rmsprop_legacy": lambda params, lr, momentum: GravesRMSProp(
            params, lr, momentum=momentum, legacy=True
        ),
        "adam": lambda params, lr, momentum: torch.optim.Adam(params, lr=lr),
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
