"""The parts of a sweep that need no Ray: grid flags, settings, the spec file, the summary."""

import math
import re

import pytest
from tiny_runs import TINY_SETTINGS

from ntmkit.cli import main
from ntmkit.presets import preset
from ntmkit.sweep import SweepSpec, TrialOutcome, parse_grid_flag
from ntmkit.sweep.grid import DEFAULT_SETTING, _unique, setting_name, settings
from ntmkit.sweep.summary import format_table, quantile, summarize
from ntmkit.sweep.trial import _final_row


def refused(message: str):
    """pytest.raises for a ValueError whose message contains ``message`` verbatim."""
    return pytest.raises(ValueError, match=re.escape(message))


def test_grid_flags_split_values_at_top_level_commas_only():
    assert parse_grid_flag("train.lr=0.001,0.003") == ("train.lr", (0.001, 0.003))
    key, values = parse_grid_flag('train.restart={"after":1500,"above":10},null')
    assert key == "train.restart"
    assert values == ({"after": 1500, "above": 10}, None)
    assert parse_grid_flag("model.shift_mode=circular,zero_pad")[1] == ("circular", "zero_pad")
    assert parse_grid_flag('train.optimizer="adam"')[1] == ("adam",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("train.lr", "--grid expects KEY=V1,V2,..., got 'train.lr'"),
        ("=1,2", "--grid expects KEY=V1,V2"),
        ("train.lr=1,,2", "--grid values must not be empty"),
    ],
)
def test_malformed_grid_flags_are_refused(text, message):
    with refused(message):
        parse_grid_flag(text)


def test_settings_are_every_combination_with_the_last_key_fastest():
    base = preset("copy")
    grid = [("train.batch_size", (4, 8)), ("train.lr", (0.001, 0.003))]
    found = settings(base, grid)
    assert [s.as_dict() for s in found] == [
        {"train.batch_size": 4, "train.lr": 0.001},
        {"train.batch_size": 4, "train.lr": 0.003},
        {"train.batch_size": 8, "train.lr": 0.001},
        {"train.batch_size": 8, "train.lr": 0.003},
    ]
    assert found[1].name == "train.batch_size=4+train.lr=0.003"
    assert [s.name for s in settings(base, [])] == [DEFAULT_SETTING]


def test_setting_names_are_safe_folder_names_and_unique():
    name = setting_name([("train.restart", {"after": 1500, "above": 10})])
    assert "/" not in name and '"' not in name and " " not in name
    assert _unique("a", {"a", "a-2"}) == "a-3" and _unique("b", {"a"}) == "b"
    memory = [("model.memory", "dnc"), ("train.lr", 0.003)]
    assert setting_name(memory) == "model.memory=dnc+train.lr=0.003"  # no quotes turned into -


def test_bad_grid_keys_and_values_are_one_line_errors_naming_them():
    base = preset("copy")
    with pytest.raises(
        ValueError, match=r"unknown --grid key 'train.bach'; valid: .*train\.batch_size"
    ):
        settings(base, [("train.bach", (1, 2))])
    with refused("train.batch_size must be an integer >= 1, got 0"):
        settings(base, [("train.batch_size", (4, 0))])
    with refused("'train.lr' is given more than once"):
        settings(base, [("train.lr", (1e-3,)), ("train.lr", (3e-3,))])
    with refused("--grid train.lr has the value 0.001 more than once"):
        settings(base, [("train.lr", (1e-3, 3e-3, 1e-3))])


def test_a_sweep_refuses_to_set_the_seed_it_sweeps():
    with refused("--grid train.seed: a sweep's seeds come from --seeds"):
        SweepSpec("copy", grid=(("train.seed", (1, 2)),))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"seeds": 0}, "--seeds must be an integer >= 1, got 0"),
        ({"budget": -1.0}, "--budget must be a finite number > 0, got -1.0"),
        ({"cpus_per_trial": 0.0}, "--cpus-per-trial must be a finite number > 0"),
        ({"scheduler": "hyperband"}, "--scheduler must be one of none, asha"),
        ({"task": "cpy"}, "task must be one of copy"),
    ],
)
def test_bad_sweep_fields_are_refused(fields, message):
    with refused(message):
        SweepSpec(**{"task": "copy", **fields})


def test_the_spec_file_round_trips_and_refuses_a_different_sweep(tmp_path):
    spec = SweepSpec("copy", seeds=3, grid=(("train.batch_size", (4, 64)),),
                     overrides=tuple(TINY_SETTINGS.items()), budget=60.0,
                     generalisation=(("length", (10, 20)),))  # fmt: skip
    again = SweepSpec.from_json(spec.to_json())
    assert again == spec
    spec.check_continues(again, tmp_path)
    other = SweepSpec.from_json(spec.to_json().replace('"seeds": 3', '"seeds": 4'))
    with pytest.raises(ValueError, match=r"holds a different sweep \(seeds: 3 there, 4 now\)"):
        other.check_continues(spec, tmp_path)


def test_trials_get_one_folder_per_setting_and_seed(tmp_path):
    spec = SweepSpec("copy", seeds=2, first_seed=5, grid=(("train.batch_size", (4, 8)),))
    trials = spec.trials(tmp_path)
    assert [(t.setting, t.seed) for t in trials] == [
        ("train.batch_size=4", 5), ("train.batch_size=4", 6),
        ("train.batch_size=8", 5), ("train.batch_size=8", 6),
    ]  # fmt: skip
    assert trials[3].folder == str(tmp_path.resolve() / "train.batch_size=8" / "seed6")
    assert trials[3].run.train.seed == 6 and trials[3].run.train.batch_size == 8


