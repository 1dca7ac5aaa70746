"""Every simulated figure quoted in README.md and docs/*.md, made by one script.

    python docs/figures.py            # re-measure the cheap figures and fill their blocks
    python docs/figures.py --check    # re-measure, print the blocks that differ, write nothing
    python docs/figures.py --all      # also the expensive ones (hours; see --list)
    python docs/figures.py --list     # the sources: command, scale, seeds, cost

A figure sits in a Markdown file between markers, inline or over several lines::

    D is <!-- figure:store/base/combined/dissimilarity_income_quartiers -->0.285<!-- /figure -->

The key's first part names the source (the command that measures it); the rest says which
number or table of it. The script runs each source once, in a fresh scratch folder (the
results store keys runs by scenario content, not by code, so results of an older model are
never reused), fills every block and leaves all other text alone.

Cheap sources (``store``, ``session``, ``validation``, ``calibrated``) run by default.
Expensive ones (``recorded/...``: calibration, sensitivity, benchmarks, Essen) are labelled in
their block with the revision and date they were measured, and are re-measured only with
``--all``. ``tests/test_figures.py`` reruns the cheap ones and fails when a block differs.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"<!-- figure:(?P<key>[^ ]+?) -->(?P<body>.*?)<!-- /figure -->", re.S)
MINUS = "\u2212"

# ---------------------------------------------------------------------------------------------
# The runs behind the comparisons: the main job's five scenarios and the other levers' files,
# 5 paired replications (seeds 1-5) of 20 years, the default city (30,000 households).
BASELINE = "scenarios/baseline.toml"
MAIN = ["rent_mix_quota_30", "mvz_hochfeld", "ticket_sozialticket", "combined"]
LEVERS = ["mvz_centre", "mvz_incentive", "ticket_58", "ticket_free", "school_hochfeld",
          "rent_mix_no_action", "rent_mix_binding_extension"]
REPLICATIONS = 5


@dataclass
class Source:
    """A command whose results figures quote."""

    name: str
    command: str
    scale: str
    cost: str                      # "cheap" (default run) or "expensive" (--all)
    run: Callable[[Path], object] | None = None
    render: Callable[[object, list[str]], str] | None = None
    notes: str = ""
    keys: list[str] = field(default_factory=list)


def fmt_num(x: float, digits: int = 0, sign: bool = False) -> str:
    """1,234.5 with a real minus sign; ``sign`` adds + to positive numbers."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    text = f"{x:+,.{digits}f}" if sign else f"{x:,.{digits}f}"
    if text.lstrip("+-").strip("0.,") == "":
        text = text.lstrip("+-") if not sign else "±" + text.lstrip("+-")
    return text.replace("-", MINUS)


# ---------------------------------------------------------------------------------------------
# store: the paired comparisons
def is_share(metric: str) -> bool:
    """Shares and rates print in % (as ``quartier compare`` does); burdens and D as numbers."""
    return (metric.startswith("share_") or metric.endswith(("_rate", "_share"))
            or metric in ("mean_rent_burden", "commuting_cost_share"))


def run_store(scratch: Path, names: list[str] | None = None):
    """``quartier compare`` of the baseline with the scenarios (default: MAIN + LEVERS)."""
    import sim
    from sim.experiments.results import load

    out = scratch / "compare"
    names = MAIN + LEVERS if names is None else names
    result = sim.compare(BASELINE, [f"scenarios/{n}.toml" for n in names],
                         replications=REPLICATIONS, out=out, workers=2,
                         command="python docs/figures.py")
    experiments, outcomes = load(out)
    return Store(experiments, outcomes, result.table)


class Store:
    """Paired statistics over the stored runs (the formula of ``quartier compare``)."""

    def __init__(self, experiments, outcomes, table=None):
        self.experiments = experiments[["run_id", "scenario", "seed"]]
        self.outcomes = outcomes.merge(self.experiments, on="run_id")
        self.final_year = int(self.outcomes["year"].max())
        self.start_year = int(self.outcomes["year"].min())
        self.table = table
        self._cache: dict = {}

    def per_run(self, scenario: str, metric: str, scope: str = "city",
                agg: str = "final") -> pd.Series:  # noqa: F821
        """One value per seed: ``final`` year, ``start`` year, ``YEAR``, or over the years
        after the first lever year (``mean``/``total`` over 2025-end, as the lever table)."""
        key = (scenario, metric, scope, agg)
        if key in self._cache:
            return self._cache[key]
        o = self.outcomes
        rows = o[(o["scenario"] == scenario) & (o["metric"] == metric) & (o["scope"] == scope)]
        if rows.empty:
            raise KeyError(f"no outcome {metric!r} at {scope!r} for scenario {scenario!r}")
        if agg in ("final", "start") or agg.isdigit():
            year = {"final": self.final_year, "start": self.start_year}.get(agg) or int(agg)
            values = rows[rows["year"] == year].set_index("seed")["value"]
        elif agg in ("mean", "total"):
            span = rows[rows["year"] >= self.start_year + 2]
            values = span.groupby("seed")["value"].agg("mean" if agg == "mean" else "sum")
        elif agg.startswith("since"):   # mean of yearly values since the first simulated year
            span = rows[(rows["year"] > self.start_year) & (rows["year"] <= int(agg[5:]))]
            values = span.groupby("seed")["value"].agg("sum" if "cause" in metric
                                                       or metric.endswith("_poor")
                                                       else "mean")
        else:
            raise KeyError(f"unknown aggregation {agg!r}")
        self._cache[key] = values.sort_index()
        return self._cache[key]

    def paired(self, scenario: str, metric: str, scope: str = "city", agg: str = "final",
               baseline: str = "baseline") -> dict:
        import numpy as np
        import scipy.stats as sps

        base = self.per_run(baseline, metric, scope, agg)
        value = self.per_run(scenario, metric, scope, agg)
        d = (value - base).dropna().to_numpy(float)
        n = d.size
        mean = float(d.mean())
        half = float(sps.t.ppf(0.975, n - 1) * d.std(ddof=1) / np.sqrt(n)) if n > 1 else math.nan
        return {"base": float(base.mean()), "value": float(value.mean()), "diff": mean,
                "low": mean - half, "high": mean + half,
                "sig": bool(n > 1 and (mean - half > 0 or mean + half < 0))}


