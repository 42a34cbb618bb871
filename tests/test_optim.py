"""Graves' RMSProp against a hand computation of Graves (2013) eqs. 38-41."""

import math

import pytest
import torch

from ntmkit.training.optim import GravesRMSProp, make_optimizer


def run_steps(grads, legacy=False, lr=0.1):
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = GravesRMSProp([p], lr=lr, legacy=legacy)
    for g in grads:
        p.grad = torch.tensor([g], dtype=torch.float64)
        opt.step()
    return p.item()


def hand_graves(grads, legacy=False, lr=0.1):
    n = gbar = delta = theta = 0.0
    for g in grads:
        n = 0.95 * n + 0.05 * g * g
        gbar = 0.95 * gbar + 0.05 * g
        centred = n + gbar**2 if legacy else n - gbar**2
        delta = 0.9 * delta - lr * g / math.sqrt(centred + 1e-4)
        theta += delta
    return theta


def test_first_step_matches_hand_computation():
    # n = 0.05 * 4 = 0.2, gbar = 0.1, delta = -0.1 * 2 / sqrt(0.2 - 0.01 + 1e-4)
    assert run_steps([2.0]) == pytest.approx(-0.2 / math.sqrt(0.19 + 1e-4), rel=1e-12)


def test_several_steps_match_hand_computation_of_the_centred_form():
    grads = [2.0, -1.0, 0.5, 3.0, 0.0, -2.5]
    assert run_steps(grads) == pytest.approx(hand_graves(grads), rel=1e-12)


def test_legacy_variant_adds_gbar_squared_like_ntm_lasagne():
    grads = [2.0, -1.0, 0.5, 3.0]
    assert run_steps(grads, legacy=True) == pytest.approx(hand_graves(grads, legacy=True))
    assert run_steps(grads, legacy=True) != pytest.approx(run_steps(grads))


def test_invalid_hyperparameters_are_rejected_by_name():
    with pytest.raises(ValueError, match="lr=-1"):
        GravesRMSProp([torch.nn.Parameter(torch.zeros(1))], lr=-1)


def test_make_optimizer_rejects_unknown_names_listing_valid_ones():
    with pytest.raises(ValueError, match="graves_rmsprop"):
        make_optimizer("sgd", [torch.nn.Parameter(torch.zeros(1))], 1e-3)
