"""Addressing: from head parameters to a weighting over memory slots (Graves et al. 2014, 3.3).

Each step of figure 2 of the paper is one pure function, batched over ``[batch, heads, ...]``
with no Python loop over either::

    key, beta  --content_weights-->  w_c
    w_c, w_prev, gate  --interpolate-->  w_g
    w_g, shift  --shift-->  w_tilde
    w_tilde, gamma  --sharpen-->  w

`address` chains them. Shapes use B = batch, H = heads, N = memory slots, W = word size and
S = number of shift offsets.
"""

import torch
import torch.nn.functional as F

from . import engine
from .numerics import COSINE_EPSILON, SHARPEN_EPSILON
from .validation import check_choice
from .vocabulary import ShiftMode, registry

_PAD_MODES = registry(ShiftMode, {"circular": "circular", "zero_pad": "constant"})
"""`torch.nn.functional.pad`'s mode for each shift mode: wrap around, or pad with zeros."""


def cosine_similarity(key: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
    """Cosine similarity K[k, M_i] of every key with every memory row (paper eq. 6).

    Computed as ``k . M_i / sqrt(|k|^2 |M_i|^2 + eps)`` with ``eps = COSINE_EPSILON`` under the
    root, as ntm-lasagne does, so an all-zero key or row gives 0 with a finite gradient. Runs
    the fused `_CosineSimilarity` unless `ntmkit.engine` selects `cosine_similarity_reference`.
    C++ twin: ``memory_dots`` and the first loop of ``address_forward`` (fused/csrc/addressing.h).

    Args:
      key: `[B, H, W]`
      memory: `[B, N, W]`
    Returns:
      `[B, H, N]`, values in [-1, 1].
    """
    if engine.fused_functions_enabled():
        similarity: torch.Tensor = _CosineSimilarity.apply(key, memory)
        return similarity
    return cosine_similarity_reference(key, memory)


def cosine_similarity_reference(key: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
    """`cosine_similarity` as plain autograd formulas (the reference engine)."""
    dot = torch.bmm(key, memory.transpose(1, 2))  # (B, H, N)
    key_sq = (key * key).sum(-1, keepdim=True)  # (B, H, 1)
    mem_sq = (memory * memory).sum(-1).unsqueeze(1)  # (B, 1, N)
    return dot / torch.sqrt(key_sq * mem_sq + COSINE_EPSILON)


class _CosineSimilarity(torch.autograd.Function):
    """`cosine_similarity` with a hand-written backward that touches the memory twice (and
    autograd on `cosine_similarity_reference` where a second derivative is wanted).

    With ``s = d / D``, ``d = k . M_i``, ``D^2 = |k|^2 |M_i|^2 + eps`` and ``G = dL/ds``, let
    ``g = G / D`` and ``q = -G d / (2 D^3)``; then::

        dM_i = sum_h (g_hi k_h + 2 q_hi |k_h|^2 M_i)
        dk_h = sum_i (g_hi M_i + 2 q_hi |M_i|^2 k_h)
    """

    @staticmethod
    def forward(
        ctx: engine.FunctionContext, key: torch.Tensor, memory: torch.Tensor
    ) -> torch.Tensor:
        dot = torch.bmm(key, memory.transpose(1, 2))  # (B, H, N)
        key_sq = (key * key).sum(-1, keepdim=True)  # (B, H, 1)
        # The squared row norms by a reduction, not memory * memory: no [B, N, W] temporary.
        mem_sq = torch.linalg.vector_norm(memory, dim=-1).square_().unsqueeze(1)  # (B, 1, N)
        denom = torch.sqrt(key_sq * mem_sq + COSINE_EPSILON)
        ctx.save_for_backward(key, memory, dot, key_sq, mem_sq, denom)
        return dot / denom

    @staticmethod
    def backward(
        ctx: engine.FunctionContext, grad: torch.Tensor
    ) -> tuple[torch.Tensor | None, ...]:
        key, memory, dot, key_sq, mem_sq, denom = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph=True: a second derivative will follow
            return engine.differentiable_backward(
                cosine_similarity_reference, (key, memory), (grad,), ctx.needs_input_grad
            )
        grad_dot = grad / denom  # (B, H, N)
        grad_sq = -0.5 * grad_dot * dot / (denom * denom)  # dL/d(D^2), (B, H, N)
        grad_key = grad_memory = None
        if ctx.needs_input_grad[0]:
            row_scale = 2 * (grad_sq * mem_sq).sum(-1, keepdim=True)  # (B, H, 1)
            grad_key = (key * row_scale).baddbmm_(grad_dot, memory)
        if ctx.needs_input_grad[1]:
            slot_scale = 2 * (grad_sq * key_sq).sum(1).unsqueeze(-1)  # (B, N, 1)
            grad_memory = (memory * slot_scale).baddbmm_(grad_dot.transpose(1, 2), key)
        return grad_key, grad_memory


def content_weights(
    memory: torch.Tensor,
    key: torch.Tensor,
    beta: torch.Tensor,
    sign: torch.Tensor | None = None,
) -> torch.Tensor:
    """Content weighting ``w_c = softmax(beta * K[alpha * k, M])`` (paper eq. 5).

    Args:
      memory: `[B, N, W]`
      key: `[B, H, W]`
      beta: `[B, H, 1]`, the key strength, >= 0.
      sign: optional `[B, H, W]` gate alpha in [-1, 1] multiplying the key (ntm-lasagne v0.1).
    Returns:
      `[B, H, N]`, each row a distribution over slots.

    C++ twin: the ``eq. 5`` block of ``address_forward`` (fused/csrc/addressing.h).
    """
    if sign is not None:
        key = sign * key
    return torch.softmax(beta * cosine_similarity(key, memory), dim=-1)


def interpolate(w_content: torch.Tensor, w_prev: torch.Tensor, gate: torch.Tensor) -> torch.Tensor:
    """Interpolation gate ``w_g = g w_c + (1 - g) w_prev`` (paper eq. 7).

    Args:
      w_content: `[B, H, N]`
      w_prev: `[B, H, N]`, the head's weighting at the previous step.
      gate: `[B, H, 1]` in [0, 1].
    Returns:
      `[B, H, N]`

    C++ twin: the ``eq. 7`` block of ``address_forward`` (fused/csrc/addressing.h).
    """
    return torch.lerp(w_prev, w_content, gate)  # one fused op: w_prev + g (w_c - w_prev)


def shift(w: torch.Tensor, shift_weights: torch.Tensor, mode: ShiftMode) -> torch.Tensor:
    """Convolutional shift (paper eq. 8) with S = 2R + 1 offsets -R..R.

    ``w_tilde[i] = sum_j s_j w[i - (j - R)]``: for S = 3 this is
    ``s0 w[i+1] + s1 w[i] + s2 w[i-1]``, so ``s1`` stays and ``s2`` moves the focus one slot
    forward, the index convention of ntm-lasagne. In ``circular`` mode indices wrap around (the
    paper); in ``zero_pad`` mode (ntm-lasagne) mass shifted past either end is lost, so the result
    may sum to less than 1 until sharpening renormalises it.

    Args:
      w: `[B, H, N]`
      shift_weights: `[B, H, S]`, a distribution over offsets; S odd and S <= N.
      mode: ``"circular"`` or ``"zero_pad"``.
    Returns:
      `[B, H, N]`

    C++ twin: ``shift3`` and ``add_shifted``, the ``eq. 8`` block of ``address_forward``
    (fused/csrc/addressing.h).
    """
    radius = shift_weights.shape[-1] // 2
    padded = F.pad(
        w, (radius, radius), mode=_PAD_MODES[check_choice("shift mode", mode, ShiftMode)]
    )
    # padded[..., k : k + N][i] = w[i + k - R], which offset o = R - k moves to slot i, so it
    # is weighted by s[R + o] = s[S - 1 - k]. A sum of S slices is several times faster, forward
    # and backward, than one batched matmul over unfolded windows for these tiny shapes.
    slots, num_shifts = w.shape[-1], shift_weights.shape[-1]
    result = padded[..., :slots] * shift_weights[..., num_shifts - 1 : num_shifts]
    for k in range(1, num_shifts):  # a loop over the S offsets, not over batch or heads
        weight = shift_weights[..., num_shifts - 1 - k : num_shifts - k]  # (B, H, 1)
        result = torch.addcmul(result, padded[..., k : k + slots], weight)
    return result


def sharpen(w: torch.Tensor, gamma: torch.Tensor) -> torch.Tensor:
    """Sharpening ``w ∝ (w_tilde + eps) ** gamma``, normalised per head (paper eq. 9).

    ``eps = SHARPEN_EPSILON`` is ntm-lasagne's 1e-6. The power is taken in log space, as a
    softmax of ``gamma * log(w_tilde + eps)``, which gives the same values without overflow for
    large gamma.

    Args:
      w: `[B, H, N]`, non-negative.
      gamma: `[B, H, 1]`, >= 1.
    Returns:
      `[B, H, N]`, each row a distribution over slots.

    C++ twin: the ``eq. 9`` block of ``address_forward`` (fused/csrc/addressing.h).
    """
    return torch.softmax(gamma * torch.log(w + SHARPEN_EPSILON), dim=-1)


def address(
    memory: torch.Tensor,
    w_prev: torch.Tensor,
    key: torch.Tensor,
    beta: torch.Tensor,
    gate: torch.Tensor,
    shift_weights: torch.Tensor,
    gamma: torch.Tensor,
    mode: ShiftMode,
    sign: torch.Tensor | None = None,
) -> torch.Tensor:
    """The whole addressing pipeline of figure 2: content, interpolation, shift, sharpening.

    Args:
      memory: `[B, N, W]`; w_prev: `[B, H, N]`; key (and sign): `[B, H, W]`;
      beta, gate, gamma: `[B, H, 1]`; shift_weights: `[B, H, S]`.
    Returns:
      `[B, H, N]`, the new weightings, each row a distribution over slots.
    """
    w_c = content_weights(memory, key, beta, sign)
    w_g = interpolate(w_c, w_prev, gate)
    return sharpen(shift(w_g, shift_weights, mode), gamma)
