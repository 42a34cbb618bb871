"""Masked metrics and loss: unscored steps never count, known answers, shape errors."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ntmkit.numerics import LASAGNE_PROBABILITY_CLIP, LASAGNE_README_PROBABILITY_CLIP
from ntmkit.run.evaluate import evaluate_batches
from ntmkit.run.metrics import (
    bit_errors,
    bit_errors_per_sequence,
    cost_bits,
    cost_bits_per_sequence,
    masked_bce,
    perfect_fraction,
    wrong_bits,
)
from ntmkit.tasks import Batch, make_task, score_mask

CONFIDENT = 30.0  # A logit this large is a near-certain prediction: cost about 1e-13 bits.


def _targets(seed: int = 0) -> torch.Tensor:
    return torch.randint(0, 2, (6, 3, 4), generator=torch.Generator().manual_seed(seed)).float()


def _perfect_logits(targets: torch.Tensor) -> torch.Tensor:
    return (2 * targets - 1) * CONFIDENT


def _mask() -> torch.Tensor:
    mask = torch.zeros(6, 3, dtype=torch.bool)
    mask[3:] = True
    return mask


def test_perfect_prediction_scores_zero():
    targets = _targets()
    logits = _perfect_logits(targets)
    mask = _mask()
    assert bit_errors(logits, targets, mask).tolist() == [0.0, 0.0, 0.0]
    assert bit_errors_per_sequence(logits, targets, mask) == 0.0
    assert cost_bits_per_sequence(logits, targets, mask) < 1e-9
    assert perfect_fraction(logits, targets, mask) == 1.0
    assert float(masked_bce(logits, targets, mask)) < 1e-9


def test_flipping_k_scored_bits_counts_k_errors():
    targets = _targets()
    logits = _perfect_logits(targets)
    flips = [(3, 0, 0), (4, 0, 2), (5, 0, 3), (5, 2, 1)]  # Three in sequence 0, one in sequence 2.
    for t, b, c in flips:
        logits[t, b, c] = -logits[t, b, c]
    errors = bit_errors(logits, targets, _mask())
    assert errors.tolist() == [3.0, 0.0, 1.0]
    assert bit_errors_per_sequence(logits, targets, _mask()) == pytest.approx(4 / 3)
    assert perfect_fraction(logits, targets, _mask()) == pytest.approx(1 / 3)


def test_perfect_fraction_is_exact_in_float64():
    targets = torch.zeros(2, 200, 1)
    logits = torch.full((2, 200, 1), CONFIDENT)  # every sequence wrong...
    logits[:, 0] = -CONFIDENT  # ...but the first
    mask = torch.ones(2, 200, dtype=torch.bool)
    assert perfect_fraction(logits, targets, mask) == 0.005  # not float32's 0.004999999888


def test_unscored_steps_never_count():
    targets = _targets()
    logits = _perfect_logits(targets)
    logits[:3] = -logits[:3] * 100  # Confidently wrong everywhere outside the mask.
    mask = _mask()
    assert bit_errors(logits, targets, mask).sum() == 0
    assert cost_bits_per_sequence(logits, targets, mask) < 1e-9
    assert float(masked_bce(logits, targets, mask)) < 1e-9


def test_logit_zero_costs_one_bit_per_scored_bit():
    targets = _targets()
    mask = _mask()
    costs = cost_bits(torch.zeros_like(targets), targets, mask)
    assert torch.allclose(costs, torch.full((3,), 3 * 4.0))  # 3 scored steps x 4 channels.
    assert cost_bits_per_sequence(torch.zeros_like(targets), targets, mask) == pytest.approx(12.0)


def test_logit_zero_is_predicted_as_zero():
    targets = torch.tensor([[[0.0, 1.0]]])
    mask = torch.ones(1, 1, dtype=torch.bool)
    assert bit_errors(torch.zeros(1, 1, 2), targets, mask).tolist() == [1.0]


def test_cost_bits_is_cross_entropy_over_ln_2():
    targets = _targets(1)
    logits = torch.randn(6, 3, 4, generator=torch.Generator().manual_seed(3))
    mask = torch.ones(6, 3, dtype=torch.bool)
    nats = F.binary_cross_entropy_with_logits(logits, targets, reduction="none").sum(dim=(0, 2))
    assert torch.allclose(cost_bits(logits, targets, mask), nats / math.log(2))


def test_masked_bce_is_the_mean_over_scored_elements():
    targets = _targets(2)
    logits = torch.randn(6, 3, 4, generator=torch.Generator().manual_seed(4))
    mask = _mask()
    expected = F.binary_cross_entropy_with_logits(logits[3:], targets[3:])
    assert torch.allclose(masked_bce(logits, targets, mask), expected)
    everything = torch.ones(6, 3, dtype=torch.bool)
    plain = F.binary_cross_entropy_with_logits(logits, targets)
    assert torch.allclose(masked_bce(logits, targets, everything), plain)
    assert math.isclose(
        float(masked_bce(torch.zeros(6, 3, 4), targets, mask)), math.log(2), rel_tol=1e-6
    )


def test_masked_bce_gives_no_gradient_to_unscored_steps():
    targets = _targets()
    logits = torch.randn(6, 3, 4, requires_grad=True)
    masked_bce(logits, targets, _mask()).backward()
    assert (logits.grad[:3] == 0).all()
    assert (logits.grad[3:] != 0).any()


def test_masked_bce_with_nothing_scored_is_zero_not_nan():
    targets = _targets()
    loss = masked_bce(torch.randn(6, 3, 4), targets, torch.zeros(6, 3, dtype=torch.bool))
    assert float(loss) == 0.0


def test_metrics_on_a_padded_task_batch_respect_the_scope():
    task = make_task("copy", seed=0, size=3, max_length=5, per_sequence_lengths=True)
    batch = task.sample(4)
    logits = torch.zeros_like(batch.targets)
    output = cost_bits(logits, batch.targets, score_mask(batch, "output"))
    every = cost_bits(logits, batch.targets, score_mask(batch, "all"))
    channels = task.output_size
    assert torch.allclose(output, batch.mask.sum(dim=0).float() * channels)
    assert torch.allclose(every, batch.lengths.float() * channels)


@pytest.mark.parametrize(
    ("logits", "targets", "mask", "message"),
    [
        (
            torch.zeros(6, 3),
            torch.zeros(6, 3),
            torch.ones(6, 3, dtype=torch.bool),
            "logits must be",
        ),
        (torch.zeros(6, 3, 4), torch.zeros(6, 3, 5), torch.ones(6, 3, dtype=torch.bool), "targets"),
        (torch.zeros(6, 3, 4), torch.zeros(6, 3, 4), torch.ones(3, 6, dtype=torch.bool), "mask"),
        (torch.zeros(6, 3, 4), torch.zeros(6, 3, 4), torch.ones(6, 3), "mask must be a bool"),
    ],
)
def test_bad_shapes_raise_naming_the_argument_and_shapes(logits, targets, mask, message):
    for metric in (bit_errors, cost_bits, masked_bce, perfect_fraction):
        with pytest.raises(ValueError, match=message):
            metric(logits, targets, mask)


def test_shape_error_message_gives_both_shapes():
    with pytest.raises(
        ValueError, match=r"targets has shape \(6, 3, 5\), but logits has \(6, 3, 4\)"
    ):
        bit_errors(torch.zeros(6, 3, 4), torch.zeros(6, 3, 5), torch.ones(6, 3, dtype=torch.bool))


def test_two_errors_in_200_sequences_average_to_exactly_a_hundredth():
    """A float32 mean gives 0.0099999998 here, which an early stop at < 0.01 would accept."""
    targets = torch.zeros(3, 200, 2)
    logits = torch.full((3, 200, 2), -5.0)
    logits[0, 7, 1] = logits[2, 150, 0] = 5.0  # two wrong bits in two sequences
    mask = torch.ones(3, 200, dtype=torch.bool)
    assert bit_errors_per_sequence(logits, targets, mask) == 0.01
    batch = Batch(torch.zeros(3, 200, 1), targets, mask, torch.full((200,), 3))
    assert evaluate_batches(FixedLogits(logits), [batch]).bit_errors == 0.01


class FixedLogits(torch.nn.Module):
    """Stands in for an NTM: returns the same logits for any input."""

    def __init__(self, logits):
        super().__init__()
        self.logits = torch.nn.Parameter(logits, requires_grad=False)

    def forward(self, inputs):
        return self.logits, None


def test_clipped_bce_is_ntm_lasagnes_loss_and_has_no_gradient_where_it_clips():
    from ntmkit.numerics import LASAGNE_PROBABILITY_CLIP as CLIP
    from ntmkit.run.metrics import masked_clipped_bce

    logits = torch.tensor([[[0.3, -2.0, 20.0, -25.0]]], dtype=torch.float64, requires_grad=True)
    targets = torch.tensor([[[1.0, 0.0, 0.0, 0.0]]], dtype=torch.float64)
    mask = torch.ones(1, 1, dtype=torch.bool)
    loss = masked_clipped_bce(logits, targets, mask)
    p = np.clip(1 / (1 + np.exp(-logits.detach().numpy())), CLIP, 1 - CLIP)
    y = targets.numpy()
    naive = np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p)))  # T.mean(binary_crossentropy)
    assert loss.item() == pytest.approx(naive, rel=1e-10)  # naive's 1 - (1 - 1e-6) rounds
    (grad,) = torch.autograd.grad(loss, logits)
    assert grad[0, 0, 2] == 0 and grad[0, 0, 3] == 0  # clipped: wrong (20) and right (-25)
    assert grad[0, 0, 0] != 0 and grad[0, 0, 1] != 0
    small = logits.detach()[..., :2]
    plain = masked_bce(small, targets[..., :2], mask)
    assert masked_clipped_bce(small, targets[..., :2], mask).item() == pytest.approx(plain.item())


@pytest.mark.parametrize("clip", [LASAGNE_PROBABILITY_CLIP, LASAGNE_README_PROBABILITY_CLIP])
def test_clipped_bce_at_the_readmes_clip_is_finite_in_float32_and_equals_float64(clip):
    from ntmkit.run.metrics import masked_clipped_bce

    # Logits of 40 and -40 saturate float32's sigmoid to exactly 1 and 0: clipping the
    # probability there would take log(0); clipping the logit gives -log(clip).
    logits = torch.tensor([[[40.0, -40.0, 3.0, 30.0]]], requires_grad=True)
    targets = torch.tensor([[[0.0, 1.0, 1.0, 1.0]]])
    mask = torch.ones(1, 1, dtype=torch.bool)
    loss = masked_clipped_bce(logits, targets, mask, clip=clip)
    (grad,) = torch.autograd.grad(loss, logits)
    assert torch.isfinite(loss) and torch.isfinite(grad).all()
    p = np.clip(1 / (1 + np.exp(-logits.detach().double().numpy())), clip, 1 - clip)
    y = targets.double().numpy()
    naive = np.mean(-(y * np.log(p) + (1 - y) * np.log1p(-p)))  # float64, as Theano's was
    assert loss.item() == pytest.approx(naive, rel=1e-6)
    assert grad[0, 0, 0] == 0 and grad[0, 0, 1] == 0 and grad[0, 0, 3] == 0 and grad[0, 0, 2] < 0


def test_wrong_bits_thresholds_at_probability_one_half_and_a_zero_logit_predicts_zero():
    logits = torch.tensor([[2.0, -1.0, 0.0, 0.0, -3.0]])
    targets = torch.tensor([[1.0, 1.0, 0.0, 1.0, 0.0]])
    expected = torch.tensor([[False, True, False, True, False]])
    assert torch.equal(wrong_bits(logits, targets), expected)
