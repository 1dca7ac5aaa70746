"""Scenario files: validation, ``extends``, errors that name file and field, content hash."""

from __future__ import annotations

import pandas as pd
import pytest

import sim
from sim.errors import InputError

from .conftest import SCENARIOS


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_scenario_file_loads():
    files = sorted(SCENARIOS.glob("*.toml"))
    assert files, "no scenario files"
    for path in files:
        sc = sim.load_scenario(path)
        assert sc.name
        assert sc.years >= 1


def test_every_scenario_file_runs():
    """Smoke run of every scenario file (small, 2 years), reproducible with a fixed seed."""
    for path in sorted(SCENARIOS.glob("*.toml")):
        sc = sim.load_scenario(path)
        small = {"years": 2}
        if sc.model == "schelling":
            small.update({"schelling.width": 20, "schelling.height": 20})
        elif sc.levers.mvz is None and sc.levers.public_transport is None:
            small["city.households"] = 800
        else:
            small["years"] = 1  # levers placed on cells need the scenario's own grid
        sc = sc.with_values(small)
        a = sim.build_model(sc, seed=5).run().outcomes()
        b = sim.build_model(sc, seed=5).run().outcomes()
        assert len(a) > 0 and a["value"].notna().any(), path.name
        pd.testing.assert_frame_equal(a, b)


def test_baseline_values(baseline):
    assert baseline.name == "baseline"
    assert baseline.city.kind == "ruhrstadt"
    assert baseline.city.households is None  # 30,000 for Ruhrstadt
    assert baseline.parameters.demography.total_fertility_rate == pytest.approx(1.39)


def test_extends_overrides_only_what_changes(tmp_path):
    write(tmp_path, "base.toml", 'name = "base"\nyears = 7\n[parameters.demography]\n'
                                 'total_fertility_rate = 1.2\nleaving_home_rate = 0.2\n')
    child = write(tmp_path, "child.toml", 'extends = "base.toml"\n'
                                          '[parameters.demography]\ntotal_fertility_rate = 1.6\n')
    sc = sim.load_scenario(child)
    assert sc.name == "child"  # names are not inherited
    assert sc.years == 7
    assert sc.parameters.demography.total_fertility_rate == 1.6
    assert sc.parameters.demography.leaving_home_rate == 0.2


@pytest.mark.parametrize(
    ("text", "field", "phrase"),
    [
        ('name = "x"\n[city]\nhousholds = 10\n', "city.housholds", "unknown key"),
        ('name = "x"\n[city]\nhouseholds = -5\n', "city.households", "greater than 0"),
        ('name = "x"\n[parameters.demography]\ntotal_fertility_rate = "many"\n',
         "parameters.demography.total_fertility_rate", "valid number"),
        ('name = "x"\nyears = 0\n', "years", "greater than or equal to 1"),
        ('name = "x"\n[levers]\ncongestion_charge = 1\n', "levers.congestion_charge",
         "unknown key"),
        ('name = "x"\n[[levers.mvz.centres]]\ncell = [999, 0]\n', "levers.mvz.centres.0.cell",
         "outside the grid"),
        ('name = "x"\n[[levers.school_investment]]\nquartier = "atlantis"\n',
         "levers.school_investment.0.quartier", "unknown quartier"),
        ('name = "x"\n[city]\nkind = "zensus"\n', "city", "zensus_file"),
    ],
)
def test_bad_values_name_file_and_field(tmp_path, text, field, phrase):
    path = write(tmp_path, "bad.toml", text)
    with pytest.raises(InputError) as info:
        sim.load_scenario(path)
    line = str(info.value)
    assert "\n" not in line
    assert "bad.toml" in line
    assert f": {field}:" in line
    assert phrase in line


def test_error_names_the_file_that_set_the_field(tmp_path):
    write(tmp_path, "parent.toml", 'name = "p"\n[city]\nvacancy_rate = 0.9\n')
    child = write(tmp_path, "child.toml", 'extends = "parent.toml"\nyears = 3\n')
    with pytest.raises(InputError) as info:
        sim.load_scenario(child)
    assert "parent.toml: city.vacancy_rate" in str(info.value)


def test_unparsable_toml(tmp_path):
    path = write(tmp_path, "broken.toml", 'name = "unterminated\n')
    with pytest.raises(InputError, match=r"broken\.toml: not valid TOML"):
        sim.load_scenario(path)


def test_missing_file_and_missing_parent(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        sim.load_scenario(tmp_path / "nope.toml")
    path = write(tmp_path, "orphan.toml", 'extends = "gone.toml"\n')
    with pytest.raises(InputError, match=r"orphan\.toml: extends: file not found: gone\.toml"):
        sim.load_scenario(path)


def test_extends_cycle(tmp_path):
    write(tmp_path, "a.toml", 'extends = "b.toml"\n')
    b = write(tmp_path, "b.toml", 'extends = "a.toml"\n')
    with pytest.raises(InputError, match="extends: cycle"):
        sim.load_scenario(b)


def test_content_hash_tracks_content_not_description(baseline):
    from .conftest import variant

    same = variant(baseline, description="another text")
    other = variant(baseline, **{"parameters.demography.total_fertility_rate": 1.5})
    assert same.content_hash() == baseline.content_hash()
    assert other.content_hash() != baseline.content_hash()
    assert len(baseline.content_hash()) == 64


def test_with_values_sets_dotted_paths(baseline):
    sc = baseline.with_values({"parameters.demography.total_fertility_rate": 1.6, "years": 3})
    assert sc.parameters.demography.total_fertility_rate == 1.6 and sc.years == 3
    assert baseline.parameters.demography.total_fertility_rate == pytest.approx(1.39)
    with pytest.raises(InputError, match="parameters.demografy.x: no such scenario field"):
        baseline.with_values({"parameters.demografy.x": 1})
    with pytest.raises(InputError, match="city.households"):
        baseline.with_values({"city.households": -1})
