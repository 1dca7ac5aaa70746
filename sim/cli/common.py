"""What every command shares: the consoles, one-line errors (exit 2), failed runs (exit 1),
the output-folder check, the progress bar over runs, the executor and table printing."""

from __future__ import annotations

import os
import shlex
import sys
from contextlib import contextmanager

import typer
from rich.console import Console

from sim.errors import InputError, io_error

console = Console()
err_console = Console(stderr=True)

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}
"""``-h`` is ``--help`` in every command (sub-commands inherit it from the app)."""

# Placeholders in usage lines and help: what to give, never a Python type.
FILE = "FILE"
DIR = "DIR"
N = "N"
TEXT = "TEXT"
LANG_HELP = "Language of labels and texts: de (Deutsch, default) or en (English)."


def fail(error: InputError) -> None:
    """Print the error as one line and exit with status 2."""
    err_console.print(f"error: {error.one_line()}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)


@contextmanager
def output_errors(target, option: str = "--out"):
    """Bad input -> its one line; a file that cannot be written (full disk, no permission) ->
    one line naming it; exit status 2 for both."""
    try:
        yield
    except InputError as exc:
        fail(exc)
    except OSError as exc:
        fail(io_error(exc, option, target))


def command_line() -> str:
    return "quartier " + " ".join(shlex.quote(a) for a in sys.argv[1:])


class RunProgress:
    """A rich progress bar over runs that appears with the first report (after validation).

    Call it as ``progress(done, total)``; use as a context manager to close it.
    """

    def __init__(self, description: str, quiet: bool) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                            MofNCompleteColumn(), TextColumn("runs"), TimeElapsedColumn(),
                            TimeRemainingColumn(), console=console, disable=quiet)
        self.description = description
        self.task = None
        self.first: int | None = None

    def __call__(self, done: int, total: int) -> None:
        if self.task is None:
            self.first = done
            self.bar.start()
            self.task = self.bar.add_task(self.description, total=total, completed=done)
        else:
            self.bar.update(self.task, completed=done, total=total)

    def __enter__(self) -> RunProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.task is not None:
            self.bar.stop()


