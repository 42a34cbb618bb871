"""One NTM time step: state in, state out. Read this file first.

`NTMCell.step` runs one of two step orders (``NTMConfig.step_order``):

``lasagne`` (ntm-lasagne's ``NTMLayer``, which its pretrained models need)::

    M_t  = write(M_{t-1}, ww_{t-1}, erase/add from h_{t-1})
    r_t  = read(M_t, wr_{t-1})
    h_t  = controller(x_t, r_t, state_{t-1})
    ww_t, wr_t = address(h_t, ww_{t-1}, wr_{t-1}, M_t)
    y_t  = output_layer(h_t)      (by default; see NTMConfig.output_from)

``graves`` (Graves et al. 2014, figure 1)::

    h_t  = controller(x_t, r_{t-1}, state_{t-1})
    ww_t, wr_t = address(h_t, ww_{t-1}, wr_{t-1}, M_{t-1})
    M_t  = write(M_{t-1}, ww_t, erase/add from h_t)
    r_t  = read(M_t, wr_t)
    y_t  = output_layer([h_t, r_t])   (by default; see NTMConfig.output_from)

With ``NTMConfig.memory="dnc"`` (the Differentiable Neural Computer, Graves et al. 2016) the
step has the graves order, and the addressing and the write are the DNC's (`ntmkit.dnc_access`)::

    h_t  = controller(x_t, r_{t-1}, state_{t-1})
    xi_t = interface(h_t)                                   (ntmkit.heads.dnc_interface)
    M_t, ww_t, wr_t, r_t = access(M_{t-1}, ww_{t-1}, wr_{t-1}, history_{t-1}, xi_t)
    y_t  = output_layer([h_t, r_t])   (by default)

The state is an immutable `NTMState`; nothing about a sequence is stored on the module.
`unroll` runs the step over a whole sequence: the eager path of `ntmkit.NTM`. C++ twins:
``step_forward`` and ``step_backward`` (fused/csrc/step.h), one step of a whole batch; the
DNC's step in fused/csrc/dnc_step.h.
"""

from typing import NamedTuple

import torch
from torch import nn

from . import addressing, memory
from .config import NTMConfig
from .controllers import ControllerState, glorot_, glorot_limit, make_controller
from .dnc_access import DNCAccessState, DNCHistory, DNCStep, access_step
from .dropout import keep_masks
from .heads import HeadParams, Heads, WriteVectors, dnc_interface, dnc_interface_fields

RANDOM_MEMORY_SCALE = 1e-2
"""``memory_init="random"`` draws each cell uniformly from [-scale, scale]: small, so the first
cosine similarities are not dominated by the initial contents, yet distinct per slot."""


class NTMState(NamedTuple):
    """The recurrent state of an NTM between two steps.

    Attributes:
      memory: `[B, N, W]`
      read_weights: `[B, Hr, N]`
      write_weights: `[B, Hw, N]`
      reads: `[B, Hr * W]`, the last read vectors.
      controller_output: `[B, U]`, h of the last step (``lasagne`` order writes with it).
      controller_state: the controller's recurrent tensors, each `[B, U]` (empty if dense).
      dnc: the DNC memory's usage, link matrix and precedence (`ntmkit.dnc_access.DNCHistory`)
        with ``NTMConfig.memory="dnc"``; None for the NTM.
    """

    memory: torch.Tensor
    read_weights: torch.Tensor
    write_weights: torch.Tensor
    reads: torch.Tensor
    controller_output: torch.Tensor
    controller_state: ControllerState
    dnc: DNCHistory | None = None


class StepTrace(NamedTuple):
    """What happened inside one step, for plots (ntm-lasagne's ``get_details``).

    ``heads`` are the addressing parameters computed this step (write heads first; None with
    the DNC's memory, whose heads are its interface) and ``writes`` the erase/add vectors
    applied to memory this step. ``dnc`` is the DNC's interface and allocation weighting
    (`ntmkit.dnc_access.DNCStep`), None for the NTM.
    """

    heads: HeadParams | None
    writes: WriteVectors
    dnc: DNCStep | None = None


