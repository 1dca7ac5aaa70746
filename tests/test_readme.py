"""The README's researcher script and sweep example run as printed."""

from __future__ import annotations

import contextlib
import io
import os
import re

import pytest

from .conftest import ROOT


@pytest.mark.slow
def test_researcher_script_runs():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## A researcher's script", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    buffer = io.StringIO()
    cwd = os.getcwd()
    try:
        os.chdir(ROOT)
        with contextlib.redirect_stdout(buffer):
            exec(compile(code, "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
    printed = buffer.getvalue()
    assert "mean" in printed and "1.6" in printed


def _python_block(heading: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(heading, 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.mark.slow
def test_sweep_example_runs(tmp_path):
    """The README's sweep example, run in a scratch folder that sees the scenarios."""
    code = _python_block("## Research sweeps")
    assert "sim.sweep(" in code and len(code.strip().splitlines()) <= 15
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios", target_is_directory=True)
    buffer = io.StringIO()
    cwd = os.getcwd()
    try:
        os.chdir(tmp_path)
        with contextlib.redirect_stdout(buffer):
            exec(compile(code, "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
    printed = buffer.getvalue()
    assert "parameters.migration.in_migration_rate" in printed and "value" in printed
    from sim.experiments.results import load

    experiments, _ = load(tmp_path / "results" / "sweep_lhs")
    assert len(experiments) == 16


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    return {_slug(m) for m in re.findall(r"^#+ (.+)$", text, re.M)}


def test_readme_is_short_with_a_table_of_contents():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 400
    contents = text.split("## Contents", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"\]\(#([^)]+)\)", contents))
    sections = {_slug(h) for h in re.findall(r"^## (.+)$", text, re.M)}
    sections -= {"contents", "citation-and-licence"}
    assert sections == listed


def test_ci_runs_the_readme_test_command():
    """`.ci/run` runs what the README tells a newcomer to run (it only adds pip's -q)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("**Set up and run the tests**", 1)[1]
    command = re.search(r"```bash\n(.*?)\n```", section, re.S).group(1).strip()
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines()
          if line.startswith("python3 -m venv")]
    assert [line.replace("pip install -q ", "pip install ") for line in ci] == [command]


def test_links_between_documents_resolve():
    """Relative links in the README and docs/ point at files that exist, and at headings
    that exist in them (the sections moved from the README to docs/)."""
    broken = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue
            file, _, anchor = target.partition("#")
            linked = (path.parent / file).resolve() if file else path
            if not linked.exists():
                broken.append(f"{path.name}: {target} (no such file)")
            elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
                broken.append(f"{path.name}: {target} (no such heading)")
    assert not broken, "\n".join(broken)
