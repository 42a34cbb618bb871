"""Sharing a model as PyTorch users do: `save_pretrained` writes ``config.json`` and
``model.safetensors`` (no pickle), `from_pretrained` reads them back from a folder or, with
huggingface_hub, a Hub repository (here a fake Hub in a local folder: the tests never use the
network); a file with a wrong, missing or extra tensor is a one-line error naming it."""

import json
import sys
import types
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, load_model, save_file

import ntmkit
from ntmkit import NTM, NTMConfig
from ntmkit.cli import main


def _model(seed: int = 0, **fields) -> NTM:
    torch.manual_seed(seed)
    config = NTMConfig(input_size=4, output_size=3, num_slots=8, word_size=5, **fields)
    return NTM(config).eval()


def _same_outputs(a: NTM, b: NTM) -> None:
    inputs = torch.rand(6, 2, a.config.input_size, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(a(inputs)[0], b(inputs)[0], rtol=0, atol=0)


def test_a_saved_model_comes_back_identical_with_no_pickle_in_its_folder(tmp_path):
    model = _model(read_heads=2, controller="dense")
    folder = model.save_pretrained(tmp_path / "shared")
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"]
    assert not (folder / "model.safetensors").read_bytes().startswith(b"\x80")  # no pickle
    modes = {path.stat().st_mode & 0o777 for path in folder.iterdir()}
    assert len(modes) == 1  # the weights as readable as the config (the user's umask)
    config = json.loads((folder / "config.json").read_text())
    assert config["read_heads"] == 2 and config["controller"] == "dense"
    loaded = NTM.from_pretrained(folder)
    assert loaded.config == model.config and not loaded.training
    _same_outputs(model, loaded)


def test_the_weights_file_is_what_the_hub_mixin_reads(tmp_path):
    """``PyTorchModelHubMixin`` loads ``model.safetensors`` with `load_model` into a model
    built from ``config.json``'s fields: ours works the same way, with no ntmkit code."""
    model = _model(seed=3)
    folder = model.save_pretrained(tmp_path)
    fields = json.loads((folder / "config.json").read_text())
    fields.pop("format")
    fresh = NTM(NTMConfig.from_dict(fields)).eval()
    load_model(fresh, folder / "model.safetensors")
    _same_outputs(model, fresh)


def test_a_model_saved_from_a_gpu_or_half_precision_loads_on_the_cpu_in_its_dtype(tmp_path):
    model = _model().double()
    NTM.from_pretrained(model.save_pretrained(tmp_path))
    assert load_file(tmp_path / "model.safetensors")["cell.memory_init"].dtype == torch.float64


def _edited(tmp_path: Path, edit) -> Path:
    folder = _model().save_pretrained(tmp_path / "model")
    path = folder / "model.safetensors"
    weights = load_file(path)
    metadata = json.loads(
        path.read_bytes()[8 : 8 + int.from_bytes(path.read_bytes()[:8], "little")]
    )
    edit(weights)
    save_file(weights, path, metadata=metadata["__metadata__"])
    return folder


@pytest.mark.parametrize(
    ("edit", "said"),
    [
        (lambda w: w.pop("cell.memory_init"), "lacks the tensor cell.memory_init (shape [8, 5])"),
        (
            lambda w: w.update({"cell.memory_init": torch.zeros(9, 5)}),
            "tensor cell.memory_init has shape [9, 5] where the config's model has [8, 5]",
        ),
        (
            lambda w: w.update({"cell.extra": torch.zeros(1)}),
            "has a tensor the model does not: cell.extra",
        ),
    ],
    ids=["missing", "wrong shape", "extra"],
)
def test_a_wrong_missing_or_extra_tensor_is_one_line_naming_it(tmp_path, edit, said):
    folder = _edited(tmp_path, edit)
    with pytest.raises(ValueError, match=r"model\.safetensors") as error:
        NTM.from_pretrained(folder)
    assert said in str(error.value) and "\n" not in str(error.value)


def test_broken_folders_are_one_line_errors(tmp_path):
    with pytest.raises(ValueError, match="no model folder at nowhere/at/all"):
        NTM.from_pretrained("nowhere/at/all")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"no model\.safetensors at .*empty"):
        NTM.from_pretrained(tmp_path / "empty")
    folder = _model().save_pretrained(tmp_path / "model")
    (folder / "model.safetensors").write_bytes(b"\x80\x04not safetensors at all")
    with pytest.raises(ValueError, match="is not a readable safetensors file"):
        NTM.from_pretrained(folder)
    folder = _model().save_pretrained(tmp_path / "other")
    weights = load_file(folder / "model.safetensors")
    save_file(weights, folder / "model.safetensors")  # no metadata: config.json is read
    NTM.from_pretrained(folder)
    (folder / "config.json").write_text('{"input_size": 4, "output_size": 3, "num_slots": -3}')
    with pytest.raises(ValueError, match=r"config\.json holds no valid NTMConfig: .*num_slots"):
        NTM.from_pretrained(folder)


