"""Named activations for head parameters and controllers.

Configs refer to activations by name so that they stay plain data (JSON) and an unknown name
can be rejected at construction. ntm-lasagne's defaults (``clip01`` keys, ``hard_sigmoid``
gates, ``one_plus_relu`` gamma) and the paper-style set (``tanh``, ``softplus``, ``sigmoid``)
are both here.
"""

from collections.abc import Callable

import torch
import torch.nn.functional as F

from .validation import check_choice
from .vocabulary import ActivationName, registry

Activation = Callable[[torch.Tensor], torch.Tensor]


def clip01(x: torch.Tensor) -> torch.Tensor:
    """ntm-lasagne's ``ClippedLinear(0, 1)``: identity clipped to [0, 1]."""
    return x.clamp(0.0, 1.0)


def clip11(x: torch.Tensor) -> torch.Tensor:
    """ntm-lasagne's ``ClippedLinear(-1, 1)``, used for the sign gates alpha and delta."""
    return x.clamp(-1.0, 1.0)


def hard_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """ntm-lasagne's (and Theano's) hard sigmoid: ``clip(0.2 x + 0.5, 0, 1)``."""
    return (0.2 * x + 0.5).clamp(0.0, 1.0)


def one_plus_relu(x: torch.Tensor) -> torch.Tensor:
    """``1 + max(x, 0)``: ntm-lasagne's gamma, always >= 1 as sharpening requires."""
    return 1.0 + F.relu(x)


def one_plus_softplus(x: torch.Tensor) -> torch.Tensor:
    """``1 + log(1 + e^x)``: the paper-style gamma (Graves et al. 2014, section 3.3.2)."""
    return 1.0 + F.softplus(x)


def softmax_last(x: torch.Tensor) -> torch.Tensor:
    """Softmax over the last axis (the S shift offsets)."""
    return torch.softmax(x, dim=-1)


ACTIVATIONS: dict[str, Activation] = registry(
    ActivationName,
    {
        "identity": lambda x: x,
        "relu": F.relu,
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
        "hard_sigmoid": hard_sigmoid,
        "softplus": F.softplus,
        "clip01": clip01,
        "clip11": clip11,
        "one_plus_relu": one_plus_relu,
        "one_plus_softplus": one_plus_softplus,
        "softmax": softmax_last,
    },
)


def get_activation(name: ActivationName) -> Activation:
    """Return the activation called ``name`` (one of `ntmkit.vocabulary.ActivationName`)."""
    return ACTIVATIONS[check_choice("activation", name, ActivationName)]
