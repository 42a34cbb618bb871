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
"""

from .cell import NTMCell, NTMState, StepTrace
from .config import (
    LASAGNE_ACTIVATIONS,
    PAPER_ACTIVATIONS,
    HeadActivations,
    HeadBias,
    NTMConfig,
)
from .heads import HeadParams, WriteVectors
from .model import NTM, Trace

__all__ = [
    "LASAGNE_ACTIVATIONS",
    "NTM",
    "PAPER_ACTIVATIONS",
    "HeadActivations",
    "HeadBias",
    "HeadParams",
    "NTMCell",
    "NTMConfig",
    "NTMState",
    "StepTrace",
    "Trace",
    "WriteVectors",
]

__version__ = "0.1.0"
