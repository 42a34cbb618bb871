"""Dynamic memory allocation of the Differentiable Neural Computer (Graves et al. 2016, "Hybrid
computing using a neural network with dynamic external memory", Methods, "Dynamic memory
allocation" and "Write weighting").

Each equation is one pure function, batched over ``[batch, ...]``::

    free_gates, w_read_prev  --retention-->  psi
    usage_prev, w_write_prev, psi  --usage-->  u
    u  --allocation_weights-->  a
    a, w_content, write_gate, allocation_gate  --write_weights-->  w_write

The Methods' equations carry no numbers, so each docstring names its subsection and writes the
equation out. ``NTMConfig(memory="dnc")`` runs them through `ntmkit.dnc_access`; C++ twin:
fused/csrc/allocation.h, each block tagged with the function it mirrors. Shapes use B = batch,
R = read heads and N = memory slots; the DNC has one write head.
"""

import torch


def retention(free_gates: torch.Tensor, read_weights_prev: torch.Tensor) -> torch.Tensor:
    """How much of each slot the read heads leave allocated: ``psi = prod_i (1 - f_i w_i^r)``
    over the read heads i ("Dynamic memory allocation", the memory retention vector).

    Args:
      free_gates: `[B, R]`, each in [0, 1]: 1 frees what head i read last step.
      read_weights_prev: `[B, R, N]`, the read weightings of the previous step.
    Returns:
      `[B, N]`, each in [0, 1].
    """
    return torch.prod(1 - free_gates.unsqueeze(-1) * read_weights_prev, dim=1)


def usage(
    usage_prev: torch.Tensor, write_weights_prev: torch.Tensor, retention: torch.Tensor
) -> torch.Tensor:
    """Slot usage: ``u = (u_prev + w^w_prev - u_prev * w^w_prev) * psi`` ("Dynamic memory
    allocation"): a slot written to is used, one freed by the read heads is not.

    Args:
      usage_prev: `[B, N]`, each in [0, 1].
      write_weights_prev: `[B, N]`, the write weighting of the previous step.
      retention: `[B, N]`, from `retention`.
    Returns:
      `[B, N]`, each in [0, 1] when the inputs are.
    """
    return (usage_prev + write_weights_prev - usage_prev * write_weights_prev) * retention


def allocation_weights(usage: torch.Tensor) -> torch.Tensor:
    """Where to write next: with the free list ``phi`` (slot indices by usage, ascending),
    ``a[phi_j] = (1 - u[phi_j]) prod_{i<j} u[phi_i]`` ("Dynamic memory allocation").

    The least used slot gets the most. The sort is piecewise constant in ``usage``, so the
    gradient flows through the sorted values with the order held fixed, as in DeepMind's
    reference (its top-k); at ties the order is the stable one (the lower index first), and the
    gradient is that order's.

    Args:
      usage: `[B, N]`, each in [0, 1].
    Returns:
      `[B, N]`, non-negative, summing to at most 1.
    """
    sorted_usage, free_list = torch.sort(usage, dim=-1, stable=True)  # (B, N) each
    first = torch.ones_like(sorted_usage[:, :1])
    used_before = torch.cat([first, torch.cumprod(sorted_usage[:, :-1], dim=-1)], dim=-1)
    sorted_allocation = (1 - sorted_usage) * used_before  # (B, N), in free-list order
    return torch.zeros_like(usage).scatter(-1, free_list, sorted_allocation)


def write_weights(
    allocation: torch.Tensor,
    content: torch.Tensor,
    write_gate: torch.Tensor,
    allocation_gate: torch.Tensor,
) -> torch.Tensor:
    """The write weighting ``w^w = g^w (g^a a + (1 - g^a) c^w)`` ("Write weighting"): the
    allocation gate chooses between a fresh slot and the content lookup, the write gate how
    much to write at all.

    Args:
      allocation: `[B, N]`, from `allocation_weights`.
      content: `[B, N]`, the write key's content weighting.
      write_gate: `[B, 1]`, in [0, 1]: how much to write.
      allocation_gate: `[B, 1]`, in [0, 1]: allocation (1) against content (0).
    Returns:
      `[B, N]`, non-negative, summing to at most 1.
    """
    return write_gate * (allocation_gate * allocation + (1 - allocation_gate) * content)
