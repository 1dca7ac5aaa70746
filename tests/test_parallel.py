"""Execution back-ends: 1 worker, 2 local worker processes (every start method) and a Dask
cluster store identical outcomes; the Dask cluster is reached through the command line's
--scheduler as well."""

from __future__ import annotations

import pandas as pd
import pytest

import sim
from sim.experiments.results import load

from .experiment_helpers import one_line_error, quartier, write_sweep

RATE = "parameters.migration.in_migration_rate"
PARAMETERS = {RATE: [0.03, 0.09], "city.households": [300, 320]}


@pytest.fixture(scope="module")
def small_base(baseline):
    return baseline.with_values({"city.households": 300})


def _sweep(base, out, **kwargs):
    return sim.sweep(base, PARAMETERS, replications=2, years=3, out=out, **kwargs)


def _same(a, b):
    exp_a, out_a = a
    exp_b, out_b = b
    keys = ["run_id", "scenario", "scenario_hash", "seed", "replicate", "design_point", "years"]
    pd.testing.assert_frame_equal(exp_a[keys], exp_b[keys])
    pd.testing.assert_frame_equal(out_a, out_b)


@pytest.mark.parametrize("method", ["fork", "forkserver", "spawn"])
def test_every_start_method_gives_the_same_runs(tmp_path, small_base, method):
    """The local pool's start methods (fork on Linux when no other thread runs, else a fork
    server or spawn) store the same outcomes as a run in this process."""
    import multiprocessing

    from sim.experiments.runner import Runner, make_specs

    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {method} here")
    specs = make_specs(small_base.with_values({"years": 2}), replicates=range(2), seed=3,
                       out_dir=tmp_path / "pool")
    with Runner(tmp_path / "pool", workers=2, start_method=method) as runner:
        assert runner.run(specs).done == 2
    inline = [s.__class__(**{**s.__dict__, "out_dir": str(tmp_path / "inline")}) for s in specs]
    with Runner(tmp_path / "inline", workers=1) as runner:
        runner.run(inline)
    pd.testing.assert_frame_equal(load(tmp_path / "pool")[1], load(tmp_path / "inline")[1])


@pytest.mark.slow
def test_one_worker_two_workers_and_dask_store_identical_outcomes(tmp_path, small_base):
    distributed = pytest.importorskip("distributed")
    one = _sweep(small_base, tmp_path / "one", workers=1)
    two = _sweep(small_base, tmp_path / "two", workers=2)
    assert len(one[0]) == 8 and one[1]["run_id"].nunique() == 8
    _same(one, two)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None,
                                  local_directory=tmp_path / "dask") as cluster, \
            distributed.Client(cluster) as client:
        dask = _sweep(small_base, tmp_path / "dask", executor=client.get_executor())
        # the stored files, read back independently of the sweep's return value
        _same(one, load(tmp_path / "dask"))
        _same(one, dask)
        # the command line reaches the same cluster through --scheduler
        sweep = write_sweep(tmp_path, f"""
replications = 2
years = 3
[parameters]
"{RATE}" = [0.03, 0.09]
"city.households" = [300, 320]
""")
        proc = quartier("sweep", sweep, "--out", tmp_path / "cli", "--scheduler",
                        cluster.scheduler_address)
        assert proc.returncode == 0, proc.stderr
        assert "8 simulated" in " ".join(proc.stdout.split())
        workers_used = {w for w in client.run(lambda: __import__("os").getpid()).values()}
        assert len(workers_used) == 2
    # the sweep file's base is the baseline file; every swept value is the same as above, so
    # are the scenarios, their hashes, the runs and the outcomes
    _same(one, load(tmp_path / "cli"))


def test_unreachable_scheduler_is_a_one_line_error(tmp_path):
    pytest.importorskip("distributed")
    sweep = write_sweep(tmp_path, f'years = 1\n[parameters]\n"{RATE}" = [0.05]\n')
    proc = quartier("sweep", sweep, "--out", tmp_path / "o", "--scheduler",
                    "tcp://127.0.0.1:9", timeout=120)
    assert proc.returncode == 2
    line = one_line_error(proc)
    assert line.startswith("error: --scheduler: cannot connect to tcp://127.0.0.1:9")
    assert not (tmp_path / "o").exists()

