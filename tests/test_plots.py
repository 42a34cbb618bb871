"""Figures: each panel holds the data it claims to, files decode, markers sit on their steps."""

import dataclasses

import numpy as np
import pytest
import torch
from matplotlib.image import AxesImage
from PIL import Image, ImageSequence

from ntmkit import NTM, NTMConfig
from ntmkit.plots import (
    SampleTrace,
    dashboard_figure,
    sample_figure,
    save_animation,
    save_dashboard,
    save_figure,
    trace_sample,
)
from ntmkit.plots.common import DPI, MAX_SLOTS_SHOWN
from ntmkit.plots.curves import rolling_mean
from ntmkit.tasks import make_task


def tiny_model(task, num_slots=8, read_heads=1, write_heads=1):
    torch.manual_seed(0)
    config = NTMConfig(
        input_size=task.input_size, output_size=task.output_size, num_slots=num_slots,
        word_size=4, controller_size=8, read_heads=read_heads, write_heads=write_heads,
    )  # fmt: skip
    return NTM(config)


def copy_task(**fields):
    return make_task("copy", seed=3, **{"size": 2, "max_length": 4, **fields})


def images_by_label(figure) -> dict[str, AxesImage]:
    return {image.get_label(): image for ax in figure.axes for image in ax.images}