@contextmanager
def executor_for(scheduler: str | None):
    """A Dask executor for ``--scheduler`` (closed afterwards), or None for local processes."""
    from sim.errors import InputError

    if not scheduler:
        yield None
        return
    try:
        from distributed import Client
    except ImportError:
        raise InputError("--scheduler", None, "needs Dask: pip install 'quartiersim[dask]'"
                         ) from None
    try:
        client = Client(scheduler, timeout="5s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError("--scheduler", None, f"cannot connect to {scheduler}: {exc}") from None
    try:
        yield client.get_executor()
    finally:
        client.close()


@contextmanager
def pool_for(scheduler: str | None, workers: int):
    """As :func:`executor_for`, but without a scheduler and with several workers one local pool
    kept for the whole command (a calibration runs many small batches: a pool per batch would
    start and warm its workers again every time)."""
    if scheduler or workers <= 1:
        with executor_for(scheduler) as executor:
            yield executor
        return
    from sim.experiments.runner import process_pool

    pool = process_pool(workers)
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


YES_HELP = ("Start a design of more than 1,000 runs (without it, such a design is refused "
            "with its number of runs and estimated time; more than 100,000 runs never start).")


def announcer(what: str, quiet: bool):
    """A function printing at once what a command is doing (reading its file; the design's
    size and estimated time, before the runs are prepared)."""
    def announce(summary: str) -> None:
        if not quiet:
            console.print(f"{what}: {summary} ...", highlight=False, soft_wrap=True)
    return announce


WORKERS_HELP = ("Local worker processes (default: one per CPU core; 1 runs in this process). "
                "Ignored with --scheduler.")
SCHEDULER_HELP = ("Run on a Dask distributed cluster, e.g. tcp://10.0.0.5:8786 (workers need "
                  "QuartierSim installed and the scenario's files at the same paths).")


@contextmanager
def command_errors():
    """Bad input -> one line naming file and field, exit 2; a write that fails (full disk,
    read-only folder, no permission) -> one line naming the path, exit 2; failed runs -> the
    failures, exit 1, or 2 if each failed on bad input (the runs that succeeded stay
    stored)."""
    from sim.errors import InputError
    from sim.experiments.runner import RunsFailed
    from sim.experiments.store import LockLost

    try:
        yield
    except InputError as exc:
        fail(exc)
    except (RunsFailed, LockLost) as exc:
        err_console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(code=2 if getattr(exc, "bad_input", False) else 1) from None
    except OSError as exc:
        fail(io_error(exc, "--out"))


def prepare_kernels(quiet: bool) -> None:
    """On a fresh install (numba's cache holds no kernels yet), compile them all first, in one
    process per CPU core: faster than compiling them one after the other during the run (and
    than every worker of a comparison compiling them all). ``quartier warm-up`` does the same
    ahead, at install."""
    from sim.model.kernels import MAX_WORKERS, cache_is_warm, warm_up

    if cache_is_warm():
        return
    workers = min(default_workers(), MAX_WORKERS)
    if not quiet:
        err_console.print(f"Compiling the model's kernels once, in {workers} processes (a fresh "
                          "install; 'quartier warm-up' does it ahead) ...", highlight=False,
                          soft_wrap=True)
    if workers > 1:  # one process compiles during the run, only what it needs
        warm_up(workers)


def print_table(table) -> None:
    """Print a table; to a file or pipe as wide as it needs (a terminal wraps names)."""
    from rich.console import Console
    from rich.measure import Measurement

    out = console
    if not out.is_terminal:
        width = Measurement.get(out, out.options.update_width(10_000), table).maximum
        out = Console(width=max(out.width, width), file=out.file)
    out.print(table)


# -- usage lines and help without Python type names -----------------------------------------


PLACEHOLDERS = {"--lang": "de|en", "--out": "FILE", "--scheduler": "ADDRESS",
                "--host": "HOST", "--port": "PORT", "--metric": "METRIC", "--scope": "SCOPE"}
"""Placeholders of options by name, the same in every command (an option may set its own,
e.g. ``--out DIR`` for a folder)."""


def _plain_metavar(param) -> str:
    """What to give for an option without its own metavar: its placeholder by name, else N
    for whole numbers, X for other numbers, PATH for paths, TEXT otherwise."""
    for name in param.opts:
        if name in PLACEHOLDERS:
            return PLACEHOLDERS[name]
    desc = param.type_descriptor
    if desc.is_path:
        return "PATH"
    kind = desc.annotation
    if desc.is_list:
        kind = (getattr(kind, "__args__", None) or (str,))[0]
    return {int: "N", float: "X"}.get(kind, "TEXT")


class _PlainArgument(typer.core.TyperArgument):
    """An argument shown as NAME (required), [NAME] (optional) or NAME... (several), with no
    type name beside it."""

    def _usage_display_name(self) -> str:
        name = self.display_name_raw
        if not self.required:
            name = f"[{name}]"
        return name + ("..." if self.nargs != 1 else "")

    def _rich_display_name(self) -> str:
        return self.display_name_raw + ("..." if self.nargs != 1 else "")

    def display_type_rich(self, ctx) -> None:
        return None


class Command(typer.core.TyperCommand):
    """A ``quartier`` command: arguments in upper case without type names, every option that
    takes a value shown with a placeholder (N, FILE, DIR, TEXT ...)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if isinstance(param, typer.core.TyperArgument):
                param.__class__ = _PlainArgument
                if param.metavar is None:
                    param.metavar = (param.name or "").upper()
            elif not (param.is_flag or param.count) and param.metavar is None:
                param.metavar = _plain_metavar(param)


def use_plain_commands(app: typer.Typer) -> None:
    """Make every command of ``app`` (and of its sub-apps) a :class:`Command`."""
    for info in app.registered_commands:
        if info.cls in (None, typer.core.TyperCommand):
            info.cls = Command
    for group in app.registered_groups:
        use_plain_commands(group.typer_instance)
