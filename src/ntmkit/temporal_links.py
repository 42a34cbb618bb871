"""Temporal memory linkage of the Differentiable Neural Computer (Graves et al. 2016, "Hybrid
computing using a neural network with dynamic external memory", Methods, "Temporal memory
linkage" and "Read weighting").

The link matrix remembers the order slots were written in, so a read head can step forwards or
backwards through them whatever slots allocation chose. Each equation is one pure function::

    p_prev, w_write  --precedence-->  p
    L_prev, p_prev, w_write  --link_matrix-->  L
    L, w_read_prev  --directional_weights-->  forward, backward
    backward, content, forward, modes  --read_weights-->  w_read

The Methods' equations carry no numbers, so each docstring names its subsection and writes the
equation out. ``NTMConfig(memory="dnc")`` runs them through `ntmkit.dnc_access`; C++ twin:
fused/csrc/temporal_links.h, each block tagged with the function it mirrors. Shapes use B = batch,
R = read heads and N = memory slots; the DNC has one write head.
"""

import torch


def precedence(precedence_prev: torch.Tensor, write_weights: torch.Tensor) -> torch.Tensor:
    """How much each slot was the last one written: ``p = (1 - sum_i w^w[i]) p_prev + w^w``
    ("Temporal memory linkage", the precedence weighting; ``p_0 = 0``).

    Args:
      precedence_prev: `[B, N]`, summing to at most 1.
      write_weights: `[B, N]`, this step's write weighting, summing to at most 1.
    Returns:
      `[B, N]`, non-negative, summing to at most 1.
    """
    return (1 - write_weights.sum(-1, keepdim=True)) * precedence_prev + write_weights


def link_matrix(
    link_prev: torch.Tensor, precedence_prev: torch.Tensor, write_weights: torch.Tensor
) -> torch.Tensor:
    """``L[i, j]``, how much slot i was written right after slot j:
    ``L[i, j] = (1 - w^w[i] - w^w[j]) L_prev[i, j] + w^w[i] p_prev[j]``, with ``L[i, i] = 0``
    ("Temporal memory linkage"; ``L_0 = 0``).

    Args:
      link_prev: `[B, N, N]`, zero on the diagonal.
      precedence_prev: `[B, N]`, the precedence weighting before this step's write.
      write_weights: `[B, N]`, this step's write weighting.
    Returns:
      `[B, N, N]`, in [0, 1], zero on the diagonal, each row and column summing to at most 1.
    """
    w_i = write_weights.unsqueeze(-1)  # (B, N, 1)
    w_j = write_weights.unsqueeze(-2)  # (B, 1, N)
    link = (1 - w_i - w_j) * link_prev + w_i * precedence_prev.unsqueeze(-2)  # (B, N, N)
    off_diagonal = 1 - torch.eye(link.shape[-1], dtype=link.dtype, device=link.device)
    return link * off_diagonal


def directional_weights(
    link: torch.Tensor, read_weights_prev: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Each read head's previous weighting moved one write forwards, ``f = L w^r_prev``, and
    one backwards, ``b = L^T w^r_prev`` ("Temporal memory linkage").

    Args:
      link: `[B, N, N]`, from `link_matrix`.
      read_weights_prev: `[B, R, N]`.
    Returns:
      forward and backward weightings, each `[B, R, N]`.
    """
    forward = torch.bmm(read_weights_prev, link.transpose(1, 2))  # (B, R, N): sum_j L[i,j] w[j]
    backward = torch.bmm(read_weights_prev, link)  # (B, R, N): sum_j L[j,i] w[j]
    return forward, backward


def read_weights(
    backward: torch.Tensor, content: torch.Tensor, forward: torch.Tensor, modes: torch.Tensor
) -> torch.Tensor:
    """The read weighting ``w^r = pi[0] b + pi[1] c^r + pi[2] f`` ("Read weighting"): each
    head's read mode ``pi`` mixes stepping backwards, a content lookup and stepping forwards.

    Args:
      backward: `[B, R, N]`, from `directional_weights`.
      content: `[B, R, N]`, the read keys' content weightings.
      forward: `[B, R, N]`, from `directional_weights`.
      modes: `[B, R, 3]`, each row a distribution (a softmax of the controller's output).
    Returns:
      `[B, R, N]`.
    """
    return modes[..., 0:1] * backward + modes[..., 1:2] * content + modes[..., 2:3] * forward
