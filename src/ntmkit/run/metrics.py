"""Masked metrics and the training losses of each output kind, computed from logits.

All functions take the model's raw outputs (logits, never probabilities: the sigmoid and the
softmax happen inside the numerically stable losses), the targets, and a `[T, B]` bool mask of
the steps to score, usually `score_mask(batch, scope)`. Unscored steps never count, whatever the
model emits there.

Shapes, by the task's output kind (`ntmkit.vocabulary.OutputKind`):
  logits:  `[T, B, C]` (C = K classes for ``categorical``)
  targets: ``bits`` `[T, B, C]` of 0/1 values; ``categorical`` `[T, B]` class indices (int64);
           ``real`` `[T, B, C]` floats
  mask:    `[T, B]` bool
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from ..numerics import LASAGNE_PROBABILITY_CLIP
from ..vocabulary import LossName, OutputKind

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


def symbol_errors(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Wrong classes per sequence over the scored steps (the argmax against the target).

    Returns:
      `[B]` float64 counts (exact means; see `bit_errors`).
    """
    _check_classes(logits, targets, mask)
    wrong = logits.argmax(dim=-1) != targets  # (T, B)
    return (wrong & mask).sum(dim=0).double()


def class_cost_bits(
    logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """Cross-entropy of the softmax per sequence, in bits, summed over the scored steps.

    Returns:
      `[B]`, differentiable.
    """
    _check_classes(logits, targets, mask)
    nats = F.cross_entropy(logits.transpose(1, 2), targets.clamp(min=0), reduction="none")  # (T, B)
    return (nats * mask).sum(dim=0) / math.log(2)


def squared_errors(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The squared error summed over each sequence's scored values.

    Returns:
      `[B]` float64.
    """
    _check_shapes(logits, targets, mask)
    squares = (logits.double() - targets.double()) ** 2  # (T, B, C)
    return (squares * mask[..., None]).sum(dim=(0, 2))


def masked_cross_entropy(
    logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """The categorical training loss: softmax cross-entropy in nats, averaged over the scored
    steps (0 when none is scored)."""
    _check_classes(logits, targets, mask)
    nats = F.cross_entropy(logits.transpose(1, 2), targets.clamp(min=0), reduction="none")
    return (nats * mask).sum() / mask.sum().clamp(min=1)


def masked_mse(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The real-valued training loss: squared error averaged over the scored values."""
    _check_shapes(logits, targets, mask)
    return _mean_over_scored((logits - targets) ** 2, mask)


def batch_errors(
    kind: OutputKind, logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor
) -> float:
    """A training batch's error by its output kind's measure (`ERROR_FIELDS`): wrong bits or
    wrong classes per sequence, or the mean squared error per scored value."""
    if kind == "bits":
        return bit_errors_per_sequence(logits, targets, mask)
    if kind == "categorical":
        return float(symbol_errors(logits, targets, mask).mean())
    scored = mask.sum() * logits.shape[-1]
    return float(squared_errors(logits, targets, mask).sum() / scored.clamp(min=1))


def predictions(kind: OutputKind, logits: torch.Tensor) -> torch.Tensor:
    """What the model says, for pictures: bit probabilities, class probabilities, or values."""
    if kind == "bits":
        return torch.sigmoid(logits)
    return torch.softmax(logits, dim=-1) if kind == "categorical" else logits


ERROR_FIELDS: dict[str, str] = {"bits": "bit_errors", "categorical": "symbol_errors", "real": "mse"}
"""The error each output kind's training steps log, and its evaluations headline."""

Loss = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]

KIND_LOSSES: dict[str, tuple[str, ...]] = {
    "bits": ("bce", "clipped_bce"),
    "categorical": ("cross_entropy",),
    "real": ("mse",),
}
"""The losses that suit each output kind; the first is what ``train.loss="auto"`` means."""


def resolved_loss(train_loss: LossName, kind: OutputKind) -> str:
    """``train.loss`` with ``auto`` made the output kind's own loss."""
    return KIND_LOSSES[kind][0] if train_loss == "auto" else train_loss


def training_loss(train_loss: LossName, clip: float, kind: OutputKind = "bits") -> Loss:
    """The function ``(logits, targets, mask) -> scalar`` that ``train.loss`` names for a task of
    output ``kind``, with ``train.loss_clip`` bound for the clipped cross-entropy."""
    name = resolved_loss(train_loss, kind)
    if name == "clipped_bce":
        return lambda logits, targets, mask: masked_clipped_bce(logits, targets, mask, clip=clip)
    return TRAINING_LOSSES[name]


def _mean_over_scored(nats: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The mean of ``nats [T, B, C]`` over the scored steps' elements; 0 if none is scored."""
    scored = mask[..., None].to(nats.dtype)
    count = scored.sum() * nats.shape[-1]
    return (nats * scored).sum() / count.clamp(min=1.0)


TRAINING_LOSSES: dict[str, Loss] = {
    "bce": masked_bce,
    "clipped_bce": masked_clipped_bce,
    "cross_entropy": masked_cross_entropy,
    "mse": masked_mse,
}
"""`train.loss` names and their functions (each ``(logits, targets, mask) -> scalar``)."""


def _check_classes(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> None:
    """Raises ValueError unless logits are `[T, B, K]` and targets `[T, B]` class indices."""
    if logits.dim() != 3 or targets.shape != logits.shape[:2] or mask.shape != logits.shape[:2]:
        raise ValueError(
            f"categorical logits must be [T, B, K] and targets and mask [T, B], got "
            f"{tuple(logits.shape)}, {tuple(targets.shape)} and {tuple(mask.shape)}"
        )
    if targets.dtype.is_floating_point:
        raise ValueError(f"categorical targets must be class indices, got {targets.dtype}")


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