def digits_for(metric: str, base: float) -> int:
    """Decimals for a metric's levels and differences, from the size of its baseline value."""
    if is_share(metric):
        return 1
    base = abs(base) if math.isfinite(base) else 0.0
    return 0 if base >= 10 else 2 if base >= 1 else 3


def fmt_level(metric: str, x: float, digits: int | None = None) -> str:
    digits = digits_for(metric, x) if digits is None else digits
    if is_share(metric):
        return fmt_num(100 * x, digits) + " %"
    return fmt_num(x, digits)


def fmt_diff(metric: str, x: float, digits: int) -> str:
    if is_share(metric):
        return fmt_num(100 * x, digits, sign=True) + " pt"
    return fmt_num(x, digits, sign=True)


STORE_FIELDS = {"base", "value", "diff", "low", "high", "ci", "dci", "dcis", "sig", "rel", "level",
                "range", "s1", "s1sum", "per1000", "growth", "yrange", "ratio"}


def render_store(store: Store, args: list[str]) -> str:
    """Keys: FIELD/SCENARIO/METRIC[/SCOPE[/AGG[/BASELINE[/DIGITS]]]] with FIELD one of
    base, value, diff, ci, dci (difference and CI), dcis (and whether significant), sig, rel
    (difference in % of the baseline), range (min-max over the seeds of SCENARIO); or
    ``table/NAME`` for the tables below."""
    if args[0] == "table":
        return TABLES[args[1]](store)
    what, scenario, metric, *rest = args
    scope = rest[0] if len(rest) > 0 and rest[0] else "city"
    agg = rest[1] if len(rest) > 1 and rest[1] else "final"
    baseline = rest[2] if len(rest) > 2 and rest[2] else "baseline"
    digits = int(rest[3]) if len(rest) > 3 and rest[3] else None
    if what in ("per1000", "growth", "yrange", "ratio"):
        return seed_figure(store, what, scenario, metric, scope, agg, rest)
    if what in ("level", "range", "s1", "s1sum"):
        if what == "s1sum":   # seed 1, summed over the simulated years
            o = store.outcomes
            rows = o[(o["scenario"] == scenario) & (o["metric"] == metric) & (o["scope"] == scope)
                     & (o["seed"] == 1) & (o["year"] > store.start_year)]
            return fmt_num(float(rows["value"].sum()), 0)
        values = store.per_run(scenario, metric, scope, agg)
        if what == "s1":
            return fmt_level(metric, float(values.loc[1]), digits)
        if what == "level":
            return fmt_level(metric, float(values.mean()), digits)
        lo, hi = fmt_level(metric, float(values.min()), digits), fmt_level(metric,
                                                                              float(values.max()),
                                                                              digits)
        return f"{lo.removesuffix(' %')}-{hi}"
    p = store.paired(scenario, metric, scope, agg, baseline)
    digits = digits_for(metric, p["base"]) if digits is None else digits
    ci = f"{fmt_diff(metric, p['low'], digits)} to {fmt_diff(metric, p['high'], digits)}"
    return {
        "base": lambda: fmt_level(metric, p["base"], digits),
        "value": lambda: fmt_level(metric, p["value"], digits),
        "low": lambda: fmt_diff(metric, p["low"], digits),
        "high": lambda: fmt_diff(metric, p["high"], digits),
        "diff": lambda: fmt_diff(metric, p["diff"], digits),
        "ci": lambda: ci,
        "dci": lambda: f"{fmt_diff(metric, p['diff'], digits)} (95 % CI {ci})",
        "dcis": lambda: f"{fmt_diff(metric, p['diff'], digits)} (95 % CI {ci}, "
                        + ("significant)" if p["sig"] else "not significant)"),
        "sig": lambda: "significant" if p["sig"] else "not significant",
        "rel": lambda: fmt_num(100 * p["diff"] / p["base"], 0, sign=True) + " %",
    }[what]()


