"""Properties every task shares: registry, configs, random streams, overrides, padding."""

import io
import random

import numpy as np
import pytest
import torch

from ntmkit.tasks import BUILT_IN, TASKS, Batch, Task, make_task, score_mask, task_names
from ntmkit.tasks.copy import CopyConfig
from ntmkit.tasks.repeat_copy import RepeatCopyConfig
from ntmkit.vocabulary import TaskName, names

ALL_TASKS = list(names(TaskName))

# Small configs with a spread of lengths, so per-sequence padding really happens.
VARIED_LENGTHS = {
    "copy": {"min_length": 1, "max_length": 8},
    "repeat_copy": {"max_length": 4, "max_repeats": 4},
    "associative_recall": {"min_item_length": 1, "max_item_length": 3},
    "ngrams": {"min_length": 6, "max_length": 40},
    "dyck_words": {"min_length": 1, "max_length": 6},
    "reversed_copy": {"max_length": 8},
    "upside_down_copy": {"max_length": 8},
    "sort": {"max_length": 8},
}


def test_registry_holds_the_nine_tasks_the_copy_series_and_data_under_their_names():
    assert task_names() == [*ALL_TASKS, "copy_series", "data"] and len(ALL_TASKS) == 9
    for name, task_class in BUILT_IN.items():
        assert issubclass(task_class, Task)
        assert task_class.name == name


def test_make_task_with_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match=r"task must be one of copy, repeat_copy, .*, got 'cpy'"):
        make_task("cpy")


def test_make_task_fields_override_config_defaults():
    task = make_task("copy", seed=3, size=4, max_length=7)
    assert task.config == CopyConfig(size=4, max_length=7)
    assert task.seed == 3
    assert (task.input_size, task.output_size) == (5, 5)


def test_fields_override_a_given_config():
    task = TASKS["copy"](CopyConfig(size=3, end_marker=True), max_length=2)
    assert task.config == CopyConfig(size=3, max_length=2, end_marker=True)


def test_unknown_config_field_raises_listing_valid_fields():
    with pytest.raises(ValueError, match=r"unknown task field 'lenght'; valid: .*max_length"):
        make_task("copy", lenght=3)


def test_config_of_another_task_is_rejected():
    with pytest.raises(ValueError, match="config must be a CopyConfig"):
        TASKS["copy"](RepeatCopyConfig())


@pytest.mark.parametrize(
    ("name", "fields", "message"),
    [
        ("copy", {"size": 0}, r"task\.size must be an integer >= 1, got 0$"),
        (
            "copy",
            {"min_length": 5, "max_length": 3},
            r"task\.max_length must be an integer >= 5 \(task\.min_length\), got 3$",
        ),
        ("copy", {"max_length": 2.5}, r"task\.max_length must be an integer .*, got 2\.5$"),
        ("copy", {"end_marker": 1}, r"task\.end_marker must be true or false, got 1$"),
        (
            "repeat_copy",
            {"layout": "graves"},
            r"task\.layout must be one of lasagne, paper, got 'graves'$",
        ),
        ("repeat_copy", {"min_repeats": 0}, r"task\.min_repeats must be an integer >= 1, got 0"),
        ("associative_recall", {"min_items": 1}, r"task\.min_items must be an integer >= 2, got 1"),
        ("ngrams", {"n": 40}, r"task\.n must be an integer >= 2 and <= 16, got 40"),
        ("ngrams", {"n": 6, "min_length": 5}, r"task\.min_length .* >= 6 \(task\.n\), got 5"),
        ("ngrams", {"table": "static"}, r"task\.table must be one of dynamic, fixed, got 'static'"),
        (
            "priority_sort",
            {"num_inputs": 10},
            r"task\.num_inputs .* >= 16 \(task\.num_outputs\), got 10",
        ),
        ("dyck_words", {"min_length": 0}, r"task\.min_length must be an integer >= 1, got 0"),
    ],
)
def test_config_validation_error_names_field_value_and_range(name, fields, message):
    with pytest.raises(ValueError, match=message):
        make_task(name, **fields)


def test_negative_seed_is_rejected():
    with pytest.raises(ValueError, match="seed must be an integer >= 0, got -1"):
        make_task("copy", seed=-1)


@pytest.mark.parametrize("name", ALL_TASKS)
def test_sample_has_declared_shapes_and_dtypes(name):
    task = make_task(name)
    batch = task.sample(3)
    steps = batch.inputs.shape[0]
    assert isinstance(batch, Batch)
    assert batch.inputs.shape == (steps, 3, task.input_size)
    assert batch.targets.shape == (steps, 3, task.output_size)
    assert batch.mask.shape == (steps, 3)
    assert batch.inputs.dtype == batch.targets.dtype == torch.float32
    assert batch.mask.dtype == torch.bool
    assert batch.lengths.dtype == torch.int64
    assert batch.lengths.tolist() == [steps] * 3
    assert batch.mask.any(dim=0).all()


@pytest.mark.parametrize("name", ALL_TASKS)
def test_same_seed_gives_same_batches(name):
    first, second = make_task(name, seed=5), make_task(name, seed=5)
    for _ in range(2):
        _assert_same_batch(first.sample(4), second.sample(4))


