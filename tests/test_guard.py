"""The non-finite guard: a NaN loss or gradient is skipped, counted, and never reaches the weights;
too many in a row stop the run and leave the last good checkpoint as it was."""

import math

import pytest
import torch
from tiny_runs import tiny_run

from ntmkit.cli import main
from ntmkit.run import metrics
from ntmkit.run.checkpoint import load_checkpoint
from ntmkit.run.log import StepRecord, of_kind, read_log
from ntmkit.training.guard import NonFiniteTraining, gradient_norm
from ntmkit.training.state import SkippedSteps
from ntmkit.training.trainer import Trainer


def _nan_loss_on(monkeypatch, calls: set[int] | None) -> None:
    """Make the training loss NaN on the given 1-based calls (None: on every call)."""
    honest = metrics.TRAINING_LOSSES["bce"]
    count = {"calls": 0}

    def loss(logits, targets, mask):
        count["calls"] += 1
        value = honest(logits, targets, mask)
        return value * math.nan if calls is None or count["calls"] in calls else value

    monkeypatch.setitem(metrics.TRAINING_LOSSES, "bce", loss)


def _parameters(trainer: Trainer) -> list[torch.Tensor]:
    return [p.detach().clone() for p in trainer.model.parameters()]


def _steps(trainer: Trainer) -> list[StepRecord]:
    return of_kind(read_log(trainer.folder.metrics), StepRecord)


def test_a_nan_loss_is_skipped_logged_and_leaves_weights_and_schedules_unchanged(
    tmp_path, monkeypatch
):
    run = tiny_run(max_iter=6, lr_drop={"threshold": 1e-9, "low_lr": 1e-4, "window": 3})
    trainer = Trainer(run, tmp_path / "run")
    trainer.fit(progress=False, stop_after=2)
    before, lr_before = _parameters(trainer), trainer.state.lr
    _nan_loss_on(monkeypatch, {1})  # the next step's loss is NaN
    trainer.fit(progress=False, stop_after=3)
    assert all(torch.equal(a, b) for a, b in zip(before, _parameters(trainer), strict=True))
    assert trainer.state.lr == lr_before  # a NaN never enters the running mean of losses
    trainer.fit(progress=False)  # later steps train as usual
    assert not all(torch.equal(a, b) for a, b in zip(before, _parameters(trainer), strict=True))
    skipped = [record.step for record in _steps(trainer) if record.skipped]
    assert skipped == [3] and trainer.state.skipped == SkippedSteps(in_a_row=0, total=1)


def test_a_nan_gradient_with_a_finite_loss_is_skipped_too(tmp_path):
    trainer = Trainer(tiny_run(max_iter=3), tmp_path / "run")
    before = _parameters(trainer)
    weight = next(trainer.model.parameters())
    hook = weight.register_hook(lambda grad: grad * math.inf)  # one poisoned gradient
    trainer.fit(progress=False, stop_after=1)
    hook.remove()
    assert all(torch.equal(a, b) for a, b in zip(before, _parameters(trainer), strict=True))
    first = _steps(trainer)[0]
    assert first.skipped and math.isfinite(first.loss)


def test_too_many_non_finite_steps_in_a_row_stop_naming_the_step_and_the_good_checkpoint(
    tmp_path, monkeypatch
):
    run = tiny_run(max_iter=40, checkpoint_every=4, max_skipped_steps=3)
    trainer = Trainer(run, tmp_path / "run")
    trainer.fit(progress=False, stop_after=4)  # checkpoint at step 4
    saved = trainer.folder.checkpoint.read_bytes()
    _nan_loss_on(monkeypatch, None)
    with pytest.raises(NonFiniteTraining) as stopped:
        trainer.fit(progress=False)
    message = str(stopped.value)
    assert "stopped at step 7: 3 steps in a row" in message
    assert f"{trainer.folder.checkpoint} (step 4)" in message and "\n" not in message
    assert trainer.folder.checkpoint.read_bytes() == saved  # never written over
    assert load_checkpoint(trainer.folder.checkpoint)["step"] == 4


