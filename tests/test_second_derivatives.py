"""Second derivatives (``create_graph=True``) are exact on every engine: the hand-written
backward passes hand over to autograd on the reference formulas when a graph of them is wanted.

Each check compares with something independent of the code under test: central finite
differences of the reference engine's first derivative, and `torch.autograd.gradgradcheck`.
"""

import pytest
import torch

from ntmkit import NTM, NTMConfig, engine, fused

ENGINES = ("reference", "eager", "fused")
CONFIGS = {
    "dense lasagne": {},
    "lstm graves circular": {
        "controller": "lstm", "step_order": "graves", "shift_mode": "circular",
        "activations": "paper",
    },
    "gru two writers": {"controller": "gru", "write_heads": 2, "read_heads": 2},
}  # fmt: skip


def small_model(options: dict, seed: int = 0) -> NTM:
    torch.manual_seed(seed)
    config = NTMConfig(
        input_size=3, output_size=2, num_slots=5, word_size=3, controller_size=4, **options
    )
    return NTM(config).double()


def loss_of(model: NTM, inputs: torch.Tensor) -> torch.Tensor:
    return model(inputs)[0].pow(2).sum()


def hessian_vector_product(model, inputs, vector, name):
    parameters = list(model.parameters())
    with engine.use(name):
        grads = torch.autograd.grad(loss_of(model, inputs), parameters, create_graph=True)
        return torch.autograd.grad(grads, parameters, vector)


def finite_difference_hvp(model, inputs, vector, step=1e-6):
    """(g(p + h v) - g(p - h v)) / 2h with the reference engine's gradient g."""
    parameters = list(model.parameters())

    def gradient_at(sign):
        with torch.no_grad():
            for p, v in zip(parameters, vector):
                p.add_(sign * step * v)
        with engine.use("reference"):
            grads = torch.autograd.grad(loss_of(model, inputs), parameters)
        with torch.no_grad():
            for p, v in zip(parameters, vector):
                p.sub_(sign * step * v)
        return grads

    plus, minus = gradient_at(1.0), gradient_at(-1.0)
    return [(a - b) / (2 * step) for a, b in zip(plus, minus)]


@pytest.mark.parametrize("name", ENGINES)
@pytest.mark.parametrize("options", CONFIGS.values(), ids=CONFIGS.keys())
def test_hessian_vector_products_equal_finite_differences_on_every_engine(name, options):
    model = small_model(options)
    inputs = torch.rand(4, 2, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    if name == "fused":  # the fused engine runs this model (not the eager fallback)
        assert fused.why_not(model.cell, inputs, trace=False) is None
    generator = torch.Generator().manual_seed(2)
    vector = [torch.randn(p.shape, dtype=p.dtype, generator=generator) for p in model.parameters()]
    exact = hessian_vector_product(model, inputs, vector, name)
    numeric = finite_difference_hvp(model, inputs, vector)
    for (param, _), a, b in zip(model.named_parameters(), exact, numeric, strict=True):
        scale = max(1.0, b.abs().max().item())
        assert (a - b).abs().max().item() <= 1e-6 * scale, param


@pytest.mark.parametrize("name", ENGINES)
def test_gradgradcheck_passes_through_inputs_and_initial_memory_on_every_engine(name):
    model = small_model(CONFIGS["dense lasagne"])
    generator = torch.Generator().manual_seed(3)
    inputs = torch.rand(3, 2, 3, dtype=torch.float64, generator=generator, requires_grad=True)
    state = model.initial_state(2)
    memory = torch.rand(state.memory.shape, dtype=torch.float64, generator=generator)
    memory.requires_grad_()

    def logits(x, m):
        return model(x, state=state._replace(memory=m))[0]

    with engine.use(name):
        assert torch.autograd.gradgradcheck(logits, (inputs, memory))
