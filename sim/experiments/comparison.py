"""Scenario comparison with replications: paired differences and their confidence intervals.

Replicate ``r`` of the baseline and of every scenario runs with the same seed (common random
numbers, see :mod:`sim.experiments.runner`). For each scenario, outcome (metric), scope and year the
comparison takes the paired differences ``d_r = scenario_r - baseline_r`` over the ``R``
replications and reports their mean with a t-interval::

    half_width = t(0.975, R - 1) * sd(d, ddof=1) / sqrt(R)
    ci = [mean(d) - half_width, mean(d) + half_width]

A difference is marked significant when its interval excludes 0. With ``R = 1`` there is no
interval (NaN). With ``replications="auto"`` replications are added until every headline
interval is narrower than the requested precision (or a cap is reached).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from sim.errors import InputError
from sim.experiments.results import COMPARISON_FILE
from sim.experiments.runner import Progress, Runner, make_specs, scenario_identity
from sim.experiments.store import load_store
from sim.inputs.levers import load_scenario
from sim.scenario import Scenario

HEADLINE_METRICS = ("out_migration_rate", "out_migrants", "population", "mean_age",
                    "share_65plus")
"""Default headline metrics for ``replications="auto"``: those of this list the model records
(citywide, in the final year)."""

INITIAL_REPLICATIONS = 3
COMPARISON_COLUMNS = ["scenario", "metric", "scope", "year", "baseline_mean", "scenario_mean",
                      "difference", "ci_low", "ci_high", "replications", "sd_difference",
                      "half_width", "significant"]


def paired_differences(experiments: pd.DataFrame, outcomes: pd.DataFrame, *, baseline: str,
                       scenarios: Sequence[str] | None = None,
                       confidence: float = 0.95) -> pd.DataFrame:
    """Paired differences scenario - baseline with t-intervals, per metric, scope and year.

    Args:
        experiments: One row per run with ``run_id``, ``scenario`` and ``replicate``.
        outcomes: Tidy outcomes (``run_id, year, scope, metric, value``).
        baseline: Name of the baseline scenario.
        scenarios: Names of the scenarios to compare (default: all others, in order of
            appearance).
        confidence: Level of the intervals.

    Returns:
        One row per (scenario, metric, scope, year) with the columns of
        :data:`COMPARISON_COLUMNS`. Pairs where either value is missing (e.g. flows in the
        start year) are left out; ``replications`` counts the pairs used.
    """
    if scenarios is None:
        scenarios = [s for s in pd.unique(experiments["scenario"]) if s != baseline]
    pairs, df = paired_values(experiments, outcomes, baseline=baseline, scenarios=scenarios)
    group = ["scenario", "metric", "scope", "year"]
    out = pairs.groupby(group, sort=False, observed=True).agg(
        baseline_mean=("baseline_value", "mean"), scenario_mean=("value", "mean"),
        difference=("d", "mean"), sd_difference=("d", "std"), replications=("d", "size"),
    ).reset_index()
    n = out["replications"].to_numpy()
    half = t_quantile(confidence, n - 1) * out["sd_difference"].to_numpy() / np.sqrt(n)
    out["half_width"] = half
    out["ci_low"] = out["difference"] - half
    out["ci_high"] = out["difference"] + half
    out["significant"] = (out["ci_low"] > 0) | (out["ci_high"] < 0)
    # order: scenarios as given, metrics as the model records them, the city first
    metric_order = {m: i for i, m in enumerate(pd.unique(df["metric"]))}
    scope_order = {s: i for i, s in enumerate(["city", *sorted(set(df["scope"]) - {"city"})])}
    scenario_order = {s: i for i, s in enumerate(scenarios)}
    out = out.assign(
        _s=out["scenario"].map(scenario_order), _m=out["metric"].map(metric_order),
        _q=out["scope"].map(scope_order),
    ).sort_values(["_s", "_m", "_q", "year"]).drop(columns=["_s", "_m", "_q"])
    return out[COMPARISON_COLUMNS].reset_index(drop=True)


def paired_values(experiments: pd.DataFrame, outcomes: pd.DataFrame, *, baseline: str,
                  scenarios: Sequence[str], extra: Sequence[str] = ()
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The pairs of :func:`paired_differences`: one row per scenario, replicate, metric, scope
    and year with ``value``, ``baseline_value`` and ``d`` (and the ``extra`` columns of
    ``experiments``, e.g. ``draw``); second, the outcomes with the runs' columns."""
    runs = experiments[["run_id", "scenario", "replicate", *extra]]
    if runs.duplicated(["scenario", "replicate"]).any():
        raise ValueError("more than one run per (scenario, replicate); select the runs first")
    df = outcomes.merge(runs, on="run_id", how="inner")
    df["metric"] = df["metric"].astype(str)
    df["scope"] = df["scope"].astype(str)
    keys = ["replicate", *extra, "metric", "scope", "year"]
    base = df.loc[df["scenario"] == baseline, [*keys, "value"]].rename(
        columns={"value": "baseline_value"})
    other = df.loc[df["scenario"].isin(list(scenarios)), ["scenario", *keys, "value"]]
    pairs = other.merge(base, on=keys, how="inner")
    pairs["d"] = pairs["value"] - pairs["baseline_value"]
    return pairs.dropna(subset=["d"]), df


