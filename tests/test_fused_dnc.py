"""The fused engine runs the DNC's memory (``NTMConfig(memory="dnc")``) and computes what the
eager reference computes: logits, the whole final state (memory, weightings, reads, controller
state, usage, link matrix, precedence) and every gradient (parameters, initial state, inputs),
for every controller, one to four read heads, variable lengths and output dropout."""

import importlib
import re
import warnings
from pathlib import Path

import pytest
import torch
from engine_agreement import (
    assert_close_relative,
    assert_no_grad_pass_is_the_references,
    ran_fused,
    state_parts,
    threads,
)

import ntmkit
from ntmkit import NTM, NTMConfig, NTMState, allocation, engine, fused, temporal_links
from ntmkit.dnc_access import DNCHistory

SMALL = dict(input_size=5, output_size=4, num_slots=9, word_size=4, controller_size=6)
CONTROLLERS = {
    "dense": {"controller": "dense"},
    "rnn": {"controller": "rnn"},
    "lstm": {"controller": "lstm"},
    "gru": {"controller": "gru"},
    "lstm 2 layers": {"controller": "lstm", "controller_layers": 2},
}


def dnc(**fields) -> NTMConfig:
    return NTMConfig(**{**SMALL, "memory": "dnc", "step_order": "graves", **fields})


def run(model, inputs, name, lengths=None, state=None):
    """The loss (a random mix of the logits and the whole final state), the outputs, and the
    gradients of the loss at the parameters, the inputs and the given state's leaves; whether
    the fused engine ran."""
    torch.manual_seed(7)  # output dropout draws from the global generator
    inputs = inputs.clone().requires_grad_()
    with engine.use(name):
        logits, final = model(inputs, state=state, lengths=lengths)
    generator = torch.Generator().manual_seed(1)
    parts = [logits, *state_parts(final)]
    loss = sum(
        (part * torch.randn(part.shape, generator=generator, dtype=part.dtype)).sum()
        for part in parts
    )
    leaves = [inputs, *model.parameters()]
    if state is not None:
        leaves += [t for t in state_parts(state) if t.requires_grad]
    # The DNC never reads the previous h: its gradient is zero (None from the eager loop).
    grads = torch.autograd.grad(loss, leaves, allow_unused=True, materialize_grads=True)
    return [loss.detach(), *(p.detach() for p in parts)], grads, ran_fused(logits)


def assert_engines_agree(config, steps=6, batch=3, dtype=torch.float64, lengths=None,
                         train=True, state=None):  # fmt: skip
    tolerance = 1e-12 if dtype == torch.float64 else 1e-5
    torch.manual_seed(0)
    model = NTM(config).to(dtype).train(train)
    inputs = torch.randn(steps, batch, config.input_size, dtype=dtype)
    got_outputs, got_grads, got_fused = run(model, inputs, "fused", lengths, state)
    want_outputs, want_grads, want_fused = run(model, inputs, "reference", lengths, state)
    assert got_fused and not want_fused, fused.why_not(model.cell, inputs, trace=False)
    for i, (a, b) in enumerate(zip(got_outputs, want_outputs, strict=True)):
        assert_close_relative(a, b, tolerance, f"output {i}")
    names = ["inputs", *(n for n, _ in model.named_parameters()), "state"]
    for i, (a, b) in enumerate(zip(got_grads, want_grads, strict=True)):
        assert_close_relative(a, b, tolerance, f"gradient {i} ({names[min(i, len(names) - 1)]})")


@pytest.mark.parametrize("controller", CONTROLLERS)
def test_every_controller_matches_eager(controller):
    assert_engines_agree(dnc(**CONTROLLERS[controller]))


@pytest.mark.parametrize("read_heads", [1, 2, 3, 4])
@pytest.mark.parametrize("controller", ["dense", "lstm"])
def test_one_to_four_read_heads_match_eager(read_heads, controller):
    assert_engines_agree(dnc(controller=controller, read_heads=read_heads))


@pytest.mark.parametrize("controller", ["gru", "lstm"])
def test_variable_lengths_match_eager(controller):
    config = dnc(controller=controller, read_heads=2)
    assert_engines_agree(config, steps=7, batch=4, lengths=torch.tensor([7, 3, 1, 5]))


def test_a_given_initial_state_with_usages_of_exactly_0_and_1_gets_the_eager_gradients():
    # Usages of exactly 0 and 1 (ties among them too) are where a backward pass through the
    # allocation's cumulative product that divided by the usages would fail.
    config = dnc(controller="lstm", read_heads=2)
    torch.manual_seed(3)
    start = NTM(config).double().initial_state(3)
    generator = torch.Generator().manual_seed(5)

    def leaf(*shape, distribution=False):
        t = torch.rand(*shape, generator=generator, dtype=torch.float64)
        return (t / t.sum(-1, keepdim=True) / 2 if distribution else t).requires_grad_()

    usage = torch.rand(3, 9, generator=generator, dtype=torch.float64)
    usage[:, ::3], usage[:, 1::4] = 0.0, 1.0
    link = leaf(3, 9, 9, distribution=True).detach() * (1 - torch.eye(9, dtype=torch.float64))
    state = NTMState(
        memory=leaf(3, 9, 4),
        read_weights=leaf(3, 2, 9, distribution=True),
        write_weights=leaf(3, 1, 9, distribution=True),
        reads=leaf(3, 8),
        controller_output=leaf(3, 6),
        controller_state=tuple(leaf(*s.shape) for s in start.controller_state),
        dnc=DNCHistory(
            usage.requires_grad_(), link.requires_grad_(), leaf(3, 9, distribution=True)
        ),
    )
    assert_engines_agree(config, batch=3, state=state)


