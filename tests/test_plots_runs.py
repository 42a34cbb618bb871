"""Pictures of run folders: fixed file names, a self-contained report, clear messages, CLI."""

import json
import re
import shutil

import pytest
from PIL import Image

from ntmkit.cli import main
from ntmkit.plots import (
    generalisation_figure,
    learning_curves_figure,
    training_range,
    write_report,
    write_run_figures,
)
from ntmkit.plots.sweep_curves import EXCESS_LABEL, seed_curve, sweep_curves_figure
from ntmkit.presets import preset
from ntmkit.run.evaluate import Evaluation
from ntmkit.run.log import EvaluationRecord, encode
from ntmkit.training.trainer import Trainer

TINY = {
    "task.size": 2, "task.min_length": 1, "task.max_length": 3, "model.num_slots": 8,
    "model.word_size": 4, "model.controller_size": 8, "train.batch_size": 4,
    "train.eval_samples": 10, "train.max_iter": 6, "train.eval_every": 3,
}  # fmt: skip


def train_tiny(folder, evaluate=True, **settings):
    """A tiny copy run; without ``evaluate`` it stops before its first evaluation."""
    trainer = Trainer(preset("copy").override({**TINY, **settings}), folder)
    trainer.fit(progress=False, stop_after=None if evaluate else 2)
    if evaluate:
        trainer.final_sweep(samples=2)
    return folder


@pytest.fixture(scope="module")
def evaluated_run(tmp_path_factory):
    """A tiny copy run with evaluations and an eval.json; tests copy it before writing."""
    return train_tiny(tmp_path_factory.mktemp("runs") / "evaluated")


@pytest.fixture
def run(evaluated_run, tmp_path):
    return shutil.copytree(evaluated_run, tmp_path / "run")


@pytest.fixture
def unevaluated_run(tmp_path):
    """Two steps, no evaluation record and no eval.json."""
    return train_tiny(tmp_path / "fresh", evaluate=False)


def test_write_run_figures_writes_four_decodable_pngs(run):
    paths = write_run_figures(run)
    names = ["dashboard.png", "learning_curves.png", "generalisation.png", "paper_comparison.png"]
    assert [p.name for p in paths] == names
    for path in paths:
        with Image.open(path) as image:
            image.verify()
            assert image.format == "PNG" and min(image.size) > 300


