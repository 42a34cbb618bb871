"""Controllers: feed-forward, vanilla RNN, GRU and LSTM (Graves et al. 2014, section 4).

A controller sees the input x_t and the concatenated read vectors r and returns its output h_t
and its new recurrent state. The input part of every pre-activation, ``x_t W_x + b``, does not
depend on the recurrence, so it is split off as `input_projection` and computed for a whole
sequence in one matrix product before the time loop; `step` then adds the read and hidden parts.
All biases live in that projection (ntm-lasagne's separate input, read and hidden biases are
summed into it when its models are loaded).

The recurrent state is a tuple of tensors, empty for the feed-forward controller. The initial
output and state come from `initial_state`: ntm-lasagne's fixed random ``hid_init`` (default),
a learned vector, or zeros.

C++ twin: ``controller_forward`` and ``controller_backward`` (fused/csrc/controller.h).
"""

import math
from collections.abc import Callable

import torch
from torch import nn

from .activations import get_activation
from .config import NTMConfig
from .vocabulary import ControllerKind, registry

ControllerState = tuple[torch.Tensor, ...]


def glorot_limit(rows: int, columns: int) -> float:
    """Half-width of Lasagne's Glorot-uniform draw for a 2-D array: sqrt(6 / (rows + columns))."""
    return math.sqrt(6.0 / (rows + columns))


def glorot_(weight: torch.Tensor) -> torch.Tensor:
    """Glorot-uniform initialisation of a ``[out, in]`` weight, in place (Lasagne's default)."""
    with torch.no_grad():
        return weight.uniform_(-glorot_limit(*weight.shape), glorot_limit(*weight.shape))


def _linear(in_features: int, out_features: int, bias: bool = True) -> nn.Linear:
    layer = nn.Linear(in_features, out_features, bias=bias)
    glorot_(layer.weight)
    if bias:
        nn.init.zeros_(layer.bias)
    return layer


class Controller(nn.Module):
    """Base class: holds the initial output/state and defines the step interface."""

    input_layer: nn.Linear
    """``x W_x + b``, every bias of the step included (made by each subclass)."""

    def __init__(self, config: NTMConfig, num_states: int) -> None:
        super().__init__()
        self.units = config.controller_size
        self.activation = get_activation(config.controller_activation)
        init = torch.zeros(num_states, self.units)
        if config.hidden_init != "zeros":
            # Each row drawn as Lasagne draws a (1, U) ``hid_init``: Glorot-uniform, fan 1 + U.
            limit = math.sqrt(6.0 / (1 + self.units))
            init.uniform_(-limit, limit)
        if config.hidden_init == "learned":
            self.hidden_init = nn.Parameter(init)
        else:
            self.register_buffer("hidden_init", init)

    @property
    def output_size(self) -> int:
        return self.units

    def initial_state(self, batch_size: int) -> tuple[torch.Tensor, ControllerState]:
        """The output ``h_0 [B, U]`` and recurrent state before the first step."""
        rows = [row.expand(batch_size, self.units) for row in self.hidden_init]
        return rows[0], tuple(rows)

    def input_projection(self, x: torch.Tensor) -> torch.Tensor:
        """``x W_x + b`` for inputs ``[..., F]``; returns ``[..., G]``."""
        projected: torch.Tensor = self.input_layer(x)
        return projected

    def step(
        self, x_proj: torch.Tensor, reads: torch.Tensor, state: ControllerState
    ) -> tuple[torch.Tensor, ControllerState]:
        """One step: ``x_proj [B, G]``, ``reads [B, R]`` -> output ``h [B, U]`` and new state."""
        raise NotImplementedError


class DenseController(Controller):
    """Feed-forward: ``h_t = act(x_t W_x + r W_r + b)``; keeps no state (ntm-lasagne's default)."""

    def __init__(self, config: NTMConfig) -> None:
        super().__init__(config, num_states=1)
        self.input_layer = _linear(config.input_size, self.units)
        self.read_layer = _linear(config.read_size, self.units, bias=False)

    def initial_state(self, batch_size: int) -> tuple[torch.Tensor, ControllerState]:
        h0, _ = super().initial_state(batch_size)
        return h0, ()

    def step(
        self, x_proj: torch.Tensor, reads: torch.Tensor, state: ControllerState
    ) -> tuple[torch.Tensor, ControllerState]:
        return self.activation(x_proj + self.read_layer(reads)), ()


