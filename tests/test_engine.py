"""The fused Functions equal their plain reference formulas, and the switch selects them."""

import pytest
import torch

from ntmkit import NTM, NTMConfig, engine
from ntmkit.addressing import (
    _CosineSimilarity,
    address,
    cosine_similarity,
    cosine_similarity_reference,
)
from ntmkit.memory import _OneHeadWriteRead, write_and_read, write_and_read_reference

B, N, W = 3, 7, 5


def cosine_inputs(kind: str, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    key = torch.randn(B, 2, W, generator=generator, dtype=torch.float64)
    memory = torch.randn(B, N, W, generator=generator, dtype=torch.float64)
    if kind == "zero memory":
        memory = torch.zeros_like(memory)
    if kind == "zero key and rows":
        key[0, 1] = 0.0
        memory[1, :3] = 0.0
    return key.requires_grad_(), memory.requires_grad_()


def write_read_inputs(kind: str, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)

    def distribution(*shape):
        return torch.softmax(torch.randn(*shape, generator=generator, dtype=torch.float64), -1)

    memory = torch.randn(B, N, W, generator=generator, dtype=torch.float64)
    if kind == "zero memory":
        memory = torch.zeros_like(memory)
    weights = distribution(B, 1, N)
    if kind == "one-hot weights":
        weights = torch.nn.functional.one_hot(torch.tensor([0, 3, 6]), N).double()[:, None]
    erase = torch.rand(B, 1, W, generator=generator, dtype=torch.float64)
    add = torch.randn(B, 1, W, generator=generator, dtype=torch.float64)
    inputs = (memory, weights, erase, add, distribution(B, 2, N))
    return tuple(x.requires_grad_() for x in inputs)


def values_and_grads(function, inputs, seed: int = 1):
    """Outputs of ``function`` and the gradients of a random linear function of them."""
    outputs = function(*inputs)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    generator = torch.Generator().manual_seed(seed)
    loss = sum(
        (out * torch.randn(out.shape, generator=generator, dtype=out.dtype)).sum()
        for out in outputs
    )
    return outputs, torch.autograd.grad(loss, inputs)


@pytest.mark.parametrize("kind", ["random", "zero memory", "zero key and rows"])
def test_fused_cosine_similarity_equals_the_reference_in_values_and_gradients(kind):
    inputs = cosine_inputs(kind)
    fused = values_and_grads(_CosineSimilarity.apply, inputs)
    plain = values_and_grads(cosine_similarity_reference, inputs)
    for a, b in zip([*fused[0], *fused[1]], [*plain[0], *plain[1]], strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", ["random", "zero memory", "one-hot weights"])
def test_fused_write_and_read_equals_the_reference_in_values_and_gradients(kind):
    inputs = write_read_inputs(kind)
    fused = values_and_grads(_OneHeadWriteRead.apply, inputs)
    plain_memory, plain_reads = write_and_read_reference(*inputs)
    plain = values_and_grads(lambda *x: write_and_read_reference(*x), inputs)
    torch.testing.assert_close(fused[0][1].reshape(B, -1), plain_reads)
    torch.testing.assert_close(fused[0][0], plain_memory)
    for a, b in zip(fused[1], plain[1], strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("beta", "gamma"), [(1e4, 1.0), (1.0, 50.0), (1e4, 50.0), (0.0, 1.0)])
def test_whole_addressing_agrees_between_engines_at_extreme_beta_and_gamma(beta, gamma):
    key, memory = cosine_inputs("random")
    w_prev = torch.softmax(torch.randn(B, 2, N, dtype=torch.float64), -1)
    gate = torch.full((B, 2, 1), 0.7, dtype=torch.float64)
    shift = torch.softmax(torch.randn(B, 2, 3, dtype=torch.float64), -1)
    strength = torch.full((B, 2, 1), beta, dtype=torch.float64, requires_grad=True)
    sharpen = torch.full((B, 2, 1), gamma, dtype=torch.float64, requires_grad=True)

    def run():
        return address(memory, w_prev, key, strength, gate, shift, sharpen, "circular")

    inputs = (key, memory, strength, sharpen)
    with engine.use("eager"):
        fused = values_and_grads(lambda *_: run(), inputs)
    with engine.use("reference"):
        plain = values_and_grads(lambda *_: run(), inputs)
    for a, b in zip([*fused[0], *fused[1]], [*plain[0], *plain[1]], strict=True):
        assert torch.isfinite(a).all()
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-12)


def small_model(seed: int = 0) -> NTM:
    torch.manual_seed(seed)
    config = NTMConfig(5, 5, controller="lstm", num_slots=8, word_size=4, controller_size=8,
                       step_order="graves", shift_mode="circular")  # fmt: skip
    return NTM(config).double()


def test_the_switch_selects_the_engine_for_a_whole_model_and_restores_the_previous_one():
    model, inputs = small_model(), torch.rand(6, 2, 5, dtype=torch.float64)
    calls = []
    original = _CosineSimilarity.apply
    outputs = {}
    try:
        _CosineSimilarity.apply = lambda *args: calls.append(1) or original(*args)
        with engine.use("reference"):
            assert engine.current() == "reference"
            outputs["reference"] = model(inputs)[0]
        assert not calls and engine.current() == "fused"
        with engine.use("eager"):
            outputs["eager"] = model(inputs)[0]
        assert calls  # the eager loop's hand-written Functions
    finally:
        _CosineSimilarity.apply = original
    outputs["fused"] = model(inputs)[0]
    for name in ("eager", "fused"):
        torch.testing.assert_close(outputs[name], outputs["reference"], rtol=1e-12, atol=1e-12)


def test_an_unknown_engine_is_refused_naming_the_choices():
    with pytest.raises(
        ValueError, match="engine must be one of fused, eager, reference, got 'fast'"
    ):
        engine.set_engine("fast")


def test_torch_func_transforms_go_through_the_reference_formulas():
    key, memory = cosine_inputs("random")
    grad = torch.func.grad(lambda k: cosine_similarity(k, memory.detach()).sum())(key.detach())
    expected = torch.autograd.grad(cosine_similarity_reference(key, memory).sum(), key)[0]
    torch.testing.assert_close(grad, expected)


def test_double_backward_works_with_the_reference_engine():
    inputs = write_read_inputs("random")
    with engine.use("reference"):
        _, reads = write_and_read(*inputs)
        (grad,) = torch.autograd.grad(reads.square().sum(), inputs[1], create_graph=True)
        (second,) = torch.autograd.grad(grad.sum(), inputs[1])
    assert torch.isfinite(second).all()