TOTAL_OUT_MIGRATION = "out_migrants"
CAUSE_PREFIX = "out_migrants_cause_"
CAUSE_COLUMNS = ["scenario", "scope", "year", "row", "metric", "baseline_mean",
                 "scenario_mean", "difference", "ci_low", "ci_high", "significant"]


def cause_breakdown(table: pd.DataFrame, *, scope: str = "city",
                    year: int | None = None) -> pd.DataFrame:
    """A lever's effect on total out-migration next to its effect by cause.

    Per scenario, first the row of the total (``row = "total"``, metric ``out_migrants``),
    then one row per cause (``row = "cause"``, metrics ``out_migrants_cause_*``), then their
    sum (``row = "sum of causes"``: the causes' differences added up; it equals the total's
    difference up to float rounding, because every run's causes add up to its out-migrants
    and a mean of paired differences is linear). A cause's difference is the change in the
    out-migrants that cause accounts for, a part of the total change, not a total.

    Args:
        table: Paired differences (:func:`paired_differences`).
        scope: ``"city"`` or a quartier id.
        year: Default: the table's last year.

    Returns:
        The columns of :data:`CAUSE_COLUMNS` (no interval for the sum); empty without the
        out-migration metrics.
    """
    if table.empty:
        return pd.DataFrame(columns=CAUSE_COLUMNS)
    year = int(table["year"].max()) if year is None else year
    rows = table[(table["scope"].astype(str) == str(scope)) & (table["year"] == year)]
    out = []
    for name in pd.unique(rows["scenario"]):
        part = rows[rows["scenario"] == name]
        total = part[part["metric"] == TOTAL_OUT_MIGRATION]
        causes = part[part["metric"].str.startswith(CAUSE_PREFIX)]
        if total.empty or causes.empty:
            continue
        out.append(total.assign(row="total"))
        out.append(causes.assign(row="cause"))
        out.append(pd.DataFrame([{
            "scenario": name, "scope": str(scope), "year": year, "row": "sum of causes",
            "metric": "out_migrants_cause_*",
            "baseline_mean": causes["baseline_mean"].sum(),
            "scenario_mean": causes["scenario_mean"].sum(),
            "difference": causes["difference"].sum(), "ci_low": np.nan, "ci_high": np.nan,
            "significant": False}]))
    if not out:
        return pd.DataFrame(columns=CAUSE_COLUMNS)
    return pd.concat(out, ignore_index=True)[CAUSE_COLUMNS]


