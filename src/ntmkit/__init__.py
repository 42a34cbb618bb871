"""ntmkit: Neural Turing Machines on PyTorch.

The paper's symbols (Graves, Wayne & Danihelka 2014, section 3) and their names here:

=====================  ==============================  ==========================================
paper                  ntmkit                          where
=====================  ==============================  ==========================================
M_t (N x W)            ``memory`` ``[B, N, W]``        `ntmkit.memory`, `NTMState.memory`
w_t                    ``read_weights``/``write_weights``  `NTMState`, `ntmkit.addressing`
r_t                    ``reads``                       `ntmkit.memory.read`
e_t, a_t               ``erase``, ``add``              `ntmkit.heads.WriteVectors`
k_t                    ``key``                         `ntmkit.heads.HeadParams`
β_t (beta)             ``beta``                        key strength
g_t                    ``gate``                        interpolation gate
s_t                    ``shift``                       `ntmkit.addressing.shift`
γ_t (gamma)            ``gamma``                       `ntmkit.addressing.sharpen`
K[u, v]                ``cosine_similarity``           `ntmkit.addressing`
w^c_t, w^g_t, w~_t     ``content_weights``, ``interpolate``, ``shift``
α (ntm-lasagne sign)   ``sign`` (``use_sign``)         multiplies the key
δ (ntm-lasagne sign_add)  ``sign_add`` (``use_sign_add``)  multiplies the add vector
h_t                    ``controller_output``           `ntmkit.controllers`
=====================  ==============================  ==========================================

With ``NTMConfig(memory="dnc")`` the memory is the Differentiable Neural Computer's (Graves et
al. 2016, Methods): its interface vector xi_t is `ntmkit.heads.DNCInterface`, the usage u_t,
link matrix L_t and precedence p_t are `DNCHistory` (``NTMState.dnc``), and the allocation a_t
is `ntmkit.allocation.allocation_weights`.
"""

import importlib
from typing import Any

from . import _moved
from .cell import NTMCell, NTMState, StepTrace
from .config import (
    LASAGNE_ACTIVATIONS,
    PAPER_ACTIVATIONS,
    HeadActivations,
    HeadBias,
    NTMConfig,
)
from .dnc_access import DNCHistory
from .heads import DNCInterface, HeadParams, WriteVectors
from .model import NTM, DNCTrace, NTMLayer, Trace

_moved.install()  # the 0.1 module paths (ntmkit.train, ...) still import, with a warning

_LAZY = {
    "RunConfig": "ntmkit.run.config",
    "TrainConfig": "ntmkit.run.train_config",
    "load_run": "ntmkit.run.folder",
    "Trainer": "ntmkit.training.trainer",
    "TrainResult": "ntmkit.training.trainer",
    "TrainingState": "ntmkit.training.state",
    "preset": "ntmkit.presets",
    "make_task": "ntmkit.tasks",
}
"""Names above the model, imported on first use so that ``import ntmkit`` stays light."""


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'ntmkit' has no attribute {name!r}")


__all__ = [
    "LASAGNE_ACTIVATIONS",
    "NTM",
    "PAPER_ACTIVATIONS",
    "DNCHistory",
    "DNCInterface",
    "DNCTrace",
    "HeadActivations",
    "HeadBias",
    "HeadParams",
    "NTMCell",
    "NTMConfig",
    "NTMLayer",
    "NTMState",
    "StepTrace",
    "Trace",
    "WriteVectors",
    *_LAZY,
]

__version__ = "0.1.0"