@pytest.mark.parametrize("controller", ["dense", "lstm"])
def test_output_dropout_draws_the_eager_masks(controller):
    assert_engines_agree(dnc(controller=controller, output_dropout=0.5))


@pytest.mark.parametrize("batch", [1, 16])
def test_float32_batches_of_1_and_16_of_a_copy_sized_dnc_match_eager(batch):
    # A random initial memory: from a constant one, many slots are written alike and their
    # usages differ by a rounding error, so the allocation's free list, and with it everything
    # after, depends on rounding (the eager and reference engines disagree there too).
    config = NTMConfig(input_size=9, output_size=8, controller="lstm", controller_size=100,
                       num_slots=128, word_size=20, memory="dnc", step_order="graves",
                       memory_init="random", output_dropout=0.5)  # fmt: skip
    assert_engines_agree(config, steps=21, batch=batch, dtype=torch.float32)


@pytest.mark.parametrize("thread_count", [1, 2])
def test_no_grad_evaluation_gives_the_eager_logits_and_state(thread_count):
    # Without a tape the link matrix, like the memory, is updated in place.
    torch.manual_seed(0)
    model = NTM(dnc(controller="lstm", read_heads=2)).double().eval()
    inputs = torch.randn(8, 4, 5, dtype=torch.float64)
    assert_no_grad_pass_is_the_references(model, inputs, torch.tensor([8, 2, 5, 7]), thread_count)


def test_two_threads_give_the_gradients_one_gives():
    torch.manual_seed(0)
    model = NTM(dnc(controller="lstm", read_heads=2)).double()
    inputs = torch.randn(6, 8, 5, dtype=torch.float64)
    one = run(model, inputs, "fused")
    with threads(2):
        two = run(model, inputs, "fused")
    for i, (a, b) in enumerate(zip(two[1], one[1], strict=True)):
        assert_close_relative(a, b, 1e-12, f"gradient {i}")


def test_gradcheck_passes_through_the_fused_engine_in_float64():
    torch.manual_seed(0)
    model = NTM(dnc(controller="lstm", read_heads=2, num_slots=5, controller_size=5)).double()
    inputs = torch.randn(4, 2, 5, dtype=torch.float64, requires_grad=True)
    interface = [model.cell.interface.weight, model.cell.interface.bias]

    def of_interface(weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        parameters = {"cell.interface.weight": weight, "cell.interface.bias": bias}
        return torch.func.functional_call(model, parameters, (inputs.detach(),))[0]

    with engine.use("fused"):
        logits, _ = model(inputs)
        assert ran_fused(logits)
        assert torch.autograd.gradcheck(lambda x: model(x)[0], (inputs,))
        values = [p.detach().clone().requires_grad_() for p in interface]
        assert torch.autograd.gradcheck(of_interface, values)


def test_second_derivatives_through_the_fused_engine_are_the_references():
    torch.manual_seed(0)
    model = NTM(dnc(controller="lstm", num_slots=5)).double()
    inputs = torch.randn(3, 2, 5, dtype=torch.float64)
    parameters = list(model.parameters())
    vector = [torch.randn_like(p) for p in parameters]
    products = {}
    for name in ("fused", "reference"):
        with engine.use(name):
            loss = model(inputs)[0].pow(2).sum()
            grads = torch.autograd.grad(loss, parameters, create_graph=True)
            products[name] = torch.autograd.grad(grads, parameters, vector)
    for a, b in zip(products["fused"], products["reference"], strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_a_dnc_runs_fused_and_never_says_it_runs_the_eager_path():
    fused._warned.clear()
    model = NTM(dnc(controller="lstm"))
    inputs = torch.randn(4, 2, 5)
    assert fused.why_not(model.cell, inputs, trace=False) is None
    with engine.use("fused"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        logits, _ = model(inputs)
    assert not [w for w in caught if "eager path" in str(w.message)]
    assert type(logits.grad_fn).__name__.startswith("_FusedSequence")


CSRC = Path(ntmkit.__file__).parent / "fused" / "csrc"
DNC_TAG = re.compile(r"// DNC [\w ]+?(?: backward)?, (ntmkit\.[\w.]+)")


def _resolve(dotted: str):
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def test_every_dnc_equation_has_a_tagged_cpp_block_naming_a_real_python_twin():
    tagged = {name for path in CSRC.glob("*.h") for name in DNC_TAG.findall(path.read_text())}
    for name in tagged:
        assert callable(_resolve(name)), name
    equations = [
        f"{module.__name__}.{name}"
        for module in (allocation, temporal_links)
        for name in dir(module)
        if callable(getattr(module, name)) and getattr(module, name).__module__ == module.__name__
    ]
    wanted = {*equations, "ntmkit.dnc_access.access_step", "ntmkit.heads.dnc_interface"}
    assert wanted <= tagged, sorted(wanted - tagged)
