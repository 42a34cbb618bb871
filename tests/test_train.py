"""Training: a step lowers the loss, checkpoints round-trip, resume equals no interruption."""

import dataclasses
import json

import pytest
import torch
from tiny_runs import tiny_run

from ntmkit import NTM, NTMConfig
from ntmkit.compat.lasagne import training_settings
from ntmkit.presets import PRESET_NAMES, preset
from ntmkit.presets.lasagne import SHIPPED_TASKS
from ntmkit.run import metrics
from ntmkit.run.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from ntmkit.run.config import RunConfig
from ntmkit.run.evaluate import scored_logits
from ntmkit.run.folder import load_run
from ntmkit.run.log import EvaluationRecord, RestartRecord, StepRecord, of_kind, read_log
from ntmkit.run.schedules import RestartState
from ntmkit.tasks import TASKS, make_task
from ntmkit.training.trainer import Trainer


def losses(folder):
    return [r.loss for r in of_kind(read_log(folder / "metrics.jsonl"), StepRecord)]


def restart_steps(folder):
    return [r.step for r in of_kind(read_log(folder / "metrics.jsonl"), RestartRecord)]


def test_one_training_step_on_a_fixed_batch_lowers_the_loss(tmp_path):
    trainer = Trainer(tiny_run(), tmp_path)
    trainer.model.eval()  # no output dropout: the same loss function before and after
    batch = trainer.task.sample(8)

    def loss():
        logits, _ = trainer.model(batch.inputs)
        return metrics.masked_bce(logits, batch.targets, batch.mask)

    before = loss()
    trainer.optimizer.zero_grad()
    before.backward()
    trainer.optimizer.step()
    assert loss().item() < before.item()


def test_fit_writes_config_metrics_and_a_loadable_checkpoint(tmp_path):
    result = Trainer(tiny_run(), tmp_path).fit(progress=False)
    assert result.step == 12 and result.sequences == 96
    run, _, payload = load_run(tmp_path)
    assert run == tiny_run() and payload["step"] == 12
    assert RunConfig.from_json((tmp_path / "config.json").read_text()) == run
    records = read_log(tmp_path / "metrics.jsonl")
    assert len(of_kind(records, StepRecord)) == 12
    assert [r.step for r in of_kind(records, EvaluationRecord)] == [4, 8, 12]


