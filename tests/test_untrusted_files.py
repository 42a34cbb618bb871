"""Untrusted files: every loader reads without running code from the file, and the HTML reports
escape every string they embed from a config, a log or a file name."""

import json
import pickle
import shutil

import pytest
import torch
from tiny_runs import tiny_run

import ntmkit.pretrained
from ntmkit.cli import main
from ntmkit.plots import write_report
from ntmkit.plots.sweep_report import write_sweep_report
from ntmkit.run.checkpoint import CheckpointError
from ntmkit.training.trainer import Trainer

ATTACK = "<img src=x onerror=alert(1)><script>alert(2)</script>"
"""Markup that would run script if it reached the page unescaped."""


class _Exploit:
    """Unpickling this (unsafely) writes the file ``PWNED`` in the working directory."""

    def __reduce__(self):
        return (exec, ("import pathlib; pathlib.Path('PWNED').write_text('x')",))


def _crafted_checkpoint(path) -> None:
    torch.save({"format": "ntmkit.checkpoint", "version": 1, "x": _Exploit()}, path)


def test_a_crafted_pretrained_model_is_refused_without_running_its_code(
    tmp_path, monkeypatch, capsys
):
    models = tmp_path / "models"
    shutil.copytree(ntmkit.pretrained.MODELS, models)
    _crafted_checkpoint(models / "copy" / "model.safetensors")  # a pickle in its place
    monkeypatch.setattr(ntmkit.pretrained, "MODELS", models)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="is not a readable safetensors file"):
        ntmkit.pretrained.load("copy")
    assert main(["eval", "--pretrained", "copy", "out"]) == 2
    assert "model.safetensors is not a readable safetensors file" in capsys.readouterr().err
    assert not (tmp_path / "PWNED").exists()


def test_a_crafted_run_checkpoint_is_refused_by_resume_without_running_its_code(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    Trainer(tiny_run(), tmp_path / "run").close()
    _crafted_checkpoint(tmp_path / "run" / "checkpoint.pt")
    with pytest.raises(CheckpointError):
        Trainer(None, tmp_path / "run", resume=True)
    assert not (tmp_path / "PWNED").exists()


def test_a_pickle_in_a_json_file_is_only_text(tmp_path):
    # The JSON files (config, log, eval, sweep spec, model card) are parsed as JSON: a pickle
    # there is a damaged file, named in the error, never unpickled.
    Trainer(tiny_run(), tmp_path / "run").close()
    (tmp_path / "run" / "config.json").write_bytes(pickle.dumps(_Exploit()))
    with pytest.raises(ValueError, match=r"config\.json is not"):
        Trainer(None, tmp_path / "run", resume=True)


def test_the_run_report_escapes_the_folder_name_and_every_config_string(tmp_path):
    out = tmp_path / ATTACK.replace("/", "")  # a folder name cannot hold a slash
    trainer = Trainer(tiny_run(max_iter=4, eval_every=2), out)
    trainer.fit(progress=False)
    trainer.close()
    config = json.loads((out / "config.json").read_text())
    config["preset"] = ATTACK  # a free-text field a hand-edited config may hold
    (out / "config.json").write_text(json.dumps(config))
    html = write_report(out).read_text()
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html


def test_the_sweep_report_escapes_its_title_table_and_trial_names(tmp_path):
    trials = [{"setting": ATTACK, "seed": 0, "status": ATTACK, "folder": str(tmp_path / "t")}]
    html = write_sweep_report(tmp_path, ATTACK, ATTACK, trials).read_text()
    assert "<script>" not in html and "<img src=x" not in html