def seed_figure(store: Store, what: str, scenario: str, metric: str, scope: str, agg: str,
                rest: list[str]) -> str:
    """Figures of one trajectory (seed 1) or of all years of seeds 1-5.

    per1000: the mean yearly rate of a flow per 1,000 residents over the simulated years up to
    AGG = ``sinceYYYY`` (the calibration's statistic); growth: the population's change from
    the start to the last year (``range`` as AGG: over seeds 1-5); yrange: the lowest and
    highest value over all simulated years and seeds; ratio: the sum over the simulated years
    of METRIC divided by that of the metric named after AGG (``sum``), seed 1."""
    o = store.outcomes
    rows = o[(o["scenario"] == scenario) & (o["scope"] == scope)]

    def series(name, seed=1):
        r = rows[(rows["metric"] == name) & (rows["seed"] == seed)]
        return r.set_index("year")["value"].sort_index()

    if what == "per1000":
        end = int(agg[5:]) if agg.startswith("since") else store.final_year
        rate = (series(metric) / series("population")).loc[store.start_year + 1:end]
        return fmt_num(1000 * float(rate.mean()), 1)
    if what == "growth":
        seeds = sorted(rows["seed"].unique()) if agg == "range" else [1]
        changes = []
        for seed in seeds:
            pop = series(metric, seed)
            changes.append(100 * (pop.iloc[-1] / pop.iloc[0] - 1))
        if len(changes) == 1:
            return fmt_num(changes[0], 1, sign=True) + " %"
        return f"{fmt_num(min(changes), 1, sign=True)} to {fmt_num(max(changes), 1, sign=True)} %"
    if what == "yrange":
        r = rows[(rows["metric"] == metric) & (rows["year"] > store.start_year)]["value"]
        low, high = fmt_level(metric, float(r.min())), fmt_level(metric, float(r.max()))
        return f"{low.removesuffix(' %')}-{high}"
    if what == "ratio":
        num = series(metric).loc[store.start_year + 1:].sum()
        den = series(rest[2]).loc[store.start_year + 1:].sum()
        return fmt_num(100 * num / den, 0) + " %"
    raise KeyError(what)


def table_main(store: Store) -> str:
    """The main job's headline differences, citywide in the final year, every scenario."""
    metrics = ["population", "share_poor", "social_housing_share",
               "dissimilarity_income_quartiers", "share_65plus_gp_within_reach",
               "share_walk_only", "mean_rent_burden", "care_dependency_share",
               "out_migrants", "out_migrants_poor"]
    lines = ["| scenario | metric | baseline | scenario | difference (95 % CI) | |",
             "|---|---|---:|---:|---:|---|"]
    for scenario in MAIN:
        for metric in metrics:
            p = store.paired(scenario, metric)
            d = digits_for(metric, p["base"])
            ci = f"{fmt_diff(metric, p['low'], d)} to {fmt_diff(metric, p['high'], d)}"
            lines.append(f"| {scenario} | `{metric}` | {fmt_level(metric, p['base'], d)} | "
                         f"{fmt_level(metric, p['value'], d)} | {fmt_diff(metric, p['diff'], d)} "
                         f"({ci}) | {'*' if p['sig'] else ''} |")
    return "\n".join(lines)


LEVER_ROWS = [  # scenario, scope, metric, agg
    ("mvz_hochfeld", "hochfeld", "share_65plus_gp_within_reach", "final"),
    ("mvz_hochfeld", "hochfeld", "gp_access_65plus", "mean"),
    ("mvz_hochfeld", "hochfeld", "out_migrants_cause_health", "total"),
    ("mvz_hochfeld", "hochfeld", "out_migrants_65plus", "total"),
    ("mvz_centre", "hochfeld", "gp_access_65plus", "mean"),
    ("mvz_centre", "hochfeld", "out_migrants_cause_health", "total"),
    ("mvz_centre", "altstadt", "gp_access_65plus", "mean"),
    ("mvz_incentive", "city", "gp_doctors", "final"),
    ("mvz_incentive", "hochfeld", "gp_access_65plus", "mean"),
    ("mvz_incentive", "hochfeld", "out_migrants_cause_health", "total"),
    ("ticket_58", "city", "commuting_cost_share", "mean"),
    ("ticket_58", "city", "share_walk_only", "mean"),
    ("ticket_58", "city", "out_migrants_cause_commuting", "total"),
    ("ticket_sozialticket", "city", "share_walk_only", "mean"),
    ("ticket_sozialticket", "city", "out_migrants_cause_commuting", "total"),
    ("ticket_sozialticket", "city", "out_migrants_poor", "total"),
    ("ticket_free", "city", "commuting_cost_share", "mean"),
    ("ticket_free", "city", "out_migrants_cause_commuting", "total"),
    ("ticket_free", "city", "out_migrants", "total"),
    ("school_hochfeld", "hochfeld", "out_migrants_cause_school", "total"),
    ("school_hochfeld", "hochfeld", "out_migrants_families", "total"),
    ("school_hochfeld", "city", "school_dissimilarity_income", "mean"),
    ("combined", "city", "dissimilarity_income_quartiers", "final"),
    ("combined", "hochfeld", "share_65plus_gp_within_reach", "final"),
    ("combined", "city", "out_migrants_poor", "total"),
    ("combined", "city", "out_migrants", "total"),
]


def table_levers(store: Store) -> str:
    first = store.start_year + 2
    lines = [f"| scenario | quartier | outcome | over {first}-{store.final_year} | baseline | "
             "difference (95 % CI) |", "|---|---|---|---|---:|---:|"]
    for scenario, scope, metric, agg in LEVER_ROWS:
        p = store.paired(scenario, metric, scope, agg)
        label = {"final": f"in {store.final_year}", "mean": "mean", "total": "total"}[agg]
        digits = digits_for(metric, p["base"])
        lines.append(
            f"| {scenario} | {scope} | `{metric}` | {label} | "
            f"{fmt_level(metric, p['base'], digits)} | {fmt_diff(metric, p['diff'], digits)} "
            f"({fmt_diff(metric, p['low'], digits)} to {fmt_diff(metric, p['high'], digits)}) |")
    return "\n".join(lines)