def test_checkpoint_round_trip_restores_model_and_optimizer_exactly(tmp_path):
    trainer = Trainer(tiny_run(), tmp_path)
    trainer.fit(progress=False, stop_after=5)
    resumed = Trainer(None, tmp_path, resume=True)
    assert resumed.step == 5
    for a, b in zip(trainer.model.state_dict().values(), resumed.model.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert str(trainer.optimizer.state_dict()) == str(resumed.optimizer.state_dict())


def test_interrupted_and_resumed_run_has_the_same_loss_curve_as_an_uninterrupted_one(tmp_path):
    whole, split = tmp_path / "whole", tmp_path / "split"
    Trainer(tiny_run(), whole).fit(progress=False)
    first = Trainer(tiny_run(), split).fit(progress=False, stop_after=7)
    assert first.interrupted and first.step == 7
    Trainer(None, split, resume=True).fit(progress=False)
    assert losses(split) == losses(whole)
    assert len(losses(split)) == 12


def test_fast_copy_preset_restarts_and_merges_a_partial_override():
    rule = preset("copy").override({"train.restart.after": 9}).train.restart
    assert (rule.after, rule.above) == (9, preset("copy").train.restart.above)


def test_fast_gives_copys_recipe_to_the_copy_like_tasks_and_its_own_to_the_others():
    copy = preset("copy")
    assert copy.model.output_dropout == 0.5 and copy.train.restart is not None
    for task in ("reversed_copy", "upside_down_copy"):
        run = preset(task)
        assert (run.model, run.train, run.task_config) == (copy.model, copy.train, copy.task_config)
    assert preset("dyck_words").train.curriculum.cap == 80
    sort = preset("sort")
    assert (sort.task_config.max_length, sort.model.controller_size) == (5, 256)
    assert sort.train.lr_drop.low_lr == 1e-3 and sort.train.target_error == 0.1
    assert preset("repeat_copy").train.lr_drop.low_lr == 1e-3
    recall, paper = preset("associative_recall"), preset("associative_recall", "paper")
    assert (recall.model, recall.train.batch_size) == (paper.model, 1)  # the paper's recipe
    assert recall.train.restart.after == 55_000 and recall.train.lr_drop.low_lr == 1e-5
    assert preset("ngrams").train.target_error == 1.0  # bits above the Bayes optimum
    for task in ("ngrams", "priority_sort"):
        run = preset(task)
        assert run.model.output_dropout == 0.0 and run.train.restart is None, task


def test_restart_gives_a_fresh_model_and_optimizer_and_logs_it(tmp_path):
    restart = {"after": 4, "above": 0.0, "limit": 1}  # every attempt "stalls" at error > 0
    plain = Trainer(tiny_run(), tmp_path / "plain")
    plain.fit(progress=False, stop_after=4)
    trainer = Trainer(tiny_run(restart=restart), tmp_path / "restart")
    trainer.fit(progress=False, stop_after=4)  # the evaluation at step 4 restarts
    assert losses(tmp_path / "restart") == losses(tmp_path / "plain")
    records = of_kind(read_log(tmp_path / "restart" / "metrics.jsonl"), RestartRecord)
    assert [(r.step, r.restart) for r in records] == [(4, 1)]
    assert trainer.state.restarts == RestartState(attempt_start=4, restarts=1)
    trained = dict(plain.model.named_parameters())
    for name, fresh in trainer.model.named_parameters():
        assert not torch.equal(fresh, trained[name]), name
    assert trainer.optimizer.state_dict()["state"] == {}  # no moments carried over


def test_no_restart_when_the_fresh_attempt_could_not_reach_its_check(tmp_path):
    # max_iter 12, after 4: fresh starts at steps 4 and 8; at 12 none (it would end the run on
    # an untrained model), even though the limit allows a third.
    run = tiny_run(restart={"after": 4, "above": 0.0, "limit": 3})
    trainer = Trainer(run, tmp_path)
    result = trainer.fit(progress=False)
    assert restart_steps(tmp_path) == [4, 8] and result.last_eval is not None
    assert not trainer.model.training  # fit hands the model back in eval mode


def test_a_restart_resets_the_schedules_and_forgets_the_replaced_models_evaluation(tmp_path):
    drop = {"threshold": 10.0, "low_lr": 1e-5, "window": 1}  # drops after the first step
    run = tiny_run(restart={"after": 4, "above": 0.0, "limit": 1}, lr_drop=drop)
    trainer = Trainer(run, tmp_path)
    trainer.fit(progress=False, stop_after=3)
    assert trainer.state.lr.value == 1e-5
    trainer.fit(progress=False, stop_after=4)  # the evaluation at step 4 restarts
    assert trainer.state.restarts.restarts == 1
    assert trainer.state.lr == run.train.lr_drop.initial(run.train.lr)
    assert trainer.last_eval is None


def test_schedule_settings_that_are_not_objects_are_rejected():
    with pytest.raises(ValueError, match=r"train\.restart must be null or an object with"):
        preset("copy").override({"train.restart": "foo"})


def test_a_restart_is_announced_above_the_progress_bar(tmp_path, capsys):
    Trainer(tiny_run(restart={"after": 4, "above": 0.0, "limit": 1}), tmp_path).fit(
        progress=True, stop_after=4
    )
    captured = capsys.readouterr()
    said = captured.out + captured.err
    assert "step 4: evaluation error" in said and "fresh start 1 of at most 1" in said


def test_resumed_run_with_a_restart_has_the_same_loss_curve(tmp_path):
    run = tiny_run(restart={"after": 4, "above": 0.0, "limit": 2})
    whole, split = tmp_path / "whole", tmp_path / "split"
    Trainer(run, whole).fit(progress=False)
    Trainer(run, split).fit(progress=False, stop_after=6)
    Trainer(None, split, resume=True).fit(progress=False)
    assert losses(split) == losses(whole) and len(losses(whole)) == 12
    assert restart_steps(whole) == [4, 8]


def test_resume_may_extend_max_iter_but_not_change_the_recipe(tmp_path):
    Trainer(tiny_run(), tmp_path).fit(progress=False)
    extended = Trainer(tiny_run(max_iter=14), tmp_path, resume=True)
    assert extended.fit(progress=False).step == 14
    extended.close()
    with pytest.raises(ValueError, match=r"only train\.max_iter, train\.target_error, train"):
        Trainer(tiny_run(max_iter=14, batch_size=4), tmp_path, resume=True)


def step_rates(folder):
    return [(r.step, r.lr) for r in of_kind(read_log(folder / "metrics.jsonl"), StepRecord)]


def test_resume_at_a_new_rate_trains_on_at_it_and_a_later_resume_keeps_it(tmp_path):
    # The saved schedule would drop 3e-3 to 1e-3 at once (any loss is below 1e9): a resume at
    # 1e-4 replaces it from the resumed step on, in config.json too, so resuming again does
    # not bring the old drop back.
    drop = {"threshold": 1e9, "low_lr": 1e-3, "window": 1}
    Trainer(tiny_run(max_iter=6, lr_drop=drop), tmp_path).fit(progress=False)
    polished = tiny_run(max_iter=10, lr=1e-4, lr_drop=None)
    Trainer(polished, tmp_path, resume=True).fit(progress=False, stop_after=8)
    assert RunConfig.from_json((tmp_path / "config.json").read_text()) == polished
    Trainer(None, tmp_path, resume=True).fit(progress=False)
    rates = step_rates(tmp_path)
    assert rates[0] == (1, 3e-3) and all(lr == 1e-3 for _, lr in rates[1:6])
    assert [lr for _, lr in rates[6:]] == [1e-4] * 4 and rates[-1][0] == 10


def test_a_new_rate_survives_a_kill_between_the_config_and_the_checkpoint(tmp_path):
    # Killed after config.json was rewritten but before the checkpoint was: the checkpoint
    # still records the old schedule, so the resume starts the new one.
    drop = {"threshold": 1e9, "low_lr": 1e-3, "window": 1}
    Trainer(tiny_run(max_iter=6, lr_drop=drop), tmp_path).fit(progress=False)
    polished = tiny_run(max_iter=8, lr=1e-4, lr_drop=None)
    (tmp_path / "config.json").write_text(polished.to_json())
    Trainer(None, tmp_path, resume=True).fit(progress=False)
    assert [lr for _, lr in step_rates(tmp_path)[6:]] == [1e-4, 1e-4]


def test_early_stop_once_evaluation_error_is_below_target(tmp_path):
    result = Trainer(tiny_run(target_error=1e9), tmp_path).fit(progress=False)
    assert result.converged and result.step == 4


def test_a_curriculum_run_is_scored_at_its_cap_and_stops_only_once_there(tmp_path):
    # A threshold no loss misses: the maximum length doubles every 3 steps, 3 -> 6 -> 12.
    curriculum = {"threshold": 1e9, "cap": 12, "window": 3}
    trainer = Trainer(tiny_run(target_error=1e9, curriculum=curriculum, max_iter=40), tmp_path)
    assert max(batch.lengths.max().item() for batch in trainer.eval_set) > 6
    result = trainer.fit(progress=False)
    lengths = {r.max_length for r in of_kind(read_log(tmp_path / "metrics.jsonl"), StepRecord)}
    assert result.converged and lengths == {3, 6, 12}
    assert result.step == 8  # evaluations at steps 4 (length 6) and 8 (the cap since step 6)


def test_truncated_and_foreign_checkpoints_give_a_clear_error(tmp_path):
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, {"step": 1})
    assert load_checkpoint(path)["step"] == 1
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(CheckpointError, match="not a readable ntmkit checkpoint"):
        load_checkpoint(path)
    torch.save({"weights": torch.zeros(2)}, path)
    with pytest.raises(CheckpointError, match="not an ntmkit checkpoint"):
        load_checkpoint(path)