def t_quantile(confidence: float, dof: np.ndarray | int) -> np.ndarray:
    """Two-sided Student-t quantile for ``confidence``; NaN where ``dof < 1``."""
    from scipy import stats

    dof = np.asarray(dof, dtype=float)
    safe = np.where(dof >= 1, dof, 1.0)
    return np.where(dof >= 1, stats.t.ppf(0.5 + confidence / 2, safe), np.nan)


@dataclass
class Precision:
    """A target half-width: absolute (in the metric's unit) or relative to the baseline mean.

    Parsed from ``"0.2"`` (absolute) or ``"1%"`` (1 % of the baseline mean's magnitude).
    """

    value: float
    relative: bool = False

    @classmethod
    def parse(cls, text: str | float, source: str = "--precision") -> Precision:
        raw = str(text).strip()
        relative = raw.endswith("%")
        try:
            value = float(raw[:-1] if relative else raw)
        except ValueError:
            raise InputError(source, None, f"not a number or a percentage: {raw!r}") from None
        if not value > 0 or not math.isfinite(value):
            raise InputError(source, None, f"must be positive (got {raw!r})")
        return cls(value / 100 if relative else value, relative)

    def targets(self, baseline_mean: pd.Series) -> pd.Series:
        """The target half-width of each row."""
        if self.relative:
            return self.value * baseline_mean.abs()
        return pd.Series(self.value, index=baseline_mean.index)

    def __str__(self) -> str:
        return f"{self.value:.4g} of the baseline mean" if not self.relative else (
            f"{self.value * 100:.4g}% of the baseline mean")


@dataclass
class ComparisonResult:
    """What :func:`compare` returns.

    Attributes:
        table: The paired differences (columns :data:`COMPARISON_COLUMNS`), every scenario,
            metric, scope and year.
        baseline: The baseline's name.
        scenarios: The compared scenarios' names.
        replications: Replications per scenario.
        final_year: The last simulated year.
        headline: The headline metrics used for ``replications="auto"``.
        precision_reached: Whether every headline half-width is below the precision
            (None without a precision).
        half_width_ratio: The largest headline half-width divided by its target (below 1: precise
            enough; None without a precision).
        runs_done: Runs simulated by this call.
        runs_skipped: Runs found in the store.
        csv: Path of ``comparison.csv``.
        costs: Lever costs per scenario, lever and item over the horizon, mean over the
            replications (:func:`sim.experiments.costs.cost_summary`); the rows of every run
            are in ``costs.parquet``.
        cost_effectiveness: Extra cost and EUR per unit of effect with intervals
            (:func:`sim.experiments.costs.cost_effectiveness`), also in
            ``cost_effectiveness.parquet``.
        parameter_draws: Parameter draws per scenario (None: the scenarios' own values);
            ``replications`` then counts the replications per draw.
        draws: The draws used (``draw, source_draw`` and the values), also in
            ``parameter_draws.csv``.
        interval: ``"stochastic"`` or ``"parameter+stochastic"``: what the intervals cover.
    """

    table: pd.DataFrame
    baseline: str
    scenarios: list[str]
    replications: int
    final_year: int
    headline: list[str]
    precision_reached: bool | None
    half_width_ratio: float | None
    runs_done: int
    runs_skipped: int
    csv: Path
    costs: pd.DataFrame | None = None
    cost_effectiveness: pd.DataFrame | None = None
    parameter_draws: int | None = None
    draws: pd.DataFrame | None = None
    interval: str = "stochastic"


