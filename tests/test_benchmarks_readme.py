"""benchmarks/README.md gives every benchmark script with the command that runs it, and names
no script that does not exist."""

from __future__ import annotations

import re
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def test_every_benchmark_script_has_its_command_in_the_readme():
    text = (BENCHMARKS / "README.md").read_text(encoding="utf-8")
    scripts = {p.name for p in BENCHMARKS.glob("*.py")}
    missing = sorted(name for name in scripts
                     if not re.search(rf"python benchmarks/{re.escape(name)}(\s|`|$)", text,
                                      re.MULTILINE))
    assert not missing, f"benchmarks/README.md gives no command for {missing}"
    named = set(re.findall(r"python benchmarks/(\w+\.py)", text))
    unknown = sorted(named - scripts)
    assert not unknown, f"benchmarks/README.md runs scripts that do not exist: {unknown}"
