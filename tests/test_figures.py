"""Every simulated figure quoted in README.md and docs/ is what its command gives now.

The figures sit in blocks ``<!-- figure:KEY -->...<!-- /figure -->`` that ``docs/figures.py``
fills. The slow tests rerun the cheap sources (the same commands, scales and seeds) and fail
on any block that differs: then run ``python docs/figures.py`` and commit the documents.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from .conftest import ROOT


def _figures():
    spec = importlib.util.spec_from_file_location("docs_figures", ROOT / "docs" / "figures.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module   # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


figures = _figures()


def test_blocks_are_well_formed():
    """Every block is closed, names a known source, and no block sits inside another."""
    blocks = figures.blocks()
    assert len(blocks) > 50
    for path in figures.DOCS:
        text = path.read_text(encoding="utf-8")
        opened = text.count("<!-- figure:")
        closed = text.count("<!-- /figure -->")
        assert opened == closed, f"{path.name}: {opened} figure blocks opened, {closed} closed"
        for line in text.splitlines():   # a line opening with a comment would not render inline
            assert not (line.lstrip().startswith("<!-- figure:") and "<!-- /figure -->" in line
                        and not line.rstrip().endswith("```")), f"{path.name}: {line[:60]}"
    for path, key, body in blocks:
        assert key.split("/")[0] in figures.SOURCES, f"{path.name}: unknown source in {key}"
        assert "<!-- figure:" not in body, f"{path.name}: a block inside {key}"


def test_recorded_figures_say_when_they_were_measured():
    """Expensive figures carry the revision and date of their measurement and a command."""
    recorded = [(p, k, b) for p, k, b in figures.blocks() if k.startswith("recorded/")]
    assert recorded
    for path, key, body in recorded:
        name = key.split("/", 1)[1]
        assert name in figures.RECORDED, f"{path.name}: {key} has no command in RECORDED"
        assert figures.LABEL.search(body), f"{path.name}: {key} has no revision/date"


def test_every_cheap_key_names_a_real_figure_shape():
    """Keys of the store name a known field or table (typos fail here, not after minutes)."""
    for path, key, _ in figures.blocks():
        source, *args = key.split("/")
        if source in ("store", "essen") and args[0] != "label":
            if args[0] == "table":
                assert args[1] in figures.TABLES, f"{path.name}: {key}"
            else:
                assert args[0] in figures.STORE_FIELDS and len(args) >= 3, f"{path.name}: {key}"
                scenarios = ({"baseline", *figures.MAIN, *figures.LEVERS} if source == "store"
                             else {Path(f).stem for f in figures.ESSEN})
                assert args[1] in scenarios, f"{path.name}: {key}: scenario not in the store"


def _differences(results) -> list[str]:
    return [f"{path.relative_to(ROOT)}: {key}: the document says {body!r}, now {now!r}"
            for path, key, body, now in figures.compare_blocks(results)]


@pytest.mark.slow
def test_quick_figures_match(tmp_path):
    """The CLI sessions, the validation table and the calibration header (about 40 s)."""
    results = figures.measure(["session", "citycheck", "validation", "calibrated"], tmp_path,
                              log=lambda _: None)
    differences = _differences(results)
    assert not differences, "run `python docs/figures.py`:\n" + "\n".join(differences)


@pytest.mark.slow
def test_comparison_figures_match(tmp_path):
    """The paired comparisons: 12 scenarios x 5 replications of 20 years (a few minutes)."""
    results = figures.measure(["store"], tmp_path, log=lambda _: None)
    store = results["store"]
    # the paired statistics here are those `quartier compare` writes (comparison.csv)
    table = store.table
    final = table[(table["scope"] == "city") & (table["year"] == store.final_year)]
    for row in final[final["metric"].isin(["out_migrants", "share_poor"])].itertuples():
        p = store.paired(row.scenario, row.metric)
        assert p["diff"] == pytest.approx(row.difference, abs=1e-9)
        assert p["low"] == pytest.approx(row.ci_low, abs=1e-9)
    differences = _differences(results)
    assert not differences, "run `python docs/figures.py`:\n" + "\n".join(differences)
