"""Bad scenario input, each example of the hardening issue: ``quartier scenario`` and
``quartier run`` both answer with one line naming the file and the field, exit status 2, and
write nothing (an earlier run's folder stays as it was)."""

from __future__ import annotations

import resource
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.inputs.memory import GIB, memory_needed, memory_problem
from sim.scenario.loading import MAX_EXTENDS_DEPTH

from .conftest import SCENARIOS

BAD = {
    "quartier_unknown": ('[levers.rent_mixing]\nsocial_share_target = {atlantis = 0.3}\n',
                         "levers.rent_mixing.social_share_target.atlantis", "unknown quartier"),
    "social_rent_range": ('[parameters.housing]\nsocial_rent_existing_min_m2 = 9.0\n'
                          'social_rent_existing_max_m2 = 4.0\n',
                          "parameters.housing.social_rent_existing_min_m2", "above"),
    "median_income_inf": ('[parameters.income]\nmedian_equivalised_income = inf\n',
                          "parameters.income.median_equivalised_income", "finite"),
    "rent_inf": ('[parameters.housing]\nrent_m2 = inf\n', "parameters.housing.rent_m2",
                 "finite"),
    "utility_stay_nan": ('[parameters.mobility]\nutility_stay = nan\n',
                         "parameters.mobility.utility_stay", "finite"),
    "utility_outside_minus_inf": ('[parameters.mobility]\nutility_outside = -inf\n',
                                  "parameters.mobility.utility_outside", "finite"),
    "shares_over_one": ('[parameters.housing]\nowner_occupied_share = 0.9\n'
                        'social_housing_share = 0.9\n',
                        "parameters.housing.social_housing_share", "at most 1"),
    "partnership_ages": ('[parameters.demography]\npartnership_min_age = 60\n'
                         'partnership_max_age = 30\n',
                         "parameters.demography.partnership_min_age", "above"),
    "primary_ages_inverted": ('[parameters.services]\nprimary_school_ages = [9, 6]\n',
                              "parameters.services.primary_school_ages", "first ≤ last"),
    "care_bands_unsorted": ('[parameters.care]\nage_bands = [0, 75, 65, 85, 90]\n',
                            "parameters.care.age_bands", "increasing"),
    "care_share_nan": ('[parameters.care]\ninpatient_share = [0.05, 0.1, 0.12, 0.14, 0.18, '
                       '0.25, nan]\n', "parameters.care.inpatient_share", "finite"),
    "incentive_years": ('[levers.mvz.incentive]\nfrom_year = 2030\nuntil_year = 2026\n',
                        "levers.mvz.incentive.from_year", "above"),
    "schelling_grid_too_large": ('model = "schelling"\n[schelling]\nwidth = 46000\n'
                                 'height = 46000\n', "schelling.width",
                                 "too large for this machine"),
}


def _scenario(tmp_path, name, body):
    path = tmp_path / f"{name}.toml"
    path.write_text(f'extends = "{SCENARIOS / "baseline.toml"}"\nname = "{name}"\nyears = 1\n'
                    f"{body}", encoding="utf-8")
    return path


def _one_line_error(result, *parts):
    assert result.exit_code == 2, result.output
    message = result.stderr.strip()
    assert "\n" not in message and "Traceback" not in message, message
    for part in parts:
        assert part in message, message
    return message


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_scenarios_are_one_clear_line_from_scenario_and_run(tmp_path, name):
    body, field, words = BAD[name]
    path = _scenario(tmp_path, name, body)
    runner = CliRunner()
    _one_line_error(runner.invoke(app, ["scenario", str(path)]), path.name, field, words)
    out = tmp_path / "earlier"
    out.mkdir()
    (out / "outcomes.parquet").write_bytes(b"the earlier run")
    result = runner.invoke(app, ["run", str(path), "--out", str(out), "-q"])
    _one_line_error(result, path.name, field, words)
    assert sorted(p.name for p in out.parent.iterdir() if p.name.startswith(".")) == []
    assert (out / "outcomes.parquet").read_bytes() == b"the earlier run"