def test_checkpoint_loading_never_runs_code_from_the_file(tmp_path):
    class Evil:
        def __reduce__(self):
            return (exec, ("open(r'%s', 'w').write('owned')" % (tmp_path / "owned"),))

    path = tmp_path / "checkpoint.pt"
    torch.save({"format": "ntmkit.checkpoint", "version": 1, "evil": Evil()}, path)
    with pytest.raises(CheckpointError):
        load_checkpoint(path)
    assert not (tmp_path / "owned").exists()


def test_every_task_has_every_preset_and_presets_are_valid_json_round_trips():
    for task in TASKS:
        for name in PRESET_NAMES:
            run = preset(task, name)
            assert RunConfig.from_json(run.to_json()) == run
            assert run.preset == name


def test_lasagne_preset_and_importer_share_one_table_without_repeat_copys_end_marker():
    # ntm-lasagne's shipped repeat-copy model was trained before its generators had an end
    # marker; the preset and the importer both read LASAGNE_RECIPES.
    assert preset("repeat_copy", "lasagne").task_config.end_marker is False
    for task in SHIPPED_TASKS:
        fields = dataclasses.asdict(preset(task, "lasagne").task_config)
        assert training_settings(task) == fields, task


def test_override_rejects_unknown_keys_listing_the_valid_ones():
    with pytest.raises(
        ValueError, match=r"unknown setting 'model.memory_size'; valid: .*model.num_slots"
    ):
        preset("copy").override({"model.memory_size": 3})


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"train.restart.after": 9}, r"train\.restart needs the field above"),
        (
            {"train.lr_drop": {"threshold": 1, "low_lr": 1, "x": 2}},
            r"unknown train\.lr_drop field 'x'",
        ),
    ],
)
def test_schedule_overrides_name_missing_and_unknown_fields(settings, message):
    with pytest.raises(ValueError, match=message):
        preset("repeat_copy").override(settings)  # no schedule set: nothing to merge into