class NTMCell(nn.Module):
    """Controller, heads, memory and output layer of an NTM, advanced one step at a time."""

    def __init__(self, config: NTMConfig) -> None:
        super().__init__()
        self.config = config
        self.controller = make_controller(config)
        units = self.controller.output_size
        if config.memory == "dnc":
            width = sum(dnc_interface_fields(config.read_heads, config.word_size).values())
            self.interface = nn.Linear(units, width)
        else:
            self.heads = Heads(config, units)
        self.output_sources = config.output_sources
        # Dropout applies to h on its way to the output layer, so only if the layer sees h.
        sees_h = "controller" in self.output_sources
        self.output_dropout = config.output_dropout if sees_h else 0.0
        sizes = {"controller": units, "reads": config.read_size}
        out_features = sum(sizes[source] for source in self.output_sources)
        self.output_layer = nn.Linear(out_features, config.output_size)
        if config.layer_init == "lasagne":  # its sigmoid DenseLayer: Glorot-uniform, zero bias
            glorot_(self.output_layer.weight)
            nn.init.zeros_(self.output_layer.bias)
        self._init_memory(config)
        weights = torch.zeros(config.write_heads + config.read_heads, config.num_slots)
        if config.memory == "ntm":  # the DNC's heads start nowhere (zero weightings)
            weights[:, 0] = 1.0  # ntm-lasagne's OneHot: every head starts focused on slot 0
        if config.learn_weights_init:
            self.weights_init = nn.Parameter(weights)
        else:
            self.register_buffer("weights_init", weights)

    def _init_memory(self, config: NTMConfig) -> None:
        shape = (config.num_slots, config.word_size)
        if config.memory_init in ("random", "glorot"):
            generator = torch.Generator().manual_seed(config.memory_seed)
            scale = RANDOM_MEMORY_SCALE if config.memory_init == "random" else glorot_limit(*shape)
            init = (torch.rand(shape, generator=generator) * 2 - 1) * scale
        else:
            init = torch.full(shape, config.memory_init_value)
        if config.memory_init == "learned":
            self.memory_init = nn.Parameter(init)
        else:
            self.register_buffer("memory_init", init)

    def initial_state(self, batch_size: int) -> NTMState:
        """The state before the first step, for a batch of ``batch_size`` sequences."""
        config = self.config
        mem = self.memory_init.expand(batch_size, *self.memory_init.shape)
        weights = self.weights_init.expand(batch_size, *self.weights_init.shape)
        write_w, read_w = torch.split(weights, [config.write_heads, config.read_heads], dim=1)
        h0, controller_state = self.controller.initial_state(batch_size)
        history = None
        if config.memory == "dnc":  # nothing used, linked or written yet (the paper's zeros)
            slots = mem.new_zeros(batch_size, config.num_slots)
            link = mem.new_zeros(batch_size, config.num_slots, config.num_slots)
            history = DNCHistory(usage=slots, link=link, precedence=slots)
        reads = memory.read(mem, read_w)
        return NTMState(mem, read_w, write_w, reads, h0, controller_state, history)

    def step(self, x: torch.Tensor, state: NTMState) -> tuple[torch.Tensor, NTMState]:
        """One time step on input ``x [B, F]``; returns logits ``[B, out]`` and the new state."""
        masks = self.dropout_masks(1, x.shape[0], x.dtype)
        mask = None if masks is None else masks[0]
        logits, state, _ = self.step_projected(self.controller.input_projection(x), state, mask)
        return logits, state

    def dropout_masks(self, steps: int, batch: int, dtype: torch.dtype) -> torch.Tensor | None:
        """Output dropout's scaled keep-masks `[T, B, U]` for a forward pass in training, or
        None when nothing is dropped (see `ntmkit.dropout`)."""
        if not (self.training and self.output_dropout > 0):
            return None
        shape = (steps, batch, self.config.controller_size)
        return keep_masks(shape, self.output_dropout, dtype)

    def step_projected(
        self, x_proj: torch.Tensor, state: NTMState, mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, NTMState, StepTrace]:
        """`step` on an input already passed through ``controller.input_projection``; ``mask``
        `[B, U]` is this step's output dropout keep-mask (`dropout_masks`), if any."""
        if self.config.memory == "dnc":
            return self._step_dnc(x_proj, state, mask)
        if self.config.step_order == "lasagne":
            return self._step_lasagne(x_proj, state, mask)
        return self._step_graves(x_proj, state, mask)

    def _address(
        self, heads: HeadParams, mem: torch.Tensor, state: NTMState
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The new write and read weightings."""
        w_prev = torch.cat([state.write_weights, state.read_weights], dim=1)  # (B, H, N)
        w = addressing.address(
            mem,
            w_prev,
            heads.key,
            heads.beta,
            heads.gate,
            heads.shift,
            heads.gamma,
            self.config.shift_mode,
            heads.sign,
        )
        write_w, read_w = torch.split(w, [self.config.write_heads, self.config.read_heads], dim=1)
        return write_w, read_w

    def _step_lasagne(
        self, x_proj: torch.Tensor, state: NTMState, mask: torch.Tensor | None
    ) -> tuple[torch.Tensor, NTMState, StepTrace]:
        writes = self.heads.write_vectors(state.controller_output)
        mem, reads = memory.write_and_read(
            state.memory, state.write_weights, writes.erase, writes.add, state.read_weights
        )
        h, controller_state = self.controller.step(x_proj, reads, state.controller_state)
        heads = self.heads.params(h)
        write_w, read_w = self._address(heads, mem, state)
        new_state = NTMState(mem, read_w, write_w, reads, h, controller_state)
        return self._output(h, reads, mask), new_state, StepTrace(heads, writes)

    def _step_graves(
        self, x_proj: torch.Tensor, state: NTMState, mask: torch.Tensor | None
    ) -> tuple[torch.Tensor, NTMState, StepTrace]:
        h, controller_state = self.controller.step(x_proj, state.reads, state.controller_state)
        heads = self.heads.params(h)
        writes = self.heads.write_vectors(h)
        write_w, read_w = self._address(heads, state.memory, state)
        mem, reads = memory.write_and_read(state.memory, write_w, writes.erase, writes.add, read_w)
        new_state = NTMState(mem, read_w, write_w, reads, h, controller_state)
        return self._output(h, reads, mask), new_state, StepTrace(heads, writes)

    def _step_dnc(
        self, x_proj: torch.Tensor, state: NTMState, mask: torch.Tensor | None
    ) -> tuple[torch.Tensor, NTMState, StepTrace]:
        if state.dnc is None:
            raise ValueError("state.dnc must hold the DNC memory's history, got None")
        h, controller_state = self.controller.step(x_proj, state.reads, state.controller_state)
        interface = dnc_interface(self.interface(h), self.config.read_heads, self.config.word_size)
        access = DNCAccessState(
            state.memory,
            state.dnc.usage,
            state.dnc.link,
            state.dnc.precedence,
            state.read_weights,
            state.write_weights[:, 0],
        )
        reads, access, step = access_step(access, interface)
        history = DNCHistory(access.usage, access.link, access.precedence)
        write_w = access.write_weights.unsqueeze(1)  # (B, 1, N)
        new_state = NTMState(
            access.memory, access.read_weights, write_w, reads, h, controller_state, history
        )
        writes = WriteVectors(erase=interface.erase, add=interface.write_vector)
        return self._output(h, reads, mask), new_state, StepTrace(None, writes, step)

    def _output(
        self, h: torch.Tensor, reads: torch.Tensor, mask: torch.Tensor | None
    ) -> torch.Tensor:
        """Logits ``[B, out]`` from what ``config.output_sources`` names; ``mask`` is output
        dropout's keep-mask on h."""
        if mask is not None:
            h = h * mask
        if self.output_sources == ("controller",):
            features = h
        elif self.output_sources == ("reads",):
            features = reads
        else:
            features = torch.cat([h, reads], dim=-1)
        logits: torch.Tensor = self.output_layer(features)
        return logits


def unroll(
    cell: NTMCell,
    inputs: torch.Tensor,
    state: NTMState,
    lengths: torch.Tensor | None = None,
    masks: torch.Tensor | None = None,
    keep_steps: bool = False,
) -> tuple[torch.Tensor, NTMState, list[NTMState], list[StepTrace]]:
    """`NTMCell.step` over a whole sequence: the readable definition of an NTM's forward pass.

    Args:
      inputs: `[T, B, F]`.
      state: the `NTMState` before the first step.
      lengths: optional `[B]` lengths in 1..T; a sequence's state stops changing after its
        last step and its logits there are zero.
      masks: output dropout's keep-masks `[T, B, U]` (`NTMCell.dropout_masks`), or None.
      keep_steps: also return the state and `StepTrace` after every step (for traces).
    Returns:
      logits `[T, B, output_size]`, the final state, and the per-step states and step traces
      (empty lists unless ``keep_steps``).
    """
    keep_mask = None
    if lengths is not None:
        steps = torch.arange(inputs.shape[0], device=inputs.device)
        keep_mask = steps.unsqueeze(1) < lengths.unsqueeze(0)  # (T, B)
    x_proj = cell.controller.input_projection(inputs)  # (T, B, G) in one product
    # unbind, not x_proj[t]: indexing's backward zero-fills a whole [T, B, G] gradient per
    # step (quadratic in T); unbind's backward stacks the T step gradients once.
    logits: list[torch.Tensor] = []
    states: list[NTMState] = []
    step_traces: list[StepTrace] = []
    for t, x_t in enumerate(x_proj.unbind(0)):
        mask = None if masks is None else masks[t]
        out, new_state, step_trace = cell.step_projected(x_t, state, mask)
        if keep_mask is not None:
            new_state = _select(keep_mask[t], new_state, state)
            out = out * keep_mask[t].unsqueeze(-1)
        state = new_state
        logits.append(out)
        if keep_steps:
            states.append(state)
            step_traces.append(step_trace)
    return torch.stack(logits), state, states, step_traces  # logits (T, B, out)


def _select(keep: torch.Tensor, new: NTMState, old: NTMState) -> NTMState:
    """Take ``new`` where ``keep [B]`` is true and ``old`` elsewhere, tensor by tensor."""

    def pick(new_tensor: torch.Tensor, old_tensor: torch.Tensor) -> torch.Tensor:
        return torch.where(keep.view(-1, *([1] * (new_tensor.dim() - 1))), new_tensor, old_tensor)

    history = None
    if new.dnc is not None and old.dnc is not None:
        history = DNCHistory(*(pick(n, o) for n, o in zip(new.dnc, old.dnc)))
    return NTMState(
        pick(new.memory, old.memory),
        pick(new.read_weights, old.read_weights),
        pick(new.write_weights, old.write_weights),
        pick(new.reads, old.reads),
        pick(new.controller_output, old.controller_output),
        tuple(pick(n, o) for n, o in zip(new.controller_state, old.controller_state)),
        history,
    )
