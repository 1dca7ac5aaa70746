"""The baseline's causes of out-migration next to the motives that moving surveys report.

The model's causes (``out_migrants_cause_*``) are counterfactual causes of the search
(``docs/ODD.md`` 7.8); the surveys ask people for their main motive. The two are compared
through a mapping of model causes to survey motives (:data:`MAPPING`), which is a judgement,
not an identity: surveys have no motive for the model's ``care``, ``health``, ``school`` or
``no_dwelling`` or ``commuting``; their "job" and "education" motives are the model's base
schedule of young adults' moves (``job``, ``education``), their partner motive the model's moves
to a partner outside the city (``partner``); their "family" and "personal" motives have no part
in the model, which counts such departures under ``other`` (the base rate of searching by life
stage and life events). Families' moves to the surrounding region (``suburb``) have no survey
share of their own.

Survey rows are read from ``calibration/targets/migration_motives.csv`` (a verbatim copy of the
shared calibration data, section 17 of its SOURCES.md) by date, region, indicator and group.

    python -m calibration.motives                       # 30,000 households, 20 years, 3 seeds
    python -m calibration.motives --households 10000 --seeds 1 --out motives.md
"""

from __future__ import annotations

import argparse
import csv
import re
from pathlib import Path

import pandas as pd

import sim
from sim.state.outcomes import CAUSES

ROOT = Path(__file__).resolve().parent.parent
MOTIVES_FILE = Path(__file__).resolve().parent / "targets" / "migration_motives.csv"
PREFIX = "out_migrants_cause_"

# (date, region, indicator, group) of the survey rows shown, and who was asked.
SURVEY_ROWS = {
    "housing_essen": (("1999", "Essen", "main_motive_share_housing_or_ownership",
                       "out-movers to Umland"), "Essen 1999, out-movers to the Umland"),
    "family_heiligenhaus": (("2013", "Heiligenhaus (Kreis Mettmann)",
                             "motive_share_out_movers", "family reasons"),
                            "Heiligenhaus 2013, out-movers (% of mentions)"),
    "personal_heiligenhaus": (("2013", "Heiligenhaus", "motive_share_out_movers",
                               "personal reasons"),
                              "Heiligenhaus 2013, out-movers (% of mentions)"),
    "job_2008": (("2008", "Germany", "main_reason_last_move", "job"),
                 "Germany 2008, all movers (commercial survey)"),
    "partner_2008": (("2008", "Germany", "main_reason_last_move", "moved in with partner"),
                     "Germany 2008, all movers (commercial survey)"),
    "space_2015": (("2015", "Germany", "move_motive_share", "lack of space"),
                   "Germany 2015, all movers (commercial survey)"),
    "housing_2013": (("2013", "Germany", "main_reason_move",
                      "optimise housing situation (more space, ownership)"),
                     "Germany 2013, all movers (commercial survey)"),
    "job_2013": (("2013", "Germany", "main_reason_move", "job"),
                 "Germany 2013, all movers (commercial survey)"),
    "partner_2013": (("2013", "Germany", "main_reason_move", "moving in with partner"),
                     "Germany 2013, all movers (commercial survey)"),
}

# Model cause(s) → survey motive and the survey rows that speak of it.
MAPPING = (
    (("rent", "crowding", "no_dwelling"), "housing situation (cost, space, ownership)",
     ("housing_essen", "space_2015", "housing_2013")),
    (("neighbourhood",), "neighbourhood / neighbours (no share for movers)", ()),
    (("health", "care"), "doctors and care (no survey figure)", ()),
    (("school",), "children's school or Kita (no survey figure)", ()),
    (("job", "education"), "job and education elsewhere (the young adults' base schedule)",
     ("job_2008", "job_2013")),
    (("commuting",), "cost of commuting (no survey figure)", ()),
    (("partner",), "moving in with a partner elsewhere",
     ("partner_2008", "partner_2013")),
    (("suburb",), "families to the surrounding region (base rate; their motive not modelled)",
     ()),
    (("other",), "family and personal reasons (not modelled as dissatisfaction)",
     ("family_heiligenhaus", "personal_heiligenhaus")),
)


def survey_value(text: str) -> float:
    """The number of a survey cell: the one in parentheses if there is one (``"ein Drittel
    (~33)"`` → 33, ``"1/8 (12.5 DERIVED)"`` → 12.5), else the first (``"rund 15"`` → 15)."""
    match = re.search(r"\(\D*?(\d+(?:\.\d+)?)", text) or re.search(r"(\d+(?:\.\d+)?)", text)
    if match is None:
        raise ValueError(f"no number in {text!r}")
    return float(match.group(1))


def survey_shares(path: Path = MOTIVES_FILE) -> dict[str, tuple[float, str, str]]:
    """The survey rows of :data:`SURVEY_ROWS`: key → (share in %, group, who was asked)."""
    with path.open(encoding="utf-8") as f:
        rows = {(r["date"], r["region"], r["indicator"], r["group"]): r
                for r in csv.DictReader(f)}
    return {key: (survey_value(rows[where]["value"]), where[3], who)
            for key, (where, who) in SURVEY_ROWS.items()}


def model_shares(households: int, years: int, seeds: list[int]) -> pd.Series:
    """Each cause's share (%) of all out-migrants (persons) of the baseline, summed over the
    simulated years and the seeds."""
    scenario = sim.load_scenario(ROOT / "scenarios" / "baseline.toml").with_values(
        {"city.households": households, "years": years, "outcomes.cell_snapshots": False})
    totals = pd.Series(0.0, index=list(CAUSES))
    for seed in seeds:
        out = sim.build_model(scenario, seed=seed).run(years).outcomes()
        city = out[(out["scope"] == "city") & out["metric"].str.startswith(PREFIX)]
        sums = city.groupby("metric")["value"].sum()
        totals += sums.rename(lambda m: m.removeprefix(PREFIX)).reindex(totals.index,
                                                                         fill_value=0.0)
    return 100 * totals / totals.sum()


def table(shares: pd.Series, survey: dict[str, tuple[float, str, str]]) -> str:
    """The markdown table: model causes and their share, the survey motive, its shares."""
    lines = ["| model cause | share of out-migrants (model) | survey motive | survey shares |",
             "| --- | ---: | --- | --- |"]
    for causes, motive, keys in MAPPING:
        model = " + ".join(f"{shares[c]:.1f} %" for c in causes)
        if len(causes) > 1:
            model += f" = {sum(shares[c] for c in causes):.1f} %"
        found = "; ".join(f"{survey[k][0]:g} % {survey[k][1]} ({survey[k][2]})"
                          for k in keys) or "–"
        lines.append(f"| {', '.join(f'`{c}`' for c in causes)} | {model} | {motive} | "
                     f"{found} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--households", type=int, default=30_000)
    p.add_argument("--years", type=int, default=20)
    p.add_argument("--seeds", type=int, default=3, help="seeds 1..N")
    p.add_argument("--out", type=Path, default=None, help="also write the table here")
    a = p.parse_args()
    shares = model_shares(a.households, a.years, list(range(1, a.seeds + 1)))
    text = (f"Baseline, {a.households:,} households, {a.years} years, seeds 1-{a.seeds}: "
            f"out-migrants (persons) by cause, all years.\n\n"
            + table(shares, survey_shares()))
    print(text)
    if a.out is not None:
        a.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
