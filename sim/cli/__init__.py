"""The ``quartier`` command line: one module per command group.

``run`` (run, scenario, metrics), ``experiments`` (compare, sweep), ``dashboards`` (report,
dashboard), ``calibration`` (calibrate, validate), ``sensitivity`` and ``city`` (city check,
export); ``common`` holds what they share. docs/cli.md lists every command and option.
"""

from __future__ import annotations

import typer

from sim.cli import calibration, city, dashboards, experiments, run, sensitivity
from sim.cli.common import CONTEXT_SETTINGS, use_plain_commands

app = typer.Typer(
    name="quartier",
    help=(
        "QuartierSim: simulate demographic change in the quartiers (Quartiere) of a German "
        "city, household by household, and compare policy scenarios.\n\n"
        "Start with: quartier run scenarios/baseline.toml\n\n"
        "Compare policies: quartier compare scenarios/baseline.toml "
        "scenarios/rent_mix_quota_30.toml --replications 5\n\n"
        "Check the model against official figures: quartier validate; refit its behavioural "
        "parameters: quartier calibrate; which parameters matter: quartier sensitivity "
        "calibration/sensitivity.toml\n\n"
        "Every command takes -h / --help."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings=CONTEXT_SETTINGS,
)


def _version(value: bool) -> None:
    if value:
        from sim.experiments.files import code_version

        typer.echo(f"quartier (QuartierSim) {code_version()}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_version,
                                 help="Print the version and exit."),
) -> None:
    pass


run.register(app)  # quartier run, quartier scenario, quartier metrics
experiments.register(app)  # quartier compare, quartier sweep
dashboards.register(app)  # quartier report, quartier dashboard
calibration.register(app)  # quartier calibrate, quartier validate
sensitivity.register(app)  # quartier sensitivity
city.register(app)  # quartier city check, quartier export
use_plain_commands(app)


def main() -> None:
    """Console-script entry point."""
    app()
