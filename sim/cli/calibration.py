"""The ``quartier calibrate`` and ``quartier validate`` commands (registered by :mod:`sim.cli`)."""

from __future__ import annotations

import math
from pathlib import Path

import typer

from sim.cli.common import (
    DIR,
    FILE,
    LANG_HELP,
    SCHEDULER_HELP,
    WORKERS_HELP,
    YES_HELP,
    N,
    RunProgress,
    announcer,
    command_errors,
    command_line,
    console,
    default_workers,
    executor_for,
    pool_for,
    print_table,
)
from sim.experiments.files import check_output_folder

CALIBRATE_HELP = """Fit the behavioural parameters to official figures (Kalibrierung).

Simulated method of moments with common random numbers: every evaluation runs the base
scenario REPLICATIONS times with the same seeds, computes the targets' statistics (e.g. moves
within the city per 1,000 residents) and measures the distance
J = sum(((simulated - observed) / tolerance)^2) to the observed figures in
calibration/targets/targets.csv. A space-filling design (scrambled Sobol' points) comes first,
then Nelder-Mead from the best point. Runs go to OUT/runs (resumable: running again reuses
them); the fit table, the parameters and the trace of every evaluation go to OUT, and the fitted
parameters as a scenario file to OUT/calibrated.toml. No scenario in scenarios/ changes unless
you ask for it: --write-scenario scenarios/calibrated.toml replaces the file the baseline
extends, so every later run of every scenario uses the new parameters.

\b
Calibration file (TOML), see calibration/calibrate.toml:
  base = "../scenarios/baseline.toml"   # relative to this file
  households = 10000                    # per run
  years = 5                             # simulated years per run
  replications = 4                      # seeds seed ... seed + 3, the same every evaluation
  initial_points = 16                   # Sobol' points before Nelder-Mead
  max_evaluations = 80
  method = "smm"                        # or "abc": ABC-SMC with pyABC (a posterior;
                                        #   pip install 'quartiersim[abc]'), with
                                        #   abc_population = 40, abc_generations = 4
  targets = ["moves_within_city_per_1000", "out_migrants_per_1000"]
  [parameters]                          # dotted path = [low, high]
  "parameters.mobility.utility_outside" = [2.5, 4.0]

Takes about a minute for the default file on 2 cores. Bad files (unknown key, target or
dotted path, low >= high) give a one-line error and exit status 2; nothing is written.
"""

VALIDATE_HELP = """Compare a scenario with every observed target (Validierung).

Runs the scenario REPLICATIONS times and compares the mean of each target's statistic with the
observed figure of the targets table (--targets; default: calibration/targets/essen_targets.csv
for a scenario whose city is Essen, calibration/targets/targets.csv otherwise): within the
tolerance or missed. Targets the
calibration file fits are marked 'fitted', figures that are also model inputs 'input', all
others 'held out' (the real test); targets the data lacks are listed with the simulated value.
Prints a table, writes OUT/validation.csv and an HTML report, OUT/validation.html,
with the uncertainty band of the replications (95 % interval of the mean).

'early' targets compare the mean of the first 5 simulated years (the observed figures are from
2019-2023; runs start in 2024); life expectancy and fertility use all simulated years.
Targets of a calendar year (the Essen table: e.g. population at the end of 2022) compare that
year of the runs; with such targets the runs cover the scenario's years unless --years is
given, and a year the runs do not reach is shown without a simulated value. A table with a
'role' column (fitted / held out) sets the roles itself.
"""


def register(app: typer.Typer) -> None:
    """Add the calibration commands to the ``quartier`` app."""
    app.command("calibrate", help=CALIBRATE_HELP)(calibrate)
    app.command("validate", help=VALIDATE_HELP)(validate)


class _EvaluationProgress:
    """A rich progress bar over evaluations, with the best distance so far."""

    def __init__(self, quiet: bool) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.bar = Progress(TextColumn("[bold]Kalibrierung / calibration"), BarColumn(),
                            MofNCompleteColumn(),
                            TextColumn("evaluations  best J {task.fields[best]}"),
                            TimeElapsedColumn(), console=console, disable=quiet)
        self.task = None

    def __call__(self, done: int, total: int, best: float) -> None:
        text = f"{best:.3g}" if math.isfinite(best) else "–"
        if self.task is None:
            self.bar.start()
            self.task = self.bar.add_task("calibrate", total=total, completed=done, best=text)
        else:
            self.bar.update(self.task, completed=done, total=total, best=text)

    def __enter__(self) -> _EvaluationProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.task is not None:
            self.bar.stop()


# -- quartier calibrate --------------------------------------------------------------------------


