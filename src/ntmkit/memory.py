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
    if weights.shape[1] == 1:
        # One write head (the common case): skip building the per-head [B, H, N, W] product.
        erased = memory - memory * torch.matmul(weights.transpose(1, 2), erase)  # (B, N, W)
    else:
        keep = 1.0 - weights.unsqueeze(-1) * erase.unsqueeze(-2)  # (B, H, N, W)
        erased = memory * keep.prod(dim=1)  # (B, N, W)
    return erased + torch.matmul(weights.transpose(1, 2), add)