def test_plotting_a_run_without_evaluation_gives_a_clear_message(unevaluated_run, capsys):
    with pytest.raises(ValueError, match="has no evaluation yet"):
        write_run_figures(unevaluated_run)
    with pytest.raises(ValueError, match=r"no eval.json yet: run `ntmkit eval"):
        generalisation_figure(unevaluated_run)
    assert main(["plot", str(unevaluated_run)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("ntmkit plot: error:") and "no evaluation yet" in error
    assert "\n" not in error and "Traceback" not in error


def test_learning_curves_draw_every_run_and_their_median(run, tmp_path):
    second = train_tiny(tmp_path / "seed1", **{"train.seed": 1})
    figure = learning_curves_figure([run, second], labels=["seed 0", "seed 1"])
    loss_ax, errors_ax = figure.axes
    labels = [line.get_label() for line in loss_ax.get_lines()]
    assert labels.count("seed 0") == labels.count("seed 1") == 1
    assert "median of 2 runs" in labels and loss_ax.get_yscale() == "log"
    evaluations = [line for line in errors_ax.get_lines() if line.get_marker() == "o"]
    assert [len(line.get_xdata()) for line in evaluations[:2]] == [2, 2]  # steps 3 and 6


def test_learning_curves_mark_fresh_starts(tmp_path):
    restart = {"after": 3, "above": 0.0, "limit": 1}  # the evaluation at step 3 restarts
    folder = train_tiny(tmp_path / "restarted", **{"train.restart": restart})
    loss_ax, errors_ax = learning_curves_figure(folder).axes
    for ax in (loss_ax, errors_ax):
        dotted = [line for line in ax.get_lines() if line.get_linestyle() == ":"]
        drawn = [list(line.get_xdata()) for line in dotted if len(line.get_xdata())]
        assert drawn == [[12, 12]]  # one restart, after 3 steps of 4 sequences
    assert "fresh start (train.restart)" in [t.get_text() for t in errors_ax.get_legend().texts]


def test_generalisation_plot_shades_the_training_lengths(run):
    figure = generalisation_figure(run)
    errors_ax = figure.axes[0]
    rows = json.loads((run / "eval.json").read_text())["rows"]
    (line,) = [line for line in errors_ax.get_lines() if line.get_marker() == "o"]
    assert list(line.get_xdata()) == [row["length"] for row in rows]
    assert list(line.get_ydata()) == [row["bit_errors"] for row in rows]
    (band,) = errors_ax.patches
    x_low, x_high = band.get_x(), band.get_x() + band.get_width()
    assert (x_low, x_high) == (1, 3)


@pytest.mark.parametrize(
    ("task", "quantity", "expected"),
    [("repeat_copy", "repeats", (1, 10)), ("associative_recall", "items", (2, 6)),
     ("associative_recall", "length", (3, 3)), ("copy", "length", (1, 20))],
)  # fmt: skip
def test_training_range_reads_the_task_fields_of_the_swept_quantity(task, quantity, expected):
    assert training_range(preset(task), quantity) == expected


def test_report_is_self_contained_with_the_metrics_table(run):
    (run / "dashboard.png").unlink(missing_ok=True)
    page = write_report(run).read_text()
    assert (run / "dashboard.png").is_file(), "missing figures are drawn first"
    assert not re.search(r"https?://", page)
    sources = re.findall(r"""(?:src|href)=['"]([^'"]*)""", page)
    assert len(sources) == 4 and all(src.startswith("data:image/png;base64,") for src in sources)
    rows = json.loads((run / "eval.json").read_text())["rows"]
    assert "<table class='metrics'>" in page and "bit errors / seq" in page
    assert f"<td>{rows[-1]['bit_errors']:.3f}</td>" in page
    assert "&quot;max_length&quot;: 3" in page  # the config, escaped


def test_report_of_a_run_without_evaluation_says_so(unevaluated_run):
    page = write_report(unevaluated_run).read_text()
    assert "No evaluation yet" in page and "no eval.json yet" in page
    assert "data:image/png;base64," in page  # the dashboard and curves need no evaluation


def test_cli_plot_animate_and_report(run, capsys):
    assert main(["plot", str(run), "--length", "2", "--head", "1"]) == 0
    assert (run / "dashboard-length2-head1.png").is_file()
    assert main(["plot", str(run), "--out", str(run / "one.svg")]) == 0
    assert (run / "one.svg").read_text().lstrip().startswith("<?xml")
    assert main(["animate", str(run), "--length", "1"]) == 0
    with Image.open(run / "animation.gif") as gif:
        assert gif.n_frames == 3  # one bit vector, the delimiter, one output step
    assert main(["report", str(run)]) == 0
    assert "data:image/gif;base64," in (run / "report.html").read_text()
    printed = capsys.readouterr().out
    assert printed.count("wrote ") == 4


def test_sweep_curves_follow_the_task_measure_the_excess_for_ngrams(tmp_path):
    def logged(folder, optimal):
        folder.mkdir()
        scores = [Evaluation(46.0, 0.0, cost, 200, optimal) for cost in (180.0, 131.5)]
        records = [EvaluationRecord(i, 16 * i, 1.0, e) for i, e in enumerate(scores, 1)]
        (folder / "metrics.jsonl").write_text("".join(encode(r) + "\n" for r in records))
        return folder

    ngrams, copy = logged(tmp_path / "ngrams", 130.0), logged(tmp_path / "copy", None)
    assert seed_curve(ngrams)[1].tolist() == [50.0, 1.5]  # cost minus the optimum
    assert seed_curve(copy)[1].tolist() == [46.0, 46.0]  # bit errors
    figure = sweep_curves_figure({"default": [ngrams]})
    assert figure.axes[0].get_ylabel() == EXCESS_LABEL
