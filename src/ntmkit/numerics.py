"""Every epsilon and clamp of ntmkit, each with the failure it prevents.

NTMs are famous for NaNs: a zero memory row divides by zero in the cosine similarity, a
weighting that is exactly zero has an infinite log, and a large sharpening exponent overflows.
Each guard lives here, with a name and a sentence, and `tests/test_numerics.py` checks that
values and gradients stay finite at the extremes each one protects.
"""

import torch

COSINE_EPSILON = 1e-6
"""Added under the square root of ``|k|^2 |M_i|^2`` in the cosine similarity (ntm-lasagne's
value and placement). It keeps the similarity and its gradient finite when a key or a memory
row is all zeros, as the memory is at initialisation."""

SHARPEN_EPSILON = 1e-6
"""Added to the shifted weighting before it is raised to the power gamma (ntm-lasagne's 1e-6).
It keeps ``log(w)`` finite for slots with no mass, so sharpening can be computed in log space,
and it is what lets a zero-padded shift still leave every slot a tiny weight."""

GRAVES_RMSPROP_EPSILON = 1e-4
"""Added to the centred second moment ``n - gbar^2`` in Graves' RMSProp (Graves 2013, eq. 40).
It bounds the step size when a gradient has been nearly constant (variance near zero)."""

LASAGNE_PROBABILITY_CLIP = 1e-6
"""The default ``train.loss_clip``: ``train.loss="clipped_bce"`` clips the predicted
probabilities to [1e-6, 1 - 1e-6] before the cross-entropy, as ntm-lasagne's example scripts
have since February 2016. It bounds the loss of a confidently wrong bit at -log(1e-6) = 13.8
nats and, because a clipped probability has no gradient, stops pushing outputs that are
already saturated: the ReLU dense controller's unbounded logits otherwise get a full unit of
gradient on every saturated wrong bit. Copy with the ``lasagne`` preset learns with the clip
and stalls without it (seed 0: 0.005 bit errors per sequence after 350,000 sequences against
6.4 after 590,000). ntm-lasagne's models README, and its scripts before then (in float64), clip
at 1e-10 (``--set train.loss_clip=1e-10``); the clip is applied to the logits, so that works in
float32 too (`ntmkit.run.metrics.masked_clipped_bce`)."""

LASAGNE_README_PROBABILITY_CLIP = 1e-10
"""The clip of ntm-lasagne's models README, and of its scripts until February 25, 2016, on
float64 inputs: the ``lasagne`` preset's ``train.loss_clip`` for the models trained then (copy,
repeat copy, associative recall, Dyck words). A confidently wrong bit costs at most 23 nats."""

GRADIENT_NORM_FALLBACK_DTYPE = torch.float64
"""The global gradient norm is taken in float32, as ``torch.nn.utils.clip_grad_norm_`` takes it;
its sum of squares overflows to inf once a gradient element passes about 1.8e19, although every
gradient is finite. Then it is taken again in float64, so such a step is clipped (norm mode) or
checked (value mode) as the finite step it is instead of being skipped by the non-finite guard.
The NaN hunt met one: copy, ``fast`` preset, GRU controller, gamma and beta biases of 100 and
1,000, seed 3, step 484 (sharpening's ``gamma / (w + SHARPEN_EPSILON)`` times a key strength
of 1,000 on a near-zero memory)."""
