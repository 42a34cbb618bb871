"""Dynamic n-grams: layout, table sampling, and the Bayes-optimal predictor."""

import math

import torch

from ntmkit.tasks import make_task
from ntmkit.tasks.ngrams import (
    bayes_optimal_cost,
    bayes_optimal_probabilities,
    draw_tables,
    sample_bits,
)

# One sequence, `[N, B]`, used by the hand-worked examples below.
BITS = torch.tensor([[0.0], [1.0], [0.0], [1.0], [0.0], [0.0]])


def test_build_shifts_the_sequence_by_one_step():
    batch = make_task("ngrams", n=2, min_length=2, max_length=6).build(BITS)
    assert batch.inputs[:, 0, 0].tolist() == [0.0, 1.0, 0.0, 1.0, 0.0]
    assert batch.targets[:, 0, 0].tolist() == [1.0, 0.0, 1.0, 0.0, 0.0]
    assert batch.mask.shape == (5, 1)
    assert batch.mask.all()


def test_bayes_probabilities_match_a_hand_worked_bigram_example():
    # n = 2: the context is the previous bit. Before bit t, (N1, N0) for its context are
    # t=1: ctx 0 (0,0); t=2: ctx 1 (0,0); t=3: ctx 0 (1,0); t=4: ctx 1 (0,1); t=5: ctx 0 (2,0).
    expected = [0.5, 0.5, 0.5, 1.5 / 2, 0.5 / 2, 2.5 / 3]
    probabilities = bayes_optimal_probabilities(BITS, n=2)[:, 0]
    assert torch.allclose(probabilities, torch.tensor(expected, dtype=torch.float64))


def test_bayes_probabilities_are_one_half_until_the_context_is_complete():
    bits = torch.tensor([[1.0], [1.0], [1.0], [1.0], [1.0]])
    probabilities = bayes_optimal_probabilities(bits, n=3)[:, 0].tolist()
    # Context (1, 1) is first seen at t = 2, then followed by 1 once and twice.
    assert probabilities == [0.5, 0.5, 0.5, 1.5 / 2, 2.5 / 3]


def test_bayes_cost_sums_minus_log2_of_each_target_probability():
    batch = make_task("ngrams", n=2, min_length=2, max_length=6).build(BITS)
    # Targets 1, 0, 1, 0, 0 predicted with P(1) = 1/2, 1/2, 3/4, 1/4, 5/6.
    expected = 1.0 + 1.0 - 2 * math.log2(0.75) - math.log2(1 / 6)
    assert math.isclose(float(bayes_optimal_cost(batch, n=2)[0]), expected, rel_tol=1e-6)


def test_bayes_cost_ignores_padded_steps():
    task = make_task("ngrams", seed=2, min_length=6, max_length=40, per_sequence_lengths=True)
    batch = task.sample(6)
    costs = bayes_optimal_cost(batch, n=6)
    for b in range(6):
        steps = int(batch.lengths[b])
        alone = task.build(
            torch.cat([batch.inputs[:1, b, 0], batch.targets[:steps, b, 0]])[:, None]
        )
        assert math.isclose(float(costs[b]), float(bayes_optimal_cost(alone, n=6)[0]), rel_tol=1e-6)


def test_bayes_predictor_beats_a_coin_on_dynamic_sequences():
    batch = make_task("ngrams", seed=0).sample(16)
    coin = 199.0  # One bit per predicted bit.
    assert float(bayes_optimal_cost(batch, n=6).mean()) < 0.9 * coin


def test_tables_follow_the_beta_half_half_law():
    tables = draw_tables(1000, 5, torch.Generator().manual_seed(0)).flatten()
    assert ((tables >= 0) & (tables <= 1)).all()
    # Beta(1/2, 1/2) has mean 1/2, variance 1/8, and P(p < 0.1) = (2 / pi) asin(sqrt(0.1)).
    assert abs(float(tables.mean()) - 0.5) < 0.01
    assert abs(float(tables.var()) - 0.125) < 0.005
    below = 2 / math.pi * math.asin(math.sqrt(0.1))
    assert abs(float((tables < 0.1).float().mean()) - below) < 0.01


def test_sampled_bits_follow_a_deterministic_table():
    # Bigram table P(1 | 0) = 1, P(1 | 1) = 0: after the first (uniform) bit, bits alternate.
    tables = torch.tensor([[1.0, 0.0]]).expand(4, -1)
    bits = sample_bits(tables, 10, 2, torch.Generator().manual_seed(0))
    assert (bits[1:] != bits[:-1]).all()


