"""Observed segregation of Essen from the Zensus 2011 grid, and the model's start values.

Three figures of foreigners vs the rest of the residents, computed from the census files of
the Essen bundle (``sim/inputs/data/essen/``):

- **D over 1 km cells**: the index of dissimilarity over Essen's 1 km census cells. A cell's
  residents are its ``Einwohner`` × ``frac_in_city`` (the share of the cell's area inside the
  city, as the model's start state takes them), its foreigners those residents × ``Auslaender_A``
  / 100. Cells whose foreign share is suppressed or missing (4 cells, 61 residents inside the
  city) are left out; cells without residents add nothing.
- **Moran's I over 1 km cells**: of the foreign share of the same cells (the cells left out
  and the empty ones are outside the mask), queen contiguity on the 1 km lattice with
  row-standardised weights: :func:`sim.model.segregation.morans_i`, the function and the
  neighbours of the model's ``morans_i_income`` and ``morans_i_origin_1km``.
- **D over the 50 Stadtteile**: the census publishes no Stadtteil figures, so each 1 km
  cell's residents (inside the city) are spread over its 100 m cells inside the city in
  proportion to their dwellings (Zensus 2011, ``grid100m_stadtteil_lookup.parquet``; by the
  cell's area inside each Stadtteil, ``grid1km_stadtteil_shares.parquet``, where none of its
  100 m cells has a dwelling) and assigned to the Stadtteil of each 100 m cell's centre; the
  foreigners at the 1 km cell's share. Cells left out as above.

The model's group is persons in households with a **migration background**; the census's is
**foreign nationals** (persons). The model's start state draws a household's migration
background with a probability proportional to its cell's foreign share
(:mod:`sim.inputs.realpopulation`, factor 202,896 / 99,518), so its start values of the
indices are comparable with these census values, not equal (households, not persons;
random draws; the cap at 1).

The census's share of residents under 18 (``unter18_A`` of the same cells) is printed too.

    python -m calibration.essen_targets                    # the census values
    python -m calibration.essen_targets --model 20000      # and the model's start (20,000 hh)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from sim import segregation

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "sim" / "inputs" / "data" / "essen"
KM = 1000
METRICS = ("dissimilarity_origin_1km", "morans_i_origin_1km", "dissimilarity_origin_quartiers")
"""The model metrics the census figures are compared with."""


def km_cells(bundle: Path = BUNDLE) -> pd.DataFrame:
    """One row per 1 km census cell touching Essen: ``x, y`` (centre, EPSG:3035),
    ``frac_in_city``, ``residents`` (Einwohner × frac_in_city), ``foreign_share`` (NaN where
    the census gives none)."""
    raw = pd.read_parquet(bundle / "zensus2011_1km.parquet")
    wide = raw.set_index(["x", "y", "attribute"])["value"].unstack("attribute")
    frac = raw.groupby(["x", "y"])["frac_in_city"].first().reindex(wide.index)
    out = pd.DataFrame({
        "frac_in_city": frac.to_numpy(float),
        "residents": np.nan_to_num(wide["Einwohner"].to_numpy(float)) * frac.to_numpy(float),
        "foreign_share": wide["Auslaender_A"].to_numpy(float) / 100.0,
        "under_18_share": wide["unter18_A"].to_numpy(float) / 100.0,
    }, index=wide.index).reset_index()
    out["x"] = out["x"].astype(np.int64)
    out["y"] = out["y"].astype(np.int64)
    return out


def under_18_share(km: pd.DataFrame | None = None) -> float:
    """Share of residents under 18 (``unter18_A``), residents as above, cells without the
    share left out."""
    km = km_cells() if km is None else km
    used = km[(km["residents"] > 0) & km["under_18_share"].notna()]
    return float((used["residents"] * used["under_18_share"]).sum() / used["residents"].sum())


def _used(km: pd.DataFrame) -> pd.DataFrame:
    """Cells with residents and a known foreign share."""
    return km[(km["residents"] > 0) & km["foreign_share"].notna()]


def dissimilarity_1km(km: pd.DataFrame | None = None) -> float:
    """D of foreigners vs the rest over the 1 km cells (see the module doc)."""
    used = _used(km_cells() if km is None else km)
    residents = used["residents"].to_numpy()
    return segregation.dissimilarity(residents * used["foreign_share"].to_numpy(), residents)


def morans_i_1km(km: pd.DataFrame | None = None) -> float:
    """Moran's I of the foreign share over the 1 km cells (queen, row-standardised)."""
    used = _used(km_cells() if km is None else km)
    col = (used["x"].to_numpy() // KM)
    row = (used["y"].to_numpy() // KM)
    col, row = col - col.min(), row - row.min()
    width, height = int(col.max()) + 1, int(row.max()) + 1
    values = np.zeros(width * height)
    mask = np.zeros(width * height, bool)
    values[row * width + col] = used["foreign_share"].to_numpy()
    mask[row * width + col] = True
    return segregation.morans_i(values, width, height, mask=mask)


def stadtteil_counts(bundle: Path = BUNDLE, km: pd.DataFrame | None = None) -> pd.DataFrame:
    """Residents and foreigners per Stadtteil (index ``stadtteil_nr``; see the module doc)."""
    used = _used(km_cells(bundle) if km is None else km).set_index(["x", "y"])
    lookup = pd.read_parquet(bundle / "grid100m_stadtteil_lookup.parquet")
    lookup = lookup.assign(kx=lookup["x"] // KM * KM + KM // 2,
                           ky=lookup["y"] // KM * KM + KM // 2)
    lookup = lookup[pd.MultiIndex.from_arrays([lookup["kx"], lookup["ky"]]).isin(used.index)]
    dwellings = lookup.groupby(["kx", "ky"])["dwellings_2011"].transform("sum")
    pieces = lookup[dwellings > 0]
    key = pd.MultiIndex.from_arrays([pieces["kx"], pieces["ky"]])
    weight = pieces["dwellings_2011"].to_numpy(float) / dwellings[dwellings > 0].to_numpy(float)
    parts = [pd.DataFrame({"stadtteil_nr": pieces["stadtteil_nr"].to_numpy(),
                           "residents": used["residents"].reindex(key).to_numpy() * weight,
                           "share": used["foreign_share"].reindex(key).to_numpy()})]
    covered = set(zip(pieces["kx"], pieces["ky"], strict=True))
    rest = used[[k not in covered for k in used.index]]
    if len(rest):
        shares = pd.read_parquet(bundle / "grid1km_stadtteil_shares.parquet")
        shares = shares.set_index(["x", "y"]).loc[
            lambda s: s.index.isin(rest.index)].reset_index()
        total = shares.groupby(["x", "y"])["share_of_cell_area"].transform("sum")
        k = pd.MultiIndex.from_arrays([shares["x"], shares["y"]])
        parts.append(pd.DataFrame({
            "stadtteil_nr": shares["stadtteil_nr"].to_numpy(),
            "residents": rest["residents"].reindex(k).to_numpy()
            * (shares["share_of_cell_area"] / total).to_numpy(),
            "share": rest["foreign_share"].reindex(k).to_numpy()}))
    pieces = pd.concat(parts, ignore_index=True)
    pieces["foreigners"] = pieces["residents"] * pieces["share"]
    return pieces.groupby("stadtteil_nr")[["residents", "foreigners"]].sum()


def dissimilarity_stadtteile(bundle: Path = BUNDLE) -> float:
    """D of foreigners vs the rest over the 50 Stadtteile (see the module doc)."""
    counts = stadtteil_counts(bundle)
    return segregation.dissimilarity(counts["foreigners"].to_numpy(),
                                     counts["residents"].to_numpy())


def census_values(bundle: Path = BUNDLE) -> dict[str, float]:
    """The three census figures of segregation and the share under 18, keyed by the model
    metric they are compared with."""
    km = km_cells(bundle)
    values = dict(zip(METRICS, (dissimilarity_1km(km), morans_i_1km(km),
                                dissimilarity_stadtteile(bundle)), strict=True))
    return {**values, "share_under_18": under_18_share(km)}


def model_start_values(households: int | None, seeds: list[int]) -> pd.DataFrame:
    """The model's start values of the three indices (``scenarios/essen.toml``), per seed."""
    import sim

    values = {"outcomes.cell_snapshots": False, "outcomes.per_quartier": False}
    if households is not None:
        values["city.households"] = households
    scenario = sim.load_scenario(ROOT / "scenarios" / "essen.toml").with_values(values)
    rows = {}
    for seed in seeds:
        out = sim.build_model(scenario, seed=seed).outcomes()
        city = out[(out["scope"] == "city") & out["metric"].isin(METRICS)]
        rows[seed] = city.set_index("metric")["value"]
    return pd.DataFrame(rows).T.rename_axis("seed")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", type=int, default=None, metavar="HOUSEHOLDS", nargs="?",
                   const=0, help="also the model's start values (0: the whole city)")
    p.add_argument("--seeds", type=int, default=1, help="seeds 1..N for --model")
    a = p.parse_args()
    census = census_values()
    print("Essen, Zensus 2011, foreigners vs the rest:")
    for name in METRICS:
        print(f"  {name:32s} {census[name]:.4f}")
    print(f"Essen, Zensus 2011, share of residents under 18: {census['share_under_18']:.4f}")
    if a.model is not None:
        households = a.model or None
        start = model_start_values(households, list(range(1, a.seeds + 1)))
        size = f"{households:,} households" if households else "the whole city"
        print(f"Model start (scenarios/essen.toml, {size}, seeds 1-{a.seeds}), persons with "
              "a migration background vs the rest (mean over seeds):")
        for name in METRICS:
            print(f"  {name:32s} {start[name].mean():.4f}")


if __name__ == "__main__":
    main()
