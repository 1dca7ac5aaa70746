"""Nothing already written is lost: a run's folder changes as one unit, output files never
replace what results are made of, workers end with their command, and a command never touches
another live command's files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.experiments import results
from sim.experiments.files import (
    host_tag,
    remove_stale_temporaries,
    replace_folder,
    stale_temporary,
    temporary_name,
)
from sim.experiments.results import load
from sim.experiments.runner import Runner, make_specs
from sim.experiments.store import (
    ExperimentStore,
    LockLost,
    check_lock,
    lock_holder,
    read_manifest,
    stored_run_ids,
)

from .experiment_helpers import one_line_error, quartier, write_scenario, write_sweep
from .process_helpers import alive, descendants

RATE = "parameters.migration.in_migration_rate"


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# -- a run's folder changes as one unit -------------------------------------------------------


def test_a_folder_is_replaced_whole_or_not_at_all(tmp_path):
    target = tmp_path / "run"
    replace_folder(target, lambda f: (f / "a.txt").write_text("first"))
    replace_folder(target, lambda f: (f / "b.txt").write_text("second"))
    assert snapshot(target) == {"b.txt": b"second"}  # no file of the first left over

    def fails(folder: Path) -> None:
        (folder / "c.txt").write_text("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        replace_folder(target, fails)
    assert snapshot(target) == {"b.txt": b"second"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no temporary folder


def test_a_failed_rerun_leaves_the_earlier_run_intact(tmp_path, tiny, monkeypatch):
    out = tmp_path / "run"
    results.write_run(sim.build_model(tiny, seed=1).run(), out)
    before = snapshot(out)
    later = sim.build_model(tiny, seed=2).run()
    real = pd.DataFrame.to_parquet

    def fail_on_experiments(self, path, *args, **kwargs):
        if str(path).endswith("experiments.parquet"):
            raise OverflowError("Python int too large to convert to C long")
        return real(self, path, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", fail_on_experiments)
    with pytest.raises(OverflowError):
        results.write_run(later, out)
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    monkeypatch.undo()
    results.write_run(later, out)
    experiments, outcomes = load(out)
    assert set(outcomes["run_id"]) == set(experiments["run_id"]) == {later.run_id}


def test_quartier_run_refuses_a_seed_it_cannot_store_before_simulating(tmp_path):
    scenario = write_scenario(tmp_path, "small", households=150)
    out = tmp_path / "run"
    assert quartier("run", scenario, "--years", 1, "--out", out, "--quiet").returncode == 0
    before = snapshot(out)
    t0 = time.monotonic()
    proc = quartier("run", scenario, "--years", 1, "--seed", 10**20, "--out", out)
    assert proc.returncode == 2
    assert "--seed" in one_line_error(proc)
    assert snapshot(out) == before
    assert time.monotonic() - t0 < 30


@pytest.mark.parametrize("kind", ["other files", "experiment folder"])
def test_quartier_run_replaces_only_a_folder_of_its_own(tmp_path, kind):
    scenario = write_scenario(tmp_path, "small", households=150)
    out = tmp_path / "folder"
    out.mkdir()
    if kind == "other files":
        (out / "notes.txt").write_text("mine")
    else:
        (out / "manifest.json").write_text("{}")
        (out / "runs").mkdir()
    before = snapshot(out)
    proc = quartier("run", scenario, "--years", 1, "--out", out)
    assert proc.returncode == 2
    assert str(out) in one_line_error(proc)
    assert snapshot(out) == before


# -- output files never replace what results are made of ---------------------------------------


@pytest.fixture()
def store_and_run(tmp_path, tiny):
    """An experiment folder and a run's folder."""
    store = tmp_path / "exp"
    with Runner(store) as runner:
        runner.run(make_specs(tiny, replicates=range(1), seed=1, out_dir=store))
    (store / "comparison.csv").write_text("scenario,metric\n")
    run = tmp_path / "run"
    results.write_run(sim.build_model(tiny, seed=1).run(), run)
    return store, run