def test_fixed_table_is_drawn_from_the_seed_and_drives_every_sequence():
    task = make_task("ngrams", seed=2, n=2, table="fixed")  # Its table is about (0.68, 0.32).
    assert torch.equal(
        task.fixed_table, make_task("ngrams", seed=2, n=2, table="fixed").fixed_table
    )
    assert not torch.equal(
        task.fixed_table, make_task("ngrams", seed=3, n=2, table="fixed").fixed_table
    )
    batch = task.sample(100)
    bits = torch.cat([batch.inputs[:1, :, 0], batch.targets[:, :, 0]])  # (200, B)
    previous, current = bits[:-1].flatten(), bits[1:].flatten()
    for context in (0, 1):
        followers = current[previous == context]
        p_one = float(task.fixed_table[context])
        # Four standard errors of a frequency over this many draws.
        tolerance = 4 * math.sqrt(p_one * (1 - p_one) / len(followers)) + 1e-3
        assert abs(float(followers.mean()) - p_one) < tolerance


def test_dynamic_tables_differ_between_sequences():
    batch = make_task("ngrams", seed=5, n=2).sample(50)
    bits = torch.cat([batch.inputs[:1, :, 0], batch.targets[:, :, 0]])  # (200, B)
    after_zero = [float(bits[1:, b][bits[:-1, b] == 0].mean()) for b in range(50)]
    assert max(after_zero) - min(after_zero) > 0.5


def test_length_override_counts_bits_and_marker_is_first_table_bit():
    task = make_task("ngrams", n=4)
    batch = task.sample(2, length=10)
    assert batch.inputs.shape == (9, 2, 1)
    assert task.markers(batch, 0) == [(2, "first table bit")]


# ---- what "solved" means for n-grams: the cost above the Bayes optimum ----------------------


def _tiny_ngrams_run(**train):
    from ntmkit.presets import preset

    settings = {"task.min_length": 30, "task.max_length": 30, "model.num_slots": 8,
                "model.word_size": 4, "model.controller_size": 8, "train.batch_size": 4,
                "train.eval_samples": 20, "train.max_iter": 1, "train.eval_every": 1}  # fmt: skip
    return preset("ngrams", "fast").override(
        {**settings, **{f"train.{k}": v for k, v in train.items()}}
    )


def test_dynamic_ngrams_are_measured_by_the_excess_over_the_bayes_optimum():
    from ntmkit.run.evaluate import Evaluation, measure_of

    task = make_task("ngrams", n=3, min_length=20, max_length=20)
    batch = task.sample(5)
    torch.testing.assert_close(task.optimal_cost(batch), bayes_optimal_cost(batch, 3))
    evaluation = Evaluation(
        bit_errors=3.0, perfect=0.0, cost_bits=14.5, samples=5, optimal_bits=12.0
    )
    assert task.measure == "excess_bits" and measure_of(evaluation, task) == 2.5
    fixed = make_task("ngrams", table="fixed")
    assert fixed.measure == "cost_bits" and fixed.optimal_cost(batch) is None
    assert make_task("copy").optimal_cost(batch) is None


def test_an_ngrams_run_stops_on_its_excess_cost_not_its_bit_errors(tmp_path):
    from ntmkit.training.trainer import Trainer

    first = Trainer(_tiny_ngrams_run(target_error=1e-9), tmp_path / "a").fit(progress=False)
    evaluation = first.last_eval
    assert evaluation.optimal_bits is not None and evaluation.excess_bits < evaluation.bit_errors
    between = (evaluation.excess_bits + evaluation.bit_errors) / 2
    again = Trainer(_tiny_ngrams_run(target_error=between), tmp_path / "b").fit(progress=False)
    assert again.converged  # excess < target < bit errors: the excess decided


def test_eval_of_ngrams_prints_model_bayes_and_excess_cost(tmp_path, capsys):
    from ntmkit.cli import main
    from ntmkit.training.trainer import Trainer

    run = _tiny_ngrams_run(target_error=1e-9)
    trainer = Trainer(run, tmp_path / "run")
    trainer.fit(progress=False)
    trainer.close()
    assert main(["eval", str(tmp_path / "run"), "--lengths", "30", "--samples", "10"]) == 0
    header, row = capsys.readouterr().out.splitlines()[1:3]
    assert "optimal (bits)" in header and "excess (bits)" in header
    cost, optimal, excess = (float(v) for v in row.split()[3:6])
    assert math.isclose(cost - optimal, excess, abs_tol=2e-3)
