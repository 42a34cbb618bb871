"""after_evaluation: what the training loop does after an evaluation, as a value."""

import dataclasses

from ntmkit.run.schedules import Restart, RestartState
from ntmkit.run.train_config import TrainConfig
from ntmkit.training.decisions import Decision, after_evaluation

TRAIN = TrainConfig(max_iter=1000, target_error=0.01, restart=Restart(after=100, above=5.0))


def test_an_error_below_the_target_converges_and_leaves_the_restart_state_alone():
    state = RestartState(attempt_start=0, restarts=1)
    assert after_evaluation(TRAIN, state, 50, 0.009) == Decision(True, state)


def test_a_target_of_zero_never_converges():
    train = dataclasses.replace(TRAIN, target_error=0.0, restart=None)
    assert not after_evaluation(train, RestartState(), 50, 0.0).converged


def test_a_stalled_attempt_gets_a_fresh_start_with_a_message():
    decision = after_evaluation(TRAIN, RestartState(), 100, 30.0)
    assert decision.fresh_start and not decision.converged
    assert decision.restart_state == RestartState(attempt_start=100, restarts=1)
    assert decision.message.startswith("step 100: evaluation error 30.00 > 5 after 100 steps")


def test_an_attempt_that_took_off_settles_without_a_fresh_start():
    decision = after_evaluation(TRAIN, RestartState(), 100, 2.0)
    assert not decision.fresh_start and decision.restart_state.settled


def test_no_fresh_start_when_the_new_attempt_could_not_reach_its_check():
    decision = after_evaluation(TRAIN, RestartState(), 950, 30.0)  # 950 + 100 > max_iter
    assert decision == Decision(False, RestartState())


def test_no_convergence_before_the_curriculum_reaches_its_cap():
    assert not after_evaluation(TRAIN, RestartState(), 50, 0.0, at_cap=False).converged
    assert after_evaluation(TRAIN, RestartState(), 50, 0.0, at_cap=True).converged
