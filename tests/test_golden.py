"""Pure refactors change no result: every stored golden table is reproduced bit for bit.

The files under ``tests/golden/data/`` were made by ``python -m tests.golden`` (see
``tests/golden/__init__.py``). A change meant to alter results regenerates them on purpose.
"""

from __future__ import annotations

import pandas as pd
import pytest

from tests.golden import CASES, TABLES, plain, produce


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
