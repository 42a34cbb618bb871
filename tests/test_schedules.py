"""Learning-rate drop, length curriculum and restarts as pure functions of the history."""

import pytest

from ntmkit.run.schedules import LearningRateDrop, LengthCurriculum, Restart, RestartState, replay


def test_lr_drops_once_running_mean_falls_below_threshold_and_stays_dropped():
    drop = LearningRateDrop(threshold=0.01, low_lr=1e-5, window=3)
    assert replay(drop, 1e-4, [0.5, 0.5, 0.005]).value == 1e-4
    assert replay(drop, 1e-4, [0.5, 0.005, 0.005, 0.005]).value == 1e-5
    assert replay(drop, 1e-4, [0.005, 0.005, 0.005, 9.0, 9.0, 9.0]).value == 1e-5


def test_curriculum_doubles_length_up_to_the_cap_with_a_fresh_window_each_time():
    curriculum = LengthCurriculum(threshold=1e-4, cap=20, window=2)
    assert replay(curriculum, 5, [0.0]).value == 5
    assert replay(curriculum, 5, [0.0, 0.0]).value == 10
    assert replay(curriculum, 5, [0.0, 0.0, 0.0]).value == 10  # the window restarted
    assert replay(curriculum, 5, [0.0] * 4).value == 20
    assert replay(curriculum, 5, [0.0] * 10).value == 20
    assert replay(curriculum, 5, [1.0, 0.0, 1.0, 0.0]).value == 5


def test_replay_in_two_halves_equals_replay_at_once():
    curriculum = LengthCurriculum(threshold=0.5, cap=40, window=3)
    losses = [0.9, 0.1, 0.2, 0.3, 0.1, 0.9, 0.1, 0.1, 0.1]
    state = replay(curriculum, 5, losses[:4])
    for loss in losses[4:]:
        state = curriculum.update(state, loss)
    assert state == replay(curriculum, 5, losses)


def test_curriculum_may_start_below_the_tasks_own_max_length():
    curriculum = LengthCurriculum(threshold=1e-4, cap=20, window=2, start=5)
    assert curriculum.initial(20).value == 5
    assert replay(curriculum, 20, [0.0] * 4).value == 20


def test_restart_checks_each_attempt_once_after_its_first_steps():
    rule = Restart(after=100, above=5.0, limit=2)
    state = RestartState()
    assert rule.update(state, 50, 30.0) == state  # too early to judge
    state = rule.update(state, 100, 30.0)
    assert state == RestartState(attempt_start=100, restarts=1)  # stalled: a fresh start
    assert rule.update(state, 150, 30.0) == state  # the new attempt gets its own 100 steps
    settled = rule.update(state, 200, 4.0)
    assert settled == RestartState(100, 1, settled=True)  # took off: left alone from now on
    assert rule.update(settled, 900, 30.0) == settled


def test_restart_stops_after_its_limit():
    rule = Restart(after=10, above=1.0, limit=2)
    state = RestartState()
    for step in (10, 20, 30, 40):
        state = rule.update(state, step, 9.0)
    assert state == RestartState(attempt_start=20, restarts=2, settled=True)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"after": 0, "above": 1.0}, "train.restart.after must be an integer >= 1, got 0"),
        ({"after": 5, "above": -1}, "train.restart.above must be a finite number >= 0, got -1"),
        ({"after": 5, "above": True}, "train.restart.above must be a finite number"),
        ({"after": 5, "above": float("inf")}, "train.restart.above must be a finite number"),
        ({"after": 5, "above": 1.0, "limit": 1.5}, "train.restart.limit"),
    ],
)
def test_restart_rejects_bad_fields_naming_them(fields, message):
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        Restart(**fields)
