"""Property tests (hypothesis): for random shapes and extreme parameters, addressing gives
distributions over slots, and addressing and memory give finite values and gradients."""

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ntmkit.addressing import address, content_weights
from ntmkit.memory import read, write, write_and_read

PROPERTY_SETTINGS = settings(max_examples=60, deadline=None, derandomize=True)
"""Seeded (derandomize) so that a failure is the same failure on every machine."""

EXTREME = st.sampled_from([0.0, 1e-30, 1e-6, 1.0, 1e3, 1e6])


@st.composite
def addressing_inputs(draw):
    """Shapes B, H, N, W, S and parameters up to the extremes a trained head can reach."""
    batch, heads = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    slots, word = draw(st.integers(3, 12)), draw(st.integers(1, 6))
    shifts = draw(st.sampled_from([s for s in (1, 3, 5) if s <= slots]))
    generator = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    scale, key_scale = draw(EXTREME), draw(EXTREME)

    def uniform(*shape, low=-1.0, high=1.0):
        return low + (high - low) * torch.rand(*shape, generator=generator)

    def distribution(*shape, spread):
        return torch.softmax(spread * uniform(*shape), dim=-1)

    memory = scale * uniform(batch, slots, word)
    if draw(st.booleans()):  # some rows exactly zero, as at initialisation
        memory[:, : slots // 2] = 0.0
    return {
        "memory": memory,
        "w_prev": distribution(batch, heads, slots, spread=draw(st.sampled_from([0.0, 1.0, 1e3]))),
        "key": key_scale * uniform(batch, heads, word),
        "beta": torch.full((batch, heads, 1), draw(st.sampled_from([0.0, 1.0, 100.0, 1e4]))),
        "gate": torch.full((batch, heads, 1), draw(st.sampled_from([0.0, 0.5, 1.0]))),
        "shift_weights": distribution(batch, heads, shifts, spread=draw(st.sampled_from([0, 50]))),
        "gamma": torch.full((batch, heads, 1), draw(st.sampled_from([1.0, 2.0, 100.0, 1e3]))),
        "mode": draw(st.sampled_from(["circular", "zero_pad"])),
    }


def _gradients_finite(output: torch.Tensor, inputs: list[torch.Tensor]) -> bool:
    weights = torch.rand(output.shape, generator=torch.Generator().manual_seed(0))
    grads = torch.autograd.grad((output * weights).sum(), inputs, allow_unused=True)
    return all(g is None or bool(torch.isfinite(g).all()) for g in grads)


@PROPERTY_SETTINGS
@given(addressing_inputs())
def test_addressing_gives_finite_distributions_with_finite_gradients(case):
    mode = case.pop("mode")
    leaves = {name: value.requires_grad_() for name, value in case.items()}
    w = address(**leaves, mode=mode)
    assert bool(torch.isfinite(w).all()) and bool((w >= 0).all())
    torch.testing.assert_close(w.sum(-1), torch.ones(w.shape[:-1]), atol=1e-5, rtol=0)
    assert _gradients_finite(w, list(leaves.values()))


@PROPERTY_SETTINGS
@given(addressing_inputs())
def test_content_weights_are_distributions_even_for_zero_keys_and_memory(case):
    memory = case["memory"].requires_grad_()
    key = (0.0 * case["key"]).requires_grad_()  # an all-zero key: cosine similarity 0/0
    w = content_weights(memory, key, case["beta"])
    torch.testing.assert_close(w.sum(-1), torch.ones(w.shape[:-1]), atol=1e-5, rtol=0)
    assert _gradients_finite(w, [memory, key])


@st.composite
def memory_inputs(draw):
    batch, slots, word = draw(st.integers(1, 3)), draw(st.integers(1, 12)), draw(st.integers(1, 6))
    write_heads, read_heads = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    generator = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    scale = draw(EXTREME)

    def distribution(*shape):
        spread = draw(st.sampled_from([0.0, 1.0, 1e3]))
        return torch.softmax(spread * torch.randn(*shape, generator=generator), dim=-1)

    return (
        scale * torch.randn(batch, slots, word, generator=generator),
        distribution(batch, write_heads, slots),
        torch.rand(batch, write_heads, word, generator=generator).round(),  # erase 0 or 1
        draw(EXTREME) * torch.randn(batch, write_heads, word, generator=generator),
        distribution(batch, read_heads, slots),
    )


@PROPERTY_SETTINGS
@given(memory_inputs())
def test_writing_and_reading_keep_memory_and_gradients_finite_and_agree_with_the_reference(case):
    memory, write_weights, erase, add, read_weights = (t.requires_grad_() for t in case)
    new_memory, reads = write_and_read(memory, write_weights, erase, add, read_weights)
    assert bool(torch.isfinite(new_memory).all()) and bool(torch.isfinite(reads).all())
    assert _gradients_finite(reads, [memory, write_weights, erase, add, read_weights])
    reference = write(memory, write_weights, erase, add)
    torch.testing.assert_close(new_memory, reference)
    torch.testing.assert_close(reads, read(reference, read_weights))
