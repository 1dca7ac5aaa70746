"""Writes that fail: a full disk, a read-only file system, no permission, a file in the way.
Each command answers with one line naming the path (exit status 2; 1 when runs themselves
failed, as documented), leaves no partial or temporary files and does not change earlier
results. Faults are simulated in a subprocess (tests/fault_helpers.py), since ``chmod`` does not
deny root."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import SCENARIOS

HELPER = Path(__file__).with_name("fault_helpers.py")


def quartier(*args, fault: tuple[str, Path] | None = None, cwd=None):
    prefix = [str(HELPER), fault[0], str(fault[1])] if fault else ["-m", "sim.cli"]
    return subprocess.run([sys.executable, *prefix, *map(str, args)], capture_output=True,
                          text=True, timeout=300, cwd=cwd)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def earlier(tmp_path_factory):
    """Scenario files, and an earlier run, comparison and sweep written without faults."""
    root = tmp_path_factory.mktemp("faults")
    for name in ("tiny", "tiny2"):
        (root / f"{name}.toml").write_text(
            f'extends = "{SCENARIOS / "baseline.toml"}"\nname = "{name}"\nyears = 1\n'
            "[city]\nhouseholds = 150\n[outcomes]\ncell_snapshots = false\n", encoding="utf-8")
    (root / "sweep.toml").write_text(
        'base = "tiny.toml"\n[parameters]\n"parameters.mobility.move_rate_young" = [0.2, 0.3]\n',
        encoding="utf-8")
    for args in (("run", "tiny.toml", "--out", "area/run", "-q"),
                 ("compare", "tiny.toml", "tiny2.toml", "-r", "1", "--out", "area/cmp", "-q",
                  "-w", "1"),
                 ("sweep", "sweep.toml", "--out", "area/sweep", "-q", "-w", "1")):
        proc = quartier(*args, cwd=root)
        assert proc.returncode == 0, proc.stderr
    return root


COMMANDS = {
    # command, folder where writes fail, the path the message names
    "run": (("run", "tiny.toml", "--out", "area/run", "--seed", "2", "-q"), "area", "area/run"),
    "compare": (("compare", "tiny.toml", "tiny2.toml", "-r", "2", "--out", "area/cmp", "-q",
                 "-w", "1"), "area/cmp", "area/cmp"),
    "sweep": (("sweep", "sweep.toml", "--out", "area/sweep", "--force", "-q", "-w", "1"),
              "area/sweep", "area/sweep"),
}
FAULTS = {"ENOSPC": "disk is full", "EROFS": "read-only", "EACCES": "permission denied"}


@pytest.mark.parametrize("fault", sorted(FAULTS))
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_failing_write_is_one_line_and_changes_nothing(earlier, command, fault):
    args, area, named = COMMANDS[command]
    before = snapshot(earlier / "area")
    proc = quartier(*args, fault=(fault, earlier / area), cwd=earlier)
    assert proc.returncode == 2, proc.stderr
    line = proc.stderr.strip()
    assert "\n" not in line and "Traceback" not in line, line
    assert line.startswith("error: --out: cannot write") and named in line, line
    assert FAULTS[fault] in line, line
    assert snapshot(earlier / "area") == before
    assert not [p for p in (earlier / "area").rglob("*") if p.name.endswith(".tmp")]


def test_runs_that_fail_to_store_exit_1_and_keep_the_stored_runs(earlier):
    """The disk fills while runs are stored: the runs already stored are kept, the command
    says which run failed and why, in one line, and exits with status 1."""
    args, _, _ = COMMANDS["compare"]
    before = snapshot(earlier / "area" / "cmp" / "runs")
    proc = quartier(*args, fault=("ENOSPC", earlier / "area" / "cmp" / "runs"), cwd=earlier)
    assert proc.returncode == 1, proc.stderr
    line = proc.stderr.strip()
    assert "\n" not in line and "run(s) failed" in line and "No space left" in line, line
    assert snapshot(earlier / "area" / "cmp" / "runs") == before


@pytest.mark.parametrize("command", ["run", "compare", "sweep"])
def test_a_file_in_the_way_of_the_output_folder_is_one_line(earlier, tmp_path, command):
    blocker = tmp_path / "plain-file"
    blocker.write_text("not a folder")
    args = list(COMMANDS[command][0])
    args[args.index("--out") + 1] = str(blocker / "results")
    proc = quartier(*args, cwd=earlier)
    assert proc.returncode == 2, proc.stderr
    line = proc.stderr.strip()
    assert "\n" not in line and "Traceback" not in line and "plain-file" in line, line
    assert blocker.read_text() == "not a folder"
