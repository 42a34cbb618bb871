"""The NTM module: shapes, whole-step gradients, batch and length invariance, errors."""

import dataclasses

import pytest
import torch
from torch.func import functional_call

from ntmkit import NTM, NTMConfig
from ntmkit.dropout import keep_masks
from ntmkit.heads import field_rows

CONTROLLERS = ["dense", "rnn", "gru", "lstm"]
ORDERS = ["lasagne", "graves"]


def small_config(**overrides):
    fields = dict(
        input_size=3, output_size=2, controller_size=4, num_slots=6, word_size=3,
        read_heads=2, write_heads=1,
    )  # fmt: skip
    fields.update(overrides)
    return NTMConfig(**fields)


def make_ntm(seed=0, **overrides):
    torch.manual_seed(seed)
    return NTM(small_config(**overrides)).double()


def sequence(steps, batch, features=3, seed=1):
    return torch.rand(
        steps, batch, features, generator=torch.Generator().manual_seed(seed), dtype=torch.float64
    )


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("controller", CONTROLLERS)
def test_forward_shapes_and_weights_stay_distributions(controller, order):
    ntm = make_ntm(controller=controller, step_order=order)
    logits, state, trace = ntm(sequence(5, 4), trace=True)
    assert logits.shape == (5, 4, 2)
    assert state.memory.shape == (4, 6, 3)
    assert trace.read_weights.shape == (5, 4, 2, 6) and trace.write_weights.shape == (5, 4, 1, 6)
    assert trace.memory.shape == (5, 4, 6, 3) and trace.heads.shift.shape == (5, 4, 3, 3)
    assert trace.writes.erase.shape == (5, 4, 1, 3)
    for w in (trace.read_weights, trace.write_weights):
        assert (w >= 0).all()
        torch.testing.assert_close(w.sum(-1), torch.ones(w.shape[:-1], dtype=w.dtype))


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("controller", CONTROLLERS)
def test_gradcheck_whole_step_wrt_input_state_and_parameters(controller, order):
    # Smooth activations so finite differences never straddle a ReLU or clip kink.
    ntm = make_ntm(controller=controller, step_order=order, activations="paper",
                   controller_activation="tanh", memory_init="random")  # fmt: skip
    params = {k: v.detach().clone().requires_grad_() for k, v in ntm.named_parameters()}
    state = ntm.initial_state(2)
    x = sequence(1, 2).requires_grad_()
    noise = 0.1 * sequence(1, 2 * 6, 3, seed=4).view(2, 6, 3)
    memory = (state.memory + noise).requires_grad_()

    def one_step(x, memory, *values):
        # A forward pass over one time step is exactly one `step`.
        s = state._replace(memory=memory)
        logits, new = functional_call(
            ntm, dict(zip(params, values)), args=(x,), kwargs={"state": s}
        )
        return logits, new.memory, new.read_weights, new.write_weights, new.reads

    assert torch.autograd.gradcheck(one_step, (x, memory, *params.values()))


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("controller", CONTROLLERS)
def test_batch_of_16_equals_16_single_runs(controller, order):
    ntm = make_ntm(controller=controller, step_order=order)
    inputs = sequence(7, 16)
    logits, state = ntm(inputs)
    for b in range(16):
        single, single_state = ntm(inputs[:, b : b + 1])
        torch.testing.assert_close(logits[:, b : b + 1], single, rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(state.memory[b : b + 1], single_state.memory)


@pytest.mark.parametrize("controller", CONTROLLERS)
def test_variable_lengths_give_each_sequence_what_it_gives_alone(controller):
    ntm = make_ntm(controller=controller)
    inputs, lengths = sequence(6, 3), torch.tensor([6, 2, 4])
    logits, state = ntm(inputs, lengths=lengths)
    for b, length in enumerate(lengths.tolist()):
        alone, alone_state = ntm(inputs[:length, b : b + 1])
        torch.testing.assert_close(logits[:length, b : b + 1], alone)
        assert logits[length:, b].abs().max().item() == 0.0 if length < 6 else True
        torch.testing.assert_close(state.memory[b : b + 1], alone_state.memory)
        torch.testing.assert_close(
            state.controller_output[b : b + 1], alone_state.controller_output
        )


@pytest.mark.parametrize("order", ORDERS)
def test_step_by_step_loop_equals_sequence_forward(order):
    ntm = make_ntm(controller="lstm", step_order=order)
    inputs = sequence(5, 2)
    logits, final = ntm(inputs)
    state, outs = ntm.initial_state(2), []
    for x in inputs:
        out, state = ntm.step(x, state)
        outs.append(out)
    torch.testing.assert_close(torch.stack(outs), logits)
    torch.testing.assert_close(state.memory, final.memory)


def test_forward_continues_from_a_given_state():
    ntm = make_ntm(controller="gru")
    inputs = sequence(6, 2)
    whole, _ = ntm(inputs)
    first, state = ntm(inputs[:3])
    second, _ = ntm(inputs[3:], state=state)
    torch.testing.assert_close(torch.cat([first, second]), whole)


def test_batch_first_transposes_inputs_and_outputs():
    torch.manual_seed(0)
    time_major = NTM(small_config()).double()
    batch_major = NTM(small_config(batch_first=True)).double()
    batch_major.load_state_dict(time_major.state_dict())
    inputs = sequence(4, 3)
    expected, _ = time_major(inputs)
    got, _ = batch_major(inputs.transpose(0, 1))
    torch.testing.assert_close(got, expected.transpose(0, 1))


def test_float32_module_runs_float32_and_double_runs_double():
    ntm = NTM(small_config())
    logits, state = ntm(torch.rand(3, 2, 3))
    assert logits.dtype == torch.float32 and state.memory.dtype == torch.float32
    logits, state = ntm.double()(torch.rand(3, 2, 3, dtype=torch.float64))
    assert logits.dtype == torch.float64 and state.memory.dtype == torch.float64


@pytest.mark.parametrize(
    ("shape", "message"),
    [((3, 2), "inputs must have shape \\[time, batch, features\\] with features=3"),
     ((3, 2, 5), "got \\[3, 2, 5\\]"),
     ((0, 2, 3), "at least one step")],
)  # fmt: skip
def test_wrong_input_shape_raises_value_error_with_expected_shape(shape, message):
    with pytest.raises(ValueError, match=message):
        make_ntm()(torch.rand(*shape, dtype=torch.float64))


def test_bad_lengths_are_rejected_with_the_allowed_range():
    with pytest.raises(ValueError, match=r"lengths must lie in 1\.\.4"):
        make_ntm()(sequence(4, 2), lengths=torch.tensor([4, 5]))
    with pytest.raises(ValueError, match="shape \\[2\\]"):
        make_ntm()(sequence(4, 2), lengths=torch.tensor([4]))


def test_step_rejects_wrong_feature_size():
    ntm = make_ntm()
    with pytest.raises(ValueError, match="step input must have shape \\[batch, 3\\]"):
        ntm.step(torch.rand(2, 4, dtype=torch.float64), ntm.initial_state(2))


def test_learned_inits_are_parameters_and_receive_gradients():
    ntm = make_ntm(memory_init="learned", hidden_init="learned", learn_weights_init=True)
    names = dict(ntm.named_parameters())
    for name in ("cell.memory_init", "cell.controller.hidden_init", "cell.weights_init"):
        assert name in names
    logits, _ = ntm(sequence(4, 2))
    logits.sum().backward()
    assert names["cell.memory_init"].grad.abs().sum() > 0
    assert names["cell.controller.hidden_init"].grad.abs().sum() > 0


def test_sign_options_add_head_fields_and_change_outputs():
    torch.manual_seed(0)
    plain, _ = make_ntm()(sequence(4, 2))
    signed = make_ntm(use_sign=True, use_sign_add=True)
    logits, _, trace = signed(sequence(4, 2), trace=True)
    assert trace.heads.sign.shape == (4, 2, 3, 3)
    assert logits.shape == plain.shape


def test_head_bias_sets_only_the_named_fields_of_every_head():
    config = NTMConfig(
        4, 4, controller="lstm", read_heads=2, activations="paper",
        head_bias={"gate": -2.0, "gamma": 1.855},
    )  # fmt: skip
    heads = NTM(config).cell.heads
    default = NTM(NTMConfig(4, 4, controller="lstm", read_heads=2, activations="paper")).cell.heads
    fields = heads.address_fields
    bias = heads.addressing.bias.detach()
    for head in range(3):
        assert bool((bias[field_rows(fields, head, "gate")] == -2.0).all())
        assert bool((bias[field_rows(fields, head, "gamma")] == 1.855).all())
        for name in ("key", "beta", "shift"):
            assert bool((bias[field_rows(fields, head, name)] != -2.0).all())
    assert heads.addressing.bias.shape == default.addressing.bias.shape
    # With zero controller output the heads start at sigmoid(-2) and 1 + softplus(1.855).
    params = heads.params(torch.zeros(1, config.controller_size))
    torch.testing.assert_close(params.gate, torch.full((1, 3, 1), 0.1192), atol=1e-4, rtol=0)
    torch.testing.assert_close(params.gamma, torch.full((1, 3, 1), 3.0), atol=1e-3, rtol=0)


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize(
    ("output_from", "sources"),
    [
        ("controller", ("controller",)),
        ("reads", ("reads",)),
        ("controller_and_reads", ("controller", "reads")),
    ],
)
def test_output_layer_sees_exactly_what_output_from_names(order, output_from, sources):
    ntm = make_ntm(step_order=order, output_from=output_from, activations="paper")
    assert ntm.config.output_sources == sources
    sizes = {"controller": 4, "reads": 2 * 3}
    assert ntm.cell.output_layer.in_features == sum(sizes[s] for s in sources)
    state = ntm.initial_state(3)
    logits, new = ntm.step(sequence(1, 3)[0], state)
    inputs = {"controller": new.controller_output, "reads": new.reads}
    expected = ntm.cell.output_layer(torch.cat([inputs[s] for s in sources], dim=-1))
    torch.testing.assert_close(logits, expected)


def test_output_from_auto_follows_the_step_order():
    assert small_config(step_order="lasagne").output_sources == ("controller",)
    assert small_config(step_order="graves").output_sources == ("controller", "reads")


def test_output_dropout_drops_controller_units_in_training_only():
    ntm = make_ntm(step_order="graves", output_dropout=0.5, controller_size=64)
    plain = make_ntm(step_order="graves", controller_size=64)  # same seed, same weights
    inputs = sequence(4, 3)
    ntm.eval()
    plain.eval()
    torch.testing.assert_close(ntm(inputs)[0], plain(inputs)[0], rtol=0, atol=0)
    ntm.train()
    torch.manual_seed(5)
    state = ntm.initial_state(3)
    logits, new = ntm.step(inputs[0], state)
    torch.manual_seed(5)
    kept = new.controller_output * keep_masks((1, 3, 64), 0.5, torch.float32)[0]
    assert (kept == 0).sum() > 0  # some of the 3 x 64 units were dropped
    expected = ntm.cell.output_layer(torch.cat([kept, new.reads], dim=-1))
    torch.testing.assert_close(logits, expected)
    torch.testing.assert_close(
        new.controller_output, plain.step(inputs[0], state)[1].controller_output
    )


@pytest.mark.parametrize("bad", [-0.1, 1.0, "0.5", True])
def test_output_dropout_outside_0_1_is_rejected_naming_the_field(bad):
    with pytest.raises(ValueError, match=r"model\.output_dropout must be a finite number >= 0"):
        small_config(output_dropout=bad)


def test_output_dropout_is_skipped_when_the_output_does_not_see_the_controller():
    ntm = make_ntm(step_order="graves", output_from="reads", output_dropout=0.5).train()
    before = torch.get_rng_state()
    ntm(sequence(3, 2))
    assert torch.equal(torch.get_rng_state(), before)  # no random numbers drawn


def test_keep_masks_keep_the_asked_fraction_scaled_to_an_unbiased_mean():
    torch.manual_seed(0)
    masks = keep_masks((40, 50, 100), 0.3, torch.float64)  # 200,000 draws
    kept = (masks > 0).double().mean().item()
    assert abs(kept - 0.7) < 0.005  # 0.7 to within ~5 standard deviations
    assert abs(masks.mean().item() - 1.0) < 0.01
    assert set(masks.unique().tolist()) == {0.0, 65536 / round(0.7 * 65536)}
    assert torch.equal(keep_masks((3, 4), 0.0, torch.float32), torch.ones(3, 4))


def test_glorot_memory_is_a_fixed_draw_within_lasagnes_glorot_limit():
    config = NTMConfig(
        input_size=3, output_size=2, num_slots=128, word_size=20, memory_init="glorot"
    )
    memory = NTM(config).cell.memory_init
    limit = (6 / (128 + 20)) ** 0.5  # Lasagne's GlorotUniform on a (128, 20) array: 0.2013
    assert memory.shape == (128, 20) and "cell.memory_init" not in dict(
        NTM(config).named_parameters()
    )
    assert memory.abs().max() <= limit and memory.abs().max() > 0.95 * limit
    assert abs(memory.mean().item()) < 0.01 and abs(memory.std().item() - limit / 3**0.5) < 0.005
    again = NTM(config).cell.memory_init
    other = NTM(dataclasses.replace(config, memory_seed=1)).cell.memory_init
    assert torch.equal(memory, again) and not torch.equal(memory, other)


def test_lasagne_layer_init_draws_each_head_field_by_its_own_width_with_zero_biases():
    from ntmkit.config import HeadBias
    from ntmkit.heads import field_rows

    torch.manual_seed(0)
    config = NTMConfig(input_size=9, output_size=9, read_heads=2, layer_init="lasagne",
                       head_bias=HeadBias(gate=-2.0))  # fmt: skip
    cell = NTM(config).cell
    heads = cell.heads
    for layer, fields, count in ((heads.addressing, heads.address_fields, 3),
                                 (heads.vectors, heads.vector_fields, 1)):  # fmt: skip
        for head in range(count):
            for name, width in fields.items():
                block = layer.weight[field_rows(fields, head, name)]
                limit = (6 / (100 + width)) ** 0.5  # ntm-lasagne's DenseLayer(100 -> width)
                assert block.abs().max() <= limit and block.abs().max() > 0.7 * limit, name
    gates = [field_rows(heads.address_fields, h, "gate").start for h in range(3)]
    assert heads.addressing.bias[gates].eq(-2.0).all()  # head_bias still applies on top
    others = [i for i in range(heads.addressing.bias.numel()) if i not in gates]
    assert heads.addressing.bias[others].eq(0).all() and heads.vectors.bias.eq(0).all()
    assert cell.output_layer.bias.eq(0).all()
    assert cell.output_layer.weight.abs().max() <= (6 / (100 + 9)) ** 0.5
    torch_default = NTM(dataclasses.replace(config, layer_init="torch")).cell.heads
    assert torch_default.vectors.bias.abs().max() > 0  # nn.Linear's default draws biases
