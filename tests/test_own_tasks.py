"""A task of one's own, defined in a file outside the package (``examples/brackets.py``, a
categorical task), and a data set in ``.npz`` files go through every command a built-in task
does: train, kill -9 and resume exactly, eval, plot, animate, report, and a sweep of 2 seeds on
the embedded Ray. A task given by ``module:Class`` from the current folder, with real-valued
outputs, trains too; a task's module travels with a sweep's trial where its file is not."""

import json
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from ntmkit.cli import main
from ntmkit.run.folder import load_run, read_run_config
from ntmkit.run.log import EvaluationRecord, StepRecord, read_log

ROOT = Path(__file__).resolve().parents[1]
BRACKETS = f"{ROOT / 'examples' / 'brackets.py'}:BracketsTask"
TINY_MODEL = ["--memory", "8x4", "--set", "model.controller_size=8", "--no-progress",
              "--set", "train.eval_samples=20", "--batch-size", "4"]  # fmt: skip
TINY_BRACKETS = [*TINY_MODEL, "--set", "task.max_pairs=3", "--set", "task.kinds=3",
                 "--eval-every", "10", "--set", "train.checkpoint_every=10",
                 "--target-error", "0"]  # fmt: skip


def _comparable(folder: Path) -> list[tuple]:
    rows = []
    for record in read_log(folder / "metrics.jsonl"):
        if isinstance(record, StepRecord):
            rows.append(("step", record.step, record.loss, record.errors))
        elif isinstance(record, EvaluationRecord):
            rows.append(("evaluation", record.step, record.eval.symbol_errors))
    return rows


