"""Pretrained models: shipping a run, loading it back exactly, the CLI's --pretrained, and the
models the package really ships (their size, safe loading and the figures on their cards)."""

import dataclasses
import json
import re

import pytest
import torch
from tiny_runs import tiny_run

from ntmkit import NTM, pretrained
from ntmkit.cli import main
from ntmkit.presets import preset
from ntmkit.pretrained import ship as ship_module
from ntmkit.pretrained.ship import ship
from ntmkit.run.evaluate import EVAL_SEED_OFFSET, sweep
from ntmkit.run.log import EvaluationRecord, StepRecord, read_log
from ntmkit.sharing import read_weights
from ntmkit.training.trainer import Trainer

SHIPPED_LIMIT_BYTES = 5 * 2**20
"""All of the package's pretrained models together: at most 5 MB."""


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    """A tiny trained copy run shipped into a temporary models folder the package reads."""
    run_folder = tmp_path / "run"
    Trainer(tiny_run(max_iter=20), run_folder).fit(progress=False)
    models = tmp_path / "models"
    card = ship(run_folder, "tiny copy", "the only seed", samples=30,
                grid={"length": (2, 4)}, into=models)  # fmt: skip
    monkeypatch.setattr(pretrained, "MODELS", models)
    return run_folder, card


def test_a_shipped_model_loads_as_the_trained_one_and_scores_what_its_card_says(shipped):
    run_folder, card = shipped
    assert pretrained.available() == ("copy",)
    assert pretrained.card("copy") == card and card.seed == 0 and card.sequences == 20 * 8
    model = pretrained.load("copy")
    assert isinstance(model, NTM) and not model.training
    trained = Trainer(None, run_folder, resume=True).model
    for name, tensor in trained.state_dict().items():
        assert torch.equal(model.state_dict()[name], tensor), name
    run = pretrained.run_config("copy")
    task = run.make_task(seed=run.train.seed + 2 * EVAL_SEED_OFFSET)
    again = sweep(model, task, {"length": (2, 4)}, 30)
    assert [row["bit_errors"] for row in again] == [
        row["output"]["bit_errors"] for row in card.generalisation
    ]
    assert all(row["all"]["bit_errors"] >= 0 for row in card.generalisation)


def test_a_dnc_ships_beside_the_ntm_of_its_task_and_the_cli_takes_it(shipped, tmp_path, capsys):
    dnc_folder = tmp_path / "dnc-run"
    Trainer(tiny_run(max_iter=20).override({"model.memory": "dnc"}), dnc_folder).fit(False)
    ship(dnc_folder, "tiny dnc copy", "the only seed", samples=10, grid={"length": (2,)},
         into=pretrained.MODELS)  # fmt: skip
    assert pretrained.available() == ("copy", "copy-dnc")
    assert pretrained.load("copy-dnc").config.memory == "dnc"
    assert pretrained.load("copy").config.memory == "ntm"
    assert pretrained.card("copy-dnc").task == "copy"
    out = tmp_path / "evaluated"
    assert (
        main(["eval", "--pretrained", "copy-dnc", str(out), "--lengths", "3", "--samples", "4"])
        == 0
    )
    assert (out / "eval.json").is_file()


def test_run_or_shipped_takes_a_run_folder_or_the_shipped_model_and_refuses_another_task(
    shipped,
):
    run_folder, _ = shipped
    config, model = pretrained.run_or_shipped(None, "copy")
    assert config == pretrained.run_config("copy") and not model.training
    from_run, run_model = pretrained.run_or_shipped(run_folder, "copy")
    assert from_run.task == "copy"
    for name, tensor in run_model.state_dict().items():
        assert torch.equal(model.state_dict()[name], tensor), name
    with pytest.raises(ValueError, match="trained task copy; a priority_sort run is needed"):
        pretrained.run_or_shipped(run_folder, "priority_sort")


def test_run_or_shipped_refuses_a_batch_first_model_where_time_first_is_asked(shipped, monkeypatch):
    run_folder, _ = shipped
    config, model = pretrained.run_or_shipped(run_folder, "copy")
    flipped = dataclasses.replace(config, model=dataclasses.replace(config.model, batch_first=True))
    monkeypatch.setattr(pretrained, "load_run", lambda run: (flipped, model, {}))
    assert pretrained.run_or_shipped(run_folder, "copy")[0].model.batch_first
    with pytest.raises(ValueError, match="a time-first model is needed"):
        pretrained.run_or_shipped(run_folder, "copy", time_first=True)


def test_the_cli_evaluates_plots_and_reports_a_pretrained_model(shipped, tmp_path, capsys):
    folder = tmp_path / "mine"
    assert main(["pretrained"]) == 0
    assert "copy: " in capsys.readouterr().out
    assert (
        main(["eval", "--pretrained", "copy", str(folder), "--lengths", "3", "--samples", "5"]) == 0
    )
    assert json.loads((folder / "eval.json").read_text())["rows"][0]["length"] == 3
    assert main(["plot", "--pretrained", "copy", str(folder)]) == 0
    assert main(["report", "--pretrained", "copy", str(folder)]) == 0
    page = (folder / "report.html").read_text()
    assert "learning_curves" in page or "<img" in page


