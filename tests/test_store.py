"""The results store: atomic per-run files, resume after a crash, hash checks, provenance."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

import sim
from sim.errors import InputError
from sim.experiments import runner as runner_module
from sim.experiments.results import load
from sim.experiments.runner import Runner, RunsFailed, make_specs
from sim.experiments.store import (
    ExperimentStore,
    load_cells,
    load_vital,
    read_manifest,
    stored_run_ids,
)

from .experiment_helpers import one_line_error, quartier, write_scenario, write_sweep

RATE = "parameters.migration.in_migration_rate"


def test_layout_manifest_and_provenance(tmp_path, tiny):
    out = tmp_path / "exp"
    experiments, outcomes = sim.sweep(tiny, {RATE: [0.04, 0.06]}, replications=2, out=out,
                                      command="test command")
    files = sorted(p.name for p in (out / "runs").iterdir())
    assert len(files) == 12 and not [f for f in files if f.endswith(".tmp")]
    assert {f.split(".", 1)[1] for f in files} == {"outcomes.parquet", "experiments.parquet",
                                                   "vital.parquet"}
    vital = load_vital(out)
    assert set(vital["run_id"]) == set(experiments["run_id"])
    assert (vital.groupby("run_id")["exposure"].sum() > 0).all()
    manifest = read_manifest(out)
    assert manifest["format"] == 1 and manifest["commands"][-1]["command"] == "test command"
    assert manifest["commands"][-1]["code_version"].startswith(sim.__version__)
    assert set(manifest["scenarios"]) == {"tiny-000", "tiny-001"}
    assert manifest["scenarios"]["tiny-001"]["values"] == {RATE: 0.06}
    runs = manifest["runs"]
    assert set(runs) == set(experiments["run_id"])
    for run_id, run in runs.items():
        row = experiments.set_index("run_id").loc[run_id]
        assert run["status"] == "done" and run["seed"] == row["seed"] == 1 + run["replicate"]
        assert run["scenario_hash"] == row["scenario_hash"] and run["years"] == 2
    assert not (out / ".lock").exists()
    for column in ("run_id", "scenario", "scenario_hash", "seed", "replicate", "design_point",
                   "design_values", "years", "code_version", "parameters", "command"):
        assert column in experiments.columns
    assert list(outcomes.columns) == ["run_id", "year", "scope", "metric", "value"]


def test_same_call_twice_runs_nothing(tmp_path, tiny):
    out = tmp_path / "exp"
    specs = make_specs(tiny, replicates=range(3), seed=1, out_dir=out)
    with Runner(out) as run:
        first = run.run(specs)
    before = {p: p.stat().st_mtime_ns for p in (out / "runs").iterdir()}
    with Runner(out) as run:
        second = run.run(specs + specs)  # duplicates collapse to one run each
    assert (first.done, first.skipped) == (3, 0)
    assert (second.done, second.skipped, second.planned) == (0, 3, 3)
    assert {p: p.stat().st_mtime_ns for p in (out / "runs").iterdir()} == before


def test_crash_leftovers_are_tidied(tmp_path, tiny):
    out = tmp_path / "exp"
    specs = make_specs(tiny, replicates=range(2), seed=1, out_dir=out)
    with Runner(out) as run:
        run.run(specs[:1])
    runs = out / "runs"
    # what a crash can leave: a temporary file and the outcomes of an unfinished run
    (runs / f".{specs[1].run_id}.outcomes.parquet.abc.tmp").write_bytes(b"half")
    (runs / f"{specs[1].run_id}.outcomes.parquet").write_bytes(b"no experiments file yet")
    assert stored_run_ids(out) == {specs[0].run_id}
    experiments, outcomes = load(out)  # readers ignore the unfinished run
    assert list(experiments["run_id"]) == [specs[0].run_id]
    assert set(outcomes["run_id"]) == {specs[0].run_id}
    with Runner(out) as run:
        report = run.run(specs)
    assert (report.done, report.skipped) == (1, 1)
    assert not list(runs.glob("*.tmp")) and len(list(runs.iterdir())) == 6
    assert set(load(out)[1]["run_id"]) == {s.run_id for s in specs}


def test_changed_scenario_content_is_refused_unless_forced(tmp_path):
    base = write_scenario(tmp_path, "base", households=150)
    policy = write_scenario(tmp_path, "policy", households=150)
    out = tmp_path / "cmp"
    args = ("--replications", 2, "--years", 1, "--out", out, "--workers", 1, "--quiet")
    assert quartier("compare", base, policy, *args).returncode == 0
    old_ids = stored_run_ids(out)
    write_scenario(tmp_path, "policy", "[parameters.demography]\ntotal_fertility_rate = 2.0\n",
                   households=150)
    proc = quartier("compare", base, policy, *args)
    assert proc.returncode == 2
    line = one_line_error(proc)
    assert "holds runs of scenario 'policy' with different content" in line and "--force" in line
    assert stored_run_ids(out) == old_ids  # nothing mixed in, nothing lost
    forced = quartier("compare", base, policy, *args, "--force")
    assert forced.returncode == 0, forced.stderr
    new_ids = stored_run_ids(out)
    assert len(new_ids) == 4 and len(new_ids & old_ids) == 2  # the baseline runs are reused
    experiments, _ = load(out)
    assert experiments.groupby("scenario")["scenario_hash"].nunique().max() == 1


def test_other_horizons_share_a_folder(tmp_path, tiny):
    out = tmp_path / "exp"
    other = tiny.with_values({"parameters.demography.total_fertility_rate": 1.8,
                              "name": "other"})
    a = sim.compare(tiny, [other], replications=2, years=1, out=out)
    b = sim.compare(tiny, [other], replications=2, years=2, out=out)
    assert a.runs_done == 4 and b.runs_done == 4 and len(stored_run_ids(out)) == 8
    assert a.final_year == 2024 and b.final_year == 2025


def test_a_live_lock_is_respected_and_a_stale_one_taken_over(tmp_path, tiny):
    out = tmp_path / "exp"
    out.mkdir()
    lock = out / ".lock"
    lock.write_text(json.dumps({"pid": os.getpid(), "host": os.uname().nodename}))
    with pytest.raises(InputError, match="in use by process"):
        ExperimentStore.open(out)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    lock.write_text(json.dumps({"pid": int(dead), "host": os.uname().nodename}))
    with ExperimentStore.open(out):
        assert json.loads(lock.read_text())["pid"] == os.getpid()
    assert not lock.exists()


def test_failed_runs_are_reported_and_retried(tmp_path, tiny, monkeypatch):
    out = tmp_path / "exp"
    specs = make_specs(tiny, replicates=range(3), seed=1, out_dir=out)
    real = runner_module._execute_run

    def flaky(spec):
        if spec.replicate == 1:
            raise ValueError("boom")
        return real(spec)

    monkeypatch.setattr(runner_module, "_execute_run", flaky)
    with Runner(out) as run, pytest.raises(RunsFailed, match="1 run.*boom"):
        run.run(specs)
    manifest = read_manifest(out)
    assert manifest["runs"][specs[1].run_id]["status"] == "failed"
    assert len(stored_run_ids(out)) == 2
    monkeypatch.setattr(runner_module, "_execute_run", real)
    with Runner(out) as run:
        report = run.run(specs)
    assert (report.done, report.skipped) == (1, 2)
    assert {r["status"] for r in read_manifest(out)["runs"].values()} == {"done"}


def test_the_worker_checks_the_scenario_hash(tmp_path, tiny):
    spec = make_specs(tiny, replicates=[0], seed=1, out_dir=tmp_path)[0]
    bad = type(spec)(**{**spec.__dict__, "scenario_hash": "0" * 64})
    with pytest.raises(RuntimeError, match="expected 000000000000"):
        runner_module.execute_run(bad)


def test_cell_snapshots_are_stored_when_the_model_has_them(tmp_path, tiny, monkeypatch):
    from sim.model import QuartierModel

    def cell_snapshots(self):
        return pd.DataFrame({"run_id": self.run_id, "year": self.year,
                             "cell": range(self.city.n_cells if hasattr(self.city, "n_cells")
                                           else 3), "residents": 0})

    monkeypatch.setattr(QuartierModel, "cell_snapshots", cell_snapshots, raising=False)
    out = tmp_path / "exp"
    experiments, _ = sim.sweep(tiny, {RATE: [0.05]}, replications=2, out=out)
    cells = load_cells(out)
    assert set(cells["run_id"]) == set(experiments["run_id"])
    assert len(list((out / "runs").glob("*.cells.parquet"))) == 2


def test_duckdb_reads_the_store(tmp_path, tiny):
    duckdb = pytest.importorskip("duckdb")
    out = tmp_path / "exp"
    experiments, outcomes = sim.sweep(tiny, {RATE: [0.04, 0.06]}, replications=2, out=out)
    runs = (out / "runs").as_posix()
    query = f"""
        SELECT e.scenario, avg(o.value) AS population
        FROM read_parquet('{runs}/*.outcomes.parquet') o
        JOIN read_parquet('{runs}/*.experiments.parquet') e USING (run_id)
        WHERE o.metric = 'population' AND o.scope = 'city' AND o.year = 2025
        GROUP BY e.scenario ORDER BY e.scenario
    """
    got = duckdb.sql(query).df().set_index("scenario")["population"]
    city = outcomes[(outcomes.metric == "population") & (outcomes.scope == "city")
                    & (outcomes.year == 2025)].merge(experiments, on="run_id")
    want = city.groupby("scenario")["value"].mean()
    pd.testing.assert_series_equal(got, want, check_names=False)


@pytest.mark.slow
def test_a_killed_sweep_resumes_without_losing_or_duplicating_runs(tmp_path):
    """Kill `quartier sweep` (2 worker processes) after some runs are stored, then re-run it."""
    sweep = write_sweep(tmp_path, f"""
