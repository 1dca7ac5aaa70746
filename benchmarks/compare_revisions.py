"""Throughput of this checkout against another git revision, measured alternately.

The machine is shared, so a single throughput figure moves with its load. Running two revisions
in turn (A, B, B, A, A, B, ...: each goes first in every other round) exposes both to the same
moments, and their ratio is far steadier than either figure. The other revision is checked out
into a temporary git worktree; each round runs ``benchmarks/throughput.py`` of both trees (each
tree its own code and scenarios) and the script prints every round's medians (household-years/s
of the run, and seconds of the build), then the median ratios. A small run of each tree before
the rounds, not counted, compiles its kernels into numba's cache, so that no round pays for
compiling. Both trees run with the memory allocator's defaults (newer checkouts' runs otherwise
keep freed memory, as ``quartier run`` does), so the ratio is the code's.

    python benchmarks/compare_revisions.py                 # against HEAD~1, 4 rounds
    python benchmarks/compare_revisions.py --base main --rounds 6

Not a timed test: use it to judge a change that is meant to make the model faster.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WARM_UP_HOUSEHOLDS = 2_000  # a run of each tree before the rounds, not counted


@contextlib.contextmanager
def revision_tree(rev: str, script: str) -> Iterator[tuple[Path, str]]:
    """A temporary git worktree of ``rev`` (and its short hash), removed afterwards; an unknown
    revision ends ``script`` with a one-line error and exit status 2."""
    short = subprocess.run(["git", "rev-parse", "--short", rev], cwd=ROOT, capture_output=True,
                           text=True)
    if short.returncode != 0:
        print(f"{script}: --base: unknown git revision: {rev}", file=sys.stderr)
        sys.exit(2)
    with tempfile.TemporaryDirectory(prefix="quartier-base-") as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(tree), rev], cwd=ROOT,
                       check=True)
        try:
            yield tree, short.stdout.strip()
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT,
                           check=False)


def measure(tree: Path, households: int, years: int, repeats: int) -> tuple[float, float]:
    """Median household-years/s and median build seconds of ``tree``'s code, from its own
    throughput benchmark."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    script = tree / "benchmarks" / "throughput.py"
    # The same memory allocator for both trees: older ones know only its defaults.
    allocator = ["--default-allocator"] if "--default-allocator" in script.read_text() else []
    out = subprocess.run(
        [sys.executable, str(script), "--sizes", str(households),
         "--years", str(years), "--repeats", str(repeats), *allocator],
        cwd=tree, env=env, capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 6 and cells[0].replace(",", "") == str(households):
            return float(cells[5].replace(",", "")), float(cells[3])
    raise RuntimeError(f"no result for {households} households in the output of {tree}:\n{out}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--base", default="HEAD~1", help="git revision to compare with (HEAD~1)")
    p.add_argument("--rounds", type=int, default=4, help="alternating rounds (4)")
    p.add_argument("--households", type=int, default=100_000, help="city size (100000)")
    p.add_argument("--years", type=int, default=10, help="simulated years per run (10)")
    p.add_argument("--repeats", type=int, default=3, help="runs per measurement (3)")
    a = p.parse_args()
    for name in ("rounds", "households", "years", "repeats"):
        if getattr(a, name) < 1:
            print(f"compare_revisions: --{name}: must be at least 1", file=sys.stderr)
            sys.exit(2)
    with revision_tree(a.base, "compare_revisions") as (base, short):
        print(f"base {short} vs this checkout: {a.households:,} households, "
              f"{a.years} years, medians of {a.repeats} runs")
        for tree in (base, ROOT):  # fill each tree's compiled-kernel cache first
            measure(tree, WARM_UP_HOUSEHOLDS, 1, 1)
        ratios, builds = [], []
        for r in range(1, a.rounds + 1):
            trees = (base, ROOT) if r % 2 else (ROOT, base)  # each first in every other round
            got = {tree: measure(tree, a.households, a.years, a.repeats) for tree in trees}
            (old, old_build), (new, new_build) = got[base], got[ROOT]
            ratios.append(new / old)
            builds.append(old_build / new_build)
            print(f"round {r}: base {old:,.0f}  this {new:,.0f}  ratio {new / old:.3f}; "
                  f"build s: base {old_build:.2f}  this {new_build:.2f}", flush=True)
        spread = f"{min(ratios):.3f}-{max(ratios):.3f}"
        print(f"\nsummary: this checkout is {statistics.median(ratios):.3f}x the base "
              f"(median of {len(ratios)} rounds; range {spread})")
        print(f"build: {statistics.median(builds):.3f}x as fast as the base (base s / this s, "
              f"median of {len(builds)} rounds; range {min(builds):.3f}-{max(builds):.3f})")

if __name__ == "__main__":
    main()
