"""``NTMConfig(memory="dnc")``: the DNC's memory inside the NTM module. Each step of the model
against the naive NumPy step of the paper (tests/test_dnc_access.py) fed with the model's own
interface, float64 gradients through the whole model, batch and length invariance, the state's
checks and the config's rules (tests/test_fused_dnc.py has the fused engine's run of it)."""

import numpy as np
import pytest
import torch
from dnc_naive import N, R, W, naive_step

from ntmkit import NTM, NTMConfig, engine
from ntmkit.dnc_access import DNCHistory

F, OUT = 5, 4


def _config(**fields) -> NTMConfig:
    base = dict(
        input_size=F,
        output_size=OUT,
        controller="lstm",
        controller_size=12,
        step_order="graves",
        memory="dnc",
        read_heads=R,
        num_slots=N,
        word_size=W,
    )
    return NTMConfig(**{**base, **fields})


def _model(seed: int = 0, dtype=torch.float64, **fields) -> NTM:
    torch.manual_seed(seed)
    return NTM(_config(**fields)).to(dtype)


def _inputs(steps: int, batch: int, seed: int = 1, dtype=torch.float64) -> torch.Tensor:
    return torch.randn(steps, batch, F, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def test_each_step_of_the_model_is_the_papers_step_on_its_interface():
    model = _model()
    _, state, trace = model(_inputs(6, 2), trace=True)
    assert trace.heads is None and trace.dnc is not None
    computed = {
        "memory": trace.memory,
        "read_weights": trace.read_weights,
        "write_weights": trace.write_weights[:, :, 0],
        "usage": trace.dnc.usage,
        "link": trace.dnc.link,
        "precedence": trace.dnc.precedence,
    }
    for b in range(2):
        s = {
            "memory": model.cell.memory_init.detach().numpy(),
            "usage": np.zeros(N),
            "link": np.zeros((N, N)),
            "precedence": np.zeros(N),
            "read_weights": np.zeros((R, N)),
            "write_weights": np.zeros(N),
        }
        for t in range(6):
            xi = {k: v[t, b].detach().numpy() for k, v in trace.dnc.interface._asdict().items()}
            reads, s = naive_step(s, xi)
            np.testing.assert_allclose(trace.reads[t, b].detach().numpy(), reads, atol=1e-12)
            for name, value in computed.items():
                np.testing.assert_allclose(value[t, b].detach().numpy(), s[name], atol=1e-12)
    final = state.dnc.precedence[1].detach().numpy()
    np.testing.assert_allclose(final, s["precedence"], atol=1e-12)


def test_the_first_step_reads_nothing_and_every_weighting_starts_at_zero():
    state = _model().initial_state(3)
    assert state.read_weights.abs().sum() == 0 and state.write_weights.abs().sum() == 0
    assert isinstance(state.dnc, DNCHistory)
    assert state.dnc.link.shape == (3, N, N) and state.dnc.usage.abs().sum() == 0


@pytest.mark.parametrize("name", ["eager", "reference"])
def test_gradients_through_the_whole_model_are_exact_in_float64(name):
    model = _model(controller_size=6)
    inputs = _inputs(4, 2).requires_grad_()
    interface = {k: v for k, v in model.named_parameters() if k.startswith("cell.interface.")}

    def of_interface(weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        parameters = {"cell.interface.weight": weight, "cell.interface.bias": bias}
        return torch.func.functional_call(model, parameters, (inputs.detach(),))[0]

    with engine.use(name):
        assert torch.autograd.gradcheck(lambda x: model(x)[0], (inputs,))
        values = [p.detach().clone().requires_grad_() for p in interface.values()]
        assert torch.autograd.gradcheck(of_interface, values)


def test_a_batch_gives_each_sequence_what_it_gets_alone():
    model = _model()
    inputs = _inputs(5, 3)
    logits, state = model(inputs)
    for b in range(3):
        alone, alone_state = model(inputs[:, b : b + 1])
        torch.testing.assert_close(logits[:, b : b + 1], alone, rtol=0, atol=1e-12)
        link = state.dnc.link[b : b + 1]
        torch.testing.assert_close(link, alone_state.dnc.link, rtol=0, atol=1e-12)


def test_a_shorter_sequence_keeps_its_history_from_its_last_step():
    model = _model()
    inputs = _inputs(6, 2)
    logits, state = model(inputs, lengths=torch.tensor([6, 3]))
    short, short_state = model(inputs[:3, 1:2])
    torch.testing.assert_close(logits[:3, 1:2], short, rtol=0, atol=1e-12)
    assert (logits[3:, 1] == 0).all()
    for name in DNCHistory._fields:
        got, want = getattr(state.dnc, name)[1:2], getattr(short_state.dnc, name)
        torch.testing.assert_close(got, want, rtol=0, atol=1e-12)


def test_the_state_can_be_carried_from_one_call_to_the_next():
    model = _model()
    inputs = _inputs(6, 2)
    whole, _ = model(inputs)
    first, state = model(inputs[:4])
    second, _ = model(inputs[4:], state)
    torch.testing.assert_close(torch.cat([first, second]), whole, rtol=0, atol=1e-12)


def test_a_state_without_its_history_or_with_a_wrong_one_is_refused_by_name():
    model = _model()
    state = model.initial_state(2)
    with pytest.raises(ValueError, match=r"dnc\.link must have shape \[2, 5, 5\]"):
        model(_inputs(3, 2), state._replace(dnc=state.dnc._replace(link=torch.zeros(2, 4, 4))))
    with pytest.raises(ValueError, match=r"state must hold 10 tensors .*dnc\.usage.* got 7"):
        model(_inputs(3, 2), state._replace(dnc=None))
    with pytest.raises(ValueError, match=r"state\.dnc\.usage must be finite"):
        nan = state.dnc.usage.clone().fill_(float("nan"))
        model(_inputs(3, 2), state._replace(dnc=state.dnc._replace(usage=nan)))


def test_the_eager_and_reference_engines_agree():
    model = _model()
    inputs = _inputs(5, 2).requires_grad_()
    results = {}
    for name in ("eager", "reference"):
        with engine.use(name):
            logits, _ = model(inputs)
            results[name] = (logits, torch.autograd.grad(logits.square().sum(), inputs)[0])
    for eager, reference in zip(results["eager"], results["reference"]):
        torch.testing.assert_close(eager, reference, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"write_heads": 2}, "model.write_heads must be 1 with model.memory 'dnc', got 2"),
        ({"step_order": "lasagne"}, "model.step_order must be 'graves' with model.memory 'dnc'"),
        ({"use_sign": True}, "model.use_sign must be False with model.memory 'dnc'"),
        ({"learn_weights_init": True}, "model.learn_weights_init must be False"),
        ({"head_bias": {"gate": -2.0}}, "model.head_bias must be unset with model.memory 'dnc'"),
        ({"memory": "sam"}, "model.memory must be one of ntm, dnc, got 'sam'"),
    ],
)
def test_options_the_dnc_cannot_honour_are_refused_in_one_line(fields, message):
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        _config(**fields)


def test_a_dnc_is_saved_and_loaded_with_its_interface_layer(tmp_path):
    model = _model(dtype=torch.float32)
    assert "cell.interface.weight" in model.state_dict()
    assert not any(key.startswith("cell.heads.") for key in model.state_dict())
    model.save_pretrained(tmp_path / "dnc")
    loaded = NTM.from_pretrained(tmp_path / "dnc")
    assert loaded.config.memory == "dnc"
    inputs = _inputs(4, 2, dtype=torch.float32)
    torch.testing.assert_close(loaded(inputs)[0], model.eval()(inputs)[0], rtol=0, atol=0)
