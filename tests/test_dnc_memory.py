"""The DNC's allocation and temporal links (Graves et al. 2016, Methods): each equation against a
naive NumPy loop written from the paper, gradients in float64, the invariants the paper states
(usage in [0, 1], weightings summing to at most 1, a link matrix with a zero diagonal whose
rows and columns sum to at most 1), and batch invariance."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ntmkit.allocation import allocation_weights, retention, usage, write_weights
from ntmkit.temporal_links import directional_weights, link_matrix, precedence, read_weights

B, R, N = 3, 2, 6


def _rand(*shape, seed=0, dtype=torch.float64):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _distribution(*shape, seed=0, total=0.9):
    """Rows that sum to ``total`` (a weighting that leaves some mass unwritten)."""
    raw = _rand(*shape, seed=seed)
    return total * raw / raw.sum(-1, keepdim=True)


# ---- naive loops, written from the paper's Methods --------------------------------------


def naive_retention(f, w_read):
    psi = np.ones((B, N))
    for b in range(B):
        for n in range(N):
            for i in range(R):
                psi[b, n] *= 1 - f[b, i] * w_read[b, i, n]
    return psi


def naive_allocation(u):
    a = np.zeros_like(u)
    for b in range(u.shape[0]):
        order = sorted(range(u.shape[1]), key=lambda n: (u[b, n], n))  # the free list
        product = 1.0
        for j in order:
            a[b, j] = (1 - u[b, j]) * product
            product *= u[b, j]
    return a


def naive_link(link_prev, p_prev, w):
    link = np.zeros_like(link_prev)
    for b in range(B):
        for i in range(N):
            for j in range(N):
                if i != j:
                    link[b, i, j] = (1 - w[b, i] - w[b, j]) * link_prev[b, i, j] + w[b, i] * p_prev[
                        b, j
                    ]
    return link


def naive_directional(link, w_read):
    forward, backward = np.zeros_like(w_read), np.zeros_like(w_read)
    for b in range(B):
        for h in range(R):
            for i in range(N):
                for j in range(N):
                    forward[b, h, i] += link[b, i, j] * w_read[b, h, j]
                    backward[b, h, i] += link[b, j, i] * w_read[b, h, j]
    return forward, backward


# ---- each equation against its loop ------------------------------------------------------


def test_retention_and_usage_are_the_papers_products():
    f, w_read = _rand(B, R, seed=1), _distribution(B, R, N, seed=2)
    psi = retention(f, w_read)
    np.testing.assert_allclose(psi.numpy(), naive_retention(f.numpy(), w_read.numpy()), rtol=1e-12)
    u_prev, w_write = _rand(B, N, seed=3), _distribution(B, N, seed=4)
    expected = np.zeros((B, N))
    for b in range(B):
        for n in range(N):
            kept = u_prev[b, n] + w_write[b, n] - u_prev[b, n] * w_write[b, n]
            expected[b, n] = kept * psi[b, n]
    np.testing.assert_allclose(usage(u_prev, w_write, psi).numpy(), expected, rtol=1e-12)


def test_allocation_follows_the_free_list():
    u = _rand(B, N, seed=5)
    np.testing.assert_allclose(
        allocation_weights(u).numpy(), naive_allocation(u.numpy()), rtol=1e-12, atol=1e-15
    )


def test_allocation_gives_an_unused_slot_everything_and_breaks_ties_by_index():
    unused = torch.tensor([[0.9, 0.0, 0.5, 0.0]])
    assert allocation_weights(unused).tolist() == [[0.0, 1.0, 0.0, 0.0]]  # the first unused
    tied = torch.tensor([[0.5, 0.5]], dtype=torch.float64)
    assert allocation_weights(tied).tolist() == [[0.5, 0.25]]  # slot 0 first in the free list
    full = torch.ones(1, 4)
    assert allocation_weights(full).tolist() == [[0.0] * 4]  # nothing left to allocate


def test_write_weights_mix_allocation_and_content_by_the_gates():
    a, c = _distribution(B, N, seed=6), _distribution(B, N, seed=7)
    gw, ga = _rand(B, 1, seed=8), _rand(B, 1, seed=9)
    for b in range(B):
        expected = gw[b] * (ga[b] * a[b] + (1 - ga[b]) * c[b])
        torch.testing.assert_close(write_weights(a, c, gw, ga)[b], expected, rtol=1e-12, atol=0)


def test_precedence_link_and_directions_against_the_loops():
    p_prev, w = _distribution(B, N, seed=10, total=0.7), _distribution(B, N, seed=11)
    expected = (1 - w.sum(-1, keepdim=True)) * p_prev + w
    torch.testing.assert_close(precedence(p_prev, w), expected, rtol=1e-12, atol=0)
    link_prev = link_matrix(torch.zeros(B, N, N, dtype=torch.float64), p_prev, w)  # a real one
    w2 = _distribution(B, N, seed=12)
    link = link_matrix(link_prev, p_prev, w2)
    np.testing.assert_allclose(
        link.numpy(), naive_link(link_prev.numpy(), p_prev.numpy(), w2.numpy()), rtol=1e-12
    )
    w_read = _distribution(B, R, N, seed=13)
    forward, backward = directional_weights(link, w_read)
    naive_forward, naive_backward = naive_directional(link.numpy(), w_read.numpy())
    np.testing.assert_allclose(forward.numpy(), naive_forward, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(backward.numpy(), naive_backward, rtol=1e-12, atol=1e-15)


def test_read_weights_mix_the_three_modes():
    back, content, fwd = (_distribution(B, R, N, seed=s) for s in (14, 15, 16))
    modes = torch.softmax(_rand(B, R, 3, seed=17), -1)
    mixed = read_weights(back, content, fwd, modes)
    for b in range(B):
        for h in range(R):
            pi = modes[b, h]
            expected = pi[0] * back[b, h] + pi[1] * content[b, h] + pi[2] * fwd[b, h]
            torch.testing.assert_close(mixed[b, h], expected, rtol=1e-12, atol=0)


def test_a_sequence_of_writes_is_walked_forwards_and_backwards_by_the_links():
    """Writing slots 3, 0, 5 in turn (one-hot), the forward weighting from slot 3 is slot 0,
    and the backward weighting from slot 5 is slot 0: the order written, not the slots'."""
    link, p = torch.zeros(1, N, N), torch.zeros(1, N)
    for slot in (3, 0, 5):
        w = torch.nn.functional.one_hot(torch.tensor([slot]), N).float()
        link, p = link_matrix(link, p, w), precedence(p, w)
    at = lambda slot: torch.nn.functional.one_hot(torch.tensor([[slot]]), N).float()  # noqa: E731
    assert directional_weights(link, at(3))[0].argmax().item() == 0
    assert directional_weights(link, at(5))[1].argmax().item() == 0
    assert directional_weights(link, at(5))[0].sum().item() == 0  # nothing written after 5