@pytest.mark.parametrize("name", ALL_TASKS)
def test_different_seeds_give_different_batches(name):
    first, second = make_task(name, seed=1).sample(4), make_task(name, seed=2).sample(4)
    same_shape = first.inputs.shape == second.inputs.shape
    assert not (same_shape and torch.equal(first.inputs, second.inputs))


@pytest.mark.parametrize("name", ALL_TASKS)
def test_sampling_leaves_global_random_states_untouched(name):
    torch_state, numpy_state, python_state = (
        torch.get_rng_state(),
        np.random.get_state(),
        random.getstate(),
    )
    task = make_task(name, seed=7, **VARIED_LENGTHS.get(name, {}))
    task.sample(4)
    if name in VARIED_LENGTHS:
        make_task(name, per_sequence_lengths=True, **VARIED_LENGTHS[name]).sample(3)
    assert torch.equal(torch.get_rng_state(), torch_state)
    numpy_now = np.random.get_state()
    assert all(np.array_equal(a, b) for a, b in zip(numpy_now, numpy_state, strict=True))
    assert random.getstate() == python_state


@pytest.mark.parametrize("name", ALL_TASKS)
def test_rng_state_saved_with_torch_save_resumes_the_exact_stream(name):
    task = make_task(name, seed=11)
    task.sample(2)
    buffer = io.BytesIO()
    torch.save({"rng": task.get_rng_state()}, buffer)
    expected = task.sample(3)
    buffer.seek(0)
    resumed = make_task(name, seed=11)
    resumed.set_rng_state(torch.load(buffer, weights_only=True)["rng"])
    _assert_same_batch(resumed.sample(3), expected)


def test_set_rng_state_rejects_something_else():
    with pytest.raises(ValueError, match="uint8 tensor"):
        make_task("copy").set_rng_state([1, 2, 3])


@pytest.mark.parametrize("name", ALL_TASKS)
def test_unknown_override_raises_listing_valid_ones(name):
    with pytest.raises(ValueError, match=r"unknown \w+ sample override 'lenght'; valid: "):
        make_task(name).sample(2, lenght=3)


@pytest.mark.parametrize(
    ("name", "override", "message"),
    [
        ("copy", {"length": 0}, "length must be an integer >= 1, got 0"),
        ("repeat_copy", {"repeats": 0}, "repeats must be an integer >= 1, got 0"),
        ("associative_recall", {"items": 1}, "items must be an integer >= 2, got 1"),
        ("ngrams", {"length": 5}, r"length must be an integer >= 6, got 5"),
        ("priority_sort", {"length": 15}, r"length must be an integer >= 16, got 15"),
    ],
)
def test_override_below_its_minimum_raises(name, override, message):
    with pytest.raises(ValueError, match=message):
        make_task(name).sample(2, **override)


def test_batch_size_must_be_positive():
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1, got 0"):
        make_task("copy").sample(0)


@pytest.mark.parametrize("name", ALL_TASKS)
def test_markers_lie_inside_each_sequence_in_time_order(name):
    task = make_task(name, seed=2)
    batch = task.sample(3)
    for index in range(3):
        steps = [step for step, _ in task.markers(batch, index)]
        assert steps == sorted(steps)
        assert all(0 <= step < int(batch.lengths[index]) for step in steps)


@pytest.mark.parametrize("name", ALL_TASKS)
def test_repr_names_the_task_seed_and_sizes(name):
    text = repr(make_task(name, seed=4))
    assert f"name='{name}'" in text
    assert "seed=4" in text
    assert "input_size=" in text


@pytest.mark.parametrize("name", sorted(VARIED_LENGTHS))
def test_per_sequence_lengths_pads_with_unscored_zeros(name):
    task = make_task(name, seed=3, per_sequence_lengths=True, **VARIED_LENGTHS[name])
    batch = task.sample(12)
    steps = batch.inputs.shape[0]
    lengths = batch.lengths.tolist()
    assert len(set(lengths)) > 1
    assert max(lengths) == steps
    for index, length in enumerate(lengths):
        assert not batch.inputs[length:, index].any()
        assert not batch.targets[length:, index].any()
        assert not batch.mask[length:, index].any()
        assert batch.mask[:length, index].any()
    assert torch.equal(score_mask(batch, "all").sum(dim=0), batch.lengths)


@pytest.mark.parametrize("name", sorted(VARIED_LENGTHS))
def test_lengths_are_shared_within_a_batch_by_default(name):
    task = make_task(name, seed=3, **VARIED_LENGTHS[name])
    for _ in range(3):
        lengths = task.sample(6).lengths
        assert (lengths == lengths[0]).all()


def test_score_mask_output_is_the_batch_mask_and_all_is_every_real_step():
    batch = make_task("copy", seed=0, per_sequence_lengths=True, max_length=6).sample(5)
    assert score_mask(batch, "output") is batch.mask
    every = score_mask(batch, "all")
    steps = torch.arange(batch.mask.shape[0])[:, None]
    assert torch.equal(every, steps < batch.lengths[None, :])
    assert not (batch.mask & ~every).any()


def test_score_mask_rejects_unknown_scope():
    batch = make_task("copy").sample(1)
    with pytest.raises(ValueError, match="scope must be one of output, all, got 'outputs'"):
        score_mask(batch, "outputs")


def _assert_same_batch(first: Batch, second: Batch) -> None:
    for a, b in zip(first, second, strict=True):
        assert torch.equal(a, b)