def compare(baseline: Scenario | str | Path, scenarios: Sequence[Scenario | str | Path], *,
            out: str | Path, replications: int | Literal["auto"] = 5,
            precision: Precision | str | float | None = None, years: int | None = None,
            seed: int = 1, metrics: Sequence[str] | None = None, max_replications: int = 50,
            independent_seeds: bool = False, executor=None, workers: int = 1,
            force: bool = False, command: str = "sim.compare (Python)",
            progress: Progress | None = None, on_round=None,
            parameter_draws: int | None = None,
            draws_file: str | Path | None = None) -> ComparisonResult:
    """Compare scenarios with a baseline over paired replications; store every run.

    With ``parameter_draws=N`` every scenario runs on each of N parameter sets of
    ``draws_file`` (a calibration's draws, see :mod:`sim.experiments.draws`) times
    ``replications``, and each effect's interval combines parameter and stochastic uncertainty
    (:func:`sim.experiments.draws.combine_draws`; columns ``interval``, ``draws``,
    ``var_parametric``, ``var_stochastic``, ``parametric_share`` and the runs' noise alone as
    ``stochastic_ci_low/high``). Without it nothing changes.

    Args:
        baseline: The baseline scenario (or its file).
        scenarios: The scenarios to compare with it (or their files).
        out: The experiment folder (runs, manifest, ``comparison.csv``); stored runs are
            reused.
        replications: Replications per scenario, or ``"auto"``: start with 3 and add until
            every headline half-width is below ``precision`` or ``max_replications`` is reached.
        precision: Target half-width for ``"auto"``: a number in the metric's unit or a
            percentage of the baseline mean (``"1%"``).
        years: Years to simulate (default: the baseline's ``years``), the same for all.
        seed: Base seed; replicate r runs with ``seed + r`` in every scenario.
        metrics: Headline metrics (default: those of :data:`HEADLINE_METRICS` recorded).
        max_replications: Cap for ``"auto"``.
        independent_seeds: Give every run its own seed (no common random numbers).
        executor: Any ``concurrent.futures.Executor`` (e.g. Dask's); default local processes.
        workers: Local worker processes when no executor is given (1: in this process).
        force: Replace stored runs of a scenario name whose content changed.
        command: Recorded as provenance.
        progress: ``progress(done, total)`` callback.
        on_round: ``on_round(replications, half_width_ratio)`` after each round of
            ``"auto"``.
        parameter_draws: Parameter draws per scenario (None: the scenarios' own values).
        draws_file: The draws file (CSV or Parquet) for ``parameter_draws``.

    Raises:
        InputError: for bad scenarios, names used twice, bad options or a store conflict.
    """
    base_sc = _as_scenario(baseline)
    others = [_as_scenario(s) for s in scenarios]
    if not others:
        raise InputError("SCENARIO", None, "give at least one scenario to compare with the "
                         "baseline")
    seen: dict[str, Scenario] = {base_sc.name: base_sc}
    for sc in others:
        if sc.name in seen:
            raise InputError(sc.source_file or sc.name, "name",
                             f"two scenarios are named '{sc.name}'; give each its own name")
        seen[sc.name] = sc
    auto = replications == "auto"
    if parameter_draws is not None and auto:
        raise InputError("--replications", None, "'auto' does not work with "
                         "--parameter-draws; give a number")
    if parameter_draws is None and draws_file is not None:
        raise InputError("--draws", None, "only with --parameter-draws N")
    if auto:
        if precision is None:
            raise InputError("--precision", None, "--replications auto needs --precision")
        target = precision if isinstance(precision, Precision) else Precision.parse(precision)
        if max_replications < 2:
            raise InputError("--max-replications", None, "must be at least 2")
    else:
        try:
            replications = int(replications)
        except (TypeError, ValueError):
            raise InputError("--replications", None,
                             f"a number or 'auto' (got {replications!r})") from None
        if replications < 1:
            raise InputError("--replications", None, "must be at least 1")
        target = (precision if isinstance(precision, Precision) or precision is None
                  else Precision.parse(precision))
    horizon = years if years is not None else base_sc.years
    all_sc = [base_sc, *others]
    _check_metric_names(metrics, base_sc)
    if parameter_draws is not None:
        return _compare_draws(
            base_sc, others, n_draws=parameter_draws, draws_file=draws_file, out=Path(out),
            replications=replications, years=horizon, seed=seed, metrics=metrics,
            independent_seeds=independent_seeds, executor=executor, workers=workers,
            force=force, command=command, progress=progress)
    registry = {sc.name: {"hash": scenario_identity(sc), "source_file": sc.source_file,
                          "role": "baseline" if sc is base_sc else "scenario"} for sc in all_sc}
    out = Path(out)

    with Runner(out, executor=executor, workers=workers, command=command,
                progress=progress) as runner:
        runner.register(registry, force=force)
        n = min(INITIAL_REPLICATIONS, max_replications) if auto else replications
        done = 0
        while True:
            specs = [spec for sc in all_sc for spec in make_specs(
                sc, replicates=range(n), seed=seed, out_dir=out, years=horizon,
                independent_seeds=independent_seeds, command=command)]
            report = runner.run(specs)
            done += report.done
            experiments, outcomes = load_store(out, run_ids=[s.run_id for s in specs],
                                               expand_values=False)
            table = paired_differences(experiments, outcomes, baseline=base_sc.name,
                                       scenarios=[s.name for s in others])
            final_year = int(outcomes["year"].max())
            headline = _headline(metrics, outcomes)
            if auto and not headline:
                raise InputError("--metric", None, "none of the default headline metrics is "
                                 "recorded; name one with --metric")
            ratio = _worst_ratio(table, headline, final_year, target) if target else None
            if on_round is not None:
                on_round(n, ratio)
            if not auto or ratio < 1 or n >= max_replications:
                break
            n = _next_replications(table, headline, final_year, target, n, max_replications)
    # every round's runs are part of the last round's, so the rest was stored before
    skipped = len({s.run_id for s in specs}) - done
    csv = out / COMPARISON_FILE
    _write_csv_atomic(table, csv)
    summary, effectiveness = _costs(experiments, outcomes, {sc.name: sc for sc in all_sc},
                                    base_sc.name, [s.name for s in others], out)
    return ComparisonResult(
        table=table, baseline=base_sc.name, scenarios=[s.name for s in others],
        replications=n, final_year=final_year, headline=headline,
        precision_reached=None if ratio is None else bool(ratio < 1),
        half_width_ratio=ratio, runs_done=done, runs_skipped=skipped, csv=csv,
        costs=summary, cost_effectiveness=effectiveness,
    )


