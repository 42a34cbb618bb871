"""Associative recall: ntm-lasagne's layout, and the answer is the item after the query."""

import pytest
import torch

from ntmkit.tasks import make_task


def _items(*rows_per_item):
    """`[n, L, B=1, S]` items from lists of rows."""
    return torch.tensor(rows_per_item, dtype=torch.float32)[:, :, None, :]


def test_layout_matches_hand_written_tensors():
    task = make_task("associative_recall", size=2)
    items = _items([[1, 0]], [[0, 1]], [[1, 1]])  # Three one-row items a, b, c.
    batch = task.build(items, torch.tensor([0]))  # Query a, so the answer is b.
    #                                  t:  0  1  2  3  4  5  6  7  8  9
    bit_0 = [0, 1, 0, 0, 0, 1, 0, 1, 0, 0]
    bit_1 = [0, 0, 0, 1, 0, 1, 0, 0, 0, 0]
    item_delimiter = [1, 0, 1, 0, 1, 0, 0, 0, 0, 0]
    query_delimiter = [0, 0, 0, 0, 0, 0, 1, 0, 1, 0]
    inputs = torch.tensor([bit_0, bit_1, item_delimiter, query_delimiter]).T.float()
    targets = torch.zeros(10, 4)
    targets[9, :2] = torch.tensor([0.0, 1.0])
    assert torch.equal(batch.inputs[:, 0], inputs)
    assert torch.equal(batch.targets[:, 0], targets)
    assert batch.mask[:, 0].tolist() == [False] * 9 + [True]
    assert task.markers(batch, 0) == [(6, "query"), (8, "answer")]


def test_answer_spans_the_last_item_length_steps():
    task = make_task("associative_recall", size=3)
    items = _items([[1, 0, 0], [0, 0, 1]], [[0, 1, 0], [1, 1, 1]])
    batch = task.build(items, torch.tensor([0]))
    assert batch.inputs.shape[0] == 3 * 4  # (L + 1)(n + 2)
    assert batch.targets[-2:, 0, :3].tolist() == [[0.0, 1.0, 0.0], [1.0, 1.0, 1.0]]
    assert int(batch.mask.sum()) == 2


def test_sampled_answer_is_the_item_after_the_query():
    task = make_task("associative_recall", seed=0, size=8, min_items=3, max_items=5)
    batch = task.sample(20)
    length = 3
    block = length + 1
    num_items = batch.inputs.shape[0] // block - 2
    for b in range(20):
        rows = batch.inputs[:, b, :8]
        items = [rows[j * block + 1 : (j + 1) * block] for j in range(num_items)]
        query = rows[num_items * block + 1 : (num_items + 1) * block]
        answer = batch.targets[-length:, b, :8]
        matches = [j for j in range(num_items - 1) if torch.equal(items[j], query)]
        assert matches, "the query must repeat one of the first n - 1 items"
        assert any(torch.equal(items[j + 1], answer) for j in matches)


def test_queries_cover_every_item_but_the_last():
    task = make_task("associative_recall", seed=1, size=8, min_item_length=1, max_item_length=1)
    batch = task.sample(200, items=4)
    items = batch.inputs[1:8:2, :, :8]  # (n, B, S): the one-row items.
    query = batch.inputs[9, :, :8]
    first_match = [int((items[:, b] == query[b]).all(dim=1).nonzero()[0]) for b in range(200)]
    assert set(first_match) == {0, 1, 2}


def test_length_and_items_overrides_set_the_episode_size():
    batch = make_task("associative_recall").sample(2, length=5, items=9)
    assert batch.inputs.shape == ((5 + 1) * (9 + 2), 2, 8)
    assert batch.lengths.tolist() == [66, 66]


def test_build_rejects_a_query_of_the_last_item():
    items = torch.zeros(3, 1, 2, 2)
    with pytest.raises(ValueError, match=r"queries must lie in 0..1, got \[0, 2\]"):
        make_task("associative_recall", size=2).build(items, torch.tensor([0, 2]))
