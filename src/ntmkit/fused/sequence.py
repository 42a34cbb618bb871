"""`run`: an NTM's (or a DNC's) whole forward pass in the fused engine, with its backward pass
for autograd.

The whole time loop is one call to the engine, and the backward pass through time one more
(`_FusedSequence`). The engine returns the gradients of the inputs, of the initial state and
of every weight, and autograd takes them from there to the parameters they were made from
(learned initial states included). Where a graph of the backward pass is wanted (second
derivatives), autograd differentiates the eager loop (`ntmkit.cell.unroll`) run with the same
tensors instead.
"""

from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Protocol

import torch
from torch import nn

from .. import engine
from ..cell import NTMCell, NTMState, unroll
from ..dnc_access import DNCHistory
from .build import load
from .spec import EPSILONS, spec_values

_EMPTY = torch.empty(0)


def weight_names(cell: NTMCell) -> list[str | None]:
    """The cell's parameter names in the engine's weight order (engine.cpp's ``weights_of``);
    None where this controller has no such weight (the engine then gets an empty tensor)."""
    config = cell.config
    first = "read_layer" if config.controller in ("dense", "gru") else "recurrent_layer"
    gru = config.controller == "gru"
    dnc = config.memory == "dnc"  # the interface layer in place of the two head layers
    names = [
        f"controller.{first}.weight",
        "controller.gate_hidden_layer.weight" if gru else None,
        "controller.candidate_hidden_layer.weight" if gru else None,
        "interface.weight" if dnc else "heads.addressing.weight",
        "interface.bias" if dnc else "heads.addressing.bias",
        None if dnc else "heads.vectors.weight",
        None if dnc else "heads.vectors.bias",
        "output_layer.weight",
        "output_layer.bias",
        "controller.input_layer.weight",
        "controller.input_layer.bias",
    ]
    for layer in range(len(getattr(cell.controller, "upper", ()))):
        upper = f"controller.upper.{layer}"
        names += [
            f"{upper}.weight_ih",
            f"{upper}.weight_hh",
            f"{upper}.bias_ih",
            f"{upper}.bias_hh",
        ]
    return names


def weights_of(cell: NTMCell) -> list[torch.Tensor]:
    """The weights in the engine's order, contiguous (see `weight_names`)."""
    parameters = dict(cell.named_parameters())
    return [
        _EMPTY if name is None else parameters[name].contiguous() for name in weight_names(cell)
    ]


def state_count(cell: NTMCell) -> int:
    """How many tensors the engine's state has: six, and the DNC's history's three."""
    return 9 if cell.config.memory == "dnc" else 6


def state_tensors(state: NTMState) -> list[torch.Tensor]:
    """An `NTMState` as the engine's contiguous tensors: six (the controller state stacked),
    then the DNC's usage, link and precedence where it has them."""
    batch = state.memory.shape[0]
    stacked = (
        torch.cat(state.controller_state, dim=-1)
        if state.controller_state
        else state.memory.new_empty(batch, 0)
    )
    parts = (state.memory, state.read_weights, state.write_weights, state.reads)
    history = () if state.dnc is None else tuple(state.dnc)
    return [t.contiguous() for t in (*parts, state.controller_output, stacked, *history)]


def state_from(tensors: list[torch.Tensor], units: int) -> NTMState:
    """The engine's final-state tensors as an `NTMState`."""
    memory, read_weights, write_weights, reads, output, stacked = tensors[:6]
    controller_state = torch.split(stacked, units, dim=-1) if stacked.shape[-1] else ()
    history = DNCHistory(*tensors[6:]) if len(tensors) > 6 else None
    return NTMState(memory, read_weights, write_weights, reads, output, controller_state, history)


# torch.compile calls the engine as it is, without tracing into it
@torch.compiler.disable  # type: ignore[untyped-decorator]  # torch leaves it unannotated
def run(
    cell: NTMCell, inputs: torch.Tensor, state: NTMState, lengths: torch.Tensor | None
) -> tuple[torch.Tensor, NTMState]:
    """Logits `[T, B, out]` and the final state of the fused forward pass (see `NTM.forward`)."""
    module = load()
    if module is None:  # `ntmkit.fused.why_not` sends a model here only once it is built
        raise RuntimeError("the fused engine's C++ extension is not available")
    steps, batch = inputs.shape[0], inputs.shape[1]
    inputs = inputs.contiguous()
    spec = spec_values(cell.config, steps, batch)
    mask = cell.dropout_masks(steps, batch, inputs.dtype)
    lengths = None if lengths is None else lengths.to(torch.int64).contiguous()
    tensors = [*state_tensors(state), *weights_of(cell)]
    count = state_count(cell)
    if torch.is_grad_enabled() and (inputs.requires_grad or any(t.requires_grad for t in tensors)):
        outputs = _FusedSequence.apply(module, cell, spec, mask, lengths, inputs, *tensors)
    else:
        state_in, weights = tensors[:count], tensors[count:]
        outputs = module.forward(
            spec, list(EPSILONS), inputs, mask, lengths, state_in, weights, False
        )[: 1 + count]
    return outputs[0], state_from(list(outputs[1 : 1 + count]), cell.config.controller_size)


