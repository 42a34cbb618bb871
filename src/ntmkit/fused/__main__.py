"""``python -m ntmkit.fused``: build (or load) the fused engine and say how long it took.

Exits 0 when the engine is ready and 1 when it could not be built (NTMs then run eagerly).
"""

import sys

from .build import load, load_seconds

engine = load(verbose="--verbose" in sys.argv)
state = "ready" if engine is not None else "NOT available (NTMs run on the eager path)"
print(f"ntmkit fused engine {state} after {load_seconds():.1f} s")
sys.exit(0 if engine is not None else 1)
