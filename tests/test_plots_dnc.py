"""Figures of a model with the DNC's memory: its usage, allocation, link matrix, gates and read
modes are drawn, the NTM's shift, gate and gamma are not, and NTM figures gain nothing."""

import dataclasses

import numpy as np
import torch
from matplotlib.image import AxesImage
from PIL import Image, ImageSequence

from ntmkit import NTM, NTMConfig
from ntmkit.plots import (
    dashboard_figure,
    sample_figure,
    save_animation,
    save_dashboard,
    trace_sample,
)
from ntmkit.plots.animation import _frame_figure
from ntmkit.plots.common import MAX_SLOTS_SHOWN
from ntmkit.plots.dashboard import LINK_TITLE
from ntmkit.tasks import make_task

DNC_TITLES = (
    "Usage u",
    "Allocation weighting a",
    "Write, allocation and free gates",
    "Read modes, head 1",
)
NTM_DETAIL_TITLES = ("Interpolation gate g", "Sharpening γ", "Shift distribution, head 0")


def copy_task():
    return make_task("copy", seed=3, size=4, max_length=4)


def dnc_model(task, read_heads=1, num_slots=12):
    torch.manual_seed(0)
    config = NTMConfig(
        input_size=task.input_size, output_size=task.output_size, controller="lstm",
        controller_size=16, step_order="graves", memory="dnc", num_slots=num_slots, word_size=6,
        read_heads=read_heads,
    )  # fmt: skip
    return NTM(config)


def ntm_model(task):
    torch.manual_seed(0)
    config = NTMConfig(
        input_size=task.input_size, output_size=task.output_size, num_slots=8, word_size=4,
        controller_size=8,
    )  # fmt: skip
    return NTM(config)


def titles(figure) -> list[str]:
    return [ax.get_title(loc="left") for ax in figure.axes]


def images_by_label(figure) -> dict[str, AxesImage]:
    return {image.get_label(): image for ax in figure.axes for image in ax.images}


def lines_by_title(figure, title: str) -> dict[str, np.ndarray]:
    """The y data of each line of the panel titled ``title`` (not the dashed marker lines)."""
    (ax,) = [ax for ax in figure.axes if ax.get_title(loc="left") == title]
    return {
        line.get_label(): line.get_ydata() for line in ax.get_lines() if line.get_marker() == "."
    }


