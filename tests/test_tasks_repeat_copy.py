"""Repeat copy in ntm-lasagne's layout (scalar and unary count) and in the paper's layout."""

import math

import pytest
import torch

from ntmkit.tasks import make_task

# Payload of two 2-bit vectors for one sequence, `[L, B, S]`: (1, 0) then (0, 1).
PAYLOAD = torch.tensor([[[1.0, 0.0]], [[0.0, 1.0]]])


def test_lasagne_scalar_layout_matches_hand_written_tensors():
    task = make_task("repeat_copy", size=2, max_repeats=4, end_marker=True)
    batch = task.build(PAYLOAD, repeats=2)
    #                      t: 0     1     2       3     4     5     6     7     8
    inputs = torch.tensor(
        [
            [1, 0, 0, 0],
            [0, 1, 0, 0],
            [0, 0, 0.5, 0],  # The count R / max_repeats = 2 / 4.
            [0, 0, 0, 1],  # The delimiter.
            [0, 0, 0, 0],
            [0, 0, 0, 0],
            [0, 0, 0, 0],
            [0, 0, 0, 0],
            [0, 0, 0, 0],
        ]
    )
    targets = torch.zeros(9, 4)
    targets[4:8, :2] = torch.tensor([[1.0, 0.0], [0.0, 1.0]] * 2)
    targets[8, 3] = 1.0  # The end marker.
    assert torch.equal(batch.inputs[:, 0], inputs)
    assert torch.equal(batch.targets[:, 0], targets)
    assert batch.mask[:, 0].tolist() == [False] * 4 + [True] * 5


def test_lasagne_unary_layout_matches_hand_written_tensors():
    task = make_task("repeat_copy", size=2, repeat_encoding="unary")
    batch = task.build(PAYLOAD, repeats=2)
    inputs = torch.zeros(9, 4)
    inputs[:2, :2] = PAYLOAD[:, 0]
    inputs[2:4, 2] = 1.0  # R = 2 ones from t = L.
    inputs[4, 3] = 1.0
    targets = torch.zeros(9, 4)
    targets[5:9, :2] = torch.tensor([[1.0, 0.0], [0.0, 1.0]] * 2)
    assert torch.equal(batch.inputs[:, 0], inputs)
    assert torch.equal(batch.targets[:, 0], targets)
    assert batch.mask[:, 0].tolist() == [False] * 5 + [True] * 4
    assert task.markers(batch, 0) == [(2, "repeats"), (4, "delimiter")]


def test_paper_layout_matches_hand_written_tensors():
    task = make_task("repeat_copy", size=2, max_repeats=4, layout="paper")
    batch = task.build(PAYLOAD, repeats=4)
    standardised = (4 - 2.5) / math.sqrt(15 / 12)  # Uniform on 1..4: mean 2.5, variance 15/12.
    inputs = torch.zeros(13, 4)
    inputs[:2, :2] = PAYLOAD[:, 0]
    inputs[2, 2] = 1.0  # The delimiter.
    inputs[3, 3] = standardised
    targets = torch.zeros(13, 3)
    targets[4:12, :2] = torch.tensor([[1.0, 0.0], [0.0, 1.0]] * 4)
    targets[12, 2] = 1.0  # The end marker the model must emit.
    assert torch.allclose(batch.inputs[:, 0], inputs)
    assert torch.equal(batch.targets[:, 0], targets)
    assert batch.mask[:, 0].tolist() == [False] * 4 + [True] * 9
    assert (task.input_size, task.output_size) == (4, 3)
    assert task.markers(batch, 0) == [(2, "delimiter"), (3, "repeats"), (12, "end")]


def test_paper_count_has_mean_zero_and_variance_one_over_the_repeat_range():
    task = make_task("repeat_copy", layout="paper", min_repeats=1, max_repeats=10)
    values = torch.tensor([task.normalised_repeats(r) for r in range(1, 11)], dtype=torch.float64)
    assert abs(float(values.mean())) < 1e-12
    assert abs(float(values.var(unbiased=False)) - 1.0) < 1e-12


def test_paper_layout_rejects_the_unary_encoding():
    with pytest.raises(
        ValueError,
        match=r"task\.repeat_encoding must be 'scalar' with task\.layout 'paper', got 'unary'",
    ):
        make_task("repeat_copy", layout="paper", repeat_encoding="unary")


def test_paper_layout_needs_more_than_one_repeat_value():
    with pytest.raises(ValueError, match=r"task\.max_repeats must be an integer >= 4 .*, got 3"):
        make_task("repeat_copy", layout="paper", min_repeats=3, max_repeats=3)


@pytest.mark.parametrize(
    ("fields", "steps"),
    [
        ({}, 3 * 6 + 1 + 1),  # (R + 1) L + 1 count step + 1 delimiter step.
        ({"repeat_encoding": "unary"}, 3 * 6 + 5 + 1),  # R count steps.
        ({"end_marker": True}, 3 * 6 + 1 + 1 + 1),
        ({"layout": "paper"}, 3 * 6 + 2 + 1),
    ],
)
def test_repeats_override_sets_the_number_of_copies(fields, steps):
    task = make_task("repeat_copy", seed=1, max_repeats=3, **fields)
    batch = task.sample(2, length=3, repeats=5)
    assert batch.inputs.shape[0] == steps
    copies = batch.targets[batch.mask[:, 0], :, :8]  # (scored steps, B, S)
    payload = batch.inputs[:3, :, :8]
    assert torch.equal(copies[:15], payload.repeat(5, 1, 1))


def test_repeats_are_drawn_from_the_configured_range():
    task = make_task("repeat_copy", seed=0, min_length=2, max_length=2, max_repeats=3)
    seen = {(task.sample(1).inputs.shape[0] - 4) // 2 for _ in range(40)}
    assert seen == {1, 2, 3}
