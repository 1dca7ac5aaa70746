"""The care levers act in the direction theory says, in the lever's quartier and citywide.

- ``nursing_homes``: more nursing-home places lower unmet inpatient care (persons who need a
  home and find no place in the city).
- ``tagespflege``: day-care places keep some who need a home at home, so fewer find no place.
- ``ambulant_care``: a new ambulant service lowers unmet ambulant care.

Each lever scenario is run against the baseline with the same seeds (common random numbers) at
10,000 households for 2024-2030. So that there is unmet care to lower, the runs use a city with
scarcer places or services than the baseline (stated per test). Effects are summed over
2025-2030 and pooled over three seeds; the lever's own quartier and the city must improve, and
no quartier may get clearly worse (by more than 2 Poisson standard deviations of its baseline
count: people kept at home or placed elsewhere shift who needs a place later).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pytest

import sim
from tests.conftest import SCENARIOS

SEEDS = (1, 2, 3)
YEARS = slice(2025, 2030)
SCARCE_HOMES = {"parameters.services.nursing_places_per_1000": 7.0}  # baseline 9.8
SCARCE_SERVICES = {"parameters.services.ambulant_clients_per_1000": 8.0}  # baseline 13.2


@cache
def _table(name: str, seed: int, overrides: tuple) -> pd.DataFrame:
    sc = sim.load_scenario(SCENARIOS / f"{name}.toml").with_values(
        {"city.households": 10_000, "years": 7, "outcomes.cell_snapshots": False,
         **dict(overrides)})
    out = sim.build_model(sc, seed=seed).run().outcomes()
    return out.pivot_table(index=["year", "scope"], columns="metric", values="value",
                           observed=True)


def _pooled(name: str, overrides: dict, metric: str) -> pd.Series:
    """The metric summed over 2025-2030 and the seeds, per scope."""
    key = tuple(sorted(overrides.items()))
    return sum(_table(name, s, key).loc[YEARS, metric].groupby(level="scope").sum()
               for s in SEEDS)


def _check_direction(lever: str, overrides: dict, metric: str, quartier: str) -> None:
    base = _pooled("baseline", overrides, metric)
    with_lever = _pooled(lever, overrides, metric)
    assert base["city"] > 0 and base[quartier] > 0, "no unmet care to lower"
    assert with_lever[quartier] < base[quartier], (quartier, base[quartier],
                                                   with_lever[quartier])
    assert with_lever["city"] < base["city"], (base["city"], with_lever["city"])
    worse = with_lever[with_lever > base + 2.0 * np.sqrt(base + 1.0)]
    assert worse.empty, f"unmet care rose in {list(worse.index)}"


@pytest.mark.slow
def test_more_nursing_home_places_lower_unmet_care():
    _check_direction("nursing_home_zeche", SCARCE_HOMES, "unmet_care_inpatient",
                     "zeche_glueckauf")
    _check_direction("nursing_home_zeche", SCARCE_HOMES, "unmet_care", "zeche_glueckauf")


@pytest.mark.slow
def test_tagespflege_lowers_unmet_inpatient_care():
    _check_direction("tagespflege_zeche", SCARCE_HOMES, "unmet_care_inpatient",
                     "zeche_glueckauf")
    kept = _pooled("tagespflege_zeche", SCARCE_HOMES, "care_tagespflege")
    assert kept["zeche_glueckauf"] > 0
    assert kept.drop(["zeche_glueckauf", "city"]).eq(0).all()


@pytest.mark.slow
def test_ambulant_service_lowers_unmet_ambulant_care():
    _check_direction("ambulant_care_hochfeld", SCARCE_SERVICES, "unmet_care_ambulant",
                     "hochfeld")


def test_new_home_adds_its_places_from_the_opening_year():
    """Exact: the lever changes nothing before 2025 (common random numbers) and adds 80
    nursing-home places to its quartier from 2025."""
    key = tuple(sorted(SCARCE_HOMES.items()))
    base = _table("baseline", 1, key)
    lever = _table("nursing_home_zeche", 1, key)
    pd.testing.assert_frame_equal(base.loc[[2023, 2024]], lever.loc[[2023, 2024]])
    places = (lever["nursing_home_places"] - base["nursing_home_places"]).unstack("scope")
    assert (places.loc[2025:, "zeche_glueckauf"] == 80).all()
    assert (places.loc[2025:, "city"] == 80).all()
    others = places.drop(columns=["zeche_glueckauf", "city"])
    assert np.allclose(others.to_numpy(), 0.0)


@pytest.mark.parametrize("kind", ["nursing_homes", "tagespflege"])
def test_unknown_quartier_is_refused(tmp_path, kind):
    (tmp_path / "base.toml").write_text((SCENARIOS / "baseline.toml").read_text())
    (tmp_path / "calibrated.toml").write_text((SCENARIOS / "calibrated.toml").read_text())
    (tmp_path / "bad.toml").write_text(
        f'extends = "base.toml"\nname = "bad"\n[[levers.{kind}]]\nquartier = "atlantis"\n'
        "places = 10\n")
    with pytest.raises(sim.InputError, match=rf"bad.toml: levers.{kind}.0.quartier"):
        sim.load_scenario(tmp_path / "bad.toml")


def test_places_must_be_positive(tmp_path):
    (tmp_path / "base.toml").write_text((SCENARIOS / "baseline.toml").read_text())
    (tmp_path / "calibrated.toml").write_text((SCENARIOS / "calibrated.toml").read_text())
    (tmp_path / "bad.toml").write_text(
        'extends = "base.toml"\nname = "bad"\n[[levers.nursing_homes]]\n'
        'quartier = "hochfeld"\nplaces = 0\n')
    with pytest.raises(sim.InputError, match=r"bad.toml: levers.nursing_homes.0.places"):
        sim.load_scenario(tmp_path / "bad.toml")