# ---- gradients ----------------------------------------------------------------------------


def test_every_equation_has_exact_gradients_in_float64():
    def leaf(t):
        return t.clone().requires_grad_(True)

    f, w_read = leaf(_rand(B, R, seed=20)), leaf(_distribution(B, R, N, seed=21))
    assert torch.autograd.gradcheck(retention, (f, w_read))
    u_prev, w_prev, psi = (leaf(_rand(B, N, seed=s)) for s in (22, 23, 24))
    assert torch.autograd.gradcheck(usage, (u_prev, w_prev, psi))
    distinct = leaf(torch.linspace(0.05, 0.95, B * N, dtype=torch.float64)[torch.randperm(B * N)]
                    .reshape(B, N))  # fmt: skip
    assert torch.autograd.gradcheck(allocation_weights, (distinct,))  # away from ties
    a, c = leaf(_rand(B, N, seed=25)), leaf(_rand(B, N, seed=26))
    gw, ga = leaf(_rand(B, 1, seed=27)), leaf(_rand(B, 1, seed=28))
    assert torch.autograd.gradcheck(write_weights, (a, c, gw, ga))
    p_prev, w = leaf(_distribution(B, N, seed=29, total=0.5)), leaf(_distribution(B, N, seed=30))
    link_prev = leaf(link_matrix(torch.rand(B, N, N, dtype=torch.float64) / N, p_prev, w).detach())
    assert torch.autograd.gradcheck(precedence, (p_prev, w))
    assert torch.autograd.gradcheck(link_matrix, (link_prev, p_prev, w))
    assert torch.autograd.gradcheck(directional_weights, (link_prev, w_read))
    modes = leaf(torch.softmax(_rand(B, R, 3, seed=31), -1))
    back, content, fwd = (leaf(_distribution(B, R, N, seed=s)) for s in (32, 33, 34))
    assert torch.autograd.gradcheck(read_weights, (back, content, fwd, modes))