class _SequenceContext(engine.FunctionContext, Protocol):
    """What `_FusedSequence.forward` keeps on ``ctx`` for its backward pass."""

    engine_module: ModuleType
    cell: NTMCell
    spec: list[int]
    mask: torch.Tensor | None
    lengths: torch.Tensor | None
    tape: Sequence[torch.Tensor]


class _FusedSequence(torch.autograd.Function):
    """The engine's forward and backward pass as one autograd node.

    Inputs after the non-tensor arguments: the inputs `[T, B, F]`, the initial-state tensors
    (`state_count`: six, nine for the DNC) and the weights. Outputs: the logits and the
    final-state tensors.
    """

    @staticmethod
    def forward(
        ctx: _SequenceContext,
        engine_module: ModuleType,
        cell: NTMCell,
        spec: list[int],
        mask: torch.Tensor | None,
        lengths: torch.Tensor | None,
        inputs: torch.Tensor,
        *tensors: torch.Tensor,
    ) -> tuple[torch.Tensor, ...]:
        count = state_count(cell)
        state, weights = list(tensors[:count]), list(tensors[count:])
        outputs = engine_module.forward(
            spec, list(EPSILONS), inputs, mask, lengths, state, weights, True
        )
        ctx.engine_module, ctx.cell, ctx.spec, ctx.mask, ctx.lengths = (
            engine_module,
            cell,
            spec,
            mask,
            lengths,
        )
        ctx.save_for_backward(inputs, *tensors)
        ctx.tape = outputs[1 + count :]
        return tuple(outputs[: 1 + count])

    @staticmethod
    def backward(
        ctx: _SequenceContext, d_logits: torch.Tensor, *d_final: torch.Tensor
    ) -> tuple[torch.Tensor | None, ...]:
        inputs, *tensors = ctx.saved_tensors
        needs = ctx.needs_input_grad[5:]  # inputs, the state tensors, the weights
        count = state_count(ctx.cell)
        if torch.is_grad_enabled():  # create_graph=True: a second derivative will follow
            function = _unrolled(ctx.cell, ctx.lengths, ctx.mask)
            outputs_grads = (d_logits, *d_final)
            grads = engine.differentiable_backward(
                function, (inputs, *tensors), outputs_grads, needs
            )
            return (None,) * 5 + grads
        weights = tensors[count:]
        engine_grads = ctx.engine_module.backward(
            ctx.spec,
            list(EPSILONS),
            inputs,
            needs[0],
            ctx.mask,
            ctx.lengths,
            ctx.tape,
            weights,
            d_logits.contiguous(),
            [grad.contiguous() for grad in d_final],
        )
        state_grads = engine_grads[1 : 1 + count]
        weight_needs, weight_grads = needs[1 + count :], engine_grads[1 + count :]
        weight_grads = [g if need else None for need, g in zip(weight_needs, weight_grads)]
        return (None,) * 5 + (engine_grads[0], *state_grads, *weight_grads)


def _unrolled(
    cell: NTMCell, lengths: torch.Tensor | None, mask: torch.Tensor | None
) -> Callable[..., tuple[torch.Tensor, ...]]:
    """The eager loop as a function of the engine's tensors: ``(inputs, state tensors,
    weights) -> (logits, final-state tensors)``, what `_FusedSequence` computes. The
    weights stand in for the cell's parameters (`torch.func.functional_call`), so autograd
    differentiates it with respect to exactly the tensors the engine was given."""
    loop, names, count = _Loop(cell), weight_names(cell), state_count(cell)

    def function(inputs: torch.Tensor, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
        weights = {f"cell.{n}": w for n, w in zip(names, tensors[count:]) if n is not None}
        state = state_from(list(tensors[:count]), cell.config.controller_size)
        logits, final = torch.func.functional_call(loop, weights, (inputs, state, lengths, mask))
        return (logits, *state_tensors(final))

    return function


class _Loop(nn.Module):
    """`ntmkit.cell.unroll` as a module's forward, for `torch.func.functional_call`."""

    def __init__(self, cell: NTMCell) -> None:
        super().__init__()
        self.cell = cell

    def forward(
        self,
        inputs: torch.Tensor,
        state: NTMState,
        lengths: torch.Tensor | None,
        mask: torch.Tensor | None,
    ) -> tuple[torch.Tensor, NTMState]:
        logits, final, _, _ = unroll(self.cell, inputs, state, lengths, mask)
        return logits, final
