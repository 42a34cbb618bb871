"""`run`: an NTM's whole forward pass in the fused engine, with its backward pass for autograd.

The whole time loop is one call to the engine, and the backward pass through time one more
(`_FusedSequence`). The engine returns the gradients of the inputs, of the initial state and
of every weight, and autograd takes them from there to the parameters they were made from
(learned initial states included).
"""

import torch

from ..cell import NTMCell, NTMState
from .build import load
from .spec import EPSILONS, spec_values

_EMPTY = torch.empty(0)


def weights_of(cell: NTMCell) -> list[torch.Tensor]:
    """The weights in the engine's order (engine.cpp's ``weights_of``)."""
    controller, config = cell.controller, cell.config
    if config.controller in ("dense", "gru"):
        first = controller.read_layer.weight
    else:
        first = controller.recurrent_layer.weight
    gru = config.controller == "gru"
    weights = [
        first,
        controller.gate_hidden_layer.weight if gru else _EMPTY,
        controller.candidate_hidden_layer.weight if gru else _EMPTY,
        cell.heads.addressing.weight,
        cell.heads.addressing.bias,
        cell.heads.vectors.weight,
        cell.heads.vectors.bias,
        cell.output_layer.weight,
        cell.output_layer.bias,
        controller.input_layer.weight,
        controller.input_layer.bias,
    ]
    for layer in getattr(controller, "upper", ()):
        weights += [layer.weight_ih, layer.weight_hh, layer.bias_ih, layer.bias_hh]
    return [weight.contiguous() for weight in weights]


def state_tensors(state: NTMState) -> list[torch.Tensor]:
    """An `NTMState` as the engine's six contiguous tensors (the controller state stacked)."""
    batch = state.memory.shape[0]
    stacked = (
        torch.cat(state.controller_state, dim=-1)
        if state.controller_state
        else state.memory.new_empty(batch, 0)
    )
    parts = (state.memory, state.read_weights, state.write_weights, state.reads)
    return [t.contiguous() for t in (*parts, state.controller_output, stacked)]


def state_from(tensors: list[torch.Tensor], units: int) -> NTMState:
    """The engine's final-state tensors as an `NTMState`."""
    memory, read_weights, write_weights, reads, output, stacked = tensors
    controller_state = tuple(stacked.split(units, dim=-1)) if stacked.shape[-1] else ()
    return NTMState(memory, read_weights, write_weights, reads, output, controller_state)


def run(
    cell: NTMCell, inputs: torch.Tensor, state: NTMState, lengths: torch.Tensor | None
) -> tuple[torch.Tensor, NTMState]:
    """Logits `[T, B, out]` and the final state of the fused forward pass (see `NTM.forward`)."""
    engine = load()
    steps, batch = inputs.shape[0], inputs.shape[1]
    inputs = inputs.contiguous()
    spec = spec_values(cell.config, steps, batch)
    mask = cell.dropout_masks(steps, batch, inputs.dtype)
    lengths = None if lengths is None else lengths.to(torch.int64).contiguous()
    tensors = [*state_tensors(state), *weights_of(cell)]
    if torch.is_grad_enabled() and (inputs.requires_grad or any(t.requires_grad for t in tensors)):
        outputs = _FusedSequence.apply(engine, spec, mask, lengths, inputs, *tensors)
    else:
        outputs = engine.forward(spec, list(EPSILONS), inputs, mask, lengths, tensors[:6],
                                 tensors[6:], False)[:7]  # fmt: skip
    return outputs[0], state_from(list(outputs[1:7]), cell.config.controller_size)


class _FusedSequence(torch.autograd.Function):
    """The engine's forward and backward pass as one autograd node.

    Inputs after the non-tensor arguments: the inputs `[T, B, F]`, the six initial-state
    tensors and the weights. Outputs: the logits and the six final-state tensors.
    """

    @staticmethod
    def forward(ctx, engine, spec, mask, lengths, inputs, *tensors):
        state, weights = list(tensors[:6]), list(tensors[6:])
        outputs = engine.forward(spec, list(EPSILONS), inputs, mask, lengths, state, weights, True)
        ctx.engine, ctx.spec, ctx.mask, ctx.lengths, ctx.inputs = (
            engine,
            spec,
            mask,
            lengths,
            inputs,
        )
        ctx.tape, ctx.weights = outputs[7:], weights
        ctx.final_shapes = [tensor.shape for tensor in outputs[1:7]]
        return tuple(outputs[:7])

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, d_logits, *d_final):
        d_final = [
            torch.zeros(shape, dtype=d_logits.dtype) if grad is None else grad.contiguous()
            for shape, grad in zip(ctx.final_shapes, d_final)
        ]
        grads = ctx.engine.backward(ctx.spec, list(EPSILONS), ctx.inputs, ctx.needs_input_grad[4],
                                    ctx.mask, ctx.lengths, ctx.tape, ctx.weights,
                                    d_logits.contiguous(), d_final)  # fmt: skip
        weight_grads = [g if w.requires_grad else None for w, g in zip(ctx.weights, grads[7:])]
        return (None, None, None, None, grads[0], *grads[1:7], *weight_grads)
