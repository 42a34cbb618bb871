"""Memory: reading and erase/add writing (Graves et al. 2014, 3.1-3.2).

The initial memory is a buffer or parameter of `ntmkit.cell.NTMCell` (``NTMConfig.memory_init``).
"""

import torch

from . import engine


def read(memory: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Read vectors ``r_h = w_h^T M`` for every read head (paper eq. 2), concatenated.

    Args:
      memory: `[B, N, W]`
      weights: `[B, H, N]`, the read heads' weightings.
    Returns:
      `[B, H * W]`, head 0's read vector first.

    C++ twin: the last line of ``write_and_read_forward`` (fused/csrc/memory.h).
    """
    reads = torch.matmul(weights, memory)  # (B, H, W)
    return reads.reshape(reads.shape[0], -1)


def write(
    memory: torch.Tensor,
    weights: torch.Tensor,
    erase: torch.Tensor,
    add: torch.Tensor,
) -> torch.Tensor:
    """Erase then add, for all write heads at once (paper eqs. 3 and 4).

    All erases come first, ``M~ = M * prod_h (1 - w_h e_h^T)``, then all adds,
    ``M' = M~ + sum_h w_h a_h^T``, so the order of the write heads does not matter.

    Args:
      memory: `[B, N, W]`
      weights: `[B, H, N]`, the write heads' weightings.
      erase: `[B, H, W]` in [0, 1].
      add: `[B, H, W]`
    Returns:
      `[B, N, W]`, the new memory.

    C++ twin: ``write_and_read_forward`` and ``write_backward`` (fused/csrc/memory.h).
    """
    weights_t = weights.transpose(1, 2)  # (B, N, H)
    keep = 1.0 - weights.unsqueeze(-1) * erase.unsqueeze(-2)  # (B, H, N, W)
    erased = memory * keep.prod(dim=1)  # (B, N, W)
    return torch.baddbmm(erased, weights_t, add)  # erased + sum_h w_h a_h^T in one op


def write_and_read(
    memory: torch.Tensor,
    write_weights: torch.Tensor,
    erase: torch.Tensor,
    add: torch.Tensor,
    read_weights: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """`write`, then `read` from the written memory: ``(M', read(M', read_weights))``.

    Both step orders read right after writing; with one write head the two are one fused
    operation whose backward makes fewer memory-sized tensors than the two apart, unless
    `ntmkit.engine` selects `write_and_read_reference`.

    Args:
      memory: `[B, N, W]`; write_weights: `[B, Hw, N]`; erase, add: `[B, Hw, W]`;
      read_weights: `[B, Hr, N]`.
    Returns:
      the new memory `[B, N, W]` and the read vectors `[B, Hr * W]`.
    """
    if write_weights.shape[1] == 1 and engine.fused_functions_enabled():
        outputs: tuple[torch.Tensor, torch.Tensor] = _OneHeadWriteRead.apply(
            memory, write_weights, erase, add, read_weights
        )
        new_memory, reads = outputs
        return new_memory, reads.reshape(reads.shape[0], -1)
    return write_and_read_reference(memory, write_weights, erase, add, read_weights)


def write_and_read_reference(
    memory: torch.Tensor,
    write_weights: torch.Tensor,
    erase: torch.Tensor,
    add: torch.Tensor,
    read_weights: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """`write_and_read` as plain autograd formulas (the reference engine): eqs. 3, 4 and 2.

    Takes and returns what `write_and_read` does, with any number of write heads.
    """
    new_memory = write(memory, write_weights, erase, add)
    return new_memory, read(new_memory, read_weights)


def _write_and_read_flat(*inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """`write_and_read_reference` with the reads `[B, Hr, W]`, as `_OneHeadWriteRead` returns
    them (its differentiable backward differentiates this)."""
    new_memory, reads = write_and_read_reference(*inputs)
    read_weights = inputs[-1]  # (B, Hr, N)
    return new_memory, reads.view(read_weights.shape[0], read_weights.shape[1], -1)


def _one_head_write(
    memory: torch.Tensor, weights: torch.Tensor, erase: torch.Tensor, add: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(M', E)``: ``M' = M - M * E + w a^T`` with ``E = w e^T``, for one write head."""
    weights_t = weights.transpose(1, 2)  # (B, N, 1)
    outer_erase = torch.bmm(weights_t, erase)  # E, (B, N, W)
    out = torch.addcmul(memory, memory, outer_erase, value=-1.0)
    return out.baddbmm_(weights_t, add), outer_erase


class _OneHeadWriteRead(torch.autograd.Function):
    """`write_and_read` for one write head (and any number of read heads), and its gradients.

    Memory-sized tensors dominate an NTM step's time, so forward and backward each touch them
    as few times as possible (autograd's generic chain makes about twice as many); a backward
    whose graph is wanted (second derivatives) is autograd's on the reference. With ``G``
    the gradient reaching ``M'`` (from later steps plus ``w_r^T dL/dr``)::

        dM = G - G * E          dw = G a - (G * M) e       (as column vectors over slots)
        da = w^T G              de = -w^T (G * M)          dw_r = dL/dr M'^T
    """

    @staticmethod
    def forward(
        ctx: engine.FunctionContext,
        memory: torch.Tensor,
        weights: torch.Tensor,
        erase: torch.Tensor,
        add: torch.Tensor,
        read_weights: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        out, outer_erase = _one_head_write(memory, weights, erase, add)
        reads = torch.bmm(read_weights, out)  # (B, Hr, W)
        ctx.save_for_backward(memory, weights, erase, add, outer_erase, read_weights, out)
        return out, reads

    @staticmethod
    def backward(
        ctx: engine.FunctionContext, grad_out: torch.Tensor, grad_reads: torch.Tensor
    ) -> tuple[torch.Tensor | None, ...]:
        memory, weights, erase, add, outer_erase, read_weights, out = ctx.saved_tensors
        needs = ctx.needs_input_grad
        if torch.is_grad_enabled():  # create_graph=True: a second derivative will follow
            inputs = (memory, weights, erase, add, read_weights)
            grads = (grad_out, grad_reads)
            return engine.differentiable_backward(_write_and_read_flat, inputs, grads, needs)
        grad = torch.baddbmm(grad_out, read_weights.transpose(1, 2), grad_reads)  # G, (B, N, W)
        grad_memory = grad_weights = grad_erase = grad_add = grad_read_weights = None
        if needs[1] or needs[2]:
            grad_times_memory = grad * memory  # (B, N, W)
        if needs[1]:
            column = torch.bmm(grad, add.transpose(1, 2))  # (B, N, 1)
            column.sub_(torch.bmm(grad_times_memory, erase.transpose(1, 2)))
            grad_weights = column.transpose(1, 2)
        if needs[2]:
            grad_erase = -torch.bmm(weights, grad_times_memory)
        if needs[3]:
            grad_add = torch.bmm(weights, grad)
        if needs[4]:
            grad_read_weights = torch.bmm(grad_reads, out.transpose(1, 2))  # (B, Hr, N)
        if needs[0]:  # last: it overwrites G, which was made here
            grad_memory = grad.addcmul_(grad, outer_erase, value=-1.0)
        return grad_memory, grad_weights, grad_erase, grad_add, grad_read_weights
