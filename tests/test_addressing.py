"""Addressing functions against naive NumPy loops, their invariants and float64 gradients."""

import numpy as np
import pytest
import torch

from ntmkit import addressing
from ntmkit.numerics import COSINE_EPSILON, SHARPEN_EPSILON

B, H, N, W, S = 3, 2, 7, 5, 3


def rand(*shape, seed=0, dtype=torch.float64):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def distribution(*shape, seed=0):
    w = rand(*shape, seed=seed)
    return w / w.sum(-1, keepdim=True)


def naive_cosine(key, memory):
    out = np.zeros((B, H, N))
    for b in range(B):
        for h in range(H):
            for i in range(N):
                k, m = key[b, h], memory[b, i]
                out[b, h, i] = k @ m / np.sqrt((k @ k) * (m @ m) + COSINE_EPSILON)
    return out


def naive_shift(w, s, circular):
    out = np.zeros_like(w)
    radius = s.shape[-1] // 2
    for b in range(w.shape[0]):
        for h in range(w.shape[1]):
            for i in range(w.shape[2]):
                for j in range(s.shape[-1]):
                    src = i - (j - radius)
                    if circular:
                        out[b, h, i] += s[b, h, j] * w[b, h, src % w.shape[2]]
                    elif 0 <= src < w.shape[2]:
                        out[b, h, i] += s[b, h, j] * w[b, h, src]
    return out


def test_cosine_similarity_matches_naive_loop():
    key, memory = rand(B, H, W, seed=1) - 0.5, rand(B, N, W, seed=2) - 0.5
    got = addressing.cosine_similarity(key, memory)
    assert got.shape == (B, H, N)
    np.testing.assert_allclose(got.numpy(), naive_cosine(key.numpy(), memory.numpy()), rtol=1e-12)


def test_content_weights_match_naive_softmax_and_are_distributions():
    key, memory, beta = rand(B, H, W, seed=1), rand(B, N, W, seed=2), rand(B, H, 1, seed=3) * 5
    got = addressing.content_weights(memory, key, beta).numpy()
    logits = beta.numpy() * naive_cosine(key.numpy(), memory.numpy())
    expected = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    np.testing.assert_allclose(got.sum(-1), 1.0)


def test_sign_multiplies_the_key_before_the_similarity():
    key, memory, beta = rand(B, H, W, seed=1), rand(B, N, W, seed=2), torch.ones(B, H, 1)
    sign = -torch.ones(B, H, W, dtype=torch.float64)
    got = addressing.content_weights(memory, key, beta, sign)
    expected = addressing.content_weights(memory, -key, beta)
    torch.testing.assert_close(got, expected)


def test_interpolation_gate_zero_keeps_previous_and_one_takes_content():
    w_c, w_prev = distribution(B, H, N, seed=1), distribution(B, H, N, seed=2)
    zeros, ones = (
        torch.zeros(B, H, 1, dtype=torch.float64),
        torch.ones(B, H, 1, dtype=torch.float64),
    )
    torch.testing.assert_close(addressing.interpolate(w_c, w_prev, zeros), w_prev)
    torch.testing.assert_close(addressing.interpolate(w_c, w_prev, ones), w_c)
    half = addressing.interpolate(w_c, w_prev, 0.5 * ones)
    torch.testing.assert_close(half, 0.5 * (w_c + w_prev))


@pytest.mark.parametrize("mode", ["circular", "zero_pad"])
@pytest.mark.parametrize("num_shifts", [1, 3, 5])
def test_shift_matches_naive_loop(mode, num_shifts):
    w, s = distribution(B, H, N, seed=1), distribution(B, H, num_shifts, seed=2)
    got = addressing.shift(w, s, mode)
    expected = naive_shift(w.numpy(), s.numpy(), circular=mode == "circular")
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)


def test_shift_index_convention_is_ntm_lasagnes():
    # w~[i] = s0 w[i+1] + s1 w[i] + s2 w[i-1]
    w = torch.arange(1.0, N + 1, dtype=torch.float64).view(1, 1, N)
    s = torch.tensor([[[0.2, 0.3, 0.5]]], dtype=torch.float64)
    got = addressing.shift(w, s, "circular")[0, 0]
    for i in range(N):
        expected = 0.2 * w[0, 0, (i + 1) % N] + 0.3 * w[0, 0, i] + 0.5 * w[0, 0, i - 1]
        assert got[i].item() == pytest.approx(expected.item())


def one_hot(index, n=N):
    w = torch.zeros(1, 1, n, dtype=torch.float64)
    w[0, 0, index] = 1.0
    return w


