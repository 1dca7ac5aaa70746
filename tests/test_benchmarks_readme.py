"""benchmarks/README.md names every benchmark script, and every script it names exists."""

from __future__ import annotations

import re
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def test_every_benchmark_script_is_listed():
    text = (BENCHMARKS / "README.md").read_text(encoding="utf-8")
    scripts = {p.name for p in BENCHMARKS.glob("*.py")}
    missing = sorted(name for name in scripts if f"`{name}`" not in text)
    assert not missing, f"benchmarks/README.md does not list {missing}"
    named = set(re.findall(r"`([a-z_]+\.py)`", text))
    unknown = sorted(named - scripts)
    assert not unknown, f"benchmarks/README.md names scripts that do not exist: {unknown}"
