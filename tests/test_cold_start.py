"""Cold start: ``quartier warm-up`` compiles every kernel a run needs, ahead of the run."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from .conftest import ROOT, SCENARIOS

RUN_SMALL = """
import json, sys
import sim
from sim.model import build_model
from sim.model.kernels import compiled_signatures, dispatchers
for path in sys.argv[1:]:
    sc = sim.load_scenario(path)
    build_model(sc.with_values({"years": 2}), seed=1).run(2)
misses = sum(sum(k.stats.cache_misses.values()) for k in dispatchers().values())
print(json.dumps({"compiled": sorted(compiled_signatures()), "misses": misses}))
"""


def _run(code: str, *args, cache=None) -> dict:
    """Run ``code`` in a new process (with its own numba cache folder if ``cache``)."""
    env = dict(os.environ, **({"NUMBA_CACHE_DIR": str(cache)} if cache else {}))
    proc = subprocess.run([sys.executable, "-c", code, *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


def test_the_warm_up_list_covers_the_kernels_of_a_run():
    """Every kernel signature a run of the baseline and of the combined levers compiles is in
    the list ``quartier warm-up`` compiles (re-record with ``python -m sim.model.kernels``)."""
    from sim.model.kernel_signatures import SIGNATURES

    listed = {(m, f, s) for m, f, s, _ in SIGNATURES}
    result = _run(RUN_SMALL, SCENARIOS / "baseline.toml", SCENARIOS / "combined.toml")
    compiled = {tuple(k) for k in result["compiled"]}
    assert len(compiled) >= 20
    assert compiled <= listed, sorted(compiled - listed)


@pytest.mark.slow
def test_after_warm_up_a_run_compiles_nothing(tmp_path):
    cache = tmp_path / "numba"
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
    proc = subprocess.run([sys.executable, "-m", "sim.cli", "warm-up"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    assert "kernels compiled or loaded" in proc.stdout
    small = tmp_path / "small.toml"
    small.write_text(f'extends = "{(SCENARIOS / "baseline.toml").as_posix()}"\n'
                     'name = "small"\n[city]\nhouseholds = 400\n', encoding="utf-8")
    result = _run(RUN_SMALL, small, cache=cache)
    assert result["misses"] == 0 and len(result["compiled"]) >= 20
