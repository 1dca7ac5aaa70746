"""The ``quartier compare`` and ``quartier sweep`` commands (registered by :mod:`sim.cli`)."""

from __future__ import annotations

import math
from pathlib import Path

import typer

from sim.cli.common import (
    DIR,
    SCHEDULER_HELP,
    WORKERS_HELP,
    YES_HELP,
    RunProgress,
    announcer,
    command_errors,
    command_line,
    console,
    default_workers,
    err_console,
    executor_for,
    fail,
    prepare_kernels,
    print_table,
)
from sim.experiments.files import check_output_folder

CAUSE_PREFIX = "out_migrants_cause_"

SWEEP_HELP = """Run a research sweep described by a sweep file; results go to --out.

A sweep varies scenario fields (dotted paths) over a design and runs every design point
'replications' times; replicate r of every point uses seed 'seed + r' (common random numbers).
Runs stream to OUT/runs/ as Parquet files (one set per run, written atomically) with
OUT/manifest.json (provenance). Running the same command again skips stored runs: a sweep that
was interrupted resumes where it stopped. Read the results with
sim.results.load(OUT) -> (experiments, outcomes), or with DuckDB.

\b
Sweep file (TOML):
  base = "scenarios/baseline.toml"   # relative to the sweep file
  design = "lhs"                     # grid | lhs | sobol
  samples = 8                        # design points (lhs; sobol: a power of 2)
  replications = 2                   # runs per design point
  years = 10                         # default: the base scenario's
  seed = 1
  [parameters]                       # dotted path = [low, high]  (grid: list of values)
  "parameters.migration.in_migration_rate" = [0.04, 0.07]
  "city.households" = [20000, 40000]

Design points are named <base>-000, <base>-001, ... Bad files (unknown key or dotted path,
empty list or range, low >= high, unknown design) give a one-line error and exit status 2.
"""


def register(app: typer.Typer) -> None:
    """Add the experiment commands to the ``quartier`` app."""
    app.command("compare")(compare)
    app.command("sweep", help=SWEEP_HELP)(sweep)


# -- quartier compare ------------------------------------------------------------------------