def test_nested_activation_override_starts_from_the_preset_names():
    run = preset("copy", "paper").override({"model.activations.gate": "hard_sigmoid"})
    config = run.model
    assert config.activations.gate == "hard_sigmoid" and config.activations.key == "tanh"


@pytest.mark.slow
def test_tiny_copy_task_converges(tmp_path):
    # The fast recipe at batch 8 on 2-bit vectors of length 1-3. Training is deterministic for a
    # seed; seed 0 converges at step 2,950 with torch 2.13 (seeds 0-3 took 2,300 to over 4,000).
    run = tiny_run(max_iter=4000, eval_every=50, target_error=0.01, lr=3e-3)
    result = Trainer(run, tmp_path).fit(progress=False)
    assert result.converged, result.last_eval
    assert json.loads((tmp_path / "config.json").read_text())["task"] == "copy"


class RecordingWriter:
    """Stands in for tensorboard's SummaryWriter and keeps what was logged."""

    def __init__(self):
        self.scalars, self.figures = [], []

    def add_scalar(self, tag, value, step):
        self.scalars.append((tag, value, step))

    def add_figure(self, tag, figure, step):
        self.figures.append((tag, step, len(figure.axes)))

    def flush(self):
        pass


def test_tensorboard_gets_step_scalars_and_a_dashboard_per_evaluation(tmp_path, monkeypatch):
    from ntmkit.training import tensorboard

    writer = RecordingWriter()
    monkeypatch.setattr(tensorboard, "open_writer", lambda folder: writer)
    Trainer(tiny_run(), tmp_path).fit(progress=False)
    losses_logged = [s for s in writer.scalars if s[0] == "train/loss"]
    assert [step for _, _, step in losses_logged] == [8 * k for k in range(1, 13)]
    assert {tag for tag, _, _ in writer.scalars} >= {"eval/bit_errors", "train/seq_per_s"}
    assert [(tag, step) for tag, step, _ in writer.figures] == [
        ("dashboard", 32),
        ("dashboard", 64),
        ("dashboard", 96),
    ]
    assert all(axes > 3 for _, _, axes in writer.figures)


