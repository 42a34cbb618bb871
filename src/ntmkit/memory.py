"""Memory: reading, erase/add writing and the initial memory (Graves et al. 2014, 3.1-3.2)."""

import torch


def read(memory: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Read vectors ``r_h = w_h^T M`` for every read head (paper eq. 2), concatenated.

    Args:
      memory: `[B, N, W]`
      weights: `[B, H, N]`, the read heads' weightings.
    Returns:
      `[B, H * W]`, head 0's read vector first.
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
    """
    weights_t = weights.transpose(1, 2)  # (B, N, H)
    if weights.shape[1] == 1:
        # One write head (the common case): M - M * (w e^T), without the per-head product.
        erased = torch.addcmul(memory, memory, torch.bmm(weights_t, erase), value=-1.0)
    else:
        keep = 1.0 - weights.unsqueeze(-1) * erase.unsqueeze(-2)  # (B, H, N, W)
        erased = memory * keep.prod(dim=1)  # (B, N, W)
    return torch.baddbmm(erased, weights_t, add)  # erased + sum_h w_h a_h^T in one op