def compare(
    baseline: Path = typer.Argument(..., help="Baseline scenario (TOML), e.g. "
                                    "scenarios/baseline.toml."),
    scenarios: list[Path] = typer.Argument(..., help="Policy scenarios to compare with it."),
    replications: str = typer.Option(
        "5", "--replications", "-r", metavar="N|auto",
        help="Replications per scenario, or 'auto' (with --precision): start with 3 and add "
        "until every headline confidence interval is narrow enough."),
    precision: str = typer.Option(
        None, "--precision", metavar="P",
        help="With --replications auto: target half-width of the 95 % CI of the headline "
        "metrics (citywide, final year), in the metric's unit (e.g. 0.1) or relative to the "
        "baseline mean (e.g. 1%)."),
    max_replications: int = typer.Option(50, "--max-replications", min=2,
                                         help="Cap for --replications auto."),
    metric: list[str] = typer.Option(
        None, "--metric", "-m",
        help="Headline metric (repeatable): shown in the table and used by --replications "
        "auto. Default: all metrics in the table; for auto out_migration_rate, out_migrants, "
        "population, mean_age, share_65plus as far as recorded."),
    years: int = typer.Option(None, "--years", "-n", min=1, max=300,
                              help="Years to simulate (default: the baseline's 'years')."),
    seed: int = typer.Option(1, "--seed", "-s", min=0,
                             help="Base seed: replicate r runs with seed + r in every scenario."),
    out: Path = typer.Option(Path("results/compare"), "--out", "-o", metavar=DIR,
                             help="Experiment folder: comparison.csv, runs/, manifest.json."),
    workers: int = typer.Option(None, "--workers", "-w", min=1, help=WORKERS_HELP),
    scheduler: str = typer.Option(None, "--scheduler", help=SCHEDULER_HELP),
    scope: str = typer.Option("city", "--scope",
                              help="Scope of the printed tables: 'city' (Gesamtstadt) or a "
                              "quartier id; comparison.csv always has every scope."),
    independent_seeds: bool = typer.Option(
        False, "--independent-seeds",
        help="Give every run its own seed instead of common random numbers (wider CIs; for "
        "demonstration)."),
    force: bool = typer.Option(False, "--force",
                               help="Replace stored runs of a scenario whose content changed."),
    full: bool = typer.Option(
        False, "--full",
        help="Print every metric per scenario and the out-migrants by cause (default: the "
        "headline metrics and the significant differences)."),
    parameter_draws: int = typer.Option(
        None, "--parameter-draws", min=1, metavar="N",
        help="Run every scenario on N parameter sets of the calibration (--draws) x "
        "--replications, and give each effect an interval combining parameter and stochastic "
        "uncertainty with the parametric share of its variance. Default: the scenarios' own "
        "values."),
    draws: Path = typer.Option(
        None, "--draws", metavar="FILE",
        help="Draws file for --parameter-draws (CSV or Parquet: draw, weight, one column per "
        "dotted scenario path), e.g. results/calibration/calibration_draws.csv."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or tables."),
) -> None:
    """Compare policy scenarios with a baseline over paired replications (Szenariovergleich).

    Runs every (scenario x replication) pair; replicate r of every scenario uses the same seed
    (common random numbers), so differences come from the levers, not from noise. Prints, per
    scenario, the baseline mean, the scenario mean and the paired difference with its 95 %
    confidence interval (t-interval over the replicate differences) for each headline metric
    (--full: every metric, and out-migrants by cause), marks the differences whose interval
    excludes 0, and finishes with the table of significant differences over all metrics.
    Writes OUT/comparison.csv (every metric, scope and year) and the per-run results
    (OUT/runs/, OUT/manifest.json). Runs already in OUT are reused.

    With --parameter-draws N --draws FILE every scenario also runs on N parameter sets from
    the calibration (the draw's values override the scenario's; common random numbers within a
    draw); the intervals then combine parameter and stochastic uncertainty (law of total
    variance over draws and replications, see docs/uncertainty.md) and the tables give the
    parametric share of each effect's variance.
    """
    from sim.errors import InputError, display_path, io_error
    from sim.experiments.runner import RunsFailed

    try:
        check_output_folder(out)
        if replications != "auto":
            try:
                n = int(replications)
            except ValueError:
                raise InputError("--replications", None,
                                 f"a number or 'auto' (got {replications!r})") from None
            if n < 1:
                raise InputError("--replications", None, "must be at least 1")
            if precision is not None:
                raise InputError("--precision", None, "only with --replications auto")
        elif precision is None:
            raise InputError("--precision", None, "--replications auto needs --precision")
        elif parameter_draws is not None:
            raise InputError("--replications", None, "'auto' does not work with "
                             "--parameter-draws; give a number")
        if draws is not None and parameter_draws is None:
            raise InputError("--draws", None, "only with --parameter-draws N")
        if parameter_draws is not None:
            from sim.experiments.draws import read_draws, select_draws

            if draws is None:
                raise InputError("--draws", None, "--parameter-draws needs a draws file, e.g. "
                                 "--draws results/calibration/calibration_draws.csv")
            select_draws(read_draws(draws), parameter_draws, seed=seed,
                         source=display_path(draws))
        from sim.experiments.comparison import Precision
        from sim.inputs.levers import load_scenario

        target = Precision.parse(precision) if precision is not None else None
        base_sc = load_scenario(baseline)
        others = [load_scenario(p) for p in scenarios]
    except InputError as exc:
        fail(exc)
        return

    from sim.experiments.comparison import compare as run_compare

    prepare_kernels(quiet)

    rounds: list[tuple[int, float | None]] = []
    with RunProgress("Szenariovergleich / comparison", quiet) as progress:
        try:
            with executor_for(scheduler) as executor:
                result = run_compare(
                    base_sc, others, out=out,
                    replications="auto" if replications == "auto" else int(replications),
                    precision=target, years=years, seed=seed, metrics=metric or None,
                    max_replications=max_replications, independent_seeds=independent_seeds,
                    executor=executor, workers=workers or default_workers(), force=force,
                    command=command_line(), progress=progress,
                    on_round=lambda n, ratio: rounds.append((n, ratio)),
                    parameter_draws=parameter_draws, draws_file=draws,
                )
        except InputError as exc:
            progress.__exit__()
            fail(exc)
            return
        except OSError as exc:
            progress.__exit__()
            fail(io_error(exc, "--out", out))
            return
        except RunsFailed as exc:
            progress.__exit__()
            err_console.print(f"error: {exc}", markup=False, highlight=False,
                                  soft_wrap=True)
            raise typer.Exit(code=2 if exc.bad_input else 1) from None
    if quiet:
        return
    _print_comparison(result, metrics=metric or None, scope=scope,
                      independent=independent_seeds, full=full)
    _print_replications(result, replications == "auto", target, rounds)
    _print_costs(result)
    if result.parameter_draws:
        console.print(
            f"Parameter draws: {result.parameter_draws} from {display_path(draws)} (used: "
            f"{out / 'parameter_draws.csv'}; effect per draw: {out / 'comparison_draws.parquet'})"
            ". Intervals: parameter + stochastic uncertainty.", highlight=False, soft_wrap=True)
    n_runs = result.runs_done + result.runs_skipped
    console.print(
        f"Runs: {n_runs} ({result.runs_done} simulated, {result.runs_skipped} already stored). "
        f"Results: {result.csv}  {out / 'runs'}  {out / 'manifest.json'}",
        highlight=False, soft_wrap=True)


def _is_share(metric: str) -> bool:
    return metric.startswith("share_") or metric.endswith(("_rate", "_share"))


def _formatters(metric: str, magnitude: float):
    """(value format, difference format, unit suffix) for a metric."""
    if _is_share(metric):
        return (lambda v: f"{v:.1%}"), (lambda d: f"{100 * d:+.2f}"), " pp"
    if not math.isfinite(magnitude):
        magnitude = 0.0
    decimals = 0 if magnitude >= 1000 else 1 if magnitude >= 10 else 2 if magnitude >= 1 else 3
    diff_decimals = min(decimals + 1, 4)
    return ((lambda v: f"{v:,.{decimals}f}"), (lambda d: f"{d:+,.{diff_decimals}f}"), "")


TABLE_METRICS = (
    "population", "mean_age", "share_65plus", "out_migrants", "out_migration_rate",
    "out_migrants_poor", "dissimilarity_income_quartiers", "mean_rent_burden",
    "social_housing_share", "unmet_care", "share_65plus_gp_within_reach",
    "commuting_cost_share",
)
"""The headline rows printed per scenario by ``quartier compare`` (``--full``: every metric):
population, out-migration (all and of the poor), segregation, rent burden, care, GP access and
commuting cost, as far as recorded."""


def _print_comparison(result, *, metrics, scope: str, independent: bool,
                      full: bool = False) -> None:
    """Per scenario a table of the headline rows (``full``: every metric, then out-migrants by
    cause); last the significant differences over every metric (or over ``metrics``)."""
    table = result.table
    year = result.final_year
    scope_label = "Gesamtstadt / whole city" if scope == "city" else f"Quartier {scope}"
    rows = table[(table["scope"] == scope) & (table["year"] == year)]
    if metrics:
        rows = rows[rows["metric"].isin(metrics)]
    else:  # age bands by sex are for pyramids (dashboards), too many rows for a table;
        # causes of leaving have their own table, next to the total
        rows = rows[~rows["metric"].str.startswith(("persons_", CAUSE_PREFIX))]
    if rows.empty:
        console.print(f"No results for scope '{scope}' in {year}.")
        return
    seeds = "independent seeds" if independent else "common random numbers"
    from sim.experiments.comparison import cause_breakdown

    causes = cause_breakdown(table, scope=scope, year=year)
    if metrics and not any(m == "out_migrants" or m.startswith(CAUSE_PREFIX) for m in metrics):
        causes = causes.iloc[:0]
    totals = dict(causes.loc[causes["row"] == "total", ["scenario", "difference"]]
                  .itertuples(index=False, name=None))
    show = set(rows["metric"]) if (full or metrics) else set(TABLE_METRICS)
    significant = []
    draws = getattr(result, "parameter_draws", None)
    for name in result.scenarios:
        part = rows[rows["scenario"] == name]
        lines = [(row, _metric_cells(row, totals.get(name), share=bool(draws)))
                 for row in part.itertuples(index=False)]
        significant += [(name, *cells[:5]) for row, cells in lines
                        if row.significant and not (row.metric.startswith(CAUSE_PREFIX)
                                                    and name in totals)]
        runs = (f"{draws} parameter draws x {result.replications} paired replications"
                if draws else f"{result.replications} paired replications")
        out = _difference_table(f"{name} vs. {result.baseline} — {scope_label}, {year}, {runs}",
                                "Kennzahl\nmetric", share=bool(draws))
        for row, cells in lines:
            if row.metric in show:
                out.add_row(*cells)
        kind = ("95 %-Intervall aus Parameter- und Zufallsunsicherheit / interval of parameter "
                "+ stochastic uncertainty (law of total variance over draws and replications); "
                "Param. = parametric share of its variance" if draws else
                "95 %-Konfidenzintervall / CI of the stochastic uncertainty only")
        out.caption = (f"{kind}. * Intervall schließt 0 aus / interval excludes 0 "
                       f"(significant); paired differences, {seeds}; pp = percentage points"
                       + ("" if (full or metrics) else
                          "; Leitkennzahlen / headline metrics (--full: every metric)"))
        print_table(out)
        significant += _cause_rows(causes[causes["scenario"] == name], name, result,
                                   scope_label, year, show=full)
    _print_significant(significant, scope_label, year)


def _metric_cells(row, total: float | None, share: bool = False) -> list[str]:
    """A comparison row's cells: label, baseline, scenario, difference, CI, (``share``: the
    parametric share of the interval's variance), mark."""
    fmt_value, fmt_diff, unit = _formatters(
        row.metric, max(abs(row.baseline_mean), abs(row.scenario_mean)))
    ci = ("n/a" if not math.isfinite(row.ci_low)
          else f"[{fmt_diff(row.ci_low)}, {fmt_diff(row.ci_high)}]")
    cells = [_cause_label(row.metric, total, fmt_diff), fmt_value(row.baseline_mean),
             fmt_value(row.scenario_mean), f"{fmt_diff(row.difference)}{unit}", ci]
    if share:
        value = getattr(row, "parametric_share", math.nan)
        cells.append(f"{value:.0%}" if math.isfinite(value) else "–")
    return [*cells, "*" if row.significant else ""]


def _difference_table(title: str, first: str, share: bool = False):
    """A table of paired differences: a label column ``first``, then baseline, scenario,
    difference, 95 % CI (``share``: and the parametric share) and the significance mark."""
    from rich.table import Table

    out = Table(title=title)
    out.add_column(first, overflow="fold")
    headers = ("Basis\nbaseline", "Szenario\nscenario", "Differenz\ndifference",
               "95 %-Intervall\nParam.+Zufall" if share else "95 %-KI\n95 % CI"
               ) + (("Param.\nshare",) if share else ())
    for header in headers:
        out.add_column(header, justify="right", no_wrap=True)
    out.add_column("", justify="center", no_wrap=True)
    return out


def _print_significant(significant: list, scope_label: str, year: int) -> None:
    from rich.table import Table

    summary = Table(title=f"Signifikante Unterschiede / significant differences — "
                    f"{scope_label}, {year}")
    for column in ("Szenario\nscenario", "Kennzahl\nmetric", "Basis\nbaseline",
                   "Wert\nvalue", "Differenz\ndifference", "95 %-KI\n95 % CI"):
        text = column[0] in "SK"  # scenario and metric names may wrap, numbers never
        summary.add_column(column, justify="left" if text else "right", no_wrap=not text,
                           overflow="fold" if text else "ellipsis")
    for cells in significant:
        summary.add_row(*cells)
    if not significant:
        summary.caption = "keine / none: every 95 % interval includes 0"
    print_table(summary)


def _cause_label(metric: str, total: float | None, fmt_diff) -> str:
    """A metric's name; a cause of leaving says that it is a part of all out-migrants and
    shows the total's change next to it."""
    if not metric.startswith(CAUSE_PREFIX) or total is None:
        return metric
    return f"{metric} (Teil von / part of out_migrants: gesamt / total {fmt_diff(total)})"


def _cause_rows(rows, name: str, result, scope_label: str, year: int, *,
                show: bool) -> list:
    """The significant causes of leaving (labelled with the total's change) for the table of
    significant differences; with ``show``, first print the lever's effect on all
    out-migrants and on each cause (parts of that total)."""
    if rows.empty:
        return []
    total = rows[rows["row"] == "total"].iloc[0]
    fmt_value, fmt_diff, _ = _formatters(
        "out_migrants", max(abs(total.baseline_mean), abs(total.scenario_mean)))
    out = _difference_table(
        f"Wegzüge insgesamt und nach Grund / out-migrants in total and by cause "
        f"— {name} vs. {result.baseline}, {scope_label}, {year}", "Wegzüge\nout-migrants")
    significant = []
    for row in rows.itertuples(index=False):
        cause = row.metric.removeprefix(CAUSE_PREFIX)
        label = {"total": "INSGESAMT / TOTAL (out_migrants)",
                 "sum of causes": "Summe der Gründe / sum of causes"}.get(
                     row.row, f"  davon / of which: {cause}")
        ci = ("" if not math.isfinite(row.ci_low)
              else f"[{fmt_diff(row.ci_low)}, {fmt_diff(row.ci_high)}]")
        cells = [label, fmt_value(row.baseline_mean), fmt_value(row.scenario_mean),
                 fmt_diff(row.difference), ci, "*" if row.significant else ""]
        out.add_row(*cells, end_section=row.row == "total")
        if row.row == "cause" and row.significant:
            significant.append((name, _cause_label(row.metric, total.difference, fmt_diff),
                                *cells[1:5]))
    out.caption = ("Die Gründe sind Teile der Wegzüge insgesamt, keine eigenen Summen: "
                   "ohne seinen Grund hätte der Haushalt in diesem Jahr nicht gesucht "
                   "(kontrafaktisch); die Differenzen der Gründe ergeben zusammen die Differenz "
                   "insgesamt. / Causes are "
                   "parts of the total, not totals: a cause is what the household would not "
                   "have searched without (counterfactual); their differences add up to the "
                   "total's difference.")
    if show:
        print_table(out)
    return significant


def _print_costs(result) -> None:
    """The levers' costs over the horizon, then the cost per unit of effect."""
    from rich.table import Table

    from sim.experiments.costs import display_table, euros

    if result.costs is None or result.cost_effectiveness is None:
        return
    draws = getattr(result, "parameter_draws", None)
    runs = (f"{draws} parameter draws x {result.replications}" if draws
            else f"{result.replications}")
    out = Table(title="Kosten der Hebel / lever costs (nominal EUR, sum over the horizon, "
                f"mean of {runs} replications)")
    for header in ("Szenario\nscenario", "Hebel\nlever", "Posten\nitem", "Jahre\nyears",
                   "EUR"):
        out.add_column(header, justify="right" if header == "EUR" else "left",
                       overflow="fold")
    for _, part in result.costs.groupby("scenario", sort=False):
        for r in part.itertuples(index=False):
            out.add_row(r.scenario, r.lever, r.item, f"{r.first_year}-{r.last_year}",
                        euros(r.eur))
        out.add_row("", "", "Summe / total", f"{part['first_year'].min()}-"
                    f"{part['last_year'].max()}", euros(part["eur"].sum()), end_section=True)
    if result.costs.empty:
        out.caption = "keine Hebel / no levers"
    print_table(out)
    table = display_table(result.cost_effectiveness)
    out = Table(title=f"Kosten-Wirksamkeit / cost-effectiveness vs. {result.baseline} "
                f"({runs} paired replications"
                + ("; intervals: runs' noise only, pooled over the draws)" if draws else ")"))
    for col in table.columns:
        out.add_column(col, justify="left" if col in ("scenario", "effect") else "right",
                       overflow="fold")
    previous = None
    for row in table.itertuples(index=False):
        out.add_row(*[("" if i in (1, 2) and row[0] == previous else str(v))
                      for i, v in enumerate(row)], end_section=False)
        previous = row[0]
    out.caption = ("Extra cost: the scenario's lever costs minus the baseline's, paired by "
                   "replicate. Effects: out-migrants and poor out-migrants avoided (sum over "
                   "the years), D and residents 65+ near a GP in the final year. 'no effect': "
                   "the effect's 95 % interval includes 0, so no cost per unit is given. "
                   "Intervals: t (cost, effect), Fieller (EUR per unit). See docs/costs.md.")
    print_table(out)


def _print_replications(result, auto: bool, target, rounds) -> None:
    if not auto:
        return
    steps = " -> ".join(str(n) for n, _ in rounds)
    headline = ", ".join(result.headline)
    if result.precision_reached:
        console.print(
            f"Replications (auto): {result.replications} per scenario ({steps}); every "
            f"headline 95 % half-width ({headline}; citywide, {result.final_year}) is below "
            f"the precision {_precision_text(target)}.", highlight=False, soft_wrap=True)
    else:
        console.print(
            f"Replications (auto): stopped at the cap of {result.replications} per scenario "
            f"({steps}); the widest headline half-width is still "
            f"{result.half_width_ratio:.2f} times the precision {_precision_text(target)} "
            f"({headline}).", highlight=False, soft_wrap=True)


def _precision_text(target) -> str:
    if target is None:
        return ""
    return f"{target.value * 100:g}% of the baseline mean" if target.relative else (
        f"{target.value:g}")


# -- quartier sweep --------------------------------------------------------------------------


def sweep(
    sweep_file: Path = typer.Argument(..., help="Sweep file (TOML), see above."),
    out: Path = typer.Option(Path("results/sweep"), "--out", "-o", metavar=DIR,
                             help="Experiment folder: runs/ and manifest.json."),
    workers: int = typer.Option(None, "--workers", "-w", min=1, help=WORKERS_HELP),
    scheduler: str = typer.Option(None, "--scheduler", help=SCHEDULER_HELP),
    force: bool = typer.Option(False, "--force",
                               help="Replace stored runs of design points whose content "
                               "changed."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary."),
    yes: bool = typer.Option(False, "--yes", "-y", help=YES_HELP),
) -> None:
    announcer("Sweep", quiet)(f"reading {sweep_file}")  # at once, before the imports
    from sim.experiments.sweeps import sweep_file as run_sweep_file

    progress = RunProgress("Sweep", quiet)
    with command_errors():
        check_output_folder(out)
        with progress, executor_for(scheduler) as executor:
            experiments, _ = run_sweep_file(
                sweep_file, out=out, executor=executor, workers=workers or default_workers(),
                force=force, progress=progress, command=command_line(), confirmed=yes,
                announce=announcer("Sweep", quiet))
    if quiet:
        return
    stored = progress.first or 0
    n = len(experiments)
    points = experiments["design_point"].nunique() if n else 0
    console.print(
        f"Sweep: {n} runs ({points} design points x {n // max(points, 1)} replications): "
        f"{n - stored} simulated, {stored} already stored. Results: {out / 'runs'}  "
        f"{out / 'manifest.json'}\nRead them with: import sim; "
        f"experiments, outcomes = sim.results.load({str(out)!r})", highlight=False,
        soft_wrap=True)
