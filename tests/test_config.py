"""NTMConfig validates every field at construction and round-trips through JSON."""

import pytest

from ntmkit import PAPER_ACTIVATIONS, HeadActivations, NTMConfig


def test_defaults_are_ntm_lasagnes():
    config = NTMConfig(input_size=9, output_size=9)
    assert (config.num_slots, config.word_size, config.controller_size) == (128, 20, 100)
    assert config.shift_mode == "zero_pad" and config.step_order == "lasagne"
    assert config.activations == HeadActivations()
    assert config.activations.gate == "hard_sigmoid" and config.activations.key == "clip01"


def test_json_round_trip_preserves_every_field():
    config = NTMConfig(
        input_size=3, output_size=4, controller="lstm", controller_layers=2, activations="paper",
        use_sign=True, step_order="graves", shift_mode="circular", num_shifts=5,
        head_bias={"gate": -2.0, "gamma": 1.5},
    )  # fmt: skip
    assert NTMConfig.from_json(config.to_json()) == config
    assert config.activations == PAPER_ACTIVATIONS


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("num_shifts", 4, "model.num_shifts must be odd and at most model.num_slots (128), got 4"),
        ("num_shifts", 0, "model.num_shifts must be an integer >= 1, got 0"),
        ("read_heads", 0, "model.read_heads must be an integer >= 1 and <= 64, got 0"),
        ("write_heads", 0, "model.write_heads must be an integer >= 1 and <= 64, got 0"),
        ("num_slots", -3, "model.num_slots must be an integer >= 1, got -3"),
        ("word_size", 2.5, "model.word_size must be an integer >= 1, got 2.5"),
        ("controller", "transformer", "model.controller must be one of dense, rnn, lstm, gru, "
         "got 'transformer'"),
        ("shift_mode", "reflect", "model.shift_mode must be one of circular, zero_pad, "
         "got 'reflect'"),
        ("step_order", "random", "model.step_order must be one of lasagne, graves, got 'random'"),
        ("controller_layers", 2, "model.controller_layers must be 1 unless model.controller is "
         "'lstm' (it is 'dense'), got 2"),
        ("activations", "fancy", "model.activations must be one of lasagne, paper, got 'fancy'"),
        ("activations", {"gate": "swish"}, "model.activations.gate must be one of identity, "),
        ("activations", 3, "model.activations must be a HeadActivations, a set name"),
        ("controller_activation", "gelu2", "model.controller_activation must be one of "),
        ("head_bias", {"gate": float("nan")}, "model.head_bias.gate must be a finite number, "
         "got nan"),
        ("head_bias", {"gamma": "3"}, "model.head_bias.gamma must be a finite number, got '3'"),
        ("head_bias", {"shift": 1.0}, "unknown model.head_bias field 'shift'; valid: beta, gate, "
         "gamma"),
        ("head_bias", 2.0, "model.head_bias must be an object with the fields beta, gate, gamma, "
         "got 2.0"),
        ("output_dropout", 1.0, "model.output_dropout must be a finite number >= 0 and < 1, "
         "got 1.0"),
        ("use_sign", 1, "model.use_sign must be true or false, got 1"),
        ("memory_seed", -1, "model.memory_seed must be an integer >= 0, got -1"),
    ],
)  # fmt: skip
def test_invalid_field_raises_one_line_naming_field_rule_and_value(field, value, message):
    with pytest.raises(ValueError) as info:
        NTMConfig(input_size=3, output_size=3, **{field: value})
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


def test_shift_count_larger_than_memory_is_rejected():
    with pytest.raises(ValueError, match=r"at most model\.num_slots"):
        NTMConfig(input_size=3, output_size=3, num_slots=3, num_shifts=5)


def test_from_dict_rejects_unknown_keys_listing_valid_ones():
    with pytest.raises(ValueError, match="unknown model field 'memory_size'; valid: input_size, "):
        NTMConfig.from_dict({"input_size": 3, "output_size": 3, "memory_size": 10})
