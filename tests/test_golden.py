"""Pure refactors change no result: every stored golden table is reproduced bit for bit.

The files under ``tests/golden/data/`` were made by ``python -m tests.golden`` (see
``tests/golden/__init__.py``). A change meant to alter results regenerates them on purpose.
"""

from __future__ import annotations

import pandas as pd
import pytest

import sim
from tests.golden import CASES, TABLES, plain, produce


def test_numerics_are_the_shared_ones():
    assert sim.numerics.portable(), (
        "numpy was imported before sim with AVX-512 paths: results differ from other machines")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_golden_outputs_are_reproduced_exactly(case):
    fresh = produce(case)
    stored = {t: case.path(t) for t in TABLES if case.path(t).exists()}
    assert "outcomes" in stored, f"no golden outcomes for {case.name}: run python -m tests.golden"
    assert set(fresh) == set(stored), f"{case.name}: tables {sorted(fresh)} vs {sorted(stored)}"
    for table, path in stored.items():
        expected = pd.read_parquet(path)
        pd.testing.assert_frame_equal(plain(fresh[table]), expected, check_exact=True,
                                      obj=f"{case.name} {table}")


TWO_THREAD_CASES = [c for c in CASES if (c.scenario, c.seed) in {
    ("baseline", 1), ("combined", 2), ("mvz_hochfeld", 1), ("zensus_sample", 1)}]


@pytest.mark.parametrize("case", TWO_THREAD_CASES, ids=lambda c: c.name)
def test_golden_outputs_are_reproduced_with_two_threads(case, monkeypatch):
    """Work split over two threads (in chunks of 64 agents, so every threaded kernel splits)
    gives the same tables as one thread."""
    from sim.model import threads

    monkeypatch.setattr(threads, "MIN_CHUNK", 64)
    threads.set_threads(2)
    try:
        fresh = produce(case)
    finally:
        threads.set_threads(1)
    for table in fresh:
        expected = pd.read_parquet(case.path(table))
        pd.testing.assert_frame_equal(plain(fresh[table]), expected, check_exact=True,
                                      obj=f"{case.name} {table} (2 threads)")


def test_the_new_parameter_check_holds_run_ids_to_one_mapping_across_tables():
    """``python -m tests.golden.added_metrics --new-parameter`` lets run ids change, but only
    one to one and the same way in every table; other columns stay bit-identical."""
    from tests.golden.added_metrics import same

    old = pd.DataFrame({"run_id": ["a", "a", "b"], "x": [1.0, 2.0, 3.0]})
    renamed = old.assign(run_id=["A", "A", "B"])
    mapping: dict[str, dict[str, str]] = {}
    assert same(old, renamed, True, mapping) is None
    assert same(old, renamed, True, mapping) is None  # a second table, the same mapping
    assert "another run id" in same(old, old.assign(run_id=["B", "B", "A"]), True, mapping)
    assert "one to one" in same(old, old.assign(run_id=["A", "A", "A"]), True, {})
    assert "values differ" in same(old, renamed.assign(x=[1.0, 2.0, 3.5]), True, {})
    assert "values differ" in same(old, renamed)  # without the flag, ids must be equal


def test_golden_outputs_are_reproduced_when_the_process_keeps_freed_memory():
    """``quartier run`` lets the allocator keep freed memory (glibc): the same tables, bit for
    bit (in a fresh process, so that the setting stays out of the test process; the larger
    baseline case, whose arrays are large enough to come from the heap now)."""
    import platform
    import subprocess
    import sys
    from pathlib import Path

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        pytest.skip("the setting exists with glibc only")
    case = next(c for c in CASES if c.name == "baseline_h10000_s1")
    code = (
        "import sim\n"
        "import pandas as pd\n"
        "from sim.model.threads import keep_freed_memory\n"
        "from tests.golden import CASES, plain, produce\n"
        "assert keep_freed_memory() and keep_freed_memory()\n"
        f"case = next(c for c in CASES if c.name == {case.name!r})\n"
        "fresh = produce(case)\n"
        "for table in fresh:\n"
        "    pd.testing.assert_frame_equal(plain(fresh[table]), pd.read_parquet(case.path(table)),"
        " check_exact=True, obj=table)\n"
        "print('identical', len(fresh))\n")
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "identical 3"
