"""The paper's learning curves (read from its figures) and a run drawn next to them."""

import dataclasses
import shutil

import numpy as np
import pytest

from ntmkit.plots import paper_comparison_figure, paper_figure, write_report, write_run_figures
from ntmkit.plots.paper_curves import BIN_THOUSANDS, MIN_BINS, binned_means
from ntmkit.presets import preset
from ntmkit.run.log import EvaluationRecord, encode, of_kind, read_log
from ntmkit.training.trainer import Trainer

TINY = {
    "task.size": 2, "task.min_length": 1, "task.max_length": 3, "model.num_slots": 8,
    "model.word_size": 4, "model.controller_size": 8, "train.batch_size": 4,
    "train.eval_samples": 10, "train.max_iter": 6, "train.eval_every": 3,
}  # fmt: skip
NTM_SERIES = ["LSTM", "NTM with LSTM controller", "NTM with feedforward controller"]


def train_tiny(folder, task="copy"):
    trainer = Trainer(preset(task).override(TINY), folder)
    trainer.fit(progress=False)
    return folder


@pytest.fixture(scope="module")
def copy_run(tmp_path_factory):
    return train_tiny(tmp_path_factory.mktemp("runs") / "copy")


@pytest.mark.parametrize(
    ("task", "number"),
    [("copy", 3), ("repeat_copy", 7), ("associative_recall", 10), ("ngrams", 13),
     ("priority_sort", 18)],
)  # fmt: skip
def test_each_paper_task_has_its_figure_with_three_curves_inside_the_axes(task, number):
    figure = paper_figure(task)
    assert figure.number == number and list(figure.series)[:3] == NTM_SERIES
    for name, points in figure.series.items():
        thousands, cost = points.T
        assert len(points) >= 2 and np.all(np.diff(thousands) > 0), name
        assert figure.x_range[0] - 1 <= thousands.min() and thousands.max() <= figure.x_range[1]
        assert figure.y_range[0] - 0.1 <= cost.min() and cost.max() <= figure.y_range[1], name


def test_the_figures_say_what_the_paper_says_of_them():
    sort = {name: points[-1, 1] for name, points in paper_figure("priority_sort").series.items()}
    assert sort["NTM with LSTM controller"] < 20 < 50 < sort["LSTM"]  # "far below LSTM"
    ngrams = paper_figure("ngrams").series
    optimal = ngrams.pop("Optimal estimator")[0, 1]
    assert all(points[-1, 1] > optimal for points in ngrams.values())
    ntm = ngrams["NTM with LSTM controller"][-1, 1]
    assert 1.0 < ntm - optimal < 2.5 < ngrams["LSTM"][-1, 1] - optimal  # NTM beats LSTM
    recall = paper_figure("associative_recall").series
    assert np.interp(50.0, *recall["NTM with feedforward controller"].T) < 0.1  # near zero
    assert np.interp(90.0, *recall["NTM with LSTM controller"].T) < 1.0 < recall["LSTM"][-1, 0]


def test_a_task_the_paper_does_not_have_has_no_figure():
    assert paper_figure("dyck_words") is None and paper_figure("sort") is None


def test_binned_means_match_a_plain_loop():
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(0, 55, size=40))
    y = rng.normal(size=40)
    centres, means = binned_means(x, y, 10.0)
    expected = [(x[(x // 10) == k].mean(), y[(x // 10) == k].mean()) for k in range(6)]
    np.testing.assert_allclose(np.stack([centres, means], axis=1), expected)


def test_the_comparison_draws_the_paper_and_the_runs_evaluations(copy_run):
    figure = paper_comparison_figure(copy_run, labels=["tiny"])
    (ax,) = figure.axes
    lines = {line.get_label(): line for line in ax.get_lines()}
    paper = paper_figure("copy")
    for name in NTM_SERIES:
        drawn = lines[f"Graves et al. 2014: {name}"]
        np.testing.assert_array_equal(drawn.get_xdata(), paper.series[name][:, 0])
    records = of_kind(read_log(copy_run / "metrics.jsonl"), EvaluationRecord)
    thousands = np.array([r.sequences for r in records]) / 1000
    cost = np.array([r.eval.cost_bits for r in records])
    width = thousands[-1] / MIN_BINS  # 24 sequences: far fewer than 20 bins of 10,000
    run = lines[f"tiny (evaluations, mean per {width:.3g}k)"]
    assert len(records) == 2 and np.allclose(run.get_ydata(), cost)  # one bin each
    assert np.allclose(run.get_xdata(), thousands)
    title = ax.get_title(loc="left")
    assert "Figure 3" in title and "read from the figure" in title
    assert ax.get_ylim()[1] >= max(paper.y_range[1], 1.1 * cost[-1])


def test_a_long_run_is_averaged_over_the_papers_marker_spacing(copy_run, tmp_path):
    run = shutil.copytree(copy_run, tmp_path / "long")
    records = of_kind(read_log(run / "metrics.jsonl"), EvaluationRecord)
    stretched = [dataclasses.replace(r, sequences=r.sequences * 50_000) for r in records]
    (run / "metrics.jsonl").write_text("".join(encode(r) + "\n" for r in stretched))
    (ax,) = paper_comparison_figure(run, labels=["long"]).axes
    lines = {line.get_label(): line for line in ax.get_lines()}
    drawn = lines[f"long (evaluations, mean per {BIN_THOUSANDS:g}k)"]
    thousands = np.array([r.sequences for r in stretched]) / 1000  # 600 and 1,200
    assert np.allclose(drawn.get_xdata(), thousands) and ax.get_xlim() == (0, 1200)


def test_the_comparison_refuses_what_it_cannot_draw(copy_run, tmp_path):
    reversed_run = train_tiny(tmp_path / "reversed", task="reversed_copy")
    with pytest.raises(ValueError, match="no learning curve of reversed_copy"):
        paper_comparison_figure(reversed_run)
    with pytest.raises(ValueError, match=r"different tasks \(copy, reversed_copy\)"):
        paper_comparison_figure([copy_run, reversed_run])
    with pytest.raises(ValueError, match="got 2 labels for 1 runs"):
        paper_comparison_figure(copy_run, labels=["a", "b"])
    names = [path.name for path in write_run_figures(reversed_run)]
    assert "paper_comparison.png" not in names
    assert "Graves et al. 2014" not in write_report(reversed_run).read_text()


def test_the_run_figures_and_report_include_the_comparison(copy_run, tmp_path):
    run = shutil.copytree(copy_run, tmp_path / "run")
    assert (run / "paper_comparison.png") in write_run_figures(run)
    assert "learning curves of Graves et al. 2014" in write_report(run).read_text()