RENT_MIX_COLUMNS = [  # metric, header, kind
    ("social_housing_share", "social housing", "final"),
    ("dissimilarity_income_quartiers", "D poor, quartiers", "final"),
    ("dissimilarity_income_cells", "D poor, cells", "final"),
    ("theil_h_income_cells", "Theil H, cells", "final"),
    ("morans_i_income", "Moran's I income", "final"),
    ("share_poor", "at risk of poverty", "final"),
    ("out_migration_rate", "out-migration rate (mean since the start)", "since"),
    ("out_migrants_cause_rent", "out-migrants, cause rent (sum since the start)", "since"),
    ("out_migrants_poor", "out-migrants at risk of poverty (sum)", "since"),
    ("share_rent_burden_over_40", "rent burden > 40 %", "final"),
]


def table_rent_mix(store: Store) -> str:
    years = [store.start_year + 5, store.start_year + 10, store.final_year]
    lines = ["| scenario | year | " + " | ".join(h for _, h, _ in RENT_MIX_COLUMNS) + " |",
             "|---|---:|" + "---:|" * len(RENT_MIX_COLUMNS)]
    names = {"rent_mix_no_action": "no action", "rent_mix_binding_extension": "binding extension",
             "rent_mix_quota_30": "30 % quota"}
    for scenario, label in names.items():
        for year in years:
            cells = []
            for metric, _, kind in RENT_MIX_COLUMNS:
                agg = str(year) if kind == "final" else f"since{year}"
                v = float(store.per_run(scenario, metric, "city", agg).mean())
                if metric == "out_migration_rate":
                    cells.append(fmt_num(1000 * v, 1) + " ‰")
                elif kind == "since":
                    cells.append(fmt_num(v, 0))
                else:
                    cells.append(fmt_level(metric, v))
            lines.append(f"| {label} | {year} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


TABLES = {"main": table_main, "levers": table_levers, "rent_mix": table_rent_mix}


# ---------------------------------------------------------------------------------------------
# session: the CLI session of the README
def run_session(scratch: Path) -> str:
    out = scratch / "baseline"
    env = dict(os.environ, COLUMNS="250", TERM="dumb", PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "sim.cli", "run", BASELINE, "--out", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    text = done.stdout.replace(str(out), "results/baseline")
    lines = [line.rstrip() for line in text.splitlines() if "simulating" not in line]
    return "\n".join(lines).strip("\n")


def render_session(text: str, args: list[str]) -> str:
    return f"\n```text\n$ quartier run {BASELINE} --out results/baseline\n{text}\n```\n"


# ---------------------------------------------------------------------------------------------
# citycheck: `quartier city check scenarios/essen.toml` (builds Essen's start state, seed 1)
def run_citycheck(scratch: Path) -> str:
    env = dict(os.environ, COLUMNS="250", TERM="dumb", PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "sim.cli", "city", "check", ESSEN[0]], cwd=ROOT,
                          env=env, capture_output=True, text=True, check=True)
    return done.stdout


def render_citycheck(text: str, args: list[str]) -> str:
    """The table with its first two Stadtteile, the last one and the city; an ellipsis row
    between."""
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    rows = [i for i, line in enumerate(lines) if line.startswith("│")]
    first = lines[rows[0]]
    cells = first.split("│")[1:-1]
    dots = "│" + "│".join(" …".ljust(len(c)) if k < 2 else "… ".rjust(len(c))
                         for k, c in enumerate(cells)) + "│"
    kept = lines[:rows[0]] + lines[rows[0]:rows[0] + 2] + [dots] + lines[rows[-2]:]
    return (f"\n```console\n$ quartier city check {ESSEN[0]}\n" + "\n".join(kept) + "\n```\n")


# ---------------------------------------------------------------------------------------------
# validation: quartier validate (the baseline, 5 runs of 5 years, seeds 1-5)
def run_validation(scratch: Path):
    import sim
    from calibration.validation import fitted_targets, validate

    scenario = sim.load_scenario(BASELINE)
    return validate(scenario, out=scratch / "validation", replications=5, years=5,
                    fitted=fitted_targets(ROOT / "calibration" / "calibrate.toml"), workers=2,
                    command="python docs/figures.py")


def _val(x: float, unit: str) -> str:
    if unit in ("share", "%", "fraction"):
        return fmt_num(100 * x, 1) + " %"
    return fmt_num(x, 2)


def render_validation(result, args: list[str]) -> str:
    t = result.table
    if args[0] == "table":
        lines = ["| target | role | observed | tolerance | simulated (95 % CI) | |",
                 "|---|---|---:|---:|---:|---|"]
        for r in t.itertuples():
            unit = "share" if r.unit in ("share", "fraction") else r.unit
            observed = "—" if math.isnan(r.observed) else _val(r.observed, unit)
            tol = "—" if math.isnan(r.tolerance) else "±" + (
                fmt_num(100 * r.tolerance, 1) + " pt" if unit == "share"
                else fmt_num(r.tolerance, 2))
            ci = f"{_val(r.ci_low, unit)}-{_val(r.ci_high, unit)}".replace(" %-", "-")
            sim_ = (f"{_val(r.simulated, unit)} ({ci})" if not math.isnan(r.simulated) else "n/a")
            mark = "" if r.passed is None or str(r.passed) == "<NA>" else ("✓" if r.passed else "✗")
            lines.append(f"| {r.label_en} | {r.role} | {observed} | {tol} | {sim_} | {mark} |")
        lines.append("")
        lines.append(f"*`quartier validate`: the baseline, {result.replications} runs of "
                     f"{result.years} years (seeds 1-{result.replications}); 95 % interval of "
                     "the mean over the runs.*")
        return "\n".join(lines)
    if args[0] == "passed":
        # roles as in the table; "held_out" in a key (keys hold no spaces)
        roles = (tuple(r.replace("_", " ") for r in args[1].split("+")) if len(args) > 1
                 else ("fitted", "input", "held out"))
        passed, compared = result.counts(roles)
        return f"{passed} of {compared}"
    if args[0] == "target":   # target/NAME/field
        row = t[t["target"] == args[1]].iloc[0]
        unit = "share" if row["unit"] in ("share", "fraction") else row["unit"]
        return _val(float(row[args[2] if len(args) > 2 else "simulated"]), unit)
    raise KeyError(args[0])


# ---------------------------------------------------------------------------------------------
# calibrated: what `quartier calibrate` wrote into scenarios/calibrated.toml (its header)
def run_calibrated(scratch: Path) -> dict:
    header = [line[2:] for line in (ROOT / "scenarios" / "calibrated.toml")
              .read_text(encoding="utf-8").splitlines() if line.startswith("# ")]
    info: dict = {"targets": {}, "parameters": {}}
    for line in header:
        m = re.match(r"\s+(\w+): ([-\d.]+) vs ([-\d.]+) \(±([-\d.]+)\)(\s+MISSED)?", line)
        if m:
            info["targets"][m[1]] = (float(m[2]), float(m[3]), float(m[4]), bool(m[5]))
        m = re.match(r"\s+parameters\.(\S+): ([-\d.e]+) \(([-\d.e]+); \[([-\d.e]+), ([-\d.e]+)\]\)",
                     line)
        if m:
            info["parameters"][m[1]] = tuple(float(m[i]) for i in range(2, 6))
        m = re.search(r"(\d+) evaluations", line)
        if m:
            info["evaluations"] = int(m[1])
        m = re.search(r"= ([\d.]+) over (\d+) targets", line)
        if m:
            info["J"], info["n_targets"] = m[1], int(m[2])
        m = re.search(r"\(`(quartier calibrate[^`]*)`, (\d{4}-\d\d-\d\d)", line)
        if m:
            info["date"] = m[2]
    return info


def render_calibrated(info: dict, args: list[str]) -> str:
    if args[0] == "targets":
        lines = ["| target | observed | tolerance | simulated |", "|---|---:|---:|---:|"]
        for name, (sim_, obs, tol, missed) in info["targets"].items():
            if obs < 1 and tol < 1:
                row = (f"{fmt_num(100 * obs, 1)} %", f"±{fmt_num(100 * tol, 0)} pt",
                       f"{fmt_num(100 * sim_, 1)} %")
            else:
                row = (fmt_num(obs, 1), f"±{fmt_num(tol, 0)}", fmt_num(sim_, 1))
            missed = " (missed)" if missed else ""
            lines.append(f"| `{name}` | {row[0]} | {row[1]} | {row[2]}{missed} |")
        return "\n".join(lines)
    if args[0] == "parameters":
        lines = ["| parameter | range (assumed) | fitted |", "|---|---|---:|"]
        for name, (fitted, _, lo, hi) in info["parameters"].items():
            lines.append(f"| `{name}` | {lo:g}-{hi:g} | {fitted:.3g} |")
        return "\n".join(lines)
    if args[0] in ("J", "evaluations", "date"):
        return str(info[args[0]])
    if args[0] == "runs":
        return fmt_num(4 * info["evaluations"])
    if args[0] == "target":   # target/NAME[/DIGITS]: the simulated value at the optimum
        sim_, obs, _, _ = info["targets"][args[1]]
        digits = int(args[2]) if len(args) > 2 else 1
        return f"{fmt_num(100 * sim_, digits)} %" if obs < 1 else fmt_num(sim_, digits)
    if args[0] == "parameter":
        return f"{info['parameters'][args[1]][0]:.3g}"
    raise KeyError(args[0])


# ---------------------------------------------------------------------------------------------
# recorded: expensive measurements, kept as measured with their revision and date
PY = "python"
RECORDED = {  # name: (commands, what they measure); their blocks are updated by hand
    "sensitivity": ([["quartier", "sensitivity", "calibration/sensitivity.toml", "--method",
                      "morris",
                      "--out", "{scratch}/sensitivity", "--yes", "-q"]],
                    "Morris screening (measured with the spec of eff98db: 10 parameters, "
                    "5,000 households, 440 runs; the spec now has 31 factors and two levers "
                    "at 30,000 households: 3,840 runs)"),
    "sensitivity_effects": ([["quartier", "sensitivity", "calibration/sensitivity.toml",
                              "--method", "sobol", "--samples", "16", "--replications", "2",
                              "--workers", "2", "--out", "{scratch}/sensitivity_effects",
                              "--yes"]],
                            "Sobol S1/ST with CIs of the lever effects (MVZ Hochfeld, 30 % "
                            "quota), N = 16, 2 replications, 3,168 runs of 30,000 households "
                            "over 10 years"),
    "calibration_recovery": ([[PY, "-m", "pytest", "tests/test_calibration.py", "-m", "slow"]],
                             "parameter recovery of the calibration"),
    "throughput": ([[PY, "benchmarks/throughput.py", "--repeats", "9"]],
                   "10k, 100k and 1M households (the 1M run takes minutes)"),
    "profile": ([[PY, "benchmarks/profile_steps.py", "--repeats", "5"],
                 [PY, "benchmarks/profile_steps.py", "--repeats", "5", "--threads", "2"],
                 [PY, "benchmarks/profile_steps.py", "--households", "1000000", "--years", "4",
                  "--repeats", "1"],
                 [PY, "benchmarks/profile_steps.py", "--households", "1000000", "--years", "4",
                  "--repeats", "1", "--threads", "2"],
                 [PY, "benchmarks/compare_revisions.py", "--base", "0dedbc9", "--rounds", "6",
                  "--repeats", "1"]],
                "ms per year per process step at 100k and 1M households, 1 and 2 threads, "
                "and the throughput against the code before issue 18"),
    "threads": ([[PY, "benchmarks/threads.py", "--pairs", "3"],
                 [PY, "benchmarks/threads.py", "--households", "1000000", "--years", "30",
                  "--pairs", "1"],
                 [PY, "benchmarks/threads.py", "--scenario", "scenarios/essen.toml",
                  "--households", "0", "--years", "20", "--pairs", "2"]],
                "1 against 2 threads within a run: 100k, 1M x 30 years, Essen x 20 years"),
    "memory": ([[PY, "benchmarks/memory.py", "--threads", "2", "--years", "30"]],
               "the model's arrays by part at 1M households, and what the process holds"),
    "snapshots": ([[PY, "benchmarks/run_memory.py", "--base", "4e121d3", "--rounds", "3"],
                   [PY, "benchmarks/run_memory.py", "--scenario", "scenarios/essen.toml",
                    "--households", "0", "--years", "20", "--rounds", "3", "--base", "4e121d3"],
                   [PY, "benchmarks/profile_steps.py", "--repeats", "5", "--cell-snapshots"],
                   [PY, "benchmarks/profile_steps.py", "--repeats", "5"]],
                  "quartier run at 1M x 30 years and Essen x 20 with cell snapshots, "
                  "alternating with 4e121d3, and what the snapshots cost per year at 100k"),
    "order": ([[PY, "benchmarks/compare_revisions.py", "--base", "6c4b1eb", "--rounds", "4",
                "--households", "1000000", "--years", "6", "--repeats", "1"],
               [PY, "benchmarks/compare_revisions.py", "--base", "6c4b1eb", "--rounds", "4"],
               [PY, "benchmarks/run_memory.py", "--no-cell-snapshots", "--base", "6c4b1eb",
                "--rounds", "3"]],
              "persons ordered by household: 1M and 100k with 1 thread, 1M x 30 years with 2 "
              "threads, against 6c4b1eb"),
    "lookahead": ([[PY, "benchmarks/choice.py"],
                   [PY, "benchmarks/choice.py", "--scenario", "scenarios/essen.toml", "--sizes",
                    "0"],
                   [PY, "benchmarks/profile_steps.py", "--households", "1000000", "--years", "4",
                    "--repeats", "1", "--threads", "2"],
                   [PY, "benchmarks/compare_revisions.py", "--base", "497e35a", "--rounds", "4",
                    "--households", "1000000", "--years", "6", "--repeats", "1"],
                   [PY, "benchmarks/compare_revisions.py", "--base", "497e35a", "--rounds", "4"],
                   [PY, "benchmarks/run_memory.py", "--no-cell-snapshots", "--base", "497e35a",
                    "--rounds", "3"]],
                  "the choice's look-ahead (with and without), the year by step at 1M with 2 "
                  "threads, 1M and 100k with 1 thread and 1M x 30 years with 2 threads against "
                  "497e35a"),
    "sorting": ([[PY, "benchmarks/compare_revisions.py", "--base", "b33f428", "--rounds", "4",
                  "--households", "1000000", "--years", "2", "--repeats", "1"],
                 [PY, "benchmarks/compare_revisions.py", "--base", "b33f428", "--rounds", "4"],
                 [PY, "benchmarks/run_memory.py", "--no-cell-snapshots", "--base", "b33f428",
                  "--rounds", "3"]],
                "stable sorts by an unstable sort checked for ties, and the compaction's "
                "gathers in threads: the build at 1M, 100k with 1 thread and 1M x 30 years with "
                "2 threads against b33f428"),
    "status": ([[PY, "benchmarks/bandwidth.py", "--repeats", "21"],
                [PY, "benchmarks/compare_revisions.py", "--base", "0dedbc9", "--rounds", "6",
                 "--repeats", "1"],
                [PY, "benchmarks/threads.py", "--pairs", "5"],
                [PY, "benchmarks/throughput.py", "--sizes", "1000000", "--large-years", "30",
                 "--repeats-large", "5", "--threads", "2"],
                [PY, "benchmarks/essen.py", "run", "--threads", "2", "--repeats", "5",
                 "--years", "20"],
                [PY, "benchmarks/profile_steps.py", "--households", "1000000", "--years", "4",
                 "--repeats", "1", "--threads", "2"],
                [PY, "benchmarks/profile_steps.py", "--households", "1000000", "--years", "4",
                 "--repeats", "1"],
                [PY, "-m", "pytest", "-q", "-n0", "tests/test_golden.py"]],
               "every goal of issue 18 measured again; simple passes and a handoff with 1 and "
               "2 threads"),
    "packed": ([[PY, "benchmarks/run_memory.py", "--base", "1eef34c", "--rounds", "3"],
                [PY, "benchmarks/memory.py", "--years", "3", "--cell-snapshots"]],
               "quartier run at 1M x 30 years with cell snapshots, kept compressed, against "
               "1eef34c; the snapshots' memory"),
    "spare": ([[PY, "benchmarks/throughput.py", "--sizes", "1000000", "--threads", "2",
                "--repeats-large", "5"],
               [PY, "benchmarks/run_memory.py", "--no-cell-snapshots", "--base", "c4da34d",
                "--rounds", "5"],
               [PY, "benchmarks/run_memory.py", "--base", "c4da34d", "--rounds", "3"],
               [PY, "benchmarks/compare_revisions.py", "--base", "c4da34d", "--rounds", "4"]],
              "1M x 30 years with 2 threads: peak memory and time of the model and of quartier "
              "run (snapshots off and on) against c4da34d; 100k with 1 thread"),
    "allocator": ([[PY, "benchmarks/throughput.py", "--sizes", "1000000", "--large-years", "30",
                    "--repeats-large", "1", "--threads", "2"],
                   [PY, "benchmarks/throughput.py", "--sizes", "1000000", "--large-years", "30",
                    "--repeats-large", "1", "--threads", "2", "--default-allocator"]],
                  "1M x 30 years with freed memory kept and with the allocator's defaults "
                  "(run alternately, twice each)"),
    "parallel": ([[PY, "benchmarks/parallel.py", "--wait-idle", "--repeats", "5"]],
                 "1 against 2 workers"),
    "whatif": ([[PY, "benchmarks/whatif.py"]], "the dashboard's what-if answer time"),
    "schelling": ([[PY, "benchmarks/schelling.py", "--curve", "--mesa"],
                   [PY, "benchmarks/schelling.py"]],
                  "Schelling mode against Mesa's example"),
    "crn": ([[PY, "benchmarks/crn.py"]], "the gain of common random numbers"),
    "essen_speed": ([[PY, "benchmarks/essen.py", "build"], [PY, "benchmarks/essen.py", "run"]],
                    "building and running Essen"),
    "essen_start": ([["quartier", "city", "check", "scenarios/essen.toml"]],
                    "Essen's start state against the census, seeds 1-3"),
    "essen_segregation": ([[PY, "-m", "calibration.essen_targets", "--model", "--seeds", "1"],
                           [PY, "-m", "calibration.essen_targets", "--model", "20000",
                            "--seeds", "3"]],
                          "Essen's segregation of foreigners: census 2011 and the model's start"),
    "essen_validation": ([["quartier", "validate", "scenarios/essen_historical.toml",
                           "--replications", "3", "--out", "{scratch}/essen-validation",
                           "--lang", "en"]],
                         "the Essen backcast 2011-2022 against its targets, whole city, 3 runs"),
    "essen_validation_summary": ([["quartier", "validate", "scenarios/essen_historical.toml",
                                   "--replications", "3", "--out",
                                   "{scratch}/essen-validation-summary"]],
                                 "the Essen backcast in brief (README)"),
    "essen_fit": ([["quartier", "calibrate", "calibration/calibrate_essen.toml", "--out",
                    "{scratch}/calibration-essen"],
                   ["quartier", "calibrate", "calibration/calibrate_essen_abc.toml", "--out",
                    "{scratch}/calibration-essen-abc"]],
                  "Essen 2011-2017: the SMM fit and the ABC posterior"),
    "essen_draws": ([["quartier", "compare", "scenarios/essen.toml",
                      "scenarios/essen_rent_mix_quota_30.toml", "--parameter-draws", "20",
                      "--draws", "calibration/essen_draws.csv", "--replications", "3",
                      "--years", "12", "--out", "{scratch}/essen-draws"]],
                    "Essen's quota effect with parameter and stochastic uncertainty"),
}
LABEL = re.compile(r"measured at revision (?P<rev>[0-9a-f]{7,40}) \((?P<date>\d{4}-\d\d-\d\d)\)",
                   re.I)


def run_recorded(scratch: Path) -> dict:
    """Runs the expensive measurements (``--all``); their output goes to docs/measurements/,
    from which their blocks and labels are updated."""
    target = ROOT / "docs" / "measurements"
    target.mkdir(exist_ok=True)
    for name, (commands, _) in RECORDED.items():
        log = []
        for argv in commands:
            argv = [a.format(scratch=scratch) for a in argv]
            if argv[0] == "quartier":
                argv = [sys.executable, "-m", "sim.cli", *argv[1:]]
            elif argv[0] == PY:
                argv = [sys.executable, *argv[1:]]
            print(f"[recorded/{name}] {' '.join(argv)}", flush=True)
            done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True,
                                  env=dict(os.environ, PYTHONPATH=str(ROOT)))
            log.append(f"$ {' '.join(argv)}\n{done.stdout}{done.stderr}")
        (target / f"{name}.txt").write_text(
            f"revision {revision()}, {time.strftime('%Y-%m-%d')}\n" + "\n".join(log),
            encoding="utf-8")
        print(f"  -> docs/measurements/{name}.txt: update the block recorded/{name} and its label")
    return {}


