"""Helpers for the comparison, sweep and store tests: small scenario and sweep files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .conftest import SCENARIOS


def write_scenario(folder: Path, name: str, body: str = "", households: int = 300) -> Path:
    """A scenario file extending the baseline with a small city."""
    path = folder / f"{name}.toml"
    path.write_text(
        f'extends = "{(SCENARIOS / "baseline.toml").as_posix()}"\nname = "{name}"\n'
        f"{body}\n[city]\nhouseholds = {households}\n", encoding="utf-8")
    return path


def write_sweep(folder: Path, text: str, name: str = "sweep.toml") -> Path:
    """A sweep file whose base is the baseline (absolute path) unless ``text`` sets one."""
    path = folder / name
    if "base =" not in text:
        text = f'base = "{(SCENARIOS / "baseline.toml").as_posix()}"\n' + text
    path.write_text(text, encoding="utf-8")
    return path


def quartier(*args, cwd=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "sim.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def one_line_error(proc) -> str:
    """The single non-empty stderr line of a failed command."""
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert "Traceback" not in proc.stderr, proc.stderr
    assert len(lines) == 1, proc.stderr
    return lines[0]
