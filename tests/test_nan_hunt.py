"""A small part of the NaN hunt (`benchmarks/stability.py` runs all of it): one case per stress,
spread over tasks, presets, controller kinds and both engines, must train without a single
non-finite loss, gradient, parameter or evaluation."""

import pytest

from ntmkit.training.nan_hunt import STRESSES, HuntCase, hunt_cases, run_case
from ntmkit.vocabulary import PRESET_NAMES, TASK_NAMES

CASES = hunt_cases()[::21]
"""Every 21st case of the hunt: 9 cases that cover every task, preset and stress and both
engines."""


def test_the_sample_covers_every_task_preset_and_stress_and_both_engines():
    assert {case.stress for case in CASES} == set(STRESSES)
    assert {case.engine for case in CASES} == {"fused", "eager"}
    assert {case.preset for case in CASES} == set(PRESET_NAMES)
    assert {case.task for case in CASES} == set(TASK_NAMES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.task}-{c.preset}-{c.stress}")
def test_a_stressed_short_training_has_no_non_finite_event(case):
    finding = run_case(case, steps=40, seconds=20.0)
    assert finding.steps > 0
    assert finding.events == [], finding.to_dict()


def test_the_hunt_reports_the_first_step_of_a_non_finite_loss_and_gradient(monkeypatch):
    from ntmkit.run import metrics

    honest, calls = metrics.TRAINING_LOSSES["bce"], {"n": 0}

    def nan_from_step_3(logits, targets, mask):
        calls["n"] += 1
        loss = honest(logits, targets, mask)
        return loss * float("nan") if calls["n"] >= 3 else loss

    monkeypatch.setitem(metrics.TRAINING_LOSSES, "bce", nan_from_step_3)
    finding = run_case(CASES[0], steps=5, seconds=20.0)  # copy, fast preset: the bce loss
    assert finding.events == ["loss"] and finding.loss == 3 and finding.skipped == 3
    assert finding.parameter is None  # the guard kept the NaNs from the weights


def test_the_case_whose_gradient_norm_overflowed_now_trains_without_an_event():
    # Found by the long hunt (`--steps 1000`): a finite gradient whose float32 norm was inf at
    # step 484 (numerics.GRADIENT_NORM_FALLBACK_DTYPE).
    from ntmkit.training.nan_hunt import HuntCase

    case = HuntCase("copy", "fast", "extreme_heads", "gru", "fused", seed=3)
    finding = run_case(case, steps=500, seconds=120.0)
    assert finding.steps == 500 and finding.events == [], finding.to_dict()


@pytest.mark.parametrize("stress", ["zero_memory", "lr_x10", "no_clip"])
def test_the_dncs_memory_trains_without_non_finite_events_under_stress(stress):
    # A zero memory makes every content lookup a cosine of zero vectors, and nothing is used,
    # linked or written yet: the allocation's products start at exactly 0.
    case = HuntCase("copy", "dnc", stress, "lstm", "eager", seed=7)
    finding = run_case(case, steps=40, seconds=20.0)
    assert finding.steps > 0
    assert finding.events == [], finding.to_dict()