def test_the_allocation_gradient_at_a_tie_is_the_stable_orders():
    """At a tie the sort's order is a choice; the gradient is that of the order the stable sort
    makes (lower index first), i.e. of the same formula with the tie broken that way."""
    tied = torch.tensor([[0.3, 0.7, 0.3]], dtype=torch.float64, requires_grad=True)
    allocation_weights(tied).sum().backward()
    u0, u1, u2 = 0.3, 0.7, 0.3  # free list 0, 2, 1: a = (1-u0), (1-u2) u0, (1-u1) u0 u2
    expected = [-1 + (1 - u2) + (1 - u1) * u2, -u0 * u2, -u0 + (1 - u1) * u0]
    torch.testing.assert_close(tied.grad[0], torch.tensor(expected, dtype=torch.float64))


# ---- invariants over many steps, and batch invariance -------------------------------------


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), steps=st.integers(1, 12))
def test_a_random_rollout_keeps_every_invariant(seed, steps):
    g = torch.Generator().manual_seed(seed)
    u, w_write = torch.zeros(B, N), torch.zeros(B, N)
    p, link = torch.zeros(B, N), torch.zeros(B, N, N)
    w_read = torch.softmax(torch.randn(B, R, N, generator=g), -1)
    for _ in range(steps):
        psi = retention(torch.rand(B, R, generator=g), w_read)
        u = usage(u, w_write, psi)
        a = allocation_weights(u)
        content = torch.softmax(3 * torch.randn(B, N, generator=g), -1)
        w_write = write_weights(
            a, content, torch.rand(B, 1, generator=g), torch.rand(B, 1, generator=g)
        )
        link, p = link_matrix(link, p, w_write), precedence(p, w_write)
        forward, backward = directional_weights(link, w_read)
        modes = torch.softmax(torch.randn(B, R, 3, generator=g), -1)
        content_r = torch.softmax(3 * torch.randn(B, R, N, generator=g), -1)
        w_read = read_weights(backward, content_r, forward, modes)
        slack = 1e-6
        assert ((u >= 0) & (u <= 1 + slack)).all()
        for weights in (a, w_write, p, w_read, forward, backward):
            assert (weights >= 0).all() and (weights.sum(-1) <= 1 + slack).all()
        assert (torch.diagonal(link, dim1=1, dim2=2) == 0).all() and (link >= 0).all()
        assert (link.sum(-1) <= 1 + slack).all() and (link.sum(-2) <= 1 + slack).all()


def test_each_sequence_of_a_batch_is_computed_as_if_alone():
    u, f, w_read = _rand(B, N, seed=40), _rand(B, R, seed=41), _distribution(B, R, N, seed=42)
    link, p, w = (
        _rand(B, N, N, seed=43) / N,
        _distribution(B, N, seed=44),
        _distribution(B, N, seed=45),
    )
    together = (allocation_weights(u), retention(f, w_read), link_matrix(link, p, w),
                directional_weights(link, w_read)[0])  # fmt: skip
    for b in range(B):
        alone = (allocation_weights(u[b : b + 1]), retention(f[b : b + 1], w_read[b : b + 1]),
                 link_matrix(link[b : b + 1], p[b : b + 1], w[b : b + 1]),
                 directional_weights(link[b : b + 1], w_read[b : b + 1])[0])  # fmt: skip
        for batched, single in zip(together, alone, strict=True):
            torch.testing.assert_close(batched[b : b + 1], single, rtol=0, atol=0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_allocation_of_a_large_memory_stays_finite_and_sums_to_at_most_one(dtype):
    u = torch.rand(2, 512, dtype=dtype, generator=torch.Generator().manual_seed(0))
    a = allocation_weights(u.requires_grad_(True))
    a.sum().backward()
    assert torch.isfinite(a).all() and torch.isfinite(u.grad).all() and a.sum(-1).max() <= 1