def test_dashboard_panels_hold_the_input_target_and_sigmoid_probabilities():
    task = copy_task()
    model = tiny_model(task)
    batch = task.sample(3, length=4)
    images = images_by_label(dashboard_figure(model, task, batch=batch, index=1))
    with torch.no_grad():
        logits, _ = model(batch.inputs[:, 1:2])
    probabilities = torch.sigmoid(logits)[:, 0].numpy()  # (T, C)
    # The dashboard traces the sequence on the eager step, this plain call may take the fused
    # engine: the two agree to float32 rounding, not bit for bit.
    prediction = images["Prediction (sigmoid)"].get_array()
    np.testing.assert_allclose(prediction, probabilities.T, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(images["Input"].get_array(), batch.inputs[:, 1].numpy().T)
    np.testing.assert_array_equal(images["Target"].get_array(), batch.targets[:, 1].numpy().T)
    assert images["Prediction (sigmoid)"].get_clim() == (0.0, 1.0)


def test_dashboard_weighting_panels_hold_the_traced_weights_per_head():
    task = copy_task()
    model = tiny_model(task, read_heads=2)
    batch = task.sample(1, length=3)
    images = images_by_label(dashboard_figure(model, task, batch=batch))
    sample = trace_sample(model, task, batch)
    np.testing.assert_allclose(
        images["Write weighting, head 0"].get_array(), sample.write_weights[:, 0].T
    )
    np.testing.assert_allclose(
        images["Read weighting, head 2"].get_array(), sample.read_weights[:, 1].T
    )
    np.testing.assert_allclose(images["Memory at the end"].get_array(), sample.memory[-1])


def test_dashboard_marks_the_copy_delimiter_on_every_time_panel():
    task = copy_task()
    batch = task.sample(1, length=3)
    figure = dashboard_figure(tiny_model(task), task, batch=batch)
    time_axes = [ax for ax in figure.axes if ax.get_title(loc="left") != "Memory at the end"]
    time_axes = [ax for ax in time_axes if ax.images]
    for ax in time_axes:
        marks = [line for line in ax.get_lines() if line.get_label() == "delimiter"]
        assert len(marks) == 1 and list(marks[0].get_xdata()) == [3, 3]
    assert len(time_axes) == 5  # input, target, prediction, one write and one read weighting


def test_dashboard_head_option_keeps_one_weighting_and_rejects_a_missing_head():
    task = copy_task()
    model = tiny_model(task)
    images = images_by_label(dashboard_figure(model, task, length=2, head=1))
    assert [name for name in images if "weighting" in name] == ["Read weighting, head 1"]
    with pytest.raises(ValueError, match="head=2 does not exist"):
        dashboard_figure(model, task, length=2, head=2)


def test_dashboard_details_add_erase_add_shift_gate_and_gamma_panels():
    task = copy_task()
    figure = dashboard_figure(tiny_model(task), task, length=2, details=True)
    titles = [ax.get_title(loc="left") for ax in figure.axes]
    for expected in ("Erase vector, head 0", "Add vector, head 0", "Shift distribution, head 1"):
        assert expected in titles
    assert "Interpolation gate g" in titles and "Sharpening γ" in titles


def one_hot_walk(steps: int, num_slots: int, slots) -> np.ndarray:
    """`[T, 1, N]` weights on ``slots[t % len(slots)]`` at step t."""
    weights = np.zeros((steps, 1, num_slots), dtype=np.float32)
    for t in range(steps):
        weights[t, 0, slots[t % len(slots)]] = 1.0
    return weights


def fake_sample(steps=6, num_slots=64, used=(10, 11, 12), read=None) -> SampleTrace:
    """A traced sample whose write head visits the ``used`` slots and whose read head visits
    ``read`` (the same slots when None)."""
    weights = one_hot_walk(steps, num_slots, used)
    read_weights = weights if read is None else one_hot_walk(steps, num_slots, read)
    zeros = np.zeros((steps, 3), dtype=np.float32)
    return SampleTrace(
        inputs=zeros, targets=zeros, predictions=zeros + 0.5, mask=np.ones(steps, dtype=bool),
        write_weights=weights, read_weights=read_weights,
        memory=np.random.default_rng(0).normal(size=(steps, num_slots, 4)),
        erase=np.zeros((steps, 1, 4)), add=np.zeros((steps, 1, 4)), gate=np.zeros((steps, 2)),
        shift=np.zeros((steps, 2, 3)), gamma=np.ones((steps, 2)), markers=[],
    )  # fmt: skip


def test_dashboard_crops_a_large_memory_to_the_slots_the_heads_use():
    sample = fake_sample(num_slots=MAX_SLOTS_SHOWN + 1, used=(10, 11, 12))
    np.testing.assert_array_equal(sample.used_slots(), [10, 11, 12])
    figure = sample_figure(sample)
    images = images_by_label(figure)
    titles = [ax.get_title(loc="left") for ax in figure.axes]
    assert any(f"head 0  (3 of {MAX_SLOTS_SHOWN + 1} slots" in title for title in titles)
    assert images["Write weighting, head 0"].get_array().shape == (3, 6)
    np.testing.assert_allclose(images["Memory at the end"].get_array(), sample.memory[-1, 10:13])


def test_each_heads_panel_shows_the_slots_that_head_visits_when_heads_are_far_apart():
    sample = fake_sample(num_slots=128, used=(0, 1, 2, 3, 4, 5), read=(100, 101))
    images = images_by_label(sample_figure(sample))
    write, read = images["Write weighting, head 0"], images["Read weighting, head 1"]
    np.testing.assert_array_equal(write.get_array(), sample.write_weights[:, 0, 0:6].T)
    np.testing.assert_array_equal(read.get_array(), sample.read_weights[:, 0, 100:102].T)
    # The memory beside the read weighting shows the rows that head reads.
    np.testing.assert_allclose(images["Memory at the end"].get_array(), sample.memory[-1, 100:102])


def test_a_diffuse_head_is_drawn_over_every_slot():
    sample = fake_sample(num_slots=128, used=(3, 4))
    diffuse = np.full_like(sample.read_weights, 1 / 128)  # no slot reaches SLOT_THRESHOLD
    sample = dataclasses.replace(sample, read_weights=diffuse)
    assert len(sample.used_slots(1)) == 128 and list(sample.used_slots(0)) == [3, 4]


def test_used_slots_follow_a_head_across_the_end_of_the_ring():
    num_slots = MAX_SLOTS_SHOWN + 8
    sample = fake_sample(num_slots=num_slots, used=(num_slots - 2, num_slots - 1, 0, 1))
    np.testing.assert_array_equal(sample.used_slots(), [num_slots - 2, num_slots - 1, 0, 1])


def test_dashboard_keeps_every_slot_of_a_small_memory():
    sample = fake_sample(num_slots=MAX_SLOTS_SHOWN, used=(1,))
    assert len(sample.used_slots()) == MAX_SLOTS_SHOWN


def test_saved_png_decodes_at_the_figure_size(tmp_path):
    task = copy_task()
    figure = dashboard_figure(tiny_model(task), task, length=3)
    path = save_figure(figure, tmp_path / "dashboard.png")
    width, height = figure.get_size_inches() * DPI
    with Image.open(path) as image:
        image.load()
        assert image.format == "PNG" and image.size == (round(width), round(height))


@pytest.mark.parametrize(("suffix", "header"), [(".svg", b"<?xml"), (".pdf", b"%PDF")])
def test_the_file_extension_picks_svg_or_pdf(tmp_path, suffix, header):
    task = copy_task()
    path = save_dashboard(tmp_path / f"dashboard{suffix}", tiny_model(task), task, length=2)
    assert path.read_bytes().startswith(header)


def test_an_unknown_extension_is_refused(tmp_path):
    task = copy_task()
    with pytest.raises(ValueError, match=r"use one of \.png, \.svg, \.pdf"):
        save_dashboard(tmp_path / "dashboard.jpg", tiny_model(task), task, length=2)


def test_animation_has_one_frame_per_time_step(tmp_path):
    task = copy_task()
    batch = task.sample(1, length=2)  # 5 steps: 2 bits, the delimiter, 2 outputs
    path = save_animation(tmp_path / "copy.gif", tiny_model(task), task, batch=batch)
    with Image.open(path) as gif:
        frames = [frame.copy() for frame in ImageSequence.Iterator(gif)]
    assert len(frames) == batch.inputs.shape[0] == 5
    assert len({frame.convert("RGB").tobytes() for frame in frames}) == 5
    with pytest.raises(ValueError, match=r"\.gif"):
        save_animation(tmp_path / "copy.png", tiny_model(task), task, batch=batch)


def test_trace_sample_stops_at_the_end_of_a_padded_sequence():
    task = copy_task(per_sequence_lengths=True, min_length=1, max_length=4)
    batch = task.sample(6)
    index = int(torch.argmin(batch.lengths))
    assert batch.lengths[index] < batch.inputs.shape[0], "the batch should hold padding"
    sample = trace_sample(tiny_model(task), task, batch, index)
    assert sample.steps == int(batch.lengths[index]) == sample.memory.shape[0]


def test_rolling_mean_averages_the_last_window_values():
    values = np.array([1.0, 3.0, 5.0, 7.0])
    np.testing.assert_allclose(rolling_mean(values, 2), [1.0, 2.0, 4.0, 6.0])
    np.testing.assert_allclose(rolling_mean(values, 1), values)
