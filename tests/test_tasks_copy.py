"""Copy and its variants (reversed, upside-down, sorted): layouts against hand-written tensors."""

import pytest
import torch

from ntmkit.tasks import make_task
from ntmkit.tasks.sort import sort_vectors

# Payload of two 2-bit vectors for one sequence, `[L, B, S]`: (1, 0) then (1, 1).
PAYLOAD = torch.tensor([[[1.0, 0.0]], [[1.0, 1.0]]])


def test_copy_layout_matches_hand_written_tensors():
    batch = make_task("copy", size=2).build(PAYLOAD)
    #                             t:  0  1  2  3  4
    inputs = torch.tensor([[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]])
    targets = torch.tensor([[0, 0, 0], [0, 0, 0], [0, 0, 0], [1, 0, 0], [1, 1, 0]])
    assert torch.equal(batch.inputs[:, 0], inputs.float())
    assert torch.equal(batch.targets[:, 0], targets.float())
    assert batch.mask[:, 0].tolist() == [False, False, False, True, True]
    assert batch.lengths.tolist() == [5]


def test_copy_end_marker_adds_a_final_step_raising_the_last_target_channel():
    batch = make_task("copy", size=2, end_marker=True).build(PAYLOAD)
    assert batch.inputs.shape[0] == 6
    assert not batch.inputs[5].any()
    assert batch.targets[5, 0].tolist() == [0.0, 0.0, 1.0]
    assert not batch.targets[:5, 0, 2].any()
    assert batch.mask[:, 0].tolist() == [False, False, False, True, True, True]


def test_copy_lengths_are_drawn_from_the_configured_range():
    task = make_task("copy", seed=0, min_length=2, max_length=4)
    lengths = {(task.sample(2).inputs.shape[0] - 1) // 2 for _ in range(40)}
    assert lengths == {2, 3, 4}


def test_copy_length_override_pins_the_length_beyond_the_training_range():
    batch = make_task("copy", max_length=5).sample(2, length=30)
    assert batch.inputs.shape == (61, 2, 9)
    assert int(batch.mask.sum()) == 2 * 30


def test_copy_target_repeats_the_payload_after_the_delimiter():
    batch = make_task("copy", seed=4).sample(5, length=7)
    assert torch.equal(batch.targets[8:15, :, :8], batch.inputs[:7, :, :8])


def test_copy_markers_give_the_delimiter_and_end_steps():
    task = make_task("copy", size=2, end_marker=True)
    assert task.markers(task.build(PAYLOAD), 0) == [(2, "delimiter"), (5, "end")]


def test_copy_build_rejects_payload_of_the_wrong_width():
    with pytest.raises(ValueError, match=r"bits has shape \(2, 1, 2\), expected \[L, B, 3\]"):
        make_task("copy", size=3).build(PAYLOAD)


def test_reversed_copy_target_is_the_payload_reversed_in_time():
    batch = make_task("reversed_copy", size=2, end_marker=True).build(PAYLOAD)
    targets = torch.tensor([[0, 0, 0]] * 3 + [[1, 1, 0], [1, 0, 0], [0, 0, 1]])
    assert torch.equal(batch.targets[:, 0], targets.float())


def test_upside_down_copy_target_reverses_each_vectors_bits():
    batch = make_task("upside_down_copy", size=2).build(PAYLOAD)
    assert batch.targets[3:, 0].tolist() == [[0.0, 1.0, 0.0], [1.0, 1.0, 0.0]]


def test_sort_target_matches_the_documented_example():
    payload = torch.tensor([[[1.0, 1.0]], [[0.0, 0.0]], [[1.0, 0.0]]])  # 11, 00, 10
    batch = make_task("sort", size=2).build(payload)
    assert batch.targets[4:, 0, :2].tolist() == [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]]


def test_sort_vectors_agrees_with_python_sorted_on_random_vectors():
    bits = torch.randint(0, 2, (9, 6, 4), generator=torch.Generator().manual_seed(0)).float()
    result = sort_vectors(bits)
    for b in range(6):
        expected = sorted(bits[:, b].tolist())  # Python compares lists lexicographically.
        assert result[:, b].tolist() == expected


@pytest.mark.parametrize("name", ["reversed_copy", "upside_down_copy", "sort"])
def test_variants_keep_the_copy_inputs_mask_and_end_marker(name):
    copy = make_task("copy", seed=9, end_marker=True).sample(3)
    variant = make_task(name, seed=9, end_marker=True).sample(3)
    assert torch.equal(variant.inputs, copy.inputs)
    assert torch.equal(variant.mask, copy.mask)
    assert torch.equal(variant.targets[-1], copy.targets[-1])
    # The payload rows hold the same number of ones, rearranged.
    assert variant.targets.sum() == copy.targets.sum()
