"""Learning-rate drop and length curriculum as pure functions of the loss history."""

from ntmkit.schedules import LearningRateDrop, LengthCurriculum, replay


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
