"""The ``quartier`` command: a real run, help texts, and bad input (exit 2, one line)."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from .conftest import SCENARIOS


def quartier(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "sim.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_run_writes_tidy_parquet(tmp_path):
    out = tmp_path / "res"
    small = tmp_path / "small.toml"
    small.write_text(f'extends = "{SCENARIOS / "baseline.toml"}"\nname = "small"\n'
                     "[city]\nhouseholds = 1500\n", encoding="utf-8")
    proc = quartier("run", small, "--years", 3, "--seed", 4, "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert "Einwohner" in proc.stdout
    outcomes = pd.read_parquet(out / "outcomes.parquet")
    experiments = pd.read_parquet(out / "experiments.parquet")
    assert list(outcomes.columns) == ["run_id", "year", "scope", "metric", "value"]
    assert sorted(outcomes["year"].unique()) == [2023, 2024, 2025, 2026]
    row = experiments.iloc[0]
    assert row["run_id"] == outcomes["run_id"].iloc[0]
    assert row["seed"] == 4 and row["scenario"] == "small" and len(row["scenario_hash"]) == 64
    assert row["years"] == 3 and row["code_version"]
    assert not list(out.glob("*.tmp"))


def test_help_texts():
    top = quartier("--help")
    assert top.returncode == 0 and "run" in top.stdout and "scenario" in top.stdout
    run = quartier("run", "--help")
    assert run.returncode == 0
    for option in ("--years", "--seed", "--out"):
        assert option in run.stdout


def test_scenario_command_prints_resolved(tmp_path):
    proc = quartier("scenario", SCENARIOS / "baseline.toml")
    assert proc.returncode == 0, proc.stderr
    assert "total_fertility_rate" in proc.stdout and "content hash" in proc.stdout


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('name = "x"\n[city]\nhouseholds = -3\n', "city.households"),
        ('name = "x"\n[citty]\nhouseholds = 3\n', "citty: unknown key"),
        ('name = "x\n', "not valid TOML"),
        ('extends = "bad.toml"\n', "extends: cycle"),
    ],
)
def test_bad_input_exit_2_one_line_nothing_written(tmp_path, text, needle):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    earlier = out / "outcomes.parquet"
    earlier.write_bytes(b"earlier result")
    proc = quartier("run", path, "--out", out)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0] and "bad.toml" in lines[0]
    assert earlier.read_bytes() == b"earlier result"
    assert sorted(p.name for p in out.iterdir()) == ["outcomes.parquet"]


def test_missing_scenario_file(tmp_path):
    proc = quartier("run", tmp_path / "none.toml", "--out", tmp_path / "o")
    assert proc.returncode == 2
    assert "none.toml: file not found" in proc.stderr
    assert not (tmp_path / "o").exists()


def test_broken_zensus_csv(tmp_path):
    csv = tmp_path / "grid.csv"
    csv.write_text("GITTER_ID_100m;x_mp_100m;y_mp_100m;Einwohner\n"
                   "CRS3035RES100mN2689100E4337000;4337050;2689150;abc\n", encoding="utf-8")
    sc = tmp_path / "z.toml"
    sc.write_text(f'extends = "{SCENARIOS / "baseline.toml"}"\n'
                  '[city]\nkind = "zensus"\nzensus_file = "grid.csv"\n', encoding="utf-8")
    proc = quartier("run", sc, "--out", tmp_path / "o")
    assert proc.returncode == 2
    assert "grid.csv" in proc.stderr and "Einwohner" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "o").exists()


def test_out_is_a_file(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    proc = quartier("run", SCENARIOS / "baseline.toml", "--out", target)
    assert proc.returncode == 2 and "--out" in proc.stderr