@pytest.mark.parametrize("target", [
    "exp/manifest.json", "exp/comparison.csv", "exp/runs/{run_id}.outcomes.parquet",
    "exp/runs/new.html", "run/outcomes.parquet", "run/experiments.parquet", "scenario.toml"])
def test_report_never_overwrites_a_results_or_scenario_file(tmp_path, store_and_run, target):
    store, run = store_and_run
    run_id = next(iter(stored_run_ids(store)))
    path = tmp_path / target.format(run_id=run_id)
    if target == "scenario.toml":
        write_scenario(tmp_path, "scenario")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    proc = quartier("report", store if target.startswith("exp") else run, "-o", path)
    assert proc.returncode == 2, proc.stderr
    assert str(path.name) in one_line_error(proc)
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before
    assert read_manifest(store)["runs"]


def test_validate_refuses_a_scenario_file_as_its_output_folder(tmp_path):
    scenario = write_scenario(tmp_path, "small", households=150)
    before = scenario.read_bytes()
    proc = quartier("validate", scenario, "--out", scenario, "--replications", 2,
                    "--years", 1)
    assert proc.returncode == 2 and "--out" in one_line_error(proc)
    assert scenario.read_bytes() == before and not list(tmp_path.glob("**/runs"))


# -- temporary files name their writer --------------------------------------------------------


def test_only_temporary_files_of_gone_writers_are_stale(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        names = {
            "mine": temporary_name("a.parquet"),
            "dead": f".a.parquet.h{host_tag()}p{dead}-00ab.tmp",
            "live": f".a.parquet.h{host_tag()}p{live.pid}-00ab.tmp",
            "other host": ".a.parquet.hffffffffp1-00ab.tmp",
            "older version": ".a.parquet.x1y2z3.tmp",
        }
        for name in names.values():
            (tmp_path / name).write_text("half")
        assert {k: stale_temporary(tmp_path / n) for k, n in names.items()} == {
            "mine": True, "dead": True, "live": False, "other host": False,
            "older version": True}
        remove_stale_temporaries(tmp_path)
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
            [names["live"], names["other host"]])
    finally:
        live.kill()
        live.wait()


# -- a command that lost its folder writes nothing more ---------------------------------------


def test_a_command_whose_lock_was_taken_over_stores_nothing_and_leaves_the_new_lock(
        tmp_path, tiny):
    out = tmp_path / "exp"
    specs = make_specs(tiny, replicates=range(3), seed=1, out_dir=out)
    first = Runner(out).__enter__()
    first.run(specs[:1])
    (out / ".lock").unlink()  # removed by hand while the first command runs
    with Runner(out) as second:
        token = second.store.token
        with pytest.raises(LockLost, match="taken over"):
            first.run(specs)
        assert stored_run_ids(out) == {specs[0].run_id}
        first.__exit__(None, None, None)
        assert lock_holder(out)["token"] == token  # the first command left the new lock
        second.run(specs)
    assert stored_run_ids(out) == {s.run_id for s in specs}
    assert not (out / ".lock").exists()
    assert not [p for p in (out / "runs").iterdir() if p.name.startswith(".")]


def test_check_lock_refuses_another_token_and_a_dead_holder(tmp_path):
    with ExperimentStore.open(tmp_path / "exp") as store:
        check_lock(store.root, store.token)
        with pytest.raises(LockLost, match="taken over"):
            check_lock(store.root, "another token")
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True).stdout.strip()
        lock = store.root / ".lock"
        holder = json.loads(lock.read_text())
        lock.write_text(json.dumps({**holder, "pid": int(dead)}))
        with pytest.raises(LockLost, match="has ended"):
            check_lock(store.root, store.token)
        lock.write_text(json.dumps(holder))


# -- processes of two commands ---------------------------------------------------------------


