"""The README's researcher script runs as printed."""

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
