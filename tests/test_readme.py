"""The README's researcher script and sweep example run as printed."""

from __future__ import annotations

import contextlib
import io
import os
import re

import pytest

from .conftest import ROOT


@pytest.mark.slow
def test_researcher_script_runs():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## A researcher's script", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    buffer = io.StringIO()
    cwd = os.getcwd()
    try:
        os.chdir(ROOT)
        with contextlib.redirect_stdout(buffer):
            exec(compile(code, "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
    printed = buffer.getvalue()
    assert "mean" in printed and "1.6" in printed


def _python_block(heading: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(heading, 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.mark.slow
def test_sweep_example_runs(tmp_path):
    """The README's sweep example, run in a scratch folder that sees the scenarios."""
    code = _python_block("## Research sweeps")
    assert "sim.sweep(" in code and len(code.strip().splitlines()) <= 15
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios", target_is_directory=True)
    buffer = io.StringIO()
    cwd = os.getcwd()
    try:
        os.chdir(tmp_path)
        with contextlib.redirect_stdout(buffer):
            exec(compile(code, "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
    printed = buffer.getvalue()
    assert "parameters.migration.in_migration_rate" in printed and "value" in printed
    from sim.experiments.results import load

    experiments, _ = load(tmp_path / "results" / "sweep_lhs")
    assert len(experiments) == 16
