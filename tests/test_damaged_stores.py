"""Damaged or foreign experiment folders: a broken manifest is one line naming the file, the
field and the fix; a lost or damaged run file is recomputed by the next command."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.errors import InputError
from sim.experiments.store import MANIFEST, stored_run_ids

from .experiment_helpers import write_scenario


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """An experiment folder with two complete runs, kept as the pristine copy."""
    root = tmp_path_factory.mktemp("damaged")
    a = write_scenario(root, "a", "years = 1", households=150)
    b = write_scenario(root, "b", "years = 1", households=150)
    args = ["compare", str(a), str(b), "-r", "1", "-w", "1", "-q", "--out"]
    result = CliRunner().invoke(app, [*args, str(root / "pristine")])
    assert result.exit_code == 0, result.output
    return root, args


def _copy(stored, tmp_path):
    root, args = stored
    out = tmp_path / "exp"
    shutil.copytree(root / "pristine", out)
    return out, [*args, str(out)]


def _files(folder):
    return {p.name: p.read_bytes() for p in (folder / "runs").iterdir()}


MANIFEST_DAMAGE = {
    "scenarios_is_a_list": (lambda m: {**m, "scenarios": list(m["scenarios"])}, "scenarios"),
    "run_entries_are_strings": (lambda m: {**m, "runs": {r: "done" for r in m["runs"]}},
                                "runs."),
    "scenario_without_hash": (
        lambda m: {**m, "scenarios": {n: {k: v for k, v in i.items() if k != "hash"}
                                      for n, i in m["scenarios"].items()}}, "scenarios.a"),
    "foreign_format": (lambda m: {"format": 99}, "format"),
    "a_list": (lambda m: [1, 2], "format"),
}


@pytest.mark.parametrize("damage", sorted(MANIFEST_DAMAGE) + ["truncated"])
def test_a_damaged_manifest_is_one_line_with_the_fix(stored, tmp_path, damage):
    out, args = _copy(stored, tmp_path)
    path = out / MANIFEST
    if damage == "truncated":
        path.write_text(path.read_text()[:40])
        field = None
    else:
        change, field = MANIFEST_DAMAGE[damage]
        path.write_text(json.dumps(change(json.loads(path.read_text()))))
    before, manifest = _files(out), path.read_bytes()
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    line = result.stderr.strip()
    assert "\n" not in line and "manifest.json" in line and "use a new folder" in line, line
    assert field is None or f": {field}" in line, line
    assert _files(out) == before and path.read_bytes() == manifest
    assert not (out / ".lock").exists()


def test_a_lock_that_is_a_folder_is_one_line(stored, tmp_path):
    out, args = _copy(stored, tmp_path)
    (out / ".lock").mkdir()
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert "\n" not in line and ".lock: is not a lock file" in line and "remove it" in line


@pytest.mark.parametrize("damage", ["outcomes_missing", "experiments_corrupt",
                                    "outcomes_truncated"])
def test_a_lost_or_damaged_run_file_is_recomputed(stored, tmp_path, damage):
    out, args = _copy(stored, tmp_path)
    pristine = _files(stored[0] / "pristine")
    run_id = sorted(stored_run_ids(out))[0]
    kind = "outcomes" if damage.startswith("outcomes") else "experiments"
    path = out / "runs" / f"{run_id}.{kind}.parquet"
    if damage == "outcomes_missing":
        path.unlink()
        assert run_id not in stored_run_ids(out)  # readers see the complete runs only
        assert len(sim.results.load(out)[0]) == 1
    else:
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2] if damage.endswith("truncated") else b"x" * 64)
        with pytest.raises(InputError, match=rf"{run_id}\.{kind}\.parquet: damaged run file"):
            sim.results.load(out)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert path.exists()
    experiments, outcomes = sim.results.load(out)
    assert len(experiments) == 2 and set(outcomes["run_id"]) == set(experiments["run_id"])
    # recomputed, not copied: the same scenario and seed give the same outcomes
    after = _files(out)
    assert after[f"{run_id}.outcomes.parquet"] == pristine[f"{run_id}.outcomes.parquet"]
