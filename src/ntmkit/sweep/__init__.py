"""Sweeps over seeds and settings on Ray Tune: one command on a laptop or on a cluster.

    from ntmkit.sweep import SweepSpec, run_sweep
    spec = SweepSpec("copy", seeds=10, grid=(("train.batch_size", (4, 64)),))
    result = run_sweep(spec, "sweeps/copy-batch")      # DIR/<setting>/seed<k>, summary.json

Every combination of the grid's values times every seed is one Ray Tune trial that trains an
ordinary run folder (`ntmkit eval`, `plot` and `report` work on each). The pieces:

    grid           --grid flags and their combinations (`Setting`)
    spec           `SweepSpec` (sweep.json) and `TrialSpec`
    trial          the function each Tune trial runs; `TrialOutcome` (trial.json)
    early_stopping ASHA on the evaluation error
    progress       the live count and one line per finished trial
    summary        the per-setting table and summary.json
    ray_session    starting or joining Ray; Ray's output to ray.log
    runner         `run_sweep`

Ray is an optional dependency (``pip install 'ntmkit[sweep]'``): `spec`, `grid` and `summary`
work without it; `run_sweep` needs it.
"""

from .grid import Setting, parse_grid_flag
from .ray_session import INSTALL_HINT, ray_available
from .runner import SweepResult, run_sweep
from .spec import SweepSpec, TrialSpec
from .trial import TrialOutcome, read_outcome

__all__ = [
    "INSTALL_HINT",
    "Setting",
    "SweepResult",
    "SweepSpec",
    "TrialOutcome",
    "TrialSpec",
    "parse_grid_flag",
    "ray_available",
    "read_outcome",
    "run_sweep",
]
