"""Dyck words: targets, and the uniformity of both samplers."""

import collections

import torch

from ntmkit.tasks import make_task
from ntmkit.tasks.dyck_words import dyck_prefixes, random_dyck_words, random_non_dyck_words

# 99.9% quantiles of the chi-square law: a correct sampler fails these bounds once in 1000 seeds.
CHI2_999 = {3: 16.27, 4: 18.47}


def _word(text: str) -> list[int]:
    return [0 if symbol == "(" else 1 for symbol in text]


def _chi_square(counts: collections.Counter, categories: int) -> float:
    expected = sum(counts.values()) / categories
    return sum((count - expected) ** 2 / expected for count in counts.values())


def test_targets_match_the_documented_example():
    task = make_task("dyck_words")
    batch = task.build(torch.tensor(_word("())(()"))[:, None])
    assert batch.inputs[:, 0, 0].tolist() == [0.0, 1.0, 1.0, 0.0, 0.0, 1.0]
    assert batch.targets[:, 0, 0].tolist() == [0.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    assert batch.mask.all()
    assert task.markers(batch, 0) == [(2, "dip")]


def test_prefix_flags_agree_with_a_naive_loop():
    words = torch.randint(0, 2, (12, 50), generator=torch.Generator().manual_seed(0))
    flags = dyck_prefixes(words)
    for b in range(50):
        height, dipped = 0, False
        for t in range(12):
            height += 1 if words[t, b] == 0 else -1
            dipped = dipped or height < 0
            assert flags[t, b] == float(not dipped and height == 0)


def test_dyck_words_are_balanced_and_never_dip():
    generator = torch.Generator().manual_seed(0)
    for semilength in range(1, 7):
        words = random_dyck_words(300, semilength, generator)
        heights = torch.cumsum(1 - 2 * words, dim=0)
        assert words.shape == (2 * semilength, 300)
        assert (heights[-1] == 0).all()
        assert (heights >= 0).all()


def test_non_dyck_words_are_balanced_and_dip():
    generator = torch.Generator().manual_seed(0)
    for semilength in range(1, 7):
        words = random_non_dyck_words(300, semilength, generator)
        heights = torch.cumsum(1 - 2 * words, dim=0)
        assert words.shape == (2 * semilength, 300)
        assert (heights[-1] == 0).all()
        assert (heights.min(dim=0).values < 0).all()


def test_all_five_dyck_words_of_semilength_three_are_equally_likely():
    words = random_dyck_words(5000, 3, torch.Generator().manual_seed(1))
    counts = collections.Counter(tuple(word) for word in words.T.tolist())
    catalan = ["((()))", "(()())", "(())()", "()(())", "()()()"]
    assert set(counts) == {tuple(_word(text)) for text in catalan}
    assert _chi_square(counts, 5) < CHI2_999[4]


def test_all_four_non_dyck_words_of_semilength_two_are_equally_likely():
    words = random_non_dyck_words(4000, 2, torch.Generator().manual_seed(2))
    counts = collections.Counter(tuple(word) for word in words.T.tolist())
    assert set(counts) == {tuple(_word(text)) for text in ["())(", ")(()", ")()(", "))(("]}
    assert _chi_square(counts, 4) < CHI2_999[3]


def test_a_fair_coin_picks_dyck_or_non_dyck_per_sequence():
    batch = make_task("dyck_words", seed=0).sample(2000, length=4)
    complete = batch.targets[-1, :, 0]  # A whole word is flagged iff it is a Dyck word.
    assert abs(float(complete.mean()) - 0.5) < 0.04
    assert (batch.inputs.sum(dim=0) == 4).all()  # Balanced: four ")" in eight symbols.


def test_markers_are_empty_for_dyck_words():
    task = make_task("dyck_words")
    assert task.markers(task.build(torch.tensor(_word("(())"))[:, None]), 0) == []