def start_sweep(sweep: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "sim.cli", "sweep", str(sweep), "--out",
                             str(out), "--workers", "2", "--quiet"], start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_until(condition, proc: subprocess.Popen, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert proc.poll() is None, proc.communicate(timeout=30)
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
@pytest.mark.alone
def test_workers_end_within_5_s_of_their_killed_command(tmp_path):
    sweep = write_sweep(tmp_path, f"""
years = 8
replications = 2
[parameters]
"{RATE}" = [0.03, 0.04, 0.05, 0.06, 0.07, 0.08]
"city.households" = [3000]
""")
    out = tmp_path / "killed"
    proc = start_sweep(sweep, out)
    workers: set[int] = set()
    try:
        wait_until(lambda: len(descendants(proc.pid)) >= 2 and stored_run_ids(out), proc)
        workers = descendants(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)  # the command only, not its workers
        proc.wait()
        t0 = time.monotonic()
        while alive(workers) and time.monotonic() - t0 < 5:
            time.sleep(0.05)
        assert not alive(workers), f"workers alive {time.monotonic() - t0:.1f} s after the kill"
        files = snapshot(out / "runs")
        time.sleep(1.0)
        assert snapshot(out / "runs") == files  # nobody writes any more
    finally:  # workers that outlived their command are no longer below it: kill those seen
        for pid in alive(workers | descendants(proc.pid)) | {proc.pid}:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
@pytest.mark.alone
def test_a_second_command_during_the_first_leaves_every_run_whole(tmp_path):
    """The first command's lock is removed while it runs and a second command takes the
    folder: the second's tidy-up leaves the first's files alone, the first stops storing
    (one line, exit 1) without touching the second's lock, every stored run is whole, and
    running the first again completes it."""
    body = f"""
years = 6
[parameters]
"{RATE}" = [0.03, 0.04, 0.05, 0.06, 0.07, 0.08]
"city.households" = [2500]
"""
    # the first has enough runs (48) to be still running when the second has finished
    first_file = write_sweep(tmp_path, "replications = 8\nseed = 1\n" + body, "first.toml")
    second_file = write_sweep(tmp_path, "replications = 1\nseed = 100\n" + body, "second.toml")
    out = tmp_path / "shared"
    # a worker of the first command still writing a file (named by its process): a live
    # process of its own, since the first command itself may already have stopped when the
    # second tidies up (it stops at its next store once its lock is gone)
    writer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    try:
        first = start_sweep(first_file, out)
    except BaseException:
        writer.kill()
        writer.wait()
        raise
    try:
        wait_until(lambda: len(stored_run_ids(out)) >= 1, first)
        (out / ".lock").unlink()
        in_flight = out / "runs" / f".x.outcomes.parquet.h{host_tag()}p{writer.pid}-0001.tmp"
        in_flight.write_bytes(b"half")
        second = quartier("sweep", second_file, "--out", out, "--workers", 2, "--quiet",
                          timeout=600)
        assert second.returncode == 0, second.stderr
        assert in_flight.read_bytes() == b"half"  # the second's tidy-up left it alone
        _, err = first.communicate(timeout=600)
    finally:
        writer.kill()  # the writer is gone now: its file is a leftover
        writer.wait()
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
    if first.returncode != 0:  # it lost the folder before it was done
        assert first.returncode == 1 and "taken over" in err and "Traceback" not in err, err
    runs = out / "runs"
    stored = stored_run_ids(out)
    assert len(stored) >= 7  # the second's six and the first's stored before
    for run_id in stored:
        for table in ("outcomes", "vital"):
            assert pd.read_parquet(runs / f"{run_id}.{table}.parquet")["run_id"].eq(
                run_id).all()
    assert not (out / ".lock").exists()
    experiments, outcomes = load(out)
    assert set(experiments["run_id"]) == set(outcomes["run_id"]) == stored
    again = quartier("sweep", first_file, "--out", out, "--workers", 2, "--quiet",
                     timeout=600)
    assert again.returncode == 0, again.stderr
    assert len(stored_run_ids(out)) == 54  # the first's 48 and the second's 6
    # the writer is gone now: its leftover is removed, and nothing else is left
    assert not [p.name for p in runs.iterdir() if p.name.startswith(".")]
