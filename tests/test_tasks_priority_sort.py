"""Priority sort: layout, and the target is the top vectors sorted by priority."""

import pytest
import torch

from ntmkit.tasks import make_task


def test_layout_matches_the_documented_example():
    task = make_task("priority_sort", size=2, num_inputs=3, num_outputs=2)
    bits = torch.tensor([[[1.0, 0.0]], [[0.0, 1.0]], [[1.0, 1.0]]])  # a, b, c
    priorities = torch.tensor([[0.1], [-0.7], [0.4]])
    batch = task.build(bits, priorities)
    #                            t:  0     1    2    3    4    5
    inputs = torch.tensor(
        [
            [1, 0, 0, 0.1],
            [0, 1, 0, -0.7],
            [1, 1, 0, 0.4],
            [0, 0, 1, 0],  # The delimiter.
            [0, 0, 0, 0],
            [0, 0, 0, 0],
        ]
    )
    targets = torch.tensor([[0, 0]] * 4 + [[1, 1], [1, 0]]).float()  # c then a.
    assert torch.equal(batch.inputs[:, 0], inputs)
    assert torch.equal(batch.targets[:, 0], targets)
    assert batch.mask[:, 0].tolist() == [False] * 4 + [True] * 2
    assert task.markers(batch, 0) == [(3, "delimiter")]


def test_target_is_the_sixteen_highest_priority_vectors_highest_first():
    task = make_task("priority_sort", seed=0)
    batch = task.sample(8)
    assert batch.inputs.shape == (20 + 1 + 16, 8, 10)
    assert batch.targets.shape == (37, 8, 8)
    assert batch.mask.sum(dim=0).tolist() == [16] * 8
    for b in range(8):
        priorities = batch.inputs[:20, b, 9].tolist()
        ranked = sorted(range(20), key=lambda i: priorities[i], reverse=True)[:16]
        expected = batch.inputs[ranked, b, :8]
        assert torch.equal(batch.targets[batch.mask[:, b], b], expected)
        chosen = [priorities[i] for i in ranked]
        assert chosen == sorted(chosen, reverse=True)


def test_priorities_are_uniform_on_minus_one_to_one():
    batch = make_task("priority_sort", seed=1).sample(200)
    priorities = batch.inputs[:20, :, 9]
    assert priorities.min() >= -1.0
    assert priorities.max() <= 1.0
    assert abs(float(priorities.mean())) < 0.03
    assert abs(float(priorities.var()) - 1 / 3) < 0.02  # Variance of U(-1, 1).


def test_length_override_changes_the_inputs_not_the_outputs():
    batch = make_task("priority_sort").sample(2, length=30)
    assert batch.inputs.shape[0] == 30 + 1 + 16
    assert batch.mask.sum(dim=0).tolist() == [16, 16]


def test_build_rejects_mismatched_priorities():
    task = make_task("priority_sort", size=2, num_inputs=3, num_outputs=2)
    with pytest.raises(ValueError, match=r"priorities \(2, 1\)"):
        task.build(torch.zeros(3, 1, 2), torch.zeros(2, 1))


def test_priority_sort_is_measured_by_its_cost_as_in_the_paper(tmp_path):
    from ntmkit.plots.sweep_curves import COST_LABEL, seed_curve, sweep_curves_figure
    from ntmkit.presets import preset
    from ntmkit.run.evaluate import Evaluation, measure_of
    from ntmkit.run.log import EvaluationRecord, of_kind, read_log
    from ntmkit.training.trainer import Trainer

    task = make_task("priority_sort")
    assert task.measure == "cost_bits"
    assert measure_of(Evaluation(3.0, 0.5, 9.5, 100), task) == 9.5
    small = {"task.num_inputs": 3, "task.num_outputs": 2, "task.size": 2,
             "model.num_slots": 8, "model.word_size": 4, "model.controller_size": 8,
             "train.batch_size": 4, "train.eval_samples": 10, "train.max_iter": 4,
             "train.eval_every": 2, "train.target_error": 1e6}  # fmt: skip
    trainer = Trainer(preset("priority_sort").override(small), tmp_path / "run")
    result = trainer.fit(progress=False)
    assert result.converged and result.step == 2  # a cost below 1e6 bits stops it
    (record,) = of_kind(read_log(tmp_path / "run" / "metrics.jsonl"), EvaluationRecord)
    assert seed_curve(tmp_path / "run")[1].tolist() == [record.eval.cost_bits]
    assert sweep_curves_figure({"s": [tmp_path / "run"]}).axes[0].get_ylabel() == COST_LABEL
