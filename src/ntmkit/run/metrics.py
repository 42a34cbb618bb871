"""Masked metrics and the training loss, computed from logits.

All functions take the model's raw outputs (logits, never probabilities: the sigmoid happens inside
the numerically stable `binary_cross_entropy_with_logits`), the targets, and a `[T, B]` bool mask
of the steps to score, usually `score_mask(batch, scope)`. Unscored steps never count, whatever the
model emits there.

Shapes:
  logits:  `[T, B, C]`
  targets: `[T, B, C]`, 0/1 values
  mask:    `[T, B]` bool
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from ..numerics import LASAGNE_PROBABILITY_CLIP
from ..vocabulary import LossName, registry

# A bit is predicted as 1 when its logit is above this, i.e. when its probability is above 1/2.
LOGIT_THRESHOLD = 0.0


def wrong_bits(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Which output bits are wrong, thresholding the prediction at probability 1/2.

    Args:
      logits: `[T, B, C]` (or any shape), the model's output before the sigmoid.
      targets: the same shape, 0/1 targets.

    Returns:
      A bool tensor of that shape, True where the thresholded prediction is not the target.
    """
    return (logits > LOGIT_THRESHOLD) != (targets > 0.5)


def bit_errors(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Wrong bits per sequence over the scored steps (`wrong_bits`).

    Returns:
      `[B]` float64 counts, so that their means are exact: in float32, 2 errors in 200
      sequences average to 0.0099999998, which would pass an early-stop test of ``< 0.01``.
    """
    _check_shapes(logits, targets, mask)
    wrong = wrong_bits(logits, targets)  # (T, B, C)
    return (wrong & mask[..., None]).sum(dim=(0, 2)).double()


def bit_errors_per_sequence(
    logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor
) -> float:
    """The batch mean of `bit_errors`: the paper's (and pytorch-ntm's) "cost per sequence"."""
    return float(bit_errors(logits, targets, mask).mean())


def cost_bits(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Cross-entropy per sequence, in bits, summed over the scored steps and channels.

    Returns:
      `[B]`, differentiable.
    """
    _check_shapes(logits, targets, mask)
    nats = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")  # (T, B, C)
    return (nats * mask[..., None]).sum(dim=(0, 2)) / math.log(2)


def cost_bits_per_sequence(
    logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor
) -> float:
    """The mean over the batch of `cost_bits`."""
    return float(cost_bits(logits, targets, mask).mean())


def perfect_fraction(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> float:
    """The fraction of sequences with no wrong bit on their scored steps."""
    return float((bit_errors(logits, targets, mask) == 0).double().mean())


def masked_bce(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The training loss: binary cross-entropy with logits, in nats, averaged over scored elements.

    Normalisation: the sum over scored steps and all C channels, divided by (scored steps x C).
    So it is the mean per bit, independent of batch size and sequence length. With the "all" scope
    on an unpadded batch this is exactly ntm-lasagne's `T.mean(binary_crossentropy(...))` (without
    its clipping of probabilities). A batch with no scored step gives 0 rather than NaN.

    Returns:
      A scalar tensor, differentiable.
    """
    _check_shapes(logits, targets, mask)
    nats = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")  # (T, B, C)
    return _mean_over_scored(nats, mask)


def masked_clipped_bce(
    logits: torch.Tensor,
    targets: torch.Tensor,
    mask: torch.Tensor,
    clip: float = LASAGNE_PROBABILITY_CLIP,
) -> torch.Tensor:
    """ntm-lasagne's training loss: `masked_bce` on probabilities clipped to
    ``[clip, 1 - clip]``, so a bit whose probability is clipped contributes a bounded loss and
    no gradient (`T.clip` then ``binary_crossentropy`` in its example scripts). Same
    normalisation as `masked_bce`.

    The sigmoid is monotonic, so clipping the probability is clamping the logit to
    ``±log((1 - clip) / clip)``: computed that way, with the stable cross-entropy on logits, the
    loss and its zero gradient are those of the probability clip, and a clip as small as the
    README's 1e-10 works in float32, where ``1 - 1e-10`` rounds to 1 and the clipped
    probability itself would give ``log(0)``.
    """
    _check_shapes(logits, targets, mask)
    bound = math.log((1.0 - clip) / clip)
    nats = F.binary_cross_entropy_with_logits(
        logits.clamp(-bound, bound), targets, reduction="none"
    )  # (T, B, C)
    return _mean_over_scored(nats, mask)


Loss = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def training_loss(train_loss: str, clip: float) -> Loss:
    """The function ``(logits, targets, mask) -> scalar`` that ``train.loss`` names, with
    ``train.loss_clip`` bound for the clipped cross-entropy."""
    loss = TRAINING_LOSSES[train_loss]
    if train_loss == "clipped_bce":
        return lambda logits, targets, mask: masked_clipped_bce(logits, targets, mask, clip=clip)
    return loss


def _mean_over_scored(nats: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The mean of ``nats [T, B, C]`` over the scored steps' elements; 0 if none is scored."""
    scored = mask[..., None].to(nats.dtype)
    count = scored.sum() * nats.shape[-1]
    return (nats * scored).sum() / count.clamp(min=1.0)


TRAINING_LOSSES = registry(LossName, {"bce": masked_bce, "clipped_bce": masked_clipped_bce})
"""`train.loss` names and their functions (each ``(logits, targets, mask) -> scalar``)."""


def _check_shapes(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> None:
    """Raises ValueError naming the argument whose shape or dtype does not fit the others."""
    if logits.dim() != 3:
        raise ValueError(f"logits must be [T, B, C], got shape {tuple(logits.shape)}")
    if targets.shape != logits.shape:
        raise ValueError(
            f"targets has shape {tuple(targets.shape)}, but logits has {tuple(logits.shape)}"
        )
    if mask.shape != logits.shape[:2]:
        raise ValueError(
            f"mask has shape {tuple(mask.shape)}, expected [T, B] = {tuple(logits.shape[:2])}"
            f" to match logits {tuple(logits.shape)}"
        )
    if mask.dtype != torch.bool:
        raise ValueError(f"mask must be a bool tensor, got dtype {mask.dtype}")