def _compare_draws(base_sc: Scenario, others: list[Scenario], *, n_draws: int,
                   draws_file: str | Path | None, out: Path, replications: int, years: int,
                   seed: int, metrics, independent_seeds: bool, executor, workers: int,
                   force: bool, command: str, progress) -> ComparisonResult:
    """:func:`compare` over parameter draws (see :mod:`sim.experiments.draws`)."""
    from sim.errors import display_path
    from sim.experiments import draws as dr

    if draws_file is None:
        raise InputError("--draws", None, "--parameter-draws needs a draws file, e.g. "
                         "--draws results/calibration/calibration_draws.csv")
    source = display_path(draws_file)
    selected = dr.select_draws(dr.read_draws(draws_file), int(n_draws), seed=seed,
                               source=source)
    values = dr.draw_values(selected)
    all_sc = [base_sc, *others]
    registry, specs, labels = {}, [], []
    for sc in all_sc:
        role = "baseline" if sc is base_sc else "scenario"
        for d, dsc in enumerate(dr.draw_scenarios(sc, selected, source=source)):
            registry[dsc.name] = {"hash": scenario_identity(dsc), "source_file": sc.source_file,
                                  "role": f"{role} draw", "draw_of": sc.name, "draw": d,
                                  "draws_file": source, "values": values[d]}
            for spec in make_specs(dsc, replicates=range(replications),
                                   seed=dr.draw_seed(seed, d), out_dir=out, years=years,
                                   independent_seeds=independent_seeds, command=command,
                                   design_point=d, values=values[d]):
                specs.append(spec)
                labels.append({"run_id": spec.run_id, "scenario": sc.name, "draw": d,
                               "replicate": d * dr.DRAW_SEED_STRIDE + spec.replicate})
    with Runner(out, executor=executor, workers=workers, command=command,
                progress=progress) as runner:
        runner.register(registry, force=force)
        report = runner.run(specs)
    experiments, outcomes = load_store(out, run_ids=[s.run_id for s in specs],
                                       expand_values=False)
    runs = pd.DataFrame(labels)
    runs = runs[runs["run_id"].isin(set(experiments["run_id"]))]
    names = [s.name for s in others]
    pooled = paired_differences(runs, outcomes, baseline=base_sc.name, scenarios=names)
    pairs, _ = paired_values(runs, outcomes, baseline=base_sc.name, scenarios=names,
                             extra=["draw"])
    group = ["scenario", "metric", "scope", "year"]
    per_draw = pairs.groupby([*group, "draw"], sort=False, observed=True)["d"].agg(
        mean="mean", var="var", n="size").reset_index()
    combined = dr.combine_draws(per_draw, group).set_index(group)
    table = pooled.rename(columns={"ci_low": "stochastic_ci_low",
                                   "ci_high": "stochastic_ci_high"}).set_index(group)
    for column in ("difference", "half_width", "ci_low", "ci_high", "draws",
                   "var_parametric", "var_stochastic", "parametric_share"):
        table[column] = combined[column]
    table["replications"] = per_draw.groupby(group, sort=False)["n"].max()
    table["significant"] = (table["ci_low"] > 0) | (table["ci_high"] < 0)
    table["interval"] = dr.INTERVAL_COMBINED
    table = table.reset_index()[[*COMPARISON_COLUMNS, *dr.DRAW_EXTRA_COLUMNS]]
    final_year = int(outcomes["year"].max())
    csv = out / COMPARISON_FILE
    _write_csv_atomic(table, csv)
    _write_csv_atomic(selected, out / dr.SELECTED_DRAWS_FILE)
    from sim.experiments.files import write_atomic

    write_atomic(out / dr.DRAW_EFFECTS_FILE,
                 lambda tmp: per_draw.to_parquet(tmp, index=False))
    summary, effectiveness = _costs(runs.merge(experiments.drop(columns=["scenario",
                                                                         "replicate"],
                                                                errors="ignore"),
                                               on="run_id"),
                                    outcomes, {sc.name: sc for sc in all_sc}, base_sc.name,
                                    names, out)
    headline = _headline(metrics, outcomes)
    return ComparisonResult(
        table=table, baseline=base_sc.name, scenarios=names, replications=replications,
        final_year=final_year, headline=headline, precision_reached=None,
        half_width_ratio=None, runs_done=report.done,
        runs_skipped=len({s.run_id for s in specs}) - report.done, csv=csv, costs=summary,
        cost_effectiveness=effectiveness, parameter_draws=int(n_draws), draws=selected,
        interval=dr.INTERVAL_COMBINED)


