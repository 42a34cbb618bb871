"""A small part of the NaN hunt (`benchmarks/stability.py` runs all of it): one case per stress,
spread over tasks, presets, controller kinds and both engines, must train without a single
non-finite loss, gradient, parameter or evaluation."""

import pytest

from ntmkit.nan_hunt import STRESSES, hunt_cases, run_case

CASES = hunt_cases()[::19]
"""Every 19th case of the hunt: 8 cases that cover every stress and both engines."""


def test_the_sample_covers_every_stress_and_both_engines():
    assert {case.stress for case in CASES} == set(STRESSES)
    assert {case.engine for case in CASES} == {"fused", "eager"}


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.task}-{c.preset}-{c.stress}")
def test_a_stressed_short_training_has_no_non_finite_event(case):
    finding = run_case(case, steps=40, seconds=20.0)
    assert finding.steps > 0
    assert finding.events == [], finding.to_dict()
