"""Copy series (the DNC paper's allocation test): the layout against hand-written tensors, the
draws, the pins, the recipe's small memory, and bad options refused by name."""

import pytest
import torch

from ntmkit.presets import preset
from ntmkit.tasks import make_task


def test_two_copies_of_two_vectors_match_the_hand_written_layout():
    task = make_task("copy_series", seed=3, size=2)
    batch = task.sample(1, copies=2, length=2)
    bits = batch.inputs[:, 0, :2]
    first, second = bits[0:2], bits[5:7]
    #           t:  0  1  2  3  4  5  6  7  8  9
    cue = torch.tensor([0, 0, 1, 0, 0, 0, 0, 1, 0, 0]).float()
    assert torch.equal(batch.inputs[:, 0, 2], cue)
    assert not bits[2:5].any() and not bits[7:].any()  # nothing but the cue after each sequence
    assert torch.equal(batch.targets[3:5, 0], first) and torch.equal(batch.targets[8:10, 0], second)
    assert not batch.targets[:3].any() and not batch.targets[5:8].any()
    assert batch.mask[:, 0].int().tolist() == [0, 0, 0, 1, 1, 0, 0, 0, 1, 1]
    assert task.markers(batch, 0) == [(2, "cue"), (7, "cue")]


def test_lengths_and_copies_are_drawn_from_their_ranges_per_batch():
    task = make_task("copy_series", seed=0, min_length=2, max_length=3, min_copies=1, max_copies=3)
    shapes = {task.sample(2).inputs.shape[0] for _ in range(80)}
    assert shapes == {copies * (2 * length + 1) for copies in (1, 2, 3) for length in (2, 3)}


def test_pins_go_beyond_the_training_ranges_and_the_same_seed_draws_the_same_series():
    batch = make_task("copy_series", seed=5).sample(3, copies=32, length=5)
    assert batch.inputs.shape == (32 * 11, 3, 9) and int(batch.mask.sum()) == 3 * 32 * 5
    again = make_task("copy_series", seed=5).sample(3, copies=32, length=5)
    assert torch.equal(batch.inputs, again.inputs)
    other = make_task("copy_series", seed=6).sample(3, copies=32, length=5)
    assert not torch.equal(batch.inputs, other.inputs)


def test_the_recipe_gives_a_memory_smaller_than_the_longest_series_in_every_preset():
    config = make_task("copy_series").config
    for name in ("fast", "paper", "dnc"):
        run = preset("copy_series", name)
        assert run.model.num_slots == 8 < config.max_copies * config.max_length
    assert preset("copy_series", "dnc").model.memory == "dnc"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"min_copies": 0}, "task.min_copies must be"),
        ({"min_copies": 3, "max_copies": 2}, "task.max_copies must be .*task.min_copies"),
        ({"max_length": 0}, "task.max_length must be"),
    ],
)
def test_bad_options_are_refused_by_name(fields, message):
    with pytest.raises(ValueError, match=message):
        make_task("copy_series", **fields)


def test_an_unknown_pin_is_refused_listing_the_known_ones():
    with pytest.raises(ValueError, match="unknown copy_series sample override 'repeats'"):
        make_task("copy_series").sample(2, repeats=3)