def test_pretrained_mistakes_are_one_line_errors(shipped, tmp_path, capsys):
    assert main(["eval", "--pretrained", "sort"]) == 2
    assert "no pretrained model for task 'sort'; shipped: copy" in capsys.readouterr().err
    assert main(["eval"]) == 2
    assert "give a RUN folder, or --pretrained TASK" in capsys.readouterr().err
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    assert main(["eval", "--pretrained", "copy", str(tmp_path / "taken")]) == 2
    assert "is not the pretrained copy model's folder" in capsys.readouterr().err


def test_the_shipped_set_is_small_loads_safely_and_matches_its_cards():
    assert "copy" in pretrained.available()  # copy is learned reliably, so its model always ships
    files = [path for path in pretrained.MODELS.rglob("*") if path.is_file()]
    assert sum(path.stat().st_size for path in files) <= SHIPPED_LIMIT_BYTES
    assert not [path for path in files if path.suffix in (".pt", ".pkl", ".pth")]  # no pickle
    for name in pretrained.available():
        weights, metadata = read_weights(pretrained.folder(name) / "model.safetensors")
        assert set(weights) == set(pretrained.load(name).state_dict())  # the weights, no more
        assert int(metadata["step"]) > 0 and "ntm_config" in metadata
        card, run = pretrained.card(name), pretrained.run_config(name)
        assert pretrained.model_name(run) == name and card.task == run.task
        assert run.train.seed == card.seed
        model = pretrained.load(name)
        first = card.generalisation[0]
        point = {k: v for k, v in first.items() if k not in ("samples", "output", "all")}
        task_source = run.make_task(seed=run.train.seed + 2 * EVAL_SEED_OFFSET)
        (row,) = sweep(model, task_source, {k: (v,) for k, v in point.items()}, first["samples"])
        assert row["bit_errors"] == pytest.approx(first["output"]["bit_errors"], abs=1e-9)


def test_an_ngrams_card_gives_the_excess_over_the_optimal_predictor(tmp_path, monkeypatch, capsys):
    run = preset("ngrams", "fast").override({
        "task.min_length": 20, "task.max_length": 20, "model.num_slots": 8,
        "model.word_size": 4, "model.controller_size": 8, "train.batch_size": 4,
        "train.max_iter": 2, "train.eval_every": 2, "train.eval_samples": 10,
        "train.checkpoint_every": 2,
    })  # fmt: skip
    Trainer(run, tmp_path / "run").fit(progress=False)
    models = tmp_path / "models"
    card = ship(tmp_path / "run", "tiny", "the only seed", 10, {"length": (20,)}, models)
    monkeypatch.setattr(pretrained, "MODELS", models)
    (row,) = card.generalisation
    assert row["output"]["optimal_bits"] > 0
    # The optimum is a score, not a test point: the materialised eval.json sweeps length only.
    materialized = pretrained.materialize("ngrams", tmp_path / "m")
    written = json.loads((materialized / "eval.json").read_text())
    assert written["grid"] == {"length": [20]}
    capsys.readouterr()
    assert main(["pretrained"]) == 0
    excess = row["output"]["cost_bits"] - row["output"]["optimal_bits"]
    assert f"{excess:.3f} above the optimal predictor's" in capsys.readouterr().out
    folder = tmp_path / "pretrained-ngrams"
    assert main(["eval", "--pretrained", "ngrams", str(folder), "--samples", "5"]) == 0
    assert "excess (bits)" in capsys.readouterr().out


def test_score_line_puts_the_cost_first_where_it_is_the_task_measure():
    from ntmkit.pretrained import score_line

    scores = {"bit_errors": 2.5, "perfect": 0.1, "cost_bits": 8.25, "samples": 1000}
    row = {"length": 20, "output": scores, "all": scores, "samples": 1000}
    assert score_line(row) == "2.500 bit errors/seq (output phase)"
    assert score_line(row, measure="cost_bits") == (
        "cost 8.250 bits/seq, 2.500 bit errors/seq (output phase)"
    )


def test_a_shipped_learning_curve_is_thinned_and_rounded_but_keeps_the_ends(tmp_path, monkeypatch):
    run_folder = tmp_path / "run"
    Trainer(tiny_run(max_iter=20, eval_every=2), run_folder).fit(progress=False)
    monkeypatch.setattr(ship_module, "STEPS_KEPT", 6)
    monkeypatch.setattr(ship_module, "EVALUATIONS_KEPT", 4)
    ship(run_folder, "tiny", "the only seed", 5, {"length": (2,)}, tmp_path / "models")
    log = read_log(run_folder / "metrics.jsonl")
    curve = read_log(tmp_path / "models" / "copy" / "metrics.jsonl")
    for kind, most in ((StepRecord, 6), (EvaluationRecord, 4)):
        every, shipped = (
            [r for r in log if isinstance(r, kind)],
            [r for r in curve if isinstance(r, kind)],
        )
        assert len(every) > most and 0 < len(shipped) <= most + 1, kind  # thinned, the last kept
        assert shipped[-1].step == every[-1].step and shipped[0].step == every[0].step
    text = (tmp_path / "models" / "copy" / "metrics.jsonl").read_text()
    numbers = [float(n) for n in re.findall(r"\d+\.\d+(?:e-?\d+)?", text)]
    assert numbers and all(float(f"{n:.6g}") == n for n in numbers)  # six significant digits
    assert any(len(n.lstrip("0.")) == 6 for n in re.findall(r"\d+\.\d+", text))  # no fewer