class RNNController(Controller):
    """Vanilla RNN: ``h_t = act(x_t W_x + r W_r + h_{t-1} W_h + b)`` (ReLU by default)."""

    def __init__(self, config: NTMConfig) -> None:
        super().__init__(config, num_states=1)
        self.input_layer = _linear(config.input_size, self.units)
        self.recurrent_layer = _linear(config.read_size + self.units, self.units, bias=False)

    def step(
        self, x_proj: torch.Tensor, reads: torch.Tensor, state: ControllerState
    ) -> tuple[torch.Tensor, ControllerState]:
        h = self.activation(x_proj + self.recurrent_layer(torch.cat([reads, state[0]], -1)))
        return h, (h,)


class GRUController(Controller):
    """GRU with ntm-lasagne's conventions (its ``GRUController``)::

        u = sigmoid(x W_xu + r W_ru + h W_hu + b_u)        update gate
        z = sigmoid(x W_xz + r W_rz + h W_hz + b_z)        reset gate
        c = tanh(x W_xc + r W_rc + (z * h) W_hc + b_c)     candidate
        h' = (1 - u) * c + u * h

    The reset gate multiplies h before its matrix product, unlike `torch.nn.GRUCell`.
    """

    def __init__(self, config: NTMConfig) -> None:
        super().__init__(config, num_states=1)
        units = self.units
        self.input_layer = _linear(config.input_size, 3 * units)
        self.read_layer = _linear(config.read_size, 3 * units, bias=False)
        self.gate_hidden_layer = _linear(units, 2 * units, bias=False)
        self.candidate_hidden_layer = _linear(units, units, bias=False)

    def step(
        self, x_proj: torch.Tensor, reads: torch.Tensor, state: ControllerState
    ) -> tuple[torch.Tensor, ControllerState]:
        h = state[0]
        pre = x_proj + self.read_layer(reads)  # (B, 3U)
        gates = torch.sigmoid(pre[:, : 2 * self.units] + self.gate_hidden_layer(h))
        update, reset = gates.chunk(2, dim=-1)
        candidate = torch.tanh(pre[:, 2 * self.units :] + self.candidate_hidden_layer(reset * h))
        h_new = (1.0 - update) * candidate + update * h
        return h_new, (h_new,)


class LSTMController(Controller):
    """LSTM without peepholes, optionally stacked; the output is the top layer's h.

    State: ``(h_1, ..., h_L, c_1, ..., c_L)``. The first layer sees x_t and the reads; each
    further layer sees the layer below (`torch.nn.LSTMCell`).
    """

    def __init__(self, config: NTMConfig) -> None:
        self.layers = config.controller_layers
        super().__init__(config, num_states=2 * self.layers)
        units = self.units
        self.input_layer = _linear(config.input_size, 4 * units)
        self.recurrent_layer = _linear(config.read_size + units, 4 * units, bias=False)
        self.upper = nn.ModuleList(nn.LSTMCell(units, units) for _ in range(self.layers - 1))

    def initial_state(self, batch_size: int) -> tuple[torch.Tensor, ControllerState]:
        _, rows = super().initial_state(batch_size)
        return rows[self.layers - 1], rows

    def step(
        self, x_proj: torch.Tensor, reads: torch.Tensor, state: ControllerState
    ) -> tuple[torch.Tensor, ControllerState]:
        hs, cs = state[: self.layers], state[self.layers :]
        pre = x_proj + self.recurrent_layer(torch.cat([reads, hs[0]], -1))  # (B, 4U)
        in_gate, forget_gate, cell_in, out_gate = pre.chunk(4, dim=-1)
        c = torch.sigmoid(forget_gate) * cs[0] + torch.sigmoid(in_gate) * torch.tanh(cell_in)
        h = torch.sigmoid(out_gate) * torch.tanh(c)
        new_h, new_c = [h], [c]
        for layer, h_prev, c_prev in zip(self.upper, hs[1:], cs[1:]):
            h, c = layer(h, (h_prev, c_prev))
            new_h.append(h)
            new_c.append(c)
        return h, (*new_h, *new_c)


CONTROLLERS: dict[str, Callable[[NTMConfig], Controller]] = registry(
    ControllerKind,
    {"dense": DenseController, "rnn": RNNController, "gru": GRUController, "lstm": LSTMController},
)


def make_controller(config: NTMConfig) -> Controller:
    """The controller named by ``config.controller``."""
    return CONTROLLERS[config.controller](config)
