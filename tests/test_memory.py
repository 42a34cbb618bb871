"""Memory read and erase/add write against naive loops, invariants and float64 gradients."""

import numpy as np
import torch

from ntmkit import memory

B, H, N, W = 2, 3, 6, 4


def rand(*shape, seed=0):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_read_matches_naive_loop_and_concatenates_heads_in_order():
    mem, w = rand(B, N, W, seed=1), rand(B, H, N, seed=2)
    got = memory.read(mem, w)
    assert got.shape == (B, H * W)
    for b in range(B):
        for h in range(H):
            expected = sum(w[b, h, i].item() * mem[b, i].numpy() for i in range(N))
            np.testing.assert_allclose(got[b, h * W : (h + 1) * W].numpy(), expected, rtol=1e-12)


def test_write_matches_naive_loop_all_erases_then_all_adds():
    mem, w = rand(B, N, W, seed=1), rand(B, H, N, seed=2)
    erase, add = rand(B, H, W, seed=3), rand(B, H, W, seed=4)
    expected = mem.numpy().copy()
    for b in range(B):
        for h in range(H):
            expected[b] *= 1 - np.outer(w[b, h].numpy(), erase[b, h].numpy())
        for h in range(H):
            expected[b] += np.outer(w[b, h].numpy(), add[b, h].numpy())
    np.testing.assert_allclose(memory.write(mem, w, erase, add).numpy(), expected, rtol=1e-12)


def test_erase_one_with_one_hot_weighting_wipes_that_row_only():
    mem = rand(1, N, W, seed=1)
    w = torch.zeros(1, 1, N, dtype=torch.float64)
    w[0, 0, 2] = 1.0
    out = memory.write(
        mem, w, torch.ones(1, 1, W, dtype=torch.float64), torch.zeros(1, 1, W, dtype=torch.float64)
    )
    assert out[0, 2].abs().max().item() == 0.0
    rows = [i for i in range(N) if i != 2]
    torch.testing.assert_close(out[0, rows], mem[0, rows])


def test_write_then_read_with_one_hot_weighting_returns_the_add_vector():
    mem = rand(1, N, W, seed=1)
    w = torch.zeros(1, 1, N, dtype=torch.float64)
    w[0, 0, 4] = 1.0
    add = rand(1, 1, W, seed=5)
    out = memory.write(mem, w, torch.ones(1, 1, W, dtype=torch.float64), add)
    torch.testing.assert_close(memory.read(out, w), add.view(1, W))


def test_gradcheck_write():
    inputs = tuple(
        t.requires_grad_()
        for t in (
            rand(B, N, W, seed=1),
            rand(B, H, N, seed=2),
            rand(B, H, W, seed=3),
            rand(B, H, W, seed=4),
        )
    )
    assert torch.autograd.gradcheck(memory.write, inputs)


def test_gradcheck_read():
    inputs = (rand(B, N, W, seed=1).requires_grad_(), rand(B, H, N, seed=2).requires_grad_())
    assert torch.autograd.gradcheck(memory.read, inputs)


def test_gradcheck_one_head_write():
    # One write head takes its own path (no per-head product); check it on its own.
    inputs = tuple(
        t.requires_grad_()
        for t in (rand(B, N, W, seed=1), rand(B, 1, N, seed=2), rand(B, 1, W, seed=3),
                  rand(B, 1, W, seed=4) - 0.5)
    )  # fmt: skip
    assert torch.autograd.gradcheck(memory.write, inputs)


def test_one_head_write_matches_the_multi_head_formula():
    mem, w = rand(B, N, W, seed=1), rand(B, 1, N, seed=2)
    erase, add = rand(B, 1, W, seed=3), rand(B, 1, W, seed=4)
    expected = mem * (1 - w.transpose(1, 2) * erase) + w.transpose(1, 2) * add
    torch.testing.assert_close(memory.write(mem, w, erase, add), expected, rtol=1e-12, atol=0)


def write_read_inputs(write_heads):
    return tuple(
        t.requires_grad_()
        for t in (rand(B, N, W, seed=1), rand(B, write_heads, N, seed=2),
                  rand(B, write_heads, W, seed=3), rand(B, write_heads, W, seed=4) - 0.5,
                  rand(B, 2, N, seed=5))
    )  # fmt: skip


def test_write_and_read_equals_the_plain_formulas():
    for write_heads in (1, 3):
        mem, w, erase, add, wr = (t.detach() for t in write_read_inputs(write_heads))
        new_memory, reads = memory.write_and_read(mem, w, erase, add, wr)
        w_col = w.unsqueeze(-1)  # (B, H, N, 1)
        keep = (1 - w_col * erase.unsqueeze(-2)).prod(dim=1)
        expected = mem * keep + (w_col * add.unsqueeze(-2)).sum(dim=1)
        torch.testing.assert_close(new_memory, expected, rtol=1e-12, atol=0)
        expected_reads = torch.einsum("bhn,bnw->bhw", wr, expected).reshape(B, -1)
        torch.testing.assert_close(reads, expected_reads, rtol=1e-12, atol=0)


def test_gradcheck_write_and_read():
    for write_heads in (1, 3):  # the fused one-head path and the general one
        assert torch.autograd.gradcheck(memory.write_and_read, write_read_inputs(write_heads))


def test_gradcheck_write_and_read_when_only_the_reads_are_used():
    def reads_only(*inputs):
        return memory.write_and_read(*inputs)[1]

    assert torch.autograd.gradcheck(reads_only, write_read_inputs(1))