class FakeHub:
    """The two calls of huggingface_hub that ntmkit makes, on a local folder."""

    def __init__(self, root: Path):
        self.root = root

    def module(self) -> types.ModuleType:
        hub = types.ModuleType("huggingface_hub")
        hub.snapshot_download = self.snapshot_download
        hub.HfApi = lambda: self
        return hub

    def snapshot_download(self, repo_id: str, revision: str | None = None) -> str:
        folder = self.root / repo_id / (revision or "main")
        if not folder.is_dir():
            raise OSError(f"Repository Not Found for url: https://huggingface.co/{repo_id}")
        return str(folder)

    def create_repo(self, repo_id: str, exist_ok: bool, repo_type: str) -> None:
        assert exist_ok and repo_type == "model"

    def upload_folder(self, repo_id: str, folder_path: str, commit_message: str = "") -> str:
        target = self.root / repo_id / "main"
        target.mkdir(parents=True, exist_ok=True)
        for path in Path(folder_path).iterdir():
            (target / path.name).write_bytes(path.read_bytes())
        return f"https://huggingface.co/{repo_id}/commit/1"


def test_push_to_hub_and_loading_by_repository_name_on_a_fake_hub(tmp_path, monkeypatch):
    hub = FakeHub(tmp_path / "hub")
    monkeypatch.setitem(sys.modules, "huggingface_hub", hub.module())
    monkeypatch.chdir(tmp_path)
    model = _model(seed=5)
    url = model.push_to_hub("someone/ntm-copy", commit_message="first")
    assert url == "https://huggingface.co/someone/ntm-copy/commit/1"
    assert (tmp_path / "hub/someone/ntm-copy/main/model.safetensors").is_file()
    _same_outputs(model, NTM.from_pretrained("someone/ntm-copy", revision="main"))
    with pytest.raises(ValueError, match="no model folder at someone/else, and the Hub gave no"):
        NTM.from_pretrained("someone/else")  # a typo: neither a folder nor a repository


def test_without_huggingface_hub_a_repository_name_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)  # import fails
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=r"pip install ntmkit\[hub\]"):
        NTM.from_pretrained("someone/ntm-copy")
    with pytest.raises(ValueError, match=r"pip install ntmkit\[hub\]"):
        _model().push_to_hub("someone/ntm-copy")


def test_a_trained_run_is_shared_by_one_command_and_loads_anywhere(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "copy", "--max-iter", "3", "--out", "run"]) == 0
    assert main(["export", "run", "shared"]) == 0
    assert sorted(p.name for p in Path("shared").iterdir()) == ["config.json", "model.safetensors"]
    _, trained, _ = ntmkit.load_run("run")
    _same_outputs(trained, NTM.from_pretrained("shared"))
    assert main(["eval", "shared", "--samples", "2"]) == 0  # the run's config: it has a task
    assert main(["export", "run", "shared"]) == 2  # never over an existing folder
    trained.save_pretrained("model-only")
    assert main(["eval", "model-only", "--samples", "2"]) == 2
    assert "holds a model saved by save_pretrained, with no task" in capsys.readouterr().err
    with pytest.raises(ValueError, match=r"run is a training run: load it with ntmkit\.load_run"):
        NTM.from_pretrained("run")
