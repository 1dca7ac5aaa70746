"""The ``quartier report`` and ``quartier dashboard`` commands (registered by :mod:`sim.cli`)."""

from __future__ import annotations

from pathlib import Path

import typer

from sim.cli.common import console, fail, output_errors

LANG_HELP = "Language of labels and texts: de (Deutsch, default) or en (English)."


def register(app: typer.Typer) -> None:
    """Add the report and dashboard commands to the ``quartier`` app."""
    app.command("report")(report)
    app.command("dashboard")(dashboard)


def _check_lang(lang: str) -> None:
    from sim.errors import InputError

    if lang not in ("de", "en"):
        raise InputError("--lang", None, f"must be de or en (got {lang!r})")


def report(
    folder: Path = typer.Argument(
        ..., help="Result folder: of 'quartier compare' or 'quartier sweep' (manifest.json, "
        "runs/) or of 'quartier run' (outcomes.parquet)."),
    out: Path = typer.Option(None, "--out", "-o",
                             help="The HTML file to write (default: FOLDER/report.html)."),
    lang: str = typer.Option("de", "--lang", "-l", help=LANG_HELP),
) -> None:
    """Write an offline HTML report of a result folder (Bericht) and print its path.

    One self-contained file (plotly.js embedded once; opens without a network, e.g. sent by
    e-mail to a council committee) with a summary of the largest significant differences and
    sections per question: who leaves and why (Wegzüge nach Grund, population pyramids),
    segregation (indices, maps, difference maps), access to care and doctors, housing costs
    (Mietbelastung, Sozialwohnungen) and the comparison table with 95 % intervals.
    """
    from sim.experiments.results import check_output_file

    target = out if out is not None else folder / "report.html"
    with output_errors(target):
        _check_lang(lang)
        check_output_file(target)
        from dashboards.report import write_report

        path = write_report(folder, target, lang=lang)
    console.print(f"Report: {path}", highlight=False, soft_wrap=True)


def dashboard(
    folder: Path = typer.Argument(
        ..., help="Result folder: of 'quartier compare', 'quartier sweep' or 'quartier run'."),
    port: int = typer.Option(8050, "--port", "-p", min=1, max=65535, help="Port to listen on."),
    host: str = typer.Option("127.0.0.1", "--host",
                             help="Address to bind (default 127.0.0.1: this machine only)."),
    lang: str = typer.Option("de", "--lang", "-l", help=LANG_HELP),
    whatif_households: int = typer.Option(
        10_000, "--whatif-households", min=100,
        help="Households of the what-if runs (smaller than the stored runs, so answers are "
        "quick)."),
    whatif_years: int = typer.Option(20, "--whatif-years", min=1, max=100,
                                     help="Years of the what-if runs."),
    whatif_replications: int = typer.Option(5, "--whatif-replications", min=1, max=50,
                                            help="Paired replications of a what-if run."),
    workers: int = typer.Option(None, "--workers", "-w", min=1,
                                help="Worker processes for what-if runs (default: as many as "
                                "share the CPU cores evenly, e.g. 3 for 5 replications on 2 "
                                "cores)."),
) -> None:
    """Open the interactive dashboard of a result folder in the browser (Dash app).

    Choose scenarios, outcome, quartier and year; click a quartier on the map to filter the
    time series; in the what-if panel place an MVZ by clicking a cell, set the share of social
    housing (Sozialwohnungen) and the ticket price, and run a small set of paired
    replications in the background against the baseline. Serves http://HOST:PORT/ until
    Ctrl+C; reads only files under FOLDER.
    """
    from sim.errors import InputError

    try:
        _check_lang(lang)
        from dashboards.app import create_app
        from dashboards.data import load_results
        from dashboards.whatif import WhatIfEngine

        results = load_results(folder)
        engine = WhatIfEngine.from_results(
            results, households=whatif_households, years=whatif_years,
            replications=whatif_replications, workers=workers)
    except InputError as exc:
        fail(exc)
        return
    import signal
    import sys

    # stop cleanly on SIGTERM too (the worker pool is shut down in ``finally``)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    engine.start()
    try:
        from dashboards.app import serve

        app = create_app(folder, results=results, engine=engine, lang=lang)
        console.print(f"Dashboard of {folder}: http://{host}:{port}/  (Ctrl+C to stop)",
                          highlight=False, soft_wrap=True)
        serve(app, host=host, port=port)
    finally:
        engine.shutdown()
