"""The NaN hunt: seeded short trainings across tasks, presets, controllers, engines and stresses.

    python benchmarks/stability.py                      # every case (135 runs, ~15 min)
    python benchmarks/stability.py --tasks copy --stresses lr_x10,no_clip --steps 100

Each run trains one case of `ntmkit.training.nan_hunt.hunt_cases` (every task x preset x stress, the
controller kind and the engine taken in turn) for --steps steps or --seconds seconds on one
thread, and records the first step of any non-finite loss, gradient, parameter or evaluation
cost. It prints one line per run with an event, then the totals; --json writes every finding.
"""

import argparse
import collections
import json
import sys
import time

import torch

from ntmkit.training.nan_hunt import STRESSES, hunt_cases, run_case
from ntmkit.vocabulary import TaskName, names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default=",".join(names(TaskName)))
    parser.add_argument("--stresses", default=",".join(STRESSES))
    parser.add_argument("--steps", type=int, default=200, help="steps per run")
    parser.add_argument("--seconds", type=float, default=8.0, help="wall-clock cap per run")
    parser.add_argument("--json", help="write every finding here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    cases = hunt_cases(tuple(args.tasks.split(",")), tuple(args.stresses.split(",")))
    findings, start = [], time.perf_counter()
    for number, case in enumerate(cases, start=1):
        finding = run_case(case, args.steps, args.seconds)
        findings.append(finding)
        if finding.events:
            first = {kind: getattr(finding, kind) for kind in finding.events}
            print(
                f"[{number}/{len(cases)}] {case.task} {case.preset} {case.stress} "
                f"{case.controller} {case.engine} seed {case.seed}: first non-finite {first}, "
                f"{finding.skipped} of {finding.steps} steps skipped",
                flush=True,
            )
    by_kind = collections.Counter(kind for f in findings for kind in f.events)
    by_stress = collections.Counter(f.case.stress for f in findings if f.events)
    print(
        f"{len(findings)} runs ({sum(f.steps for f in findings):,} steps, "
        f"{time.perf_counter() - start:.0f} s): {sum(bool(f.events) for f in findings)} with a "
        f"non-finite event; by kind {dict(by_kind) or 'none'}; "
        f"by stress {dict(by_stress) or 'none'}"
    )
    if args.json:
        with open(args.json, "w") as handle:
            json.dump([f.to_dict() for f in findings], handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
