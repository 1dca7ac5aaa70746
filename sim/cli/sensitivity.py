"""The ``quartier sensitivity`` command (registered by :mod:`sim.cli`)."""

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
    print_table,
)
from sim.experiments.files import check_output_folder

SENSITIVITY_HELP = """Sensitivity analysis (Sensitivitätsanalyse): which behavioural parameters
drive the headline outcomes, and which hardly matter?

Varies behavioural parameters (move rates, utilities, in-migration; dotted scenario paths)
over ranges [low, high] and measures how citywide outcomes respond: segregation
(Segregationsindex D), out-migration (Wegzugsrate), unmet care (ungedeckter Pflegebedarf) or
any metric of 'quartier metrics'. The output of a run is its mean over the last years; a
design point's output is the mean over its replications (seeds seed + r).

\b
Morris screening (Elementareffekte; Morris 1991, mu* after Campolongo 2007):
  mu*    mean absolute change of the output when a parameter moves across its
         range (in the output's unit): ranks the parameters
  sigma  spread of these changes: interactions or non-linear effects
  cost   trajectories x (d + 1) design points (d = number of parameters)
Sobol indices (varianzbasiert; Saltelli 2010):
  S1     share of the output's variance a parameter explains alone
  ST     share including its interactions (ST near 0: unimportant here)
  cost   samples x (d + 2) design points (N = samples, a power of 2)

Lever effects (Wirkungen der Maßnahmen) as outputs: each [[effects]] table names a lever
scenario; at every design point it runs with the same seeds as the base (common random
numbers) and its effect, lever - base, is an output ("Wirkung MVZ Hochfeld: Fortzüge"):
flows summed over the simulated years, D and other stocks in the final year. The lever
file's own settings win over the design point's. A [scales.NAME] table varies several fields
by one factor (e.g. all weights of GP and school access, 0.5-2 x their values).

Every design point runs 'replications' times (per lever scenario, too). Example: d = 8,
N = 256, 20 trajectories, 2 replications, no levers: (256 x 10 + 20 x 9) x 2 = 5,480 runs
(x 3 with two levers). Screen with --method morris first;
the Sobol CIs shrink with 1/sqrt(N).

\b
Spec file (TOML), e.g. calibration/sensitivity.toml:
  base = "../scenarios/baseline.toml"  # relative to the spec file
  method = "both"                      # morris | sobol | both
  samples = 256                        # Sobol N (a power of 2)
  trajectories = 20                    # Morris trajectories
  replications = 2                     # runs per design point
  years = 10                           # default: the base scenario's
  households = 5000                    # default: the base scenario's
  last_years = 5                       # years averaged into a run's output
  seed = 1
  outputs = ["dissimilarity_income_quartiers", "out_migration_rate", "unmet_care"]
  [parameters]                         # dotted path = [low, high]
  "parameters.mobility.utility_outside" = [2.3, 4.3]
  [scales.service_weights]             # one factor x the base's values
  fields = ["parameters.choice.health_weight_old", "parameters.choice.school_weight"]
  range = [0.5, 2.0]
  [[effects]]                          # lever effects as outputs
  scenario = "../scenarios/mvz_hochfeld.toml"
  label = "MVZ Hochfeld"
  outputs = ["out_migrants", "out_migrants_poor"]

Writes OUT/sensitivity_sobol.parquet and OUT/sensitivity_morris.parquet (one row per output
and parameter, with confidence intervals), OUT/sensitivity_samples.parquet (design rows and
outputs), OUT/sensitivity.json (settings), the runs (OUT/runs/, resumable: running the same
command again skips stored runs) and the HTML report OUT/sensitivity.html. Prints the indices
sorted by ST and mu*. Bad spec files (unknown key, dotted path or metric, low >= high, samples not a
power of 2) give a one-line error and exit status 2; nothing is written.
"""


def register(app: typer.Typer) -> None:
    """Add ``quartier sensitivity`` to the ``quartier`` app."""
    app.command("sensitivity", help=SENSITIVITY_HELP)(sensitivity)


