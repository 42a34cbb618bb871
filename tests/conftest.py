"""Shared test setup.

Torch's intra-op thread pool makes the small per-step operations of an NTM slower, not faster,
and on a busy 2-core machine a second thread can stall a test for tens of seconds. Tests run on
one thread; nothing they check depends on it.
"""

import torch

torch.set_num_threads(1)
