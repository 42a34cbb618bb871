"""One step of the Differentiable Neural Computer's memory access (Graves et al. 2016, Methods),
from the interface parameters to the read vectors, built from the NTM's own pieces where the
two agree (content lookup, erase-then-add write, read) and `ntmkit.allocation` and
`ntmkit.temporal_links` where the DNC adds to them::

    free gates, reads_prev  -> retention -> usage -> allocation ┐
    write key  -> content lookup on M_prev ----------------------┴-> write weighting -> write M
    write weighting -> link matrix, precedence
    read keys  -> content lookup on M;  link, reads_prev -> forward, backward
                                                          -> read weighting -> read vectors

The state is an immutable `DNCAccessState`, passed in and returned. ``NTMConfig(memory="dnc")``
runs it in each step of `ntmkit.cell` (``NTMCell._step_dnc``), which keeps the memory and the
weightings in `ntmkit.NTMState` like the NTM's and the rest in its `DNCHistory`. Shapes use
B = batch, R = read heads, N = memory slots and W = word size.
"""

from typing import NamedTuple

import torch

from . import allocation, temporal_links
from .addressing import content_weights
from .heads import DNCInterface
from .memory import read, write


class DNCHistory(NamedTuple):
    """What the DNC's memory keeps of its own writing, beyond the NTM's state: ``usage``
    `[B, N]` (how much each slot holds that no read head has freed), ``link`` `[B, N, N]`
    (``link[i, j]``: how much slot i was written right after slot j) and ``precedence`` `[B, N]`
    (how much each slot was the last one written)."""

    usage: torch.Tensor
    link: torch.Tensor
    precedence: torch.Tensor


class DNCStep(NamedTuple):
    """What happened inside one access step, for traces: the `DNCInterface` and the
    allocation weighting `[B, N]` the write could have used."""

    interface: DNCInterface
    allocation: torch.Tensor


class DNCAccessState(NamedTuple):
    """The DNC memory's recurrent state.

    Shapes: memory `[B, N, W]`; usage `[B, N]`; link `[B, N, N]`; precedence `[B, N]`;
    read_weights `[B, R, N]`; write_weights `[B, N]`.
    """

    memory: torch.Tensor
    usage: torch.Tensor
    link: torch.Tensor
    precedence: torch.Tensor
    read_weights: torch.Tensor
    write_weights: torch.Tensor


def initial_access_state(memory: torch.Tensor, read_heads: int) -> DNCAccessState:
    """The state before the first step: the given memory `[B, N, W]`, nothing used, linked,
    read or written (all zeros, as in the paper)."""
    batch, slots, _ = memory.shape
    zeros = memory.new_zeros(batch, slots)
    return DNCAccessState(
        memory=memory,
        usage=zeros,
        link=memory.new_zeros(batch, slots, slots),
        precedence=zeros,
        read_weights=memory.new_zeros(batch, read_heads, slots),
        write_weights=zeros,
    )


def access_step(
    state: DNCAccessState, interface: DNCInterface
) -> tuple[torch.Tensor, DNCAccessState, DNCStep]:
    """Write, then read, as the paper orders one step.

    Args:
      state: the previous `DNCAccessState`.
      interface: this step's `DNCInterface` (from `ntmkit.heads.dnc_interface`).
    Returns:
      the read vectors `[B, R * W]`, the new state and the step's `DNCStep`.
    """
    psi = allocation.retention(interface.free_gates, state.read_weights)
    usage = allocation.usage(state.usage, state.write_weights, psi)
    write_content = content_weights(state.memory, interface.write_key, interface.write_strength)
    allocate = allocation.allocation_weights(usage)
    w_write = allocation.write_weights(
        allocate,
        write_content[:, 0],
        interface.write_gate,
        interface.allocation_gate,
    )  # (B, N)
    memory = write(state.memory, w_write.unsqueeze(1), interface.erase, interface.write_vector)
    link = temporal_links.link_matrix(state.link, state.precedence, w_write)
    forward, backward = temporal_links.directional_weights(link, state.read_weights)
    read_content = content_weights(memory, interface.read_keys, interface.read_strengths)
    w_read = temporal_links.read_weights(backward, read_content, forward, interface.read_modes)
    new_state = DNCAccessState(
        memory=memory,
        usage=usage,
        link=link,
        precedence=temporal_links.precedence(state.precedence, w_write),
        read_weights=w_read,
        write_weights=w_write,
    )
    return read(memory, w_read), new_state, DNCStep(interface, allocate)
