"""The report's section on what the levers cost and what their effects cost per unit.

It reads ``costs.parquet`` and ``cost_effectiveness.parquet`` of a comparison folder (written
by ``quartier compare``), or computes them from the runs' stored scenarios. See docs/costs.md.
"""

from __future__ import annotations

import pandas as pd

from sim.errors import InputError
from sim.experiments import costs as cm

TEXT = {
    "title": {"de": "Kosten und Kosten-Wirksamkeit", "en": "Costs and cost-effectiveness"},
    "intro": {
        "de": "Öffentliche Kosten der Hebel (nominale EUR, Summe über den Zeitraum, Mittel der "
              "Replikationen) und Mehrkosten je Einheit Wirkung gegenüber der Basis (gepaart "
              "nach Replikation; 95 %-Intervalle). 'keine Wirkung': das Intervall der Wirkung "
              "schließt 0 ein, eine Zahl je Einheit wäre bedeutungslos.",
        "en": "Public cost of the levers (nominal EUR, sum over the horizon, mean of the "
              "replications) and extra cost per unit of effect against the baseline (paired by "
              "replicate; 95 % intervals). 'no effect': the effect's interval includes 0, so a "
              "cost per unit would be meaningless."},
    "costs": {"de": ["Szenario", "Hebel", "Posten", "Jahre", "EUR"],
              "en": ["scenario", "lever", "item", "years", "EUR"]},
    "none": {"de": "Keine Hebel, keine Kosten.", "en": "No levers, no costs."},
    "no_baseline": {"de": "Kosten je Einheit Wirkung gibt es nur für einen Szenariovergleich "
                          "(quartier compare).",
                    "en": "Cost per unit of effect needs a scenario comparison "
                          "(quartier compare)."},
    "units": {"de": "Unit costs, sources and assumptions: docs/costs.md.",
              "en": "Unit costs, sources and assumptions: docs/costs.md."},
}


def _t(key: str, lang: str):
    return TEXT[key]["de" if lang == "de" else "en"]


def cost_tables(results) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """(cost summary by scenario, lever and item; cost-effectiveness or None without a
    baseline) of a result folder."""
    from dashboards.data import inside

    exp, out = results.experiments, results.outcomes
    stored = inside(results.root, cm.COST_FILE)
    rows = pd.read_parquet(stored) if stored.exists() else cm.costs_of_runs(exp, out)
    rows = rows[rows["run_id"].isin(set(exp["run_id"]))]
    summary = cm.cost_summary(rows, exp)
    if not results.baseline or "replicate" not in exp.columns:
        return summary, None
    stored = inside(results.root, cm.COST_EFFECTIVENESS_FILE)
    if stored.exists():
        return summary, pd.read_parquet(stored)
    others = [s for s in results.scenarios if s != results.baseline]
    return summary, cm.cost_effectiveness(exp, out, rows, baseline=results.baseline,
                                          scenarios=others)


def cost_section(results, page) -> None:
    """Add the section "Costs and cost-effectiveness" to a report ``page``."""
    lang = page.lang
    parts = page.section("costs", _t("title", lang))
    try:
        summary, effectiveness = cost_tables(results)
    except (InputError, ValueError, KeyError, OSError) as exc:
        page.note(parts, str(exc))
        return
    page.paragraph(parts, _t("intro", lang))
    if summary.empty:
        page.note(parts, _t("none", lang))
    else:
        shown = pd.DataFrame({
            c: v for c, v in zip(_t("costs", lang), (
                summary["scenario"], summary["lever"], summary["item"],
                summary["first_year"].astype(str) + "-" + summary["last_year"].astype(str),
                summary["eur"].map(cm.euros)), strict=True)})
        page.table(parts, shown)
    if effectiveness is None:
        page.note(parts, _t("no_baseline", lang))
    elif not effectiveness.empty:
        page.table(parts, cm.display_table(effectiveness, lang))
    page.note(parts, _t("units", lang))
