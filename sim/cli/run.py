"""``quartier run``, ``quartier scenario`` and ``quartier metrics``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from sim.cli.common import (
    DIR,
    FILE,
    N,
    command_line,
    console,
    fail,
    output_errors,
    prepare_kernels,
)
from sim.errors import InputError


def register(app: typer.Typer) -> None:
    """Add ``run``, ``scenario`` and ``metrics`` to the ``quartier`` app."""
    app.command()(run)
    app.command()(scenario)
    app.command()(metrics)
    app.command("warm-up")(warm_up)


SUMMARY_STOCKS = (
    ("population", "Einwohner / residents", "{:,.0f}"),
    ("households", "Haushalte / households", "{:,.0f}"),
    ("mean_age", "Durchschnittsalter / mean age", "{:.1f}"),
    ("old_age_ratio", "Altenquotient (65+ / 20-64)", "{:.3f}"),
    ("mean_household_size", "Personen je Haushalt", "{:.2f}"),
    ("share_households_size_1", "Anteil Einpersonenhaushalte", "{:.1%}"),
    ("vacancy_rate", "Leerstandsquote / vacancy", "{:.1%}"),
    ("share_poor", "Armutsgefährdungsquote / at risk of poverty", "{:.1%}"),
    ("social_housing_share", "Sozialwohnungen / social housing share", "{:.1%}"),
    ("mean_rent_burden", "Mietbelastung / mean rent burden", "{:.1%}"),
    ("dissimilarity_income_quartiers", "Segregation D (arm/übrige), Quartiere", "{:.3f}"),
    ("dissimilarity_income_cells", "Segregation D (arm/übrige), Zellen", "{:.3f}"),
    ("care_dependency_share", "Pflegebedürftige / in need of care", "{:.1%}"),
    ("share_cared_at_home", "davon zu Hause versorgt / cared for at home", "{:.1%}"),
    ("share_65plus_gp_within_reach", "65+ mit Hausarzt ≤ 1 km / 65+ near a GP", "{:.1%}"),
    ("school_dissimilarity_income", "Schulsegregation D (arm/übrige)", "{:.3f}"),
    ("share_similar_neighbours", "Anteil ähnlicher Nachbarn / similar neighbours", "{:.3f}"),
    ("dissimilarity_group_blocks", "Segregation D, Blöcke / blocks", "{:.3f}"),
    ("share_unhappy", "Anteil unzufrieden / unhappy", "{:.1%}"),
)
SUMMARY_FLOWS = (
    ("births", "Geburten / births"),
    ("deaths", "Sterbefälle / deaths"),
    ("in_migrants", "Zuzüge / in-migrants"),
    ("out_migrants", "Fortzüge / out-migrants"),
    ("moves_within_city", "Umzüge innerhalb der Stadt / moves within the city"),
    ("out_migrants_cause_rent", "Fortzüge wegen Miete / out-migrants, cause rent"),
    ("out_migrants_cause_health", "Fortzüge wegen Arztversorgung / cause health"),
    ("out_migrants_cause_care", "Fortzüge wegen Pflege / cause care"),
    ("out_migrants_cause_commuting", "Fortzüge wegen Pendelkosten / cause commuting"),
    ("moves", "Umzüge / moves"),
)


def run(
    scenario: Path = typer.Argument(
        ..., metavar=FILE, help="Scenario file (TOML), e.g. scenarios/baseline.toml."
    ),
    years: int = typer.Option(None, "--years", "-n", min=1, max=300, metavar=N,
                              help="Years to simulate (default: the scenario's 'years')."),
    seed: int = typer.Option(1, "--seed", "-s", min=0, metavar=N,
                             help="Random seed; same seed, same result."),
    out: Path = typer.Option(Path("results/run"), "--out", "-o", metavar=DIR,
                             help="Folder for experiments.parquet and outcomes.parquet "
                             "(new, empty, or an earlier run's: it is replaced whole)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary."),
    threads: int = typer.Option(None, "--threads", "-t", min=1, metavar=N,
                                help="Threads within the run (default: all cores). The "
                                "result is the same for any number."),
) -> None:
    """Run one scenario and write its tidy results (Parquet) to --out.

    Shows a progress bar, prints a summary of the city at the start and the end, and writes
    OUT/experiments.parquet (what was run) and OUT/outcomes.parquet (run_id, year, scope,
    metric, value; scope is 'city' or a quartier id). Read them with pandas or DuckDB.
    The folder is replaced as one unit when the run is done: an interrupted or failed run
    leaves the earlier one as it was.
    """
    from sim.experiments import results
    from sim.inputs.levers import load_scenario

    try:
        sc = load_scenario(scenario)
        if years is not None:
            sc = sc.with_values({"years": years})
        results.check_seed(seed)
        results.check_run_folder(out)
    except InputError as exc:
        fail(exc)
        return
    from sim.model import build_model
    from sim.model.threads import keep_freed_memory, set_threads

    set_threads(threads)
    keep_freed_memory()
    prepare_kernels(quiet)
    n_years = sc.years
    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[year]}"), TimeElapsedColumn(),
        console=console, disable=quiet,
    )
    with progress:
        task = progress.add_task(f"{sc.name}: building city", total=n_years, year="")
        try:
            model = build_model(sc, seed=seed)
        except InputError as exc:
            progress.stop()
            fail(exc)
            return
        progress.update(task, description=f"{sc.name}: simulating")
        model.run(n_years, progress=lambda y: progress.update(task, advance=1, year=str(y)))
    with output_errors(out):
        paths = results.write_run(model, out, command=command_line())
    if not quiet:
        _print_summary(model)
        console.print(f"Results: {paths['outcomes']}  {paths['experiments']}")


def _print_summary(model) -> None:
    df = model.outcomes()
    city = df[df["scope"] == "city"].pivot(index="year", columns="metric", values="value")
    first, last = city.index.min(), city.index.max()
    place = model.city.name if hasattr(model, "city") else "Schelling"
    table = Table(title=f"{model.scenario.name} — {place}, seed {model.seed}")
    table.add_column("Kennzahl / metric")
    table.add_column(str(first), justify="right")
    table.add_column(str(last), justify="right")
    for metric, label, fmt in SUMMARY_STOCKS:
        if metric in city.columns:
            table.add_row(label, fmt.format(city.loc[first, metric]),
                          fmt.format(city.loc[last, metric]))
    for metric, label in SUMMARY_FLOWS:
        if metric not in city.columns:
            continue
        total = city.loc[city.index > first, metric].sum()
        table.add_row(f"{label} {first + 1}-{last}", "", f"{total:,.0f}")
    console.print(table)


def scenario(
    path: Path = typer.Argument(..., metavar=FILE, help="Scenario file (TOML)."),
) -> None:
    """Check a scenario file and print it fully resolved (after 'extends'), with its hash."""
    import json

    from sim.inputs.levers import load_scenario

    try:
        sc = load_scenario(path)
    except InputError as exc:
        fail(exc)
        return
    console.print_json(json.dumps(sc.model_dump(), ensure_ascii=False))
    console.print(f"content hash: {sc.content_hash()}")


def metrics() -> None:
    """List the outcome metrics recorded every year."""
    from sim.state.outcomes import DESCRIPTIONS, FLOW_METRICS, METRICS

    table = Table(title="Outcome metrics (per year; scope 'city' and each quartier)")
    table.add_column("metric")
    table.add_column("kind")
    table.add_column("meaning")
    for m in METRICS:
        table.add_row(m, "flow" if m in FLOW_METRICS else "stock", DESCRIPTIONS[m])
    console.print(table)


def warm_up(
    workers: int = typer.Option(None, "--workers", "-w", min=1,
                                help="Processes compiling in parallel (default: one per CPU "
                                "core, at most 4)."),
) -> None:
    """Compile the model's kernels now (numba), so that the first run does not.

    A fresh install compiles them during its first run, about 20 s on 2 cores; run this once
    after installing (or after updating QuartierSim) instead. The compiled kernels go to
    numba's cache (__pycache__ beside the code, or NUMBA_CACHE_DIR) and every later run
    loads them. Running it again only loads them.
    """
    from sim.model.kernels import warm_up as compile_all

    n, seconds = compile_all(workers)
    console.print(f"{n} kernels compiled or loaded in {seconds:.1f} s.", highlight=False)