def test_a_task_in_a_file_trains_evaluates_and_draws_by_the_built_in_commands(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", BRACKETS, "--out", str(run), "--max-iter", "30", *TINY_BRACKETS]) == 0
    config = read_run_config(run)
    assert config.task == BRACKETS and config.output_kind == "categorical"
    assert {"dashboard.png", "learning_curves.png", "generalisation.png"} <= {
        p.name for p in run.iterdir()
    }
    capsys.readouterr()
    assert main(["eval", str(run), "--at", "pairs=2,4", "--samples", "10"]) == 0
    table = capsys.readouterr().out
    assert "wrong/seq" in table and "accuracy" in table and "bit errors" not in table
    assert [line.split()[0] for line in table.splitlines()[2:4]] == ["2", "4"]
    for command in (["plot"], ["animate"], ["report"]):
        assert main([*command, str(run)]) == 0
    assert (run / "animation.gif").is_file() and (run / "report.html").is_file()


def test_a_task_in_a_file_resumes_after_kill_9_with_the_uninterrupted_losses(tmp_path):
    flags = ["--max-iter", "60", *TINY_BRACKETS]
    whole = tmp_path / "whole"
    assert main(["train", BRACKETS, "--out", str(whole), *flags]) == 0
    split = tmp_path / "split"
    code = "import sys; from ntmkit.cli import main; sys.exit(main(sys.argv[1:]))"
    child = subprocess.Popen(
        [sys.executable, "-c", code, "train", BRACKETS, "--out", str(split), *flags],
        stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    while not any(r[0] == "evaluation" and r[1] >= 30 for r in _comparable(split)):
        assert child.poll() is None, "the child ended before it could be killed"
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert main(["train", "--resume", str(split), "--no-progress"]) == 0
    assert _comparable(split) == _comparable(whole)


def test_a_task_in_a_file_sweeps_two_seeds_on_the_embedded_ray(tmp_path, capsys):
    out = tmp_path / "sweep"
    tiny = ["model.num_slots=8", "model.word_size=4", "model.controller_size=8",
            "train.eval_samples=20", "train.batch_size=4", "task.max_pairs=3", "task.kinds=3",
            "train.eval_every=10", "train.target_error=0"]  # fmt: skip
    argv = ["sweep", BRACKETS, "--seeds", "2", "--max-iter", "20", "--out", str(out),
            "--no-trial-reports", *(x for setting in tiny for x in ("--set", setting))]  # fmt: skip
    assert main(argv) == 0
    summary = json.loads((out / "summary.json").read_text())
    (setting,) = summary["settings"]
    assert setting["finished"] == 2
    assert {tuple(p) for p in (row.keys() for row in setting["generalisation"])}
    assert all("symbol_errors" in row for row in setting["generalisation"])


def test_the_task_module_travels_with_a_trial_where_its_file_is_not(tmp_path):
    from ntmkit.sweep.trial import _load_task_source
    from ntmkit.tasks import BUILT_IN, task_class
    from ntmkit.tasks.registry import task_source

    copied = tmp_path / "moved_brackets.py"
    copied.write_text((ROOT / "examples" / "brackets.py").read_text())
    name = f"{copied}:BracketsTask"
    source = task_source(name, BUILT_IN)
    module = task_class(name).__module__
    copied.unlink()  # the file is gone where the trial runs
    del sys.modules[module]
    with pytest.raises(ValueError, match="no file"):
        task_class(name)
    _load_task_source(source)
    assert task_class(name).name == "brackets"


ECHO_TASK = '''
from dataclasses import dataclass
import torch
from ntmkit.tasks import Batch, Task
from ntmkit.tasks.base import full_batch


@dataclass(frozen=True)
class EchoConfig:
    steps: int = 4
    input_size: int = 2
    output_size: int = 2


class EchoTask(Task):
    """Say each input again, one step later: real values."""

    name = "echo"
    config_class = EchoConfig
    output_kind = "real"

    def pinnable(self):
        return {}

    def draw_params(self, pinned):
        return {}

    def sample_fixed(self, batch_size):
        x = torch.randn(self.config.steps, batch_size, 2, generator=self.generator)
        y = torch.cat([torch.zeros(1, batch_size, 2), x[:-1]])
        return full_batch(x, y, torch.ones(self.config.steps, batch_size, dtype=torch.bool))
'''


def test_a_task_by_module_and_class_from_the_current_folder_trains_real_values(
    tmp_path, monkeypatch, capsys
):
    (tmp_path / "mytasks.py").write_text(ECHO_TASK)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    argv = ["train", "mytasks:EchoTask", "--out", "run", "--max-iter", "20", *TINY_MODEL]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "mean squared error" in out and "mse" in out
    run, _, _ = load_run(tmp_path / "run")
    assert run.output_kind == "real" and run.train.loss == "auto"


def _sequences(path: Path, count: int, seed: int) -> None:
    """A data set of running parities: the target at each step is the parity of the input
    bits so far, with sequences of 3-8 steps (``lengths``)."""
    rng = np.random.default_rng(seed)
    inputs = rng.integers(0, 2, size=(count, 8, 1)).astype(np.float32)
    targets = (np.cumsum(inputs, axis=1) % 2).astype(np.float32)
    lengths = rng.integers(3, 9, size=count)
    np.savez(path, inputs=inputs, targets=targets, lengths=lengths)


def test_an_npz_data_set_trains_resumes_evaluates_and_draws(tmp_path, capsys):
    _sequences(tmp_path / "train.npz", 64, seed=0)
    _sequences(tmp_path / "val.npz", 30, seed=1)
    run = tmp_path / "run"
    flags = [*TINY_MODEL, "--eval-every", "5", "--target-error", "0"]
    argv = ["train", "--data", str(tmp_path / "train.npz"), "--val", str(tmp_path / "val.npz")]
    assert main([*argv, "--out", str(run), "--max-iter", "10", *flags]) == 0
    config = read_run_config(run)
    assert config.task == "data" and config.output_kind == "bits"
    evaluations = [r for r in read_log(run / "metrics.jsonl") if isinstance(r, EvaluationRecord)]
    assert evaluations[-1].eval.samples == 20  # the validation split, to train.eval_samples
    assert main(["train", "--resume", str(run), "--max-iter", "15", "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["eval", str(run)]) == 0  # 100 samples asked: the 30 there are
    assert capsys.readouterr().out.splitlines()[2].split()[-1] == "30"
    assert (run / "dashboard.png").is_file()


def test_the_categorical_and_real_losses_give_the_fused_engine_the_reference_gradients():
    from ntmkit import NTM, NTMConfig, engine
    from ntmkit.run.metrics import masked_cross_entropy, masked_mse

    torch.manual_seed(0)
    model = NTM(NTMConfig(input_size=3, output_size=4, num_slots=6, word_size=3,
                          controller_size=5, controller="lstm")).double()  # fmt: skip
    inputs = torch.randn(5, 2, 3, dtype=torch.float64)
    mask = torch.tensor([[0, 1], [1, 1], [1, 0], [1, 1], [0, 1]], dtype=torch.bool)
    classes = torch.randint(0, 4, (5, 2))
    values = torch.randn(5, 2, 4, dtype=torch.float64)
    for loss_of, targets in ((masked_cross_entropy, classes), (masked_mse, values)):
        grads = []
        for name in ("fused", "reference"):
            model.zero_grad()
            with engine.use(name):
                logits = model(inputs)[0]
            assert (name == "fused") == type(logits.grad_fn).__name__.startswith("_Fused")
            loss_of(logits, targets, mask).backward()
            grads.append([p.grad.clone() for p in model.parameters()])
        for fused, reference in zip(*grads, strict=True):
            torch.testing.assert_close(fused, reference, rtol=1e-10, atol=1e-12)


def test_an_ntm_layer_in_a_users_sequential_model_trains_on_the_fused_engine():
    from torch import nn

    from ntmkit import NTMLayer, engine

    torch.manual_seed(0)
    layer = NTMLayer(input_size=6, output_size=8, num_slots=8, word_size=4, controller_size=8)
    model = nn.Sequential(nn.Embedding(10, 6), layer, nn.Linear(8, 3))
    tokens = torch.randint(0, 10, (4, 7))  # [B, T]: batch first, as the layer defaults to
    labels = tokens % 3  # learnable from each step's token alone
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(30):
        logits = model(tokens)  # (B, T, 3)
        loss = nn.functional.cross_entropy(logits.reshape(-1, 3), labels.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    outputs = layer(model[0](tokens))  # batch first: the engine's logits, transposed
    engine_node = outputs.grad_fn.next_functions[0][0]
    assert type(engine_node).__name__.startswith("_FusedSequence")
    with engine.use("reference"):
        reference = model(tokens)
    torch.testing.assert_close(model(tokens), reference, rtol=1e-5, atol=1e-6)


def test_a_folder_of_npy_pairs_and_a_torch_dataset_become_the_same_data(tmp_path):
    from ntmkit.tasks.data import load, write_npz

    rng = np.random.default_rng(0)
    pairs = [
        (rng.normal(size=(steps, 3)).astype(np.float32), rng.integers(0, 4, size=steps))
        for steps in (4, 2, 5)
    ]
    folder = tmp_path / "pairs"
    folder.mkdir()
    for index, (inputs, targets) in enumerate(pairs):
        np.save(folder / f"{index:03}.inputs.npy", inputs)
        np.save(folder / f"{index:03}.targets.npy", targets)

    class Pairs(torch.utils.data.Dataset):
        def __len__(self):
            return len(pairs)

        def __getitem__(self, index):
            inputs, targets = pairs[index]
            return torch.from_numpy(inputs), torch.from_numpy(targets)

    written = write_npz(Pairs(), tmp_path / "pairs.npz")
    assert written == tmp_path / "pairs.npz"
    from_folder, from_file = load(str(folder)), load(str(written))
    for a, b in zip(from_folder.__dict__.values(), from_file.__dict__.values(), strict=True):
        assert torch.equal(a, b)
    assert from_file.lengths.tolist() == [4, 2, 5]
    assert from_file.targets.shape == (5, 3) and from_file.targets.dtype == torch.int64
    assert from_file.mask.sum() == 11  # the real steps, none of the padding


def test_a_data_set_resumes_with_the_losses_of_an_uninterrupted_run_and_sweeps(tmp_path):
    from ntmkit.presets import preset
    from ntmkit.training.trainer import Trainer

    _sequences(tmp_path / "train.npz", 64, seed=0)
    _sequences(tmp_path / "val.npz", 30, seed=1)
    run = preset("data", "fast", train=str(tmp_path / "train.npz"), val=str(tmp_path / "val.npz"))
    run = run.override({"model.num_slots": 8, "model.word_size": 4, "model.controller_size": 8,
                        "train.batch_size": 4, "train.max_iter": 12, "train.eval_every": 4,
                        "train.checkpoint_every": 4, "train.eval_samples": 20})  # fmt: skip
    Trainer(run, tmp_path / "whole").fit(progress=False)
    Trainer(run, tmp_path / "split").fit(progress=False, stop_after=6)
    Trainer(None, tmp_path / "split", resume=True).fit(progress=False)
    assert _comparable(tmp_path / "split") == _comparable(tmp_path / "whole")
    out = tmp_path / "sweep"
    settings = ["model.num_slots=8", "model.word_size=4", "model.controller_size=8",
                "train.batch_size=4", "train.eval_every=5", "train.eval_samples=20"]  # fmt: skip
    argv = ["sweep", "--data", str(tmp_path / "train.npz"), "--val", str(tmp_path / "val.npz"),
            "--seeds", "2", "--max-iter", "10", "--out", str(out), "--no-trial-reports",
            *(x for setting in settings for x in ("--set", setting))]  # fmt: skip
    assert main(argv) == 0
    (setting,) = json.loads((out / "summary.json").read_text())["settings"]
    assert setting["finished"] == 2 and setting["generalisation"][0]["seeds"] == 2
