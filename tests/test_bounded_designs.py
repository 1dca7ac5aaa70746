"""Designs larger than the documented limits: a sweep, sensitivity or calibration design of
more than 1,000 runs asks for --yes, one of more than 100,000 runs is refused; the message
states the runs and their estimated time, and nothing is written. Progress shows within 2 s."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.experiments.bounds import CONFIRM_RUNS, MAX_RUNS

from .conftest import ROOT
from .experiment_helpers import write_scenario, write_sweep

MOVE = "parameters.mobility.move_rate_young"
OUTSIDE = "parameters.mobility.utility_outside"


def _refused(result, runs: int, limit: str):
    assert result.exit_code == 2, result.output
    line = result.stderr.strip()
    assert "\n" not in line and "Traceback" not in line, line
    assert f"{runs:,} runs, about" in line and re.search(r"about [\d.]+ (s|min|h|days)", line)
    assert limit in line, line
    return line


def _values(n: int, low: float = 0.1, high: float = 0.3) -> str:
    return "[" + ", ".join(f"{low + (high - low) * i / n:.6f}" for i in range(n)) + "]"


@pytest.mark.parametrize("design", ["grid_1000x1000", "lhs_1000000"])
def test_huge_sweeps_are_refused_at_once(tmp_path, design):
    if design.startswith("grid"):
        text = f'[parameters]\n"{MOVE}" = {_values(1000)}\n"{OUTSIDE}" = {_values(1000, 2, 4)}\n'
        runs = 1000 * 1000
    else:
        text = f'design = "lhs"\nsamples = 1000000\n[parameters]\n"{MOVE}" = [0.1, 0.3]\n'
        runs = 1_000_000
    sweep = write_sweep(tmp_path, text)
    start = time.perf_counter()
    result = CliRunner().invoke(app, ["sweep", str(sweep), "--out", str(tmp_path / "out"),
                                      "--yes", "-w", "2"])
    assert time.perf_counter() - start < 30
    _refused(result, runs, f"more than the {MAX_RUNS:,} runs")
    assert "on 2 workers" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.alone
def test_a_large_sweep_needs_yes_and_then_shows_progress_within_2_s(tmp_path):
    base = write_scenario(tmp_path, "small", "years = 1", households=150)
    sweep = write_sweep(tmp_path, f'base = "{base.name}"\nreplications = 2\n[parameters]\n'
                        f'"{MOVE}" = {_values(25)}\n"{OUTSIDE}" = {_values(25, 2, 4)}\n')
    runs = 25 * 25 * 2
    assert runs > CONFIRM_RUNS
    result = CliRunner().invoke(app, ["sweep", str(sweep), "--out", str(tmp_path / "out"),
                                      "-w", "1"])
    _refused(result, runs, "need --yes")
    assert not (tmp_path / "out").exists()
    proc = subprocess.Popen([sys.executable, "-m", "sim.cli", "sweep", str(sweep), "--out",
                             str(tmp_path / "out"), "--yes", "-w", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "COLUMNS": "400"})
    started = time.perf_counter()
    lines: list[tuple[str, float]] = []

    def read_two() -> None:
        for _ in range(2):
            lines.append((proc.stdout.readline(), time.perf_counter() - started))

    reader = threading.Thread(target=read_two, daemon=True)
    reader.start()
    try:
        reader.join(timeout=60)  # (the sweep itself would take half an hour)
    finally:
        proc.kill()
        proc.wait()
        reader.join(timeout=10)  # (ended by the kill: the pipe closes)
    assert len(lines) == 2, f"no two lines within 60 s: {lines} {proc.stderr.read()}"
    (first, elapsed), (second, _) = lines
    assert first.startswith(f"Sweep: reading {sweep}"), first + proc.stderr.read()
    assert elapsed < 2.0, f"first output after {elapsed:.2f} s"
    assert f"Sweep: {runs:,} runs, about" in second, second


def test_the_shipped_sensitivity_design_needs_yes(tmp_path):
    result = CliRunner().invoke(app, ["sensitivity", str(ROOT / "calibration" /
                                                          "sensitivity.toml"),
                                      "--out", str(tmp_path / "out"), "-w", "2"])
    # 31 factors: (20 × 32 + 256 × 33) points × 2 replications × 3 scenarios (two levers)
    _refused(result, 54528, "need --yes")
    assert "sensitivity.toml" in result.stderr
    assert not (tmp_path / "out").exists()


def test_sensitivity_last_years_beyond_the_horizon_is_refused(tmp_path):
    base = write_scenario(tmp_path, "small", "years = 3", households=150)
    spec = tmp_path / "spec.toml"
    spec.write_text(f'base = "{base.name}"\nmethod = "morris"\ntrajectories = 2\n'
                    f'last_years = 5\n[parameters]\n"{MOVE}" = [0.1, 0.3]\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["sensitivity", str(spec), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert "spec.toml: last_years: 5 is more than the 3 simulated years" in line, line
    assert not (tmp_path / "o").exists()


def _shipped_calibration(name: str, without: str) -> str:
    """A shipped calibration file's text with its base and targets file as absolute paths
    (so that it can be written elsewhere) and without the settings named in ``without``."""
    text = (ROOT / "calibration" / name).read_text(encoding="utf-8")
    text = re.sub(r'^(base|targets_file) = "([^"]+)"', lambda m: f'{m[1]} = '
                  f'"{(ROOT / "calibration" / m[2]).resolve().as_posix()}"', text, flags=re.M)
    return re.sub(rf"^({without}) = \d+.*$", "", text, flags=re.M)


@pytest.mark.parametrize("change, field", [
    ("max_evaluations = 100000", f"more than the {MAX_RUNS:,} runs"),
    ("max_evaluations = 400", "need --yes"),
])
def test_calibration_designs_are_bounded(tmp_path, change, field):
    text = _shipped_calibration("calibrate.toml", "max_evaluations")
    spec = tmp_path / "cal.toml"
    spec.write_text(f"{change}\n{text}", encoding="utf-8")
    result = CliRunner().invoke(app, ["calibrate", str(spec), "--out", str(tmp_path / "o"),
                                      "--write-scenario", str(tmp_path / "fit.toml")])
    assert result.exit_code == 2, result.output
    line = result.stderr.strip()
    assert "\n" not in line and "cal.toml" in line and field in line, line
    assert not (tmp_path / "o").exists() and not (tmp_path / "fit.toml").exists()


@pytest.mark.parametrize("sizes, runs", [
    ("max_evaluations = 600\nabc_population = 10\nabc_generations = 2", "1,202 runs"),
    ("max_evaluations = 60\nabc_population = 1000\nabc_generations = 2", "4,002 runs"),
])
def test_an_abc_calibration_is_bounded_by_its_budget(tmp_path, sizes, runs):
    """ABC samples until each generation has enough accepted particles and checks its budget
    between generations, after a first population from the prior: its runs are about
    max_evaluations, at least two populations (plus the medians' evaluation), whatever
    population x generations says. Either above the confirmation limit needs --yes."""
    text = _shipped_calibration("calibrate_essen_abc.toml",
                                "max_evaluations|abc_population|abc_generations")
    spec = tmp_path / "abc.toml"
    spec.write_text(f"{sizes}\n{text}", encoding="utf-8")
    result = CliRunner().invoke(app, ["calibrate", str(spec), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    line = result.stderr.strip()
    assert "\n" not in line and "abc.toml" in line and runs in line, line
    assert "need --yes" in line, line
    assert not (tmp_path / "o").exists()
