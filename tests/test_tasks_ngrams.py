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