def _costs(experiments: pd.DataFrame, outcomes: pd.DataFrame, scenarios: dict, baseline: str,
           others: list[str], out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Lever costs and cost-effectiveness of a comparison, written to the experiment folder
    (``costs.parquet``: every run's cost rows; ``cost_effectiveness.parquet``)."""
    from sim.experiments import costs as cost_module
    from sim.experiments.files import write_atomic

    rows = cost_module.costs_of_runs(experiments, outcomes, scenarios)
    effectiveness = cost_module.cost_effectiveness(experiments, outcomes, rows,
                                                   baseline=baseline, scenarios=others)
    write_atomic(out / cost_module.COST_FILE, lambda tmp: rows.to_parquet(tmp, index=False))
    write_atomic(out / cost_module.COST_EFFECTIVENESS_FILE,
                 lambda tmp: effectiveness.to_parquet(tmp, index=False))
    return cost_module.cost_summary(rows, experiments), effectiveness


def headline_rows(table: pd.DataFrame, headline: Sequence[str], year: int) -> pd.DataFrame:
    """The rows of the headline metrics, citywide, in ``year``."""
    return table[table["metric"].isin(list(headline)) & (table["scope"] == "city")
                 & (table["year"] == year)]


def _worst_ratio(table: pd.DataFrame, headline: Sequence[str], year: int,
                 target: Precision) -> float:
    """Largest half-width / target over the headline rows (below 1: precise enough)."""
    rows = headline_rows(table, headline, year)
    if rows.empty:
        return math.inf
    goal = target.targets(rows["baseline_mean"])
    half = rows["half_width"]
    ratio = np.where(half == 0, 0.0, half / goal.where(goal > 0, np.nan))
    ratio = np.where(np.isnan(ratio), np.inf, ratio)
    return float(np.max(ratio))


def _next_replications(table: pd.DataFrame, headline: Sequence[str], year: int,
                       target: Precision, n: int, cap: int) -> int:
    """Replications for the next round: the estimate from the current spread, at most double.

    ``needed = (t(0.975, n - 1) * sd / target)^2`` for the widest headline row; the next round
    has at least one replication more and at most twice as many, never more than ``cap``.
    """
    rows = headline_rows(table, headline, year)
    goal = target.targets(rows["baseline_mean"]).to_numpy()
    sd = rows["sd_difference"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        needed = (t_quantile(0.95, n - 1) * sd / goal) ** 2
    needed = np.where(np.isfinite(needed), needed, 2 * n)
    estimate = int(math.ceil(float(np.max(needed)))) if needed.size else n + 1
    return int(min(cap, max(n + 1, min(2 * n, estimate))))


def _headline(metrics: Sequence[str] | None, outcomes: pd.DataFrame) -> list[str]:
    recorded = set(outcomes["metric"].astype(str).unique())
    if metrics:
        unknown = [m for m in metrics if m not in recorded]
        if unknown:
            raise InputError("--metric", unknown[0],
                             "no such outcome (see 'quartier metrics')")
        return list(metrics)
    return [m for m in HEADLINE_METRICS if m in recorded]


def _check_metric_names(metrics: Sequence[str] | None, baseline: Scenario) -> None:
    """Reject unknown metric names before anything runs.

    Names in ``sim.state.outcomes.METRICS`` pass at once; any other name is looked up in the
    outcomes of a one-year run of a tiny version of the baseline (so metrics that the model records
    elsewhere are accepted without code changes here).
    """
    if not metrics:
        return
    from sim.state.outcomes import METRICS

    unknown = [m for m in metrics if m not in METRICS]
    if not unknown:
        return
    from sim.model import build_model

    tiny = baseline.with_values({"city.households": 50, "years": 1})
    recorded = set(build_model(tiny, seed=0).run(1).outcomes()["metric"].astype(str))
    for m in unknown:
        if m not in recorded:
            raise InputError("--metric", m, "no such outcome (see 'quartier metrics')")


def _as_scenario(item: Scenario | str | Path) -> Scenario:
    return item if isinstance(item, Scenario) else load_scenario(item)


def _write_csv_atomic(df: pd.DataFrame, path: Path) -> None:
    from sim.experiments.files import write_atomic

    write_atomic(path, lambda tmp: df.to_csv(tmp, index=False))


def significant_rows(result: ComparisonResult, *, metrics: Sequence[str] | None = None,
                     scope: str = "city", year: int | None = None) -> pd.DataFrame:
    """The significant differences of a comparison (default: citywide, final year)."""
    table = result.table
    year = result.final_year if year is None else year
    rows = table[(table["scope"] == scope) & (table["year"] == year) & table["significant"]]
    if metrics:
        rows = rows[rows["metric"].isin(list(metrics))]
    return rows