def test_a_field_set_in_a_parent_file_is_named_with_that_file(tmp_path):
    parent = _scenario(tmp_path, "parent", '[parameters.demography]\npartnership_max_age = 30\n')
    child = tmp_path / "child.toml"
    child.write_text('extends = "parent.toml"\n[parameters.demography]\n'
                     'partnership_min_age = 40\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["scenario", str(child)])
    _one_line_error(result, "child.toml", "parameters.demography.partnership_min_age")
    assert parent.exists()


def test_a_too_deep_extends_chain_is_one_line(tmp_path):
    (tmp_path / "f0.toml").write_text(f'extends = "{SCENARIOS / "baseline.toml"}"\n')
    depth = 1200  # beyond Python's recursion limit
    for i in range(1, depth):
        (tmp_path / f"f{i}.toml").write_text(f'extends = "f{i - 1}.toml"\n')
    result = CliRunner().invoke(app, ["scenario", str(tmp_path / f"f{depth - 1}.toml")])
    _one_line_error(result, f"f{depth - 1}.toml", "extends", str(MAX_EXTENDS_DEPTH))
    # f{k} extends k more files, then baseline.toml and calibrated.toml
    ok = CliRunner().invoke(app, ["scenario", str(tmp_path / f"f{MAX_EXTENDS_DEPTH - 3}.toml")])
    assert ok.exit_code == 0, ok.output


@pytest.mark.parametrize("seed", [10**20, 2**63, -1])
def test_seeds_outside_the_generators_range_are_refused(tmp_path, seed):
    result = CliRunner().invoke(app, ["run", str(SCENARIOS / "baseline.toml"), "--seed",
                                      str(seed), "--out", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 2
    assert "--seed" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_memory_estimate_names_need_and_machine(baseline):
    large = baseline.with_values({"city.households": 20_000_000})
    assert memory_needed(large) > 20 * 10**6 * 1000  # about a kilobyte per household
    field, message = memory_problem(large, available=4 * GIB)
    assert field == "city.households"
    assert "20,000,000 households needs about" in message
    assert "this machine has 4.0 GiB available" in message
    assert memory_problem(baseline, available=4 * GIB) is None


def _limit_address_space():
    limit = 6 * GIB
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def test_twenty_million_households_under_a_memory_limit_are_refused_before_building(tmp_path):
    path = _scenario(tmp_path, "huge", "[city]\nhouseholds = 20000000\n")
    for command in (["scenario", path], ["run", path, "--out", tmp_path / "out", "-q"]):
        proc = subprocess.run([sys.executable, "-m", "sim.cli", *map(str, command)],
                              capture_output=True, text=True, timeout=300,
                              preexec_fn=_limit_address_space)
        assert proc.returncode == 2, proc.stderr
        line = proc.stderr.strip()
        assert "\n" not in line and "huge.toml: city.households: too large" in line
        assert "this machine has 6.0 GiB" in line
    assert not (tmp_path / "out").exists()


def test_a_sweep_seed_beyond_the_range_names_the_file_and_field(tmp_path):
    base = _scenario(tmp_path, "small", "[city]\nhouseholds = 150\n")
    sweep = tmp_path / "seeds.toml"
    sweep.write_text(f'base = "{base.name}"\nseed = {2**63 - 1}\nreplications = 2\n'
                     '[parameters]\n"parameters.mobility.move_rate_young" = [0.2]\n',
                     encoding="utf-8")
    result = CliRunner().invoke(app, ["sweep", str(sweep), "--out", str(tmp_path / "out"),
                                      "-w", "1", "-q"])
    _one_line_error(result, "seeds.toml: seed: must be between 0 and")
    assert not (tmp_path / "out").exists()


def test_a_census_year_that_is_no_year_is_named(tmp_path):
    """Found by the generated documents: a NaN census year was copied to the start year and
    the error named ``start_year`` instead of the field the file set."""
    path = tmp_path / "city.toml"
    path.write_text('name = "city"\n[city]\nhouseholds = 40\ncensus_year = nan\n',
                    encoding="utf-8")
    result = CliRunner().invoke(app, ["scenario", str(path)])
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert "city.toml: city.census_year:" in line and "\n" not in line, line


def test_an_input_error_in_a_worker_process_reaches_the_user_whole(tmp_path):
    """A scenario whose city files are missing fails in the runs' worker processes: the user
    gets the worker's one-line error naming the file, not a broken process pool (an
    InputError is rebuilt from its fields, also a subclass with its own signature)."""
    import pickle

    from sim.errors import InputError
    from sim.scenario.checks import ScenarioProblem

    for error in (InputError("a.toml", "city.households", "must be positive"),
                  ScenarioProblem("city.width", "too small", ("city.height", "too"))):
        back = pickle.loads(pickle.dumps(error))
        assert type(back) is type(error) and str(back) == str(error)
        assert back.__dict__ == error.__dict__
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    # its own boundaries file, named relative to its folder, is not there
    (folder / "essen_moved.toml").write_text(
        f'extends = "{(SCENARIOS / "essen.toml").as_posix()}"\nname = "moved"\n'
        '[city]\nboundaries = "boundaries.gpkg"\n', encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "sim.cli", "validate", str(folder / "essen_moved.toml"),
         "--households", "500", "--years", "1", "--replications", "2", "--workers", "2",
         "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "BrokenProcessPool" not in result.stderr
    assert "elsewhere/boundaries.gpkg: file not found" in result.stderr


def test_a_scenario_in_another_folder_finds_the_files_its_parent_names(tmp_path):
    """The city's files are named relative to the file that sets them: a planner's scenario
    in another folder that extends scenarios/essen.toml finds Essen's files; a file it names
    itself is relative to its own folder; the shipped scenarios' names stay as written."""
    from sim.scenario.loading import read_scenario

    (tmp_path / "mine.toml").write_text(
        f'extends = "{(SCENARIOS / "essen_historical.toml").as_posix()}"\nname = "mine"\n',
        encoding="utf-8")
    mine = read_scenario(tmp_path / "mine.toml")
    files = mine.city.referenced_files()
    assert files and all(mine.resolve_path(f).is_file() for f in files)
    shipped = read_scenario(SCENARIOS / "essen_historical.toml")
    assert shipped.city.boundaries == "../sim/inputs/data/essen/boundaries.gpkg"
    assert [f.file for f in mine.city.facilities] and all(
        mine.resolve_path(f.file).is_file() for f in mine.city.facilities)
    (tmp_path / "own.toml").write_text(
        'extends = "mine.toml"\nname = "own"\n[city]\nboundaries = "my.gpkg"\n',
        encoding="utf-8")
    own = read_scenario(tmp_path / "own.toml")
    assert own.resolve_path(own.city.boundaries) == tmp_path / "my.gpkg"
    assert own.resolve_path(own.city.census[0]).is_file()
