"""How much common random numbers narrow the confidence intervals of a comparison.

Runs the same paired comparison twice, once with common random numbers (replicate r of
every scenario uses seed + r) and once with independent seeds, and prints the ratio of the
95 % half-widths (common / independent) per outcome: below 1 means narrower intervals for the
same number of runs. Two settings:

- a demographic lever: total fertility rate 1.39 vs 1.6, 1,000 households, 5 years, all
  citywide demographic stocks and years (the setting of tests/test_comparison.py);
- a housing lever: ``scenarios/rent_mix_quota_30.toml`` vs the baseline, 10,000 households,
  10 years, 12 headline outcomes in the final year.

    python benchmarks/crn.py            # 8 replications
    python benchmarks/crn.py --replications 16
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import sim

ROOT = Path(__file__).resolve().parent.parent
STOCKS = ("population", "households", "mean_age", "old_age_ratio", "share_under_18",
          "share_65plus", "mean_household_size", "share_households_size_1",
          "share_households_size_2", "share_households_size_3", "share_households_size_4",
          "share_households_size_5plus", "vacancy_rate")
HEADLINE = ("population", "share_poor", "social_housing_share", "mean_rent_burden",
            "dissimilarity_income_quartiers", "dissimilarity_income_cells", "morans_i_income",
            "out_migrants", "out_migrants_cause_rent", "out_migrants_poor",
            "moves_within_city", "vacancy_rate")


def half_widths(result, metrics, final_only):
    t = result.table
    keep = (t["scope"] == "city") & t["metric"].isin(metrics)
    keep &= (t["year"] == t["year"].max()) if final_only else (t["year"] > t["year"].min())
    return t[keep].set_index(["metric", "year"])["half_width"]


def ratio(base, policy, replications, years, metrics, final_only, folder):
    crn = sim.compare(base, [policy], replications=replications, years=years,
                      out=folder / "crn", workers=2)
    ind = sim.compare(base, [policy], replications=replications, years=years,
                      out=folder / "independent", independent_seeds=True, workers=2)
    return half_widths(crn, metrics, final_only) / half_widths(ind, metrics, final_only)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--replications", type=int, default=8)
    args = p.parse_args()
    baseline = sim.load_scenario(ROOT / "scenarios" / "baseline.toml")
    folder = Path(tempfile.mkdtemp(prefix="quartier-crn-"))

    base = baseline.with_values({"city.households": 1000, "name": "base"})
    policy = base.with_values({"parameters.demography.total_fertility_rate": 1.6,
                               "name": "more_children"})
    r = ratio(base, policy, args.replications, 5, STOCKS, False, folder / "tfr")
    print(f"demographic lever (TFR 1.6), {len(r)} (metric, year) cells: median ratio "
          f"{r.median():.2f}, narrower in {(r < 1).mean():.0%}")

    quota = sim.load_scenario(ROOT / "scenarios" / "rent_mix_quota_30.toml")
    base = baseline.with_values({"city.households": 10_000})
    policy = quota.with_values({"city.households": 10_000})
    r = ratio(base, policy, args.replications, 10, HEADLINE, True, folder / "quota")
    print("\n| outcome (final year) | half-width ratio, common / independent |")
    print("|---|---:|")
    for (metric, _), value in r.items():
        print(f"| {metric} | {value:.2f} |")
    print(f"\nhousing lever (30 % quota): median ratio {r.median():.2f}, narrower in "
          f"{(r < 1).mean():.0%} of {len(r)} outcomes")


if __name__ == "__main__":
    main()