def sensitivity(
    spec: Path = typer.Argument(..., metavar=FILE, help="Spec file (TOML), e.g. "
                                "calibration/sensitivity.toml."),
    out: Path = typer.Option(Path("results/sensitivity"), "--out", "-o", metavar=DIR,
                             help="Experiment folder: runs/, manifest.json and the "
                             "sensitivity tables."),
    method: str = typer.Option(None, "--method", metavar="morris|sobol|both",
                               help="morris, sobol or both (default: the spec's 'method')."),
    samples: int = typer.Option(None, "--samples", metavar=N,
                                help="Sobol base sample N, a power of 2 (default: the "
                                "spec's 'samples')."),
    trajectories: int = typer.Option(None, "--trajectories", metavar=N,
                                     help="Morris trajectories (default: the spec's)."),
    replications: int = typer.Option(None, "--replications", "-r", metavar=N,
                                     help="Runs per design point (default: the spec's)."),
    lang: str = typer.Option("de", "--lang", "-l", help=LANG_HELP),
    workers: int = typer.Option(None, "--workers", "-w", min=1, help=WORKERS_HELP),
    scheduler: str = typer.Option(None, "--scheduler", help=SCHEDULER_HELP),
    force: bool = typer.Option(False, "--force",
                               help="Replace stored runs of design points whose content "
                               "changed."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or tables."),
    yes: bool = typer.Option(False, "--yes", "-y", help=YES_HELP),
) -> None:
    announcer("Sensitivität / sensitivity", quiet)(f"reading {spec}")
    from calibration.sensitivity import METHODS, run_spec
    from dashboards.labels import LANGUAGES
    from dashboards.sensitivity import write_sensitivity_report
    from sim.errors import InputError
    from sim.experiments.results import check_output_file

    progress = RunProgress("Sensitivität / sensitivity", quiet)
    with command_errors():
        check_output_folder(out)
        if method is not None and method not in METHODS:
            raise InputError("--method", None, f"use morris, sobol or both (got {method!r})")
        if lang not in LANGUAGES:
            raise InputError("--lang", None, f"use de or en (got {lang!r})")
        report = out / "sensitivity.html"
        check_output_file(report)
        with progress, executor_for(scheduler) as executor:
            result = run_spec(spec, out=out, method=method, samples=samples,
                              trajectories=trajectories, replications=replications,
                              executor=executor,
                              workers=workers or default_workers(), force=force,
                              progress=progress, command=command_line(), confirmed=yes,
                              announce=announcer("Sensitivität / sensitivity", quiet))
    write_sensitivity_report(result.tables, report, lang, settings=result.settings)
    if quiet:
        return
    from dashboards.sensitivity import effect_levers

    noise = result.settings.get("noise_share", {})
    levers = effect_levers(result.settings)
    if result.morris is not None:
        _print_morris(result.morris, noise, levers)
    if result.sobol is not None:
        _print_sobol(result.sobol, noise, levers)
    s = result.settings
    files = "  ".join(str(p) for k, p in result.paths.items() if k != "settings")
    console.print(
        f"Sensitivity: {s['runs']} runs ({s['design_points']} design points x "
        f"{s['replications']} replications): {s['simulated']} simulated, "
        f"{s['runs'] - s['simulated']} already stored; {s['seconds']:.0f} s.\n"
        f"Results: {files}  {out / 'runs'}\nReport: {report}", highlight=False,
        soft_wrap=True)


def _short(path: str) -> str:
    return path.removeprefix("parameters.")


def _fmt(value: float, digits: int = 3) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:.{digits}g}" if abs(value) >= 1000 or 0 < abs(value) < 1e-3 else (
        f"{value:.{digits}f}")


def _ci(low: float, high: float, digits: int = 3) -> str:
    if not (math.isfinite(low) and math.isfinite(high)):
        return "n/a"
    return f"[{_fmt(low, digits)}, {_fmt(high, digits)}]"


def _caption(output: str, noise: dict) -> str | None:
    share = noise.get(output)
    if share is None or not math.isfinite(share):
        return None
    from dashboards.sensitivity import NOISY

    caption = (f"Zufallsrauschen / noise: {100 * share:.0f} % of the variance between design "
               "points (replications)")
    if share > NOISY:
        caption += "; mostly noise: indices unreliable (more replications or households)"
    return caption


def _title(output: str, levers: dict) -> str:
    """An output's label in German and English (a lever effect: both; a metric: German)."""
    from dashboards.sensitivity import output_label

    de = output_label(output, "de", levers)
    if output.startswith("effect:"):
        return f"{de} / {output_label(output, 'en', levers)}"
    return f"{de} ({output})"


def _print_sobol(table, noise: dict, levers: dict) -> None:
    from rich.table import Table

    for output, rows in table.groupby("output", sort=False):
        rows = rows.sort_values("ST", ascending=False, na_position="last")
        n = int(rows["samples"].iloc[0])
        level = f"{100 * float(rows['conf_level'].iloc[0]):g} %"
        out = Table(title=f"Sobol-Indizes / Sobol indices — {_title(output, levers)}, "
                    f"N = {n}")
        out.add_column("Parameter", overflow="fold")
        for header in ("S1", f"{level}-KI / CI", "ST", f"{level}-KI / CI"):
            out.add_column(header, justify="right", no_wrap=True)
        for r in rows.itertuples(index=False):
            out.add_row(_short(r.parameter), _fmt(r.S1), _ci(r.S1_low, r.S1_high),
                        _fmt(r.ST), _ci(r.ST_low, r.ST_high))
        out.caption = _caption(output, noise)
        print_table(out)


def _print_morris(table, noise: dict, levers: dict) -> None:
    from rich.table import Table

    for output, rows in table.groupby("output", sort=False):
        rows = rows.sort_values("mu_star", ascending=False, na_position="last")
        r_ = int(rows["trajectories"].iloc[0])
        level = f"{100 * float(rows['conf_level'].iloc[0]):g} %"
        out = Table(title=f"Morris-Screening — {_title(output, levers)}, "
                    f"{r_} trajectories")
        out.add_column("Parameter", overflow="fold")
        for header in ("mu*", f"{level}-KI / CI", "mu", "sigma"):
            out.add_column(header, justify="right", no_wrap=True)
        for r in rows.itertuples(index=False):
            out.add_row(_short(r.parameter), _fmt(r.mu_star, 4),
                        _ci(r.mu_star_low, r.mu_star_high, 4), _fmt(r.mu, 4), _fmt(r.sigma, 4))
        out.caption = _caption(output, noise)
        print_table(out)
