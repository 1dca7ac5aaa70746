"""The command line's conventions: the option inventory of every command (one name per
concept, one meaning per short flag), -h and --version everywhere, usage lines without type
names, and result files readable by colleagues (the mode the umask gives)."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from sim.cli import app

from .conftest import SCENARIOS

# Names one concept could go by: at most one of each group may appear in the whole CLI.
SYNONYMS = [
    {"--out", "--output", "--output-dir", "--html", "--report", "--file", "--scenario-out",
     "--dest", "--target"},
    {"--lang", "--language", "--locale"},
    {"--years", "--n-years", "--horizon", "--steps"},
    {"--replications", "--reps", "--repetitions", "--runs"},
    {"--workers", "--jobs", "--processes", "--cores", "--n-jobs"},
    {"--seed", "--random-seed", "--rng-seed"},
    {"--quiet", "--silent"},
    {"--yes", "--confirm", "--assume-yes"},
    {"--households", "--n-households", "--size"},
    {"--metric", "--metrics", "--outcome", "--outcomes"},
]
TYPE_NAME = re.compile(r"<(path|str|int|float|bool|int range|float range|datetime|file|"
                       r"list\[\w+\])>|\{\w+\}")


def commands():
    """(command path, click command) of every command of ``quartier``."""
    found = []

    def walk(command, path):
        subs = getattr(command, "commands", None)
        if subs:
            for name, sub in subs.items():
                walk(sub, [*path, name])
        else:
            found.append((" ".join(path), command))

    walk(typer.main.get_command(app), [])
    return found


def inventory():
    """One row per (command, option): long names, short names, placeholder."""
    rows = []
    for path, command in commands():
        for param in command.params:
            if param.param_type_name != "option" or param.hidden:
                continue
            names = [*param.opts, *param.secondary_opts]
            rows.append((path, tuple(n for n in names if n.startswith("--")),
                         tuple(n for n in names if not n.startswith("--")),
                         "" if param.is_flag else (param.metavar or "")))
    return rows


def test_option_inventory_one_name_per_concept_one_meaning_per_flag():
    rows = inventory()
    print("\nquartier option inventory (command, long, short, value):")
    for path, longs, shorts, metavar in rows:
        print(f"  {path:<12} {', '.join(longs):<22} {', '.join(shorts):<4} {metavar}")
    meaning: dict[str, set[str]] = {}
    short_of: dict[str, set[tuple[str, ...]]] = {}
    for _, longs, shorts, _ in rows:
        assert len(longs) == 1, f"one long name per option: {longs}"
        for short in shorts:
            meaning.setdefault(short, set()).add(longs[0])
        short_of.setdefault(longs[0], set()).add(shorts)
    two_meanings = {s: sorted(m) for s, m in meaning.items() if len(m) > 1}
    assert not two_meanings, f"short flags with two meanings: {two_meanings}"
    inconsistent = {n: sorted(s) for n, s in short_of.items() if len(s) > 1}
    assert not inconsistent, f"options with a short flag in one command only: {inconsistent}"
    used = set(short_of)
    for group in SYNONYMS:
        assert len(group & used) <= 1, f"one concept under two names: {sorted(group & used)}"
    assert len(rows) > 60 and {"--out", "--lang", "--years", "--full"} <= used


@pytest.mark.parametrize("path", [path for path, _ in commands()])
def test_every_command_has_h_and_plain_usage(path):
    result = CliRunner().invoke(app, [*path.split(), "-h"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: quartier {path}")
    assert "-h, --help" in result.output
    usage, _, rest = result.output.partition("\n")
    rows = [line for line in rest.splitlines() if line.startswith("  -")
            or (line.startswith("  ") and line[2:3].isupper())]
    for line in [usage, *rows]:
        assert not TYPE_NAME.search(line), line


def test_version_and_top_level_h():
    from sim.version import __version__

    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output
    assert result.output.startswith("quartier (QuartierSim) ")
    top = CliRunner().invoke(app, ["-h"])
    assert top.exit_code == 0 and "--version" in top.output and "compare" in top.output


def test_result_files_have_the_mode_the_umask_gives(tmp_path):
    small = tmp_path / "small.toml"
    small.write_text(f'extends = "{(SCENARIOS / "baseline.toml").as_posix()}"\n'
                     'name = "small"\nyears = 1\n[city]\nhouseholds = 300\n', encoding="utf-8")
    policy = tmp_path / "policy.toml"
    policy.write_text(f'extends = "{(SCENARIOS / "rent_mix_quota_30.toml").as_posix()}"\n'
                      'name = "policy"\nyears = 1\n[city]\nhouseholds = 300\n',
                      encoding="utf-8")
    out = tmp_path / "results"
    for args in (["run", small, "--out", out / "run", "-q"],
                 ["compare", small, policy, "-r", 2, "-w", 1, "--out", out / "compare", "-q"]):
        proc = subprocess.run([sys.executable, "-m", "sim.cli", *map(str, args)],
                              capture_output=True, text=True, timeout=300,
                              preexec_fn=lambda: os.umask(0o022))
        assert proc.returncode == 0, proc.stderr
    modes = {str(p.relative_to(out)): stat.S_IMODE(p.stat().st_mode) for p in out.rglob("*")}
    files = {p: m for p, m in modes.items() if (out / p).is_file()}
    assert len(files) >= 10 and "compare/comparison.csv" in files
    assert all(m == 0o644 for m in files.values()), files
    assert all(m == 0o755 for p, m in modes.items() if p not in files), modes


def test_a_private_temporary_file_is_shared_when_it_takes_its_place(tmp_path):
    from sim.experiments.files import write_atomic

    old = os.umask(0o022)
    try:
        def private(tmp: str) -> None:  # as a writer using mkstemp would leave it
            Path(tmp).write_text("x")
            os.chmod(tmp, 0o600)

        path = write_atomic(tmp_path / "table.csv", private)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