def test_quantiles_interpolate_and_keep_infinity():
    assert quantile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert quantile([1.0, 2.0, 3.0], 0.25) == 1.5
    assert quantile([1.0, math.inf, math.inf], 0.5) == math.inf
    assert quantile([1.0, 3.0, math.inf], 0.5) == 3.0
    assert quantile([1.0, 3.0, math.inf, math.inf], 0.25) == 2.5


def _outcome(setting, seed, status, sequences, seconds, errors_at_20):
    return TrialOutcome(setting, seed, status, sequences // 4, sequences, seconds, 0.0,
                        ({"length": 20, "bit_errors": errors_at_20},))  # fmt: skip


def test_the_summary_counts_unconverged_seeds_as_over_budget():
    spec = SweepSpec("copy", seeds=4, grid=(("train.batch_size", (4, 8)),))
    outcomes = [
        _outcome("train.batch_size=4", 0, "converged", 1000, 10.0, 0.0),
        _outcome("train.batch_size=4", 1, "converged", 3000, 30.0, 1.0),
        _outcome("train.batch_size=4", 2, "not_converged", 9000, 90.0, 5.0),
        _outcome("train.batch_size=4", 3, "stopped", 2000, 20.0, 2.0),
        _outcome("train.batch_size=8", 0, "converged", 500, 5.0, 0.5),
    ]
    rows = summarize(spec.settings(), outcomes, spec.seeds)
    first, second = rows
    assert (first["finished"], first["converged"], first["stopped_early"]) == (4, 2, 1)
    assert first["sequences"]["median"] == math.inf  # two of four converged: 1000, 3000, inf, inf
    assert first["sequences"]["q1"] == 2500.0
    assert first["generalisation"] == [{"length": 20, "bit_errors": 1.5, "seeds": 4}]
    assert second["finished"] == 1 and second["sequences"]["median"] == 500
    table = format_table(rows, budget=100.0)
    assert "2/4, 1 stopped early" in table and "1/1, 3 not run" in table
    assert "> 100" in table and "L=20" in table


def test_the_summary_gives_ngrams_seeds_their_excess_over_the_optimum():
    spec = SweepSpec("ngrams", seeds=3)

    def outcome(seed, excess):
        final = ({"length": 200, "bit_errors": 47.0, "excess_bits": excess},)
        return TrialOutcome("default", seed, "not_converged", 10, 160, 9.0, excess, final)

    outcomes = [outcome(seed, excess) for seed, excess in enumerate((0.9, 2.5, 14.0))]
    (row,) = summarize(spec.settings(), outcomes, spec.seeds)
    assert row["generalisation"] == [
        {"length": 200, "bit_errors": 47.0, "excess_bits": 2.5, "seeds": 3}
    ]
    table = format_table([row], budget=9.0).splitlines()
    assert table[0].endswith("L=200 excess") and table[1].endswith("2.50")


def test_sweep_without_ray_says_how_to_install_it(monkeypatch, capsys):
    import ntmkit.sweep

    monkeypatch.setattr(ntmkit.sweep, "ray_available", lambda: False)
    assert main(["sweep", "copy", "--seeds", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert "pip install 'ntmkit[sweep]'" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--grid", "train.bach=1,2"], "unknown --grid key 'train.bach'; valid: "),
        (["--grid", "train.batch_size=4,0"], "train.batch_size must be an integer >= 1, got 0"),
        (["--grid", "train.batch_size"], "--grid expects KEY=V1,V2,..."),
        (["--set", "train.lr=-1"], "train.lr must be a finite number > 0"),
    ],
)
def test_bad_sweep_flags_give_one_line_errors_and_write_nothing(argv, message, tmp_path, capsys):
    out = tmp_path / "sweep"
    assert main(["sweep", "copy", "--seeds", "2", "--out", str(out), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_a_trial_keeps_the_ngrams_excess_of_its_final_test():
    ngrams = {"length": 200, "bit_errors": 47.0, "perfect": 0.0, "cost_bits": 133.5,
              "samples": 100, "optimal_bits": 132.0}  # fmt: skip
    assert _final_row(ngrams, {"length": (200,)}, "excess_bits") == {
        "length": 200, "bit_errors": 47.0, "excess_bits": 1.5
    }  # fmt: skip
    copy = {"length": 20, "bit_errors": 0.5, "perfect": 0.9, "cost_bits": 2.0, "samples": 100}
    assert _final_row(copy, {"length": (20,)}, "bit_errors") == {"length": 20, "bit_errors": 0.5}
    assert _final_row(copy, {"length": (20,)}, "cost_bits") == {
        "length": 20, "bit_errors": 0.5, "cost_bits": 2.0
    }  # fmt: skip


def test_the_summary_gives_priority_sort_seeds_their_cost():
    spec = SweepSpec("priority_sort", seeds=1)
    final = ({"length": 20, "bit_errors": 7.0, "cost_bits": 22.5},)
    outcomes = [TrialOutcome("default", 0, "not_converged", 10, 160, 9.0, 22.5, final)]
    rows = summarize(spec.settings(), outcomes, spec.seeds)
    assert rows[0]["generalisation"][0]["cost_bits"] == 22.5
    table = format_table(rows, budget=9.0).splitlines()
    assert table[0].endswith("L=20 cost") and table[1].endswith("22.50")