def render_recorded(info, args: list[str]) -> str:
    raise NotImplementedError("recorded blocks are updated by hand from docs/measurements/")


# ---------------------------------------------------------------------------------------------
# essen: the Essen comparison (expensive: 6 runs of 291,000 households), its report and the
# screenshots of docs/essen_figures.py
ESSEN = ["scenarios/essen.toml", "scenarios/essen_rent_mix_quota_30.toml"]


def run_essen(scratch: Path):
    import sim
    from sim.experiments.results import load

    out = scratch / "essen_compare"
    result = sim.compare(ESSEN[0], ESSEN[1:], replications=3, out=out, workers=2,
                         command="python docs/figures.py --all")
    subprocess.run([sys.executable, str(ROOT / "docs" / "essen_figures.py"), str(out)],
                   cwd=ROOT, check=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    experiments, outcomes = load(out)
    store = Store(experiments, outcomes, result.table)
    store.label = f"measured at revision {revision()} ({time.strftime('%Y-%m-%d')})"
    return store


def render_essen(store: Store, args: list[str]) -> str:
    """As ``store`` (the baseline is ``essen``), and ``label``."""
    if args[0] == "label":
        return f"*{store.label}*"
    what, scenario, metric, *rest = args
    rest = rest + [""] * (3 - len(rest))
    if not rest[2]:
        rest[2] = "essen"
    return render_store(store, [what, scenario, metric, *rest])


SOURCES: dict[str, Source] = {s.name: s for s in [
    Source("store", f"quartier compare {BASELINE} + {len(MAIN + LEVERS)} scenarios "
           f"--replications {REPLICATIONS}", "Ruhrstadt, 30,000 households, 20 years",
           "cheap", run_store, render_store,
           notes="seeds 1-5 (common random numbers); the main job's 25 runs are among them"),
    Source("session", f"quartier run {BASELINE} --out results/baseline",
           "Ruhrstadt, 30,000 households, 20 years", "cheap", run_session, render_session,
           notes="seed 1"),
    Source("citycheck", f"quartier city check {ESSEN[0]}", "Essen, 291,000 households",
           "cheap", run_citycheck, render_citycheck, notes="the start state, seed 1"),
    Source("validation", "quartier validate", "Ruhrstadt, 30,000 households, 5 years", "cheap",
           run_validation, render_validation, notes="seeds 1-5"),
    Source("calibrated", "quartier calibrate (the header of scenarios/calibrated.toml)",
           "30,000 households, 5 years, 4 replications", "cheap", run_calibrated,
           render_calibrated, notes="reads the file; re-fitting is a decision of its own"),
    Source("essen", "quartier compare scenarios/essen.toml scenarios/essen_rent_mix_quota_30.toml "
           "--replications 3; python docs/essen_figures.py", "Essen, 291,000 households, 20 years",
           "expensive", run_essen, render_essen, notes="seeds 1-3; about 5-10 min on 2 cores"),
    Source("recorded", "the commands in RECORDED", "various", "expensive", run_recorded,
           render_recorded),
]}


def revision() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def blocks(paths=None) -> list[tuple[Path, str, str]]:
    """Every (file, key, body) in the documents."""
    found = []
    for path in paths or DOCS:
        for m in BLOCK.finditer(path.read_text(encoding="utf-8")):
            found.append((path, m["key"], m["body"]))
    return found


def render(results: dict, key: str) -> str:
    """The text of block KEY; a multi-line text (a table) stands on lines of its own."""
    source, *args = key.split("/")
    text = SOURCES[source].render(results[source], args)
    if "\n" in text:
        text = "\n" + text.strip("\n") + "\n"
    return text


def measure(names, scratch: Path, log=print) -> dict:
    results = {}
    for name in names:
        start = time.perf_counter()
        results[name] = SOURCES[name].run(scratch)
        log(f"{name}: {time.perf_counter() - start:.0f} s")
    return results


def compare_blocks(results: dict, paths=None) -> list[tuple[Path, str, str, str]]:
    """(file, key, in the document, now) for every block of a measured source that differs."""
    return [(path, key, body, now) for path, key, body in blocks(paths)
            if key.split("/")[0] in results and key.split("/")[0] != "recorded"
            and (now := render(results, key)) != body]


def fill(results: dict) -> int:
    changed = 0
    for path in DOCS:
        text = path.read_text(encoding="utf-8")

        def sub(m):
            nonlocal changed
            if m["key"].split("/")[0] not in results or m["key"].startswith("recorded/"):
                return m[0]
            now = render(results, m["key"])
            changed += now != m["body"]
            return f"<!-- figure:{m['key']} -->{now}<!-- /figure -->"

        new = BLOCK.sub(sub, text)
        if new != text:
            path.write_text(new, encoding="utf-8")
    return changed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="also the expensive sources")
    parser.add_argument("--check", action="store_true", help="report differences, write nothing")
    parser.add_argument("--list", action="store_true", help="list the sources and exit")
    parser.add_argument("--only", nargs="*", help="only these sources")
    args = parser.parse_args()
    if args.list:
        for s in SOURCES.values():
            print(f"{s.name:11} {s.cost:9} {s.command}\n{'':21} {s.scale}; {s.notes}")
        for name, (commands, what) in RECORDED.items():
            print(f"  recorded/{name}: {what}: " + "; ".join(" ".join(c) for c in commands))
        return
    names = args.only or [n for n, s in SOURCES.items() if args.all or s.cost == "cheap"]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="quartier-figures-") as scratch:
        results = measure(names, Path(scratch))
    if args.check:
        diffs = compare_blocks(results)
        for path, key, body, now in diffs:
            print(f"{path.relative_to(ROOT)}: {key}: {body!r} -> {now!r}")
        sys.exit(1 if diffs else 0)
    changed = fill(results)
    print(f"{changed} blocks changed; {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