def test_non_finite_weights_are_never_saved(tmp_path):
    trainer = Trainer(tiny_run(), tmp_path / "run")
    saved = trainer.folder.checkpoint.read_bytes()
    with torch.no_grad():
        next(trainer.model.parameters())[0] = math.nan
    with pytest.raises(NonFiniteTraining, match="is not finite; not saved"):
        trainer.save()
    assert trainer.folder.checkpoint.read_bytes() == saved


def test_the_cli_reports_a_stopped_run_in_one_line_with_exit_code_2(tmp_path, monkeypatch, capsys):
    _nan_loss_on(monkeypatch, None)
    out = tmp_path / "run"
    argv = ["train", "copy", "--out", str(out), "--size", "2", "--max-length", "3",
            "--memory", "8x4", "--max-iter", "5", "--no-progress",
            "--set", "train.max_skipped_steps=2"]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "ntmkit train: error: training stopped at step 2" in err[0]


def test_skipped_steps_are_counted_in_a_row_and_in_total():
    counts = [SkippedSteps()]
    for finite in (False, True, False, False):
        counts.append(counts[-1].after(finite))
    assert [c.in_a_row for c in counts] == [0, 1, 0, 1, 2]
    assert counts[-1] == SkippedSteps(in_a_row=2, total=3)


def test_gradient_norm_is_the_global_norm_and_not_finite_with_any_bad_element():
    a, b = torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)
    a.grad, b.grad = torch.tensor([3.0, 0.0]), torch.tensor([0.0, 4.0, 0.0])
    assert gradient_norm([a, b]).item() == pytest.approx(5.0)
    b.grad[0] = math.nan
    assert not torch.isfinite(gradient_norm([a, b]))
    assert gradient_norm([torch.zeros(1, requires_grad=True)]).item() == 0.0  # no gradient yet


def test_huge_but_finite_gradients_are_clipped_and_stepped_not_skipped(tmp_path):
    # A float32 sum of squares overflows past ~1.8e19 per element (numerics.py,
    # GRADIENT_NORM_FALLBACK_DTYPE): found by the NaN hunt, step 484 of a stressed copy run.
    trainer = Trainer(tiny_run(max_iter=3), tmp_path / "run")
    before = _parameters(trainer)
    weight = next(trainer.model.parameters())
    hook = weight.register_hook(lambda grad: grad * 1e25 + 1e21)  # finite, norm > float32 max
    trainer.fit(progress=False, stop_after=1)
    hook.remove()
    assert not _steps(trainer)[0].skipped
    assert not all(torch.equal(a, b) for a, b in zip(before, _parameters(trainer), strict=True))
    assert all(bool(torch.isfinite(p).all()) for p in trainer.model.parameters())


def test_clip_to_norm_matches_torch_on_ordinary_gradients_and_survives_overflow():
    from ntmkit.training.guard import clip_to_norm

    generator = torch.Generator().manual_seed(0)
    ours = [torch.zeros(50, requires_grad=True), torch.zeros(7, 3, requires_grad=True)]
    theirs = [torch.zeros_like(p, requires_grad=True) for p in ours]
    for a, b in zip(ours, theirs, strict=True):
        a.grad = 5 * torch.randn(a.shape, generator=generator)
        b.grad = a.grad.clone()
    norm = clip_to_norm(ours, 1.0)
    assert torch.equal(norm, torch.nn.utils.clip_grad_norm_(theirs, 1.0))  # bit for bit
    assert all(torch.equal(a.grad, b.grad) for a, b in zip(ours, theirs, strict=True))
    for p in ours:
        p.grad = torch.full(p.shape, 1e30)  # each finite; their float32 squares are not
    norm = clip_to_norm(ours, 1.0)
    assert torch.isfinite(norm) and norm.dtype == torch.float64
    assert gradient_norm(ours, dtype=torch.float64).item() == pytest.approx(1.0, rel=1e-5)