def calibrate(
    calibration_file: Path = typer.Argument(
        Path("calibration/calibrate.toml"), metavar=FILE,
        help="Calibration file (TOML): base scenario, targets, parameters and ranges."),
    out: Path = typer.Option(Path("results/calibration"), "--out", "-o", metavar=DIR,
                             help="Folder for the runs, the fit table, the trace and the "
                             "fitted parameters (OUT/calibrated.toml)."),
    write_scenario: Path = typer.Option(
        None, "--write-scenario", metavar=FILE,
        help="Also write the fitted parameters to this scenario file, e.g. "
        "scenarios/calibrated.toml (which the baseline extends: every later run changes). "
        "Default: only OUT/calibrated.toml."),
    max_evaluations: int = typer.Option(
        None, "--max-evaluations", min=1, metavar=N,
        help="Override the file's max_evaluations (each runs 'replications' simulations)."),
    workers: int = typer.Option(None, "--workers", "-w", min=1, help=WORKERS_HELP),
    scheduler: str = typer.Option(None, "--scheduler", help=SCHEDULER_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or tables."),
    yes: bool = typer.Option(False, "--yes", "-y", help=YES_HELP),
) -> None:
    announcer("Kalibrierung / calibration", quiet)(f"reading {calibration_file}")
    from calibration.smm import (
        calibrate as run_calibration,
    )
    from calibration.smm import (
        load_calibration_file,
        make_problem,
        write_results,
    )
    from calibration.smm import write_scenario as write_fitted
    from sim.errors import InputError

    progress = _EvaluationProgress(quiet)
    command = command_line()
    with command_errors():
        check_output_folder(out)
        if write_scenario is not None and write_scenario.is_dir():
            raise InputError("--write-scenario", None, f"{write_scenario} is a folder")
        spec = load_calibration_file(calibration_file)
        if max_evaluations is not None:
            spec = spec.model_copy(update={"max_evaluations": max_evaluations})
        problem = make_problem(spec, source=str(calibration_file),
                               base_dir=calibration_file.resolve().parent)
        _check_size(spec, problem, str(calibration_file), workers or default_workers(), yes,
                    quiet)
        with pool_for(scheduler, workers or default_workers()) as executor, progress:
            result = run_calibration(problem, out=out, executor=executor,
                                     workers=workers or default_workers(), progress=progress,
                                     command=command)
        paths = write_results(result, out)
        written = [write_fitted(result, out / "calibrated.toml", command=command)]
        if write_scenario is not None:
            written.append(write_fitted(result, write_scenario, command=command))
    if quiet:
        return
    _print_fit(result)
    console.print(
        f"Distance J = {result.objective:.3g} after {result.evaluations} evaluations "
        f"({result.message}). Fitted parameters: {'  '.join(map(str, written))}  "
        f"Fit: {paths['fit']}  "
        f"Trace: {paths['trace']}"
        + (f"  Parameter draws: {paths['draws']}" if "draws" in paths else ""),
        highlight=False, soft_wrap=True)


def _check_size(spec, problem, source: str, workers: int, yes: bool, quiet: bool) -> None:
    """Refuse a calibration of too many runs (or without --yes); state its size at once."""
    from sim.experiments.bounds import check_design_size

    # Nelder-Mead stops at max_evaluations. pyABC first samples a population from the prior
    # (for its first epsilon), samples each generation until a population is accepted and
    # checks the budget only between generations: at least two populations, then about the
    # budget; then one evaluation at the posterior medians.
    evaluations = spec.max_evaluations
    if spec.method == "abc":
        evaluations = max(evaluations, 2 * spec.abc_population) + 1
    summary = check_design_size(evaluations * spec.replications, problem.run_base,
                                workers=workers, confirmed=yes, source=source)
    bound = "up to about" if spec.method == "abc" else "at most"
    announcer("Kalibrierung / calibration", quiet)(f"{bound} {summary}; starting")


def _print_fit(result) -> None:
    from rich.table import Table

    fit = Table(title="Kalibrierung: simuliert vs. beobachtet / calibration fit")
    for column in ("Zielgröße / target", "beobachtet\nobserved", "Toleranz\ntolerance",
                   "simuliert\nsimulated", "SD (runs)", ""):
        fit.add_column(column, justify="left" if column.startswith("Ziel") else "right")
    for row in result.fit.itertuples(index=False):
        fit.add_row(row.target, f"{row.observed:.4g}", f"±{row.tolerance:.3g}",
                    f"{row.simulated:.4g}", f"{row.sd:.2g}" if math.isfinite(row.sd) else "–",
                    "✓" if row.within_tolerance else "✗")
    print_table(fit)
    params = Table(title="Parameter / parameters")
    for column in ("Parameter", "Bereich / range", "Start", "angepasst\nfitted"):
        params.add_column(column, justify="left" if column == "Parameter" else "right")
    for row in result.parameters.itertuples(index=False):
        params.add_row(row.parameter, f"[{row.low:g}, {row.high:g}]", f"{row.start:.4g}",
                       f"{row.fitted:.4g}")
    print_table(params)
    if result.posterior is not None:
        post = Table(title="ABC: Posterior (gewichtet / weighted)")
        for column in ("Parameter", "Median", "5 %", "95 %"):
            post.add_column(column, justify="left" if column == "Parameter" else "right")
        for row in result.posterior.itertuples(index=False):
            post.add_row(row.parameter, f"{row.median:.4g}", f"{row.q05:.4g}", f"{row.q95:.4g}")
        print_table(post)


# -- quartier validate ---------------------------------------------------------------------------


def validate(
    scenario: Path = typer.Argument(Path("scenarios/baseline.toml"), metavar=FILE,
                                    help="Scenario to validate (default: the baseline)."),
    out: Path = typer.Option(Path("results/validation"), "--out", "-o", metavar=DIR,
                             help="Folder for the runs, validation.csv and the report."),
    replications: int = typer.Option(5, "--replications", "-r", min=2,
                                     help="Runs (seeds 1, 2, ...): the uncertainty band."),
    years: int = typer.Option(None, "--years", "-n", min=1, max=100,
                              help="Simulated years per run (default 5; the scenario's years "
                              "when the targets name calendar years)."),
    households: int = typer.Option(None, "--households", min=100,
                                   help="Households (default: the scenario's)."),
    targets: Path = typer.Option(
        None, "--targets", metavar=FILE,
        help="Targets table (CSV, the columns of calibration/targets/targets.csv, optionally "
        "'role'). Default: the table of the scenario's city (Essen: "
        "calibration/targets/essen_targets.csv), else calibration/targets/targets.csv."),
    calibration_file: Path = typer.Option(
        Path("calibration/calibrate.toml"), "--calibration", metavar=FILE,
        help="Calibration file whose targets count as 'fitted' (not held out)."),
    lang: str = typer.Option("de", "--lang", "-l", help=LANG_HELP),
    strict: bool = typer.Option(False, "--strict",
                                help="Exit with status 1 if a target misses its tolerance."),
    workers: int = typer.Option(None, "--workers", "-w", min=1, help=WORKERS_HELP),
    scheduler: str = typer.Option(None, "--scheduler", help=SCHEDULER_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or table."),
) -> None:
    from calibration.moments import load_targets
    from calibration.validation import (
        default_targets_file,
        fitted_targets,
        has_calendar_years,
        write_table,
    )
    from calibration.validation import validate as run_validation
    from dashboards.validation import write_validation_report
    from sim.errors import InputError, display_path
    from sim.experiments.results import check_output_file
    from sim.inputs.levers import load_scenario

    progress = RunProgress("Validierung", quiet)
    with command_errors():
        if lang not in ("de", "en"):
            raise InputError("--lang", None, f"must be de or en (got {lang!r})")
        check_output_folder(out)
        check_output_file(out / "validation.html")
        fitted = fitted_targets(calibration_file if calibration_file.exists() else None)
        sc = load_scenario(scenario)
        table_file = targets if targets is not None else default_targets_file(sc)
        target_list = load_targets(table_file)
        if years is None:
            years = sc.years if has_calendar_years(target_list) else 5
        with progress, executor_for(scheduler) as executor:
            result = run_validation(sc, out=out, replications=replications, years=years,
                                    households=households, fitted=fitted, executor=executor,
                                    workers=workers or default_workers(), progress=progress,
                                    command=command_line(), targets=target_list,
                                    targets_source=display_path(table_file))
        csv_path = write_table(result, out / "validation.csv")
        html_path = write_validation_report(result, out / "validation.html", lang=lang)
    passed, total = result.counts()
    if not quiet:
        _print_validation(result, lang)
        console.print(
            f"{passed} of {total} targets within tolerance "
            f"({replications} replications, {years} years). Table: {csv_path}  "
            f"Report: {html_path}", highlight=False, soft_wrap=True)
    if strict and passed < total:
        raise typer.Exit(code=1)


def _print_validation(result, lang: str) -> None:
    import pandas as pd
    from rich.table import Table

    from dashboards.validation import format_tolerance, format_value

    de = lang == "de"
    table = Table(title=f"Validierung / validation — {result.scenario}")
    for column in ("Zielgröße / target", "Rolle\nrole", "beobachtet\nobserved",
                   "Toleranz\ntolerance", "simuliert\nsimulated", "95 %-KI / CI", ""):
        table.add_column(column, justify="left" if column.startswith(("Ziel", "Rolle"))
                         else "right")
    for row in result.table.itertuples(index=False):
        mark = ("" if row.role == "missing" else "–" if row.passed is pd.NA
                else "✓" if row.passed else "✗")
        table.add_row(row.label_de if de else row.label_en, row.role,
                      format_value(row.observed, row.unit, lang),
                      format_tolerance(row.tolerance, row.unit, lang),
                      format_value(row.simulated, row.unit, lang),
                      f"{format_value(row.ci_low, row.unit, lang, with_unit=False)} – "
                      f"{format_value(row.ci_high, row.unit, lang, with_unit=False)}", mark)
    print_table(table)