def test_curriculum_on_a_task_without_max_length_is_rejected_up_front():
    with pytest.raises(ValueError, match="which has no max_length to grow"):
        preset("associative_recall").override(
            {"train.curriculum.threshold": 0.1, "train.curriculum.cap": 4}
        )


def test_scored_logits_of_a_padded_batch_give_the_loss_and_gradients_of_masked_lengths():
    """Training skips ``lengths``: padding follows each sequence and is never scored."""
    task = make_task("copy", seed=3, size=3, max_length=6, per_sequence_lengths=True)
    batch = task.sample(5)
    assert len(set(batch.lengths.tolist())) > 1  # really padded
    torch.manual_seed(0)
    model = NTM(NTMConfig(4, 4, controller="lstm", num_slots=8, word_size=4, controller_size=8))

    def loss_and_grads(logits):
        loss = metrics.masked_bce(logits, batch.targets, batch.mask)
        grads = torch.autograd.grad(loss, list(model.parameters()))
        return loss, grads

    fast_loss, fast_grads = loss_and_grads(scored_logits(model, batch))
    slow_loss, slow_grads = loss_and_grads(model(batch.inputs, lengths=batch.lengths)[0])
    torch.testing.assert_close(fast_loss, slow_loss)
    for fast, slow in zip(fast_grads, slow_grads, strict=True):
        torch.testing.assert_close(fast, slow)


def test_fit_after_an_interrupted_fit_continues_training(tmp_path):
    trainer = Trainer(tiny_run(), tmp_path)
    first = trainer.fit(progress=False, stop_after=3)
    second = trainer.fit(progress=False, stop_after=6)
    assert (first.step, first.interrupted) == (3, True)
    assert (second.step, second.interrupted) == (6, True)


def test_fit_leaves_the_callers_random_stream_and_denormal_setting_alone(tmp_path):
    from ntmkit.training.process_state import flush_denormal_enabled

    torch.manual_seed(123)
    caller = torch.get_rng_state()
    trainer = Trainer(tiny_run(), tmp_path)
    trainer.fit(progress=False, stop_after=2)
    assert torch.equal(torch.get_rng_state(), caller)
    assert not flush_denormal_enabled()


def test_on_evaluation_sees_each_logged_evaluation_and_may_end_the_fit(tmp_path):
    seen = []
    Trainer(tiny_run(), tmp_path / "all").fit(progress=False, on_evaluation=seen.append)
    assert seen == of_kind(read_log(tmp_path / "all" / "metrics.jsonl"), EvaluationRecord)

    class Stop(Exception):
        pass

    def stop_at_eight(record):
        if record.step == 8:
            raise Stop

    trainer = Trainer(tiny_run(), tmp_path / "stopped")
    with pytest.raises(Stop):
        trainer.fit(progress=False, on_evaluation=stop_at_eight)
    assert trainer.step == 8
    trainer.save()  # what a sweep's trial does when its scheduler stops it
    Trainer(None, tmp_path / "stopped", resume=True).fit(progress=False)
    assert losses(tmp_path / "stopped") == losses(tmp_path / "all")


@pytest.mark.parametrize("clip", [0.0, 0.5, -1e-6])
def test_a_loss_clip_outside_zero_to_one_half_is_a_one_line_error(clip):
    with pytest.raises(ValueError, match=r"train.loss_clip must be a finite number > 0 and < 0.5"):
        tiny_run().override({"train.loss_clip": clip})


def test_an_unknown_training_loss_is_a_one_line_error_naming_the_choices():
    choices = "auto, bce, clipped_bce, cross_entropy, mse"
    with pytest.raises(ValueError, match=rf"train.loss must be one of {choices}, got 'l1'"):
        tiny_run().override({"train.loss": "l1"})


def test_a_loss_of_another_output_kind_is_refused_naming_those_that_fit():
    rule = "auto or one of bce, clipped_bce for a task of bits outputs"
    with pytest.raises(ValueError, match=rf"train.loss must be {rule}, got 'mse'"):
        tiny_run().override({"train.loss": "mse"})