FORWARD = torch.tensor([[[0.0, 0.0, 1.0]]], dtype=torch.float64)
BACKWARD = torch.tensor([[[1.0, 0.0, 0.0]]], dtype=torch.float64)


def test_one_hot_forward_shift_moves_focus_one_slot_and_wraps_when_circular():
    torch.testing.assert_close(addressing.shift(one_hot(2), FORWARD, "circular"), one_hot(3))
    torch.testing.assert_close(addressing.shift(one_hot(N - 1), FORWARD, "circular"), one_hot(0))
    torch.testing.assert_close(addressing.shift(one_hot(0), BACKWARD, "circular"), one_hot(N - 1))


def test_zero_pad_shift_drops_mass_at_the_edges():
    torch.testing.assert_close(addressing.shift(one_hot(2), FORWARD, "zero_pad"), one_hot(3))
    assert addressing.shift(one_hot(N - 1), FORWARD, "zero_pad").sum().item() == 0.0
    assert addressing.shift(one_hot(0), BACKWARD, "zero_pad").sum().item() == 0.0


def test_shift_rejects_unknown_mode():
    with pytest.raises(ValueError, match="shift mode"):
        addressing.shift(one_hot(0), FORWARD, "reflect")


def test_sharpen_matches_naive_power_and_normalisation():
    w, gamma = distribution(B, H, N, seed=1), 1 + 3 * rand(B, H, 1, seed=2)
    powered = (w.numpy() + SHARPEN_EPSILON) ** gamma.numpy()
    expected = powered / powered.sum(-1, keepdims=True)
    np.testing.assert_allclose(addressing.sharpen(w, gamma).numpy(), expected, rtol=1e-10)


def test_sharpen_with_gamma_one_is_identity_after_normalisation():
    w = distribution(B, H, N, seed=1)
    expected = (w + SHARPEN_EPSILON) / (w + SHARPEN_EPSILON).sum(-1, keepdim=True)
    torch.testing.assert_close(addressing.sharpen(w, torch.ones(B, H, 1, dtype=w.dtype)), expected)


@pytest.mark.parametrize("mode", ["circular", "zero_pad"])
def test_address_returns_distributions(mode):
    memory = rand(B, N, W, seed=1)
    w = addressing.address(
        memory, distribution(B, H, N, seed=2), rand(B, H, W, seed=3), 10 * rand(B, H, 1, seed=4),
        rand(B, H, 1, seed=5), distribution(B, H, S, seed=6), 1 + rand(B, H, 1, seed=7), mode,
    )  # fmt: skip
    assert w.shape == (B, H, N)
    assert (w >= 0).all()
    torch.testing.assert_close(w.sum(-1), torch.ones(B, H, dtype=w.dtype))


def test_gradcheck_cosine_similarity():
    inputs = (rand(B, H, W, seed=1).requires_grad_(), rand(B, N, W, seed=2).requires_grad_())
    assert torch.autograd.gradcheck(addressing.cosine_similarity, inputs)


def test_gradcheck_cosine_similarity_at_zero_key_and_zero_rows():
    # The epsilon under the root is what keeps this finite; the hand-written backward must agree.
    key, memory = rand(B, H, W, seed=1), rand(B, N, W, seed=2)
    key[0, 1] = 0.0
    memory[1, 2:4] = 0.0
    assert torch.autograd.gradcheck(
        addressing.cosine_similarity, (key.requires_grad_(), memory.requires_grad_())
    )


def test_gradcheck_content_weights_with_sign():
    inputs = tuple(
        t.requires_grad_()
        for t in (rand(B, N, W, seed=1), rand(B, H, W, seed=2), rand(B, H, 1, seed=3),
                  rand(B, H, W, seed=4) * 2 - 1)
    )  # fmt: skip
    assert torch.autograd.gradcheck(addressing.content_weights, inputs)


def test_gradcheck_interpolate():
    inputs = tuple(
        t.requires_grad_()
        for t in (distribution(B, H, N, seed=1), distribution(B, H, N, seed=2), rand(B, H, 1))
    )
    assert torch.autograd.gradcheck(addressing.interpolate, inputs)


@pytest.mark.parametrize("mode", ["circular", "zero_pad"])
def test_gradcheck_shift(mode):
    w, s = (
        distribution(B, H, N, seed=1).requires_grad_(),
        distribution(B, H, S, seed=2).requires_grad_(),
    )
    assert torch.autograd.gradcheck(lambda a, b: addressing.shift(a, b, mode), (w, s))


def test_gradcheck_sharpen():
    w, gamma = distribution(B, H, N, seed=1).requires_grad_(), (1 + rand(B, H, 1)).requires_grad_()
    assert torch.autograd.gradcheck(addressing.sharpen, (w, gamma))
