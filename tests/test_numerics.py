"""Each guard in ntmkit.numerics keeps values and gradients finite at the extreme it names."""

import torch

from ntmkit import NTM, NTMConfig, addressing

B, H, N, W = 2, 2, 8, 4


def test_zero_memory_and_zero_key_give_finite_similarity_and_gradients():
    memory = torch.zeros(B, N, W, requires_grad=True)
    key = torch.zeros(B, H, W, requires_grad=True)
    sim = addressing.cosine_similarity(key, memory)
    sim.sum().backward()
    assert torch.isfinite(sim).all()
    assert torch.isfinite(memory.grad).all() and torch.isfinite(key.grad).all()


def test_huge_beta_and_large_gamma_give_finite_weights_and_gradients():
    memory = torch.randn(B, N, W, generator=torch.Generator().manual_seed(0)).requires_grad_()
    key = torch.randn(B, H, W, generator=torch.Generator().manual_seed(1)).requires_grad_()
    beta = torch.full((B, H, 1), 1e4, requires_grad=True)
    gamma = torch.full((B, H, 1), 50.0, requires_grad=True)
    w_prev = torch.full((B, H, N), 1.0 / N)
    shift = torch.tensor([0.0, 0.0, 1.0]).expand(B, H, 3)
    w = addressing.address(memory, w_prev, key, beta, torch.ones(B, H, 1), shift, gamma, "zero_pad")
    (w * torch.arange(N)).sum().backward()
    assert torch.isfinite(w).all()
    torch.testing.assert_close(w.sum(-1), torch.ones(B, H))
    for t in (memory, key, beta, gamma):
        assert torch.isfinite(t.grad).all()


def test_sharpening_a_weighting_with_exact_zeros_stays_finite():
    w = torch.zeros(B, H, N)
    w[..., 0] = 1.0
    w.requires_grad_()
    gamma = torch.full((B, H, 1), 50.0, requires_grad=True)
    out = addressing.sharpen(w, gamma)
    (out[..., 1]).sum().backward()
    assert torch.isfinite(out).all() and torch.isfinite(w.grad).all()
    assert torch.isfinite(gamma.grad).all()


def test_ntm_with_all_zero_memory_and_extreme_inputs_has_finite_outputs_and_gradients():
    config = NTMConfig(input_size=3, output_size=2, num_slots=N, word_size=W, memory_init_value=0.0)
    ntm = NTM(config)
    inputs = 1e3 * torch.randn(6, B, 3, generator=torch.Generator().manual_seed(0))
    logits, _ = ntm(inputs)
    logits.sum().backward()
    assert torch.isfinite(logits).all()
    assert all(torch.isfinite(p.grad).all() for p in ntm.parameters() if p.grad is not None)