def test_trace_sample_of_a_dnc_keeps_its_internals_per_step_and_no_ntm_head_parameters():
    task = copy_task()
    model = dnc_model(task, read_heads=2)
    batch = task.sample(2, length=3)
    sample = trace_sample(model, task, batch, index=1)
    steps, num_slots = sample.steps, 12
    assert sample.is_dnc and sample.gate is None and sample.shift is None and sample.gamma is None
    assert sample.usage.shape == sample.allocation.shape == (steps, num_slots)
    assert sample.link.shape == (steps, num_slots, num_slots)
    assert sample.write_gate.shape == sample.allocation_gate.shape == (steps,)
    assert sample.free_gates.shape == (steps, 2) and sample.read_modes.shape == (steps, 2, 3)
    np.testing.assert_allclose(sample.read_modes.sum(-1), 1.0, rtol=1e-5)
    with torch.no_grad():
        _, _, trace = model(batch.inputs[:, 1:2], trace=True)
    np.testing.assert_allclose(sample.usage, trace.dnc.usage[:, 0].numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(sample.link, trace.dnc.link[:, 0].numpy(), rtol=1e-5, atol=1e-6)
    write_gate = trace.dnc.interface.write_gate[:, 0, 0].numpy()
    np.testing.assert_allclose(sample.write_gate, write_gate, rtol=1e-5, atol=1e-6)


def test_trace_sample_of_an_ntm_has_head_parameters_and_no_dnc_internals():
    task = copy_task()
    sample = trace_sample(ntm_model(task), task, task.sample(1, length=2))
    assert not sample.is_dnc
    assert sample.gate is not None and sample.shift is not None and sample.gamma is not None
    dnc_fields = ("usage", "allocation", "link", "write_gate", "allocation_gate", "free_gates")
    assert all(getattr(sample, name) is None for name in (*dnc_fields, "read_modes"))


def test_dnc_dashboard_draws_usage_allocation_and_the_final_link_matrix_from_the_trace():
    task = copy_task()
    model = dnc_model(task)
    batch = task.sample(1, length=3)
    figure = dashboard_figure(model, task, batch=batch)
    sample = trace_sample(model, task, batch)
    for title in DNC_TITLES:
        assert title in titles(figure)
    images = images_by_label(figure)
    np.testing.assert_allclose(images["Usage u"].get_array(), sample.usage.T)
    np.testing.assert_allclose(images["Allocation weighting a"].get_array(), sample.allocation.T)
    np.testing.assert_allclose(images[LINK_TITLE].get_array(), sample.link[-1])
    assert LINK_TITLE == "link matrix L[i, j]: i written after j"
    assert images[LINK_TITLE].get_clim() == (0.0, 1.0)


def test_dnc_dashboard_line_panels_hold_the_gates_and_each_read_heads_modes():
    task = copy_task()
    model = dnc_model(task, read_heads=2)
    batch = task.sample(1, length=3)
    figure = dashboard_figure(model, task, batch=batch)
    sample = trace_sample(model, task, batch)
    gates = lines_by_title(figure, "Write, allocation and free gates")
    np.testing.assert_allclose(gates["write gate"], sample.write_gate)
    np.testing.assert_allclose(gates["allocation gate"], sample.allocation_gate)
    np.testing.assert_allclose(gates["free gate, head 2"], sample.free_gates[:, 1])
    modes = lines_by_title(figure, "Read modes, head 2")
    assert list(modes) == ["backward", "content", "forward"]
    np.testing.assert_allclose(modes["forward"], sample.read_modes[:, 1, 2])


def test_dnc_dashboard_details_have_erase_and_add_but_no_ntm_shift_gate_or_gamma():
    task = copy_task()
    figure = dashboard_figure(dnc_model(task), task, length=2, details=True)
    assert "Erase vector, head 0" in titles(figure) and "Add vector, head 0" in titles(figure)
    assert not set(NTM_DETAIL_TITLES) & set(titles(figure))
    assert "Usage u" in titles(figure)


def test_ntm_dashboards_have_no_dnc_panels():
    task = copy_task()
    model = ntm_model(task)
    for details in (False, True):
        figure = dashboard_figure(model, task, length=2, details=details)
        assert not set(DNC_TITLES) & set(titles(figure))
        assert LINK_TITLE not in images_by_label(figure)
    assert set(NTM_DETAIL_TITLES) <= set(titles(figure))


def test_dnc_dashboard_of_one_write_head_draws_no_read_modes():
    task = copy_task()
    figure = dashboard_figure(dnc_model(task), task, length=2, head=0)
    assert "Usage u" in titles(figure) and "Read modes, head 1" not in titles(figure)


def test_a_large_dnc_memory_is_cropped_to_the_used_slots_in_usage_and_link():
    task = copy_task()
    sample = trace_sample(dnc_model(task), task, task.sample(1, length=2))
    num_slots, used = MAX_SLOTS_SHOWN + 8, [5, 6, 7]
    weights = np.zeros((sample.steps, 1, num_slots), dtype=np.float32)
    weights[:, 0, used] = 1 / 3
    link = np.random.default_rng(0).uniform(size=(sample.steps, num_slots, num_slots))
    sample = dataclasses.replace(
        sample, write_weights=weights, read_weights=weights, link=link,
        memory=np.zeros((sample.steps, num_slots, 6)),
        usage=np.tile(np.linspace(0, 1, num_slots), (sample.steps, 1)),
        allocation=np.zeros((sample.steps, num_slots)),
    )  # fmt: skip
    figure = sample_figure(sample)
    images = images_by_label(figure)
    np.testing.assert_allclose(images["Usage u"].get_array(), sample.usage[:, used].T)
    np.testing.assert_allclose(images[LINK_TITLE].get_array(), link[-1][np.ix_(used, used)])
    assert any(t.startswith(f"Usage u  (3 of {num_slots} slots") for t in titles(figure))


def test_dnc_dashboard_and_animation_are_written_to_files(tmp_path):
    task = copy_task()
    model = dnc_model(task)
    batch = task.sample(1, length=2)  # 5 steps: 2 bits, the delimiter, 2 outputs
    dashboard = save_dashboard(tmp_path / "dashboard.png", model, task, batch=batch)
    animation = save_animation(tmp_path / "animation.gif", model, task, batch=batch)
    assert dashboard.is_file() and animation.is_file()
    with Image.open(dashboard) as image:
        assert image.format == "PNG"
    with Image.open(animation) as gif:
        frames = [frame.copy() for frame in ImageSequence.Iterator(gif)]
    assert len(frames) == 5


def test_dnc_animation_frames_show_usage_allocation_and_link_at_each_step():
    task = copy_task()
    model = dnc_model(task)
    sample = trace_sample(model, task, task.sample(1, length=3))
    figure, update = _frame_figure(sample, "copy")
    (usage_ax,) = [ax for ax in figure.axes if ax.get_title(loc="left").startswith("Usage")]
    (link_ax,) = [ax for ax in figure.axes if ax.get_title(loc="left").startswith("link")]
    last = sample.steps - 1
    update(last)
    lines = {line.get_label(): line.get_ydata() for line in usage_ax.get_lines()}
    np.testing.assert_allclose(lines["usage"], sample.usage[last])
    np.testing.assert_allclose(lines["allocation weighting"], sample.allocation[last])
    np.testing.assert_allclose(link_ax.images[0].get_array(), sample.link[last])


def test_ntm_animation_frames_have_no_dnc_panels():
    task = copy_task()
    sample = trace_sample(ntm_model(task), task, task.sample(1, length=2))
    figure, _ = _frame_figure(sample, "copy")
    assert [title for title in titles(figure) if title] == [
        "Input", "Prediction so far (sigmoid)", "Memory after this step",
        "Head weightings after this step",
    ]  # fmt: skip