years = 5
replications = 2
[parameters]
"{RATE}" = [0.03, 0.04, 0.05, 0.06, 0.07, 0.08]
"city.households" = [3000]
""")
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "sim.cli", "sweep", str(sweep), "--out", str(out),
           "--workers", "2", "--quiet"]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while len(stored_run_ids(out)) < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # the command and its worker processes
    proc.wait()
    stored_before = stored_run_ids(out)
    assert 3 <= len(stored_before) < 12, len(stored_before)
    assert (out / ".lock").exists()  # the killed command could not clean up

    resumed = quartier("sweep", sweep, "--out", out, "--workers", 2)
    assert resumed.returncode == 0, resumed.stderr
    text = " ".join(resumed.stdout.split())
    assert f"{12 - len(stored_before)} simulated, {len(stored_before)} already stored" in text

    reference = tmp_path / "reference"
    assert quartier("sweep", sweep, "--out", reference, "--workers", 2,
                    "--quiet").returncode == 0
    runs = out / "runs"
    assert not list(runs.glob(".*")), "temporary files left"
    for suffix in ("experiments", "outcomes"):
        assert len(list(runs.glob(f"*.{suffix}.parquet"))) == 12
    experiments, outcomes = load(out)
    ref_experiments, ref_outcomes = load(reference)
    assert experiments["run_id"].is_unique and len(experiments) == 12
    assert set(experiments["run_id"]) == set(ref_experiments["run_id"])
    assert stored_before <= set(experiments["run_id"])
    pd.testing.assert_frame_equal(outcomes, ref_outcomes)
    manifest = read_manifest(out)
    assert len(manifest["runs"]) == 12
    assert {r["status"] for r in manifest["runs"].values()} == {"done"}
    assert len(manifest["commands"]) == 2 and not (out / ".lock").exists()
