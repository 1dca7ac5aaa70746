"""The offline HTML report of a result folder (``quartier report``).

One self-contained file: plotly.js is embedded once in the head, every figure is a div that
uses it, so the report opens in any browser without a network. Sections follow the planners'
questions: who leaves and why, segregation, access to care and doctors, housing costs, and the
comparison; a short summary lists the largest significant differences.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from dashboards import figures as fg
from dashboards.costs import cost_section
from dashboards.data import Results, load_results
from dashboards.geography import (
    add_geography,
    add_outlines,
    facility_traces,
    north_up,
    run_facilities,
)
from dashboards.labels import cause_label, metric_label, text
from sim.experiments.comparison import cause_breakdown
from sim.experiments.gis import map_geography

MAX_SCENARIOS = 8
"""Scenarios shown in one figure (sweeps may have many design points)."""
CARE_PATTERN = re.compile(r"(doctor|gp_|mvz|care|nursing|health|access|2sfca|pflege)")
HOUSING_METRICS = ("mean_rent_burden", "share_rent_burden_over_30", "share_rent_burden_over_40",
                   "mean_rent_m2", "social_housing_share", "vacancy_rate")
COST_METRICS = ("commuting_cost_share", "share_walk_only", "no_car_share")
"""Costs of getting about, next to the housing costs (the job cause of leaving)."""
LEAVING_METRICS = ("out_migrants", "out_migration_rate", "out_migrants_poor",
                   "out_migrants_migration_background", "out_migrants_65plus",
                   "out_migrants_families")
CARE_METRICS = ("care_dependency_share", "share_cared_at_home", "unmet_care",
                "nursing_home_residents", "share_65plus_gp_within_reach",
                "share_gp_within_reach", "gp_access_65plus", "gp_doctors")
"""The care and doctors section, in this order (others matching CARE_PATTERN follow)."""
CARE_SERIES = ("care_dependency_share", "share_cared_at_home", "unmet_care",
               "share_65plus_gp_within_reach", "gp_access_65plus")
CARE_EXTRA = ("care_dependent", "school_dissimilarity_income", "commuting_cost_share")
"""Matched by CARE_PATTERN or shown elsewhere, but not in the care section's whiskers."""
SERVICE_CAUSES = ("health", "care", "school", "commuting")
SEGREGATION_SERIES = ("dissimilarity_income_quartiers", "dissimilarity_income_cells",
                      "morans_i_income")

KEY_METRICS = ("out_migrants", "out_migrants_poor", "dissimilarity_income_quartiers",
               "unmet_care", "share_cared_at_home", "gp_access_65plus",
               "share_65plus_gp_within_reach", "mean_rent_burden")
"""Covered for every scenario, significant or not: out-migration in total and of the poor,
segregation, care, GP access and rent burden."""
QUARTIER_MAPS = {"leaving": ("out_migrants",), "segregation": ("share_poor",),
                 "care": ("gp_access_65plus",),
                 "housing": ("mean_rent_burden", "social_housing_share")}
"""Quartier-level difference maps per section (metrics of the comparison's quartier rows)."""
MAX_SENTENCES = 4
"""Significant differences told in a scenario's opening paragraph."""


def scenario_descriptions(results: Results) -> dict[str, str]:
    """Each scenario's ``description`` as its runs stored it ("" when none)."""
    out: dict[str, str] = {}
    exp = results.experiments
    for name in results.scenarios:
        rows = exp[exp["scenario"] == name]
        text_ = ""
        if "parameters" in rows and len(rows):
            try:
                text_ = str(json.loads(rows["parameters"].iloc[0]).get("description") or "")
            except (TypeError, ValueError):
                text_ = ""
        out[name] = text_.strip()
    return out


def _sentence(row, lang: str) -> str:
    """One significant paired difference as a sentence."""
    m = row.metric
    up = row.difference > 0
    verb = ("steigt" if up else "sinkt") if lang == "de" else ("rises" if up else "falls")
    word = ("bis", "von", "auf", "95 %-KI") if lang == "de" else ("to", "from", "to", "95 % CI")
    ci = (f"{fg.format_difference(m, row.ci_low, lang)} {word[0]} "
          f"{fg.format_difference(m, row.ci_high, lang)}")
    return (f"{metric_label(m, lang)} {verb} {word[1]} "
            f"{fg.format_value(m, row.baseline_mean, lang)} {word[2]} "
            f"{fg.format_value(m, row.scenario_mean, lang)} "
            f"({fg.format_difference(m, row.difference, lang)}, {word[3]} {ci}).")


def scenario_paragraph(results: Results, scenario: str, lang: str = "de",
                       description: str | None = None) -> str:
    """A scenario's opening paragraph: its description, then what it changed (citywide, last
    year), in sentences built from the significant paired differences (the largest first),
    and which of the key outcomes it did not change significantly."""
    de = lang == "de"
    if description is None:
        description = scenario_descriptions(results).get(scenario, "")
    head = description or ("(ohne Beschreibung)" if de else "(no description)")
    if not head.endswith("."):
        head += "."
    if scenario == results.baseline:
        reps = (int(results.comparison["replications"].max())
                if results.comparison is not None and "replications" in results.comparison
                else None)
        tail = (f" Die Basis: Alle anderen Szenarien werden mit ihr verglichen"
                f"{f', in {reps} gepaarten Wiederholungen' if reps else ''}." if de else
                f" The baseline: every other scenario is compared with it"
                f"{f', in {reps} paired replications' if reps else ''}.")
        return head + tail
    if results.comparison is None:
        return head
    rows = fg.comparison_rows(results.comparison)
    rows = rows[rows["scenario"] == scenario]
    year = int(rows["year"].max()) if len(rows) else None
    sig = rows[rows["significant"].astype(bool) & rows["relative"].notna()
               & ~rows["metric"].str.startswith(fg.CAUSE_PREFIX)]
    key = sig[sig["metric"].isin(KEY_METRICS)]
    rest = sig[~sig["metric"].isin(KEY_METRICS)]
    rest = rest.assign(size=rest["relative"].abs()).sort_values("size", ascending=False)
    chosen = pd.concat([key.assign(size=key["relative"].abs()).sort_values(
        "size", ascending=False), rest]).head(MAX_SENTENCES)
    if chosen.empty:
        body = (f" Bis {year} ändert es keine Kennzahl der Gesamtstadt signifikant "
                "(jedes 95 %-Intervall schließt 0 ein)." if de else
                f" By {year} it changes no citywide outcome significantly (every 95 % "
                "interval includes 0).")
    else:
        body = (f" Bis {year} gegenüber der Basis: " if de else
                f" By {year}, against the baseline: ") + " ".join(
            _sentence(r, lang) for r in chosen.itertuples(index=False))
    unchanged = [metric_label(m, lang) for m in KEY_METRICS
                 if m in set(rows["metric"]) and m not in set(sig["metric"])]
    if unchanged:
        body += (" Nicht signifikant verändert: " if de else " Not changed significantly: ") \
            + "; ".join(unchanged) + "."
    return head + body


def key_table(results: Results, lang: str = "de") -> pd.DataFrame:
    """The key outcomes (:data:`KEY_METRICS`) of every scenario against the baseline
    (citywide, last year), whether significant or not, formatted for the report."""
    if results.comparison is None:
        return pd.DataFrame()
    rows = fg.comparison_rows(results.comparison, metrics=KEY_METRICS)
    if rows.empty:
        return pd.DataFrame()
    rank = {m: i for i, m in enumerate(KEY_METRICS)}
    order = {s: i for i, s in enumerate(results.scenarios)}
    rows = rows.assign(_m=rows["metric"].map(rank), _s=rows["scenario"].map(order)
                       ).sort_values(["_s", "_m"])
    yes, no = ("ja", "nein") if lang == "de" else ("yes", "no")
    table = pd.DataFrame({
        text("scenario", lang): rows["scenario"].to_numpy(),
        text("metric", lang): [metric_label(m, lang) for m in rows["metric"]],
        text("baseline", lang): [fg.format_value(m, v, lang)
                                 for m, v in zip(rows["metric"], rows["baseline_mean"],
                                                 strict=True)],
        f"{text('scenario', lang)} ": [fg.format_value(m, v, lang)
                                       for m, v in zip(rows["metric"], rows["scenario_mean"],
                                                       strict=True)],
        text("difference", lang): [fg.format_difference(m, v, lang)
                                   for m, v in zip(rows["metric"], rows["difference"],
                                                   strict=True)],
        text("ci", lang): [f"[{fg.format_difference(m, lo, lang)}, "
                           f"{fg.format_difference(m, hi, lang)}]"
                           for m, lo, hi in zip(rows["metric"], rows["ci_low"],
                                                rows["ci_high"], strict=True)],
        text("significant", lang): [yes if s else no for s in rows["significant"]],
    })
    if fg.with_draws(rows):
        table.insert(6, "Anteil Param." if lang == "de" else "Param. share",
                     fg.share_cells(rows, lang))
    return table


def money_note(results: Results, lang: str = "de") -> str:
    """Money is nominal: the note names the yearly growth rates the baseline used."""
    exp = results.experiments
    name = results.baseline or results.scenarios[0]
    rows = exp[exp["scenario"] == name]
    try:
        p = json.loads(rows["parameters"].iloc[0])["parameters"]
        rates = {"income": p["income"]["income_growth"],
                 "market": p["housing"]["market_rent_growth"],
                 "mietspiegel": p["housing"]["mietspiegel_growth"],
                 "social": p["housing"]["social_rent_growth"]}
    except (KeyError, IndexError, TypeError, ValueError):
        return text("money_nominal", lang)

    def pct(v: float) -> str:
        return fg.localise(f"{100 * v:+.2f}", lang) + " %"

    if lang == "de":
        rates_text = (f"Einkommen {pct(rates['income'])}, Angebotsmieten "
                      f"{pct(rates['market'])}, Mietspiegel {pct(rates['mietspiegel'])}, "
                      f"gebundene Mieten {pct(rates['social'])} je Jahr")
    else:
        rates_text = (f"incomes {pct(rates['income'])}, re-letting rents "
                      f"{pct(rates['market'])}, local comparable rent "
                      f"{pct(rates['mietspiegel'])}, bound rents {pct(rates['social'])} a year")
    return f"{text('money_nominal', lang)} ({rates_text}, {name})."


def report_grid(results: Results) -> pd.DataFrame | None:
    """The cells of the city's quartiers (col, row, quartier): built from the baseline's
    stored scenario (every cell, inhabited or not), else from the cell snapshots; None when
    neither is possible."""
    exp = results.experiments
    rows = exp[exp["scenario"] == (results.baseline or results.scenarios[0])]
    try:
        from sim.experiments.runner import city_cells
        from sim.scenario import Scenario

        scenario = Scenario.model_validate(json.loads(rows["parameters"].iloc[0]))
        grid = city_cells(scenario)
        grid["quartier"] = grid["quartier"].astype(str)
        return grid
    except Exception:  # noqa: BLE001  (another code version, moved files: the snapshots)
        if results.cells is not None and not results.cells.empty:
            return results.cells.drop_duplicates(["col", "row"])[["col", "row", "quartier"]]
        return None


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:0;
color:#222;background:#fafafa}
header{background:#1f4e79;color:#fff;padding:18px 32px}
header h1{margin:0 0 4px 0;font-size:26px} header p{margin:2px 0;opacity:.9}
main{max-width:1200px;margin:0 auto;padding:8px 24px 48px}
section{background:#fff;border:1px solid #e3e3e3;border-radius:6px;margin:18px 0;
padding:8px 18px 18px}
h2{color:#1f4e79;border-bottom:2px solid #e3e3e3;padding-bottom:6px}
.note{background:#fff8e1;border-left:4px solid #e39d2d;padding:8px 12px;margin:10px 0}
.summary li{margin:4px 0} .figure{margin:10px 0}
.scenario{margin:10px 0} .scenario .swatch{display:inline-block;width:12px;height:12px;
border-radius:2px;margin-right:6px;vertical-align:baseline}
h3{color:#1f4e79;font-size:17px;margin:18px 0 4px}
nav a{margin-right:14px;color:#1f4e79} small{color:#666}
table.data{border-collapse:collapse;font-size:14px}
table.data th,table.data td{padding:4px 10px;border-bottom:1px solid #e3e3e3;text-align:right}
table.data th:first-child,table.data td:first-child{text-align:left}
"""


def _significant(results: Results, n: int = 6) -> pd.DataFrame:
    """The largest significant citywide differences in the final year, by size relative to
    the baseline (metrics whose baseline is 0, e.g. bindings bought by a lever, are left
    out: they have no relative size)."""
    if results.comparison is None or results.comparison.empty:
        return pd.DataFrame()
    rows = fg.comparison_rows(results.comparison)
    rows = rows[rows["significant"] & rows["relative"].notna()]
    rows = rows.assign(size=rows["relative"].abs()).sort_values("size", ascending=False)
    return rows.head(n)


def cause_table(comparison: pd.DataFrame, lang: str = "de") -> pd.DataFrame:
    """Each scenario's effect on all out-migrants, then on each cause and their sum
    (citywide, final year), formatted for the report; empty without causes."""
    rows = cause_breakdown(comparison)
    if rows.empty:
        return pd.DataFrame()
    labels = {"total": text("total_out", lang), "sum of causes": text("sum_of_causes", lang)}
    out = pd.DataFrame({
        text("scenario", lang): rows["scenario"],
        text("cause", lang): [
            labels.get(r, f"{text('of_which', lang)}: "
                          f"{cause_label(m.removeprefix(fg.CAUSE_PREFIX), lang)}")
            for r, m in zip(rows["row"], rows["metric"], strict=True)],
    })
    size = rows["baseline_mean"].abs().max()
    decimals = 0 if size >= 1000 else 1 if size >= 10 else 2  # one format for the whole table

    def persons(value: float, sign: str = "") -> str:
        return "" if pd.isna(value) else fg.localise(f"{value:{sign},.{decimals}f}", lang)

    for key, column in (("baseline", "baseline_mean"), ("scenario", "scenario_mean")):
        out[f"{text(key, lang)} "] = [persons(v) for v in rows[column]]
    out[text("difference", lang)] = [persons(v, "+") for v in rows["difference"]]
    out[text("ci", lang)] = ["" if pd.isna(lo) else f"[{persons(lo, '+')}, {persons(hi, '+')}]"
                             for lo, hi in zip(rows["ci_low"], rows["ci_high"], strict=True)]
    out["*"] = ["*" if s else "" for s in rows["significant"]]
    return out


def summary_sentences(results: Results, lang: str = "de", n: int = 6) -> list[str]:
    """The summary: the largest significant differences (or what the folder holds)."""
    de = lang == "de"
    runs = len(results.experiments)
    years = results.years
    if results.comparison is None or results.baseline is None:
        if results.kind == "sweep":
            first = (f"Parameterstudie mit {len(results.scenarios)} Entwurfspunkten und {runs} "
                     f"Läufen, {years[0]}–{years[-1]}." if de else
                     f"Sweep of {len(results.scenarios)} design points and {runs} runs, "
                     f"{years[0]}–{years[-1]}.")
        else:
            first = (f"{runs} Lauf/Läufe von {', '.join(results.scenarios)}, "
                     f"{years[0]}–{years[-1]}." if de else
                     f"{runs} run(s) of {', '.join(results.scenarios)}, {years[0]}–{years[-1]}.")
        return [first, text("no_comparison", lang)]
    table = results.comparison
    year = int(table["year"].max())
    reps = int(table["replications"].max()) if "replications" in table else None
    head = (f"Vergleich von {len(results.scenarios) - 1} Szenario(s) mit der Basis "
            f"„{results.baseline}“, {reps} gepaarte Wiederholungen je Szenario, Gesamtstadt "
            f"{year}. Die größten signifikanten Unterschiede (95 %-KI schließt 0 aus):"
            if de else
            f"Comparison of {len(results.scenarios) - 1} scenario(s) with the baseline "
            f"'{results.baseline}', {reps} paired replications each, whole city, {year}. The "
            "largest significant differences (95 % CI excludes 0):")
    rows = _significant(results, n)
    out = [head]
    if rows.empty:
        out.append("Keine: jedes 95 %-Intervall schließt 0 ein." if de else
                   "None: every 95 % interval includes 0.")
        return out
    totals = cause_breakdown(table)
    totals = totals[totals["row"] == "total"].set_index("scenario")
    for r in rows.itertuples(index=False):
        m = r.metric
        ci = (f"[{fg.format_difference(m, r.ci_low, lang)}, "
              f"{fg.format_difference(m, r.ci_high, lang)}]")
        sentence = (
            f"{r.scenario}: {metric_label(m, lang)} {fg.format_value(m, r.baseline_mean, lang)}"
            f" → {fg.format_value(m, r.scenario_mean, lang)} "
            f"({fg.format_difference(m, r.difference, lang)}, {text('ci', lang)} {ci})")
        if m.startswith(fg.CAUSE_PREFIX) and r.scenario in totals.index:
            total = totals.loc[r.scenario]
            sentence += (f"; {text('part_of_total', lang)}: {text('total_out', lang)} "
                         f"{fg.format_difference('out_migrants', total['difference'], lang)} "
                         f"[{fg.format_difference('out_migrants', total['ci_low'], lang)}, "
                         f"{fg.format_difference('out_migrants', total['ci_high'], lang)}]")
        out.append(sentence)
    return out


class Page:
    """Collects sections of figures, tables and notes for a standalone HTML page
    (:func:`render_page`); the report, validation and sensitivity pages use it."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.sections: list[tuple[str, str, list[str]]] = []
        self.count = 0

    def section(self, key: str, title: str) -> list[str]:
        parts: list[str] = []
        self.sections.append((key, title, parts))
        return parts

    def figure(self, parts: list[str], build: Callable[[], go.Figure],
               missing: str | None = None) -> None:
        try:
            fig = build()
        except ValueError as exc:
            parts.append(f'<p class="note">{html.escape(missing or str(exc))}</p>')
            return
        self.count += 1
        fig = fg.localised(fig, self.lang)
        fig.update_layout(autosize=True)
        parts.append('<div class="figure">' + pio.to_html(
            fig, full_html=False, include_plotlyjs=False, auto_play=False,
            div_id=f"fig-{self.count}", default_width="100%",
            config={"displaylogo": False, "responsive": True}) + "</div>")

    def note(self, parts: list[str], message: str) -> None:
        parts.append(f'<p class="note">{html.escape(message)}</p>')

    def paragraph(self, parts: list[str], message: str) -> None:
        parts.append(f"<p>{html.escape(message)}</p>")

    def heading(self, parts: list[str], title: str) -> None:
        parts.append(f"<h3>{html.escape(title)}</h3>")

    def scenario(self, parts: list[str], name: str, color: str, message: str) -> None:
        """A scenario's paragraph, led by its name in its colour (as in every figure)."""
        parts.append(f'<p class="scenario"><span class="swatch" style="background:{color}">'
                     f"</span><b>{html.escape(name)}</b>: {html.escape(message)}</p>")

    def table(self, parts: list[str], table: pd.DataFrame) -> None:
        """A plain HTML table of a data frame (values as given; format them first)."""
        parts.append('<div class="figure">' + table.to_html(
            index=False, border=0, classes="data", escape=True, na_rep="–") + "</div>")


def build_report(results: Results, lang: str = "de") -> str:
    """The report as one HTML string (plotly.js embedded once).

    Sections (:class:`Page`), in order: the scenarios and their key outcomes, who leaves and
    why, segregation, care and doctors, housing costs, the comparison. A further section is
    one call on ``page`` before :func:`_render`.
    """
    from plotly.offline import get_plotlyjs

    page = Page(lang)
    out, exp = results.outcomes, results.experiments
    shown = results.scenarios[:MAX_SCENARIOS]
    metrics = set(results.metrics)
    baseline = results.baseline or results.scenarios[0]
    base_runs = set(results.runs_of(baseline))
    cells = results.cells
    base_cells = cells[cells["run_id"].isin(base_runs)] if cells is not None else None
    geography = map_geography(exp)  # Stadtteil polygons of a city built from files, or None
    grid = report_grid(results)
    others = [s for s in shown if s != baseline] if results.baseline else []
    colors = fg.scenario_colors(results.scenarios)
    whisker_colors = {s: c for s, c in colors.items() if s != baseline}

    def facilities(scenario: str) -> pd.DataFrame | None:
        return run_facilities(exp, results.runs_of(scenario))

    def decorate(fig: go.Figure, scenario: str) -> go.Figure:
        return add_geography(fig, geography, lang, facilities(scenario), grid)

    def series(parts: list[str], metric: str, scope: str = "city") -> None:
        if metric in metrics:
            page.figure(parts, lambda: fg.time_series_bands(out, exp, metric, scope=scope,
                                                            scenarios=shown, lang=lang,
                                                            colors=colors))

    def whiskers(parts: list[str], names) -> None:
        if results.comparison is not None:
            names = [m for m in names if m in metrics]
            if names:
                page.figure(parts, lambda: fg.comparison_whiskers(
                    results.comparison, metrics=names, lang=lang, colors=whisker_colors))

    def quartier_maps(parts: list[str], key: str) -> None:
        """Quartier-level difference maps of the section's metrics, one per scenario."""
        if results.comparison is None or grid is None or not others:
            return
        for metric in QUARTIER_MAPS[key]:
            if metric not in metrics:
                continue
            for s in others:
                page.figure(parts, lambda s=s, metric=metric: _quartier_map(
                    results.comparison, grid, s, metric, baseline, geography,
                    facilities(s), lang))

    # the scenarios: one paragraph each, then the key outcomes of every scenario
    parts = page.section("scenarios", text("scenarios_section", lang))
    descriptions = scenario_descriptions(results)
    for s in shown:
        page.scenario(parts, s, colors[s], scenario_paragraph(results, s, lang,
                                                               descriptions.get(s)))
    keys = key_table(results, lang)
    if not keys.empty:
        page.heading(parts, text("key_outcomes", lang))
        page.table(parts, keys)
        page.note(parts, fg.interval_note(results.comparison, lang))
    page.note(parts, money_note(results, lang))

    # who leaves and why
    parts = page.section("leaving", text("who_leaves", lang))
    page.figure(parts, lambda: fg.out_migration_by_cause(out, exp, scenarios=shown, lang=lang))
    if results.comparison is not None:
        causes = cause_table(results.comparison, lang)
        if not causes.empty:
            page.paragraph(parts, text("total_and_causes", lang))
            page.table(parts, causes)
            page.note(parts, text("causes_note", lang))
    whiskers(parts, [*LEAVING_METRICS, *(m for m in sorted(metrics)
                                         if m.startswith(fg.CAUSE_PREFIX))])
    for m in ("out_migrants", "out_migrants_poor"):
        series(parts, m)
    quartier_maps(parts, "leaving")
    scopes = ["city", *results.quartiers]
    page.figure(parts, lambda: fg.population_pyramids(
        out[out["run_id"].isin(base_runs)], scopes, lang=lang), text("no_pyramid", lang))

    # segregation
    parts = page.section("segregation", text("segregation", lang))
    for unit in ("quartiers", "cells"):
        page.figure(parts, lambda unit=unit: fg.segregation_indices(
            out, exp, unit=unit, scenarios=shown, lang=lang, colors=colors))
    series(parts, "dissimilarity_income_quartiers")
    series(parts, "school_dissimilarity_income")
    quartier_maps(parts, "segregation")
    if base_cells is not None:
        page.figure(parts, lambda: decorate(fg.cell_map(
            base_cells, "share_poor", lang=lang,
            title=f"{fg.cell_variable_label('share_poor', lang)} – {baseline}"), baseline))
        if others:
            page.heading(parts, text("cell_view", lang))
            page.note(parts, text("cell_view_note", lang))
        for s in others:
            page.figure(parts, lambda s=s: decorate(fg.difference_map(
                cells, exp, baseline=baseline, scenario=s, variable="share_poor", lang=lang,
                smooth=1), s))
    else:
        page.note(parts, text("no_cells", lang))

    # access to care and doctors
    parts = page.section("care", text("care", lang))
    care = [m for m in CARE_METRICS if m in metrics]
    care += [m for m in results.metrics if CARE_PATTERN.search(m) and m not in care
             and m not in CARE_EXTRA and not m.startswith(fg.CAUSE_PREFIX)]
    if not care:
        page.note(parts, text("no_care_metrics", lang))
    else:
        whiskers(parts, care)
        for m in CARE_SERIES:
            series(parts, m)
        quartier_maps(parts, "care")
        causes = [f"{fg.CAUSE_PREFIX}{c}" for c in SERVICE_CAUSES]
        if any(m in metrics for m in causes):
            page.figure(parts, lambda: fg.out_migration_by_cause(
                out[out["metric"].isin(causes)], exp, scenarios=shown, lang=lang)
                .update_layout(title=text("care_causes", lang)))
            whiskers(parts, causes)
        if geography is None and facilities(baseline) is None:
            page.note(parts, text("no_facilities", lang))

    # housing costs
    parts = page.section("housing", text("housing", lang))
    page.note(parts, money_note(results, lang))
    whiskers(parts, [*HOUSING_METRICS, *COST_METRICS])
    for m in ("mean_rent_burden", "share_rent_burden_over_30", "social_housing_share",
              "commuting_cost_share"):
        series(parts, m)
    quartier_maps(parts, "housing")
    if base_cells is not None:
        page.figure(parts, lambda: decorate(fg.cell_map(
            base_cells, "mean_rent_m2", lang=lang,
            title=f"{fg.cell_variable_label('mean_rent_m2', lang)} – {baseline}"), baseline))

    cost_section(results, page)  # dashboards/costs.py

    # the comparison
    parts = page.section("comparison", text("comparison", lang))
    if results.comparison is not None:
        page.figure(parts, lambda: fg.comparison_whiskers(results.comparison, lang=lang,
                                                          colors=whisker_colors))
        page.figure(parts, lambda: fg.comparison_table(results.comparison, lang=lang))
        page.note(parts, fg.interval_note(results.comparison, lang))
    else:
        page.note(parts, text("no_comparison", lang))
    if len(results.scenarios) > MAX_SCENARIOS:
        page.note(parts, (f"Gezeigt: die ersten {MAX_SCENARIOS} von {len(results.scenarios)} "
                          "Szenarien." if lang == "de" else
                          f"Shown: the first {MAX_SCENARIOS} of {len(results.scenarios)} "
                          "scenarios."))
    return _render(results, page, summary_sentences(results, lang), get_plotlyjs())


def _quartier_map(comparison: pd.DataFrame, grid: pd.DataFrame, scenario: str, metric: str,
                  baseline: str, geography: dict | None, facilities: pd.DataFrame | None,
                  lang: str) -> go.Figure:
    """A quartier difference map with the city's outlines (Stadtteil polygons of a city built
    from files, drawn north up) and the scenario's facilities."""
    fig = fg.quartier_difference_map(comparison, grid, scenario=scenario, metric=metric,
                                     baseline=baseline, lang=lang)
    if geography is not None:  # the Stadtteil polygons and names instead of the grid's
        fig.data = tuple(t for t in fig.data if t.name != "Quartiere")
        add_outlines(fig, None, geography)
        labels = geography["labels"].assign(
            quartier_id=geography["labels"]["quartier_id"].astype(str)).set_index("quartier_id")
        for note in fig.layout.annotations:
            qid, _, rest = note.text.partition("<br>")
            if qid in labels.index:
                note.update(text=f"{labels.loc[qid, 'name']}<br>{rest}" if rest else
                            str(labels.loc[qid, "name"]),
                            x=float(labels.loc[qid, "col"]), y=float(labels.loc[qid, "row"]))
        for trace in facility_traces(geography["facilities"], lang):
            fig.add_trace(trace)
        return north_up(fig)
    for trace in facility_traces(facilities, lang):
        fig.add_trace(trace)
    return fig


def _render(results: Results, page: Page, summary: list[str], plotlyjs: str) -> str:
    lang = page.lang
    de = lang == "de"
    years = results.years
    meta = (f"{results.root.name} · {len(results.experiments)} "
            f"{'Läufe' if de else 'runs'} · {years[0]}–{years[-1]}")
    foot = ("Erstellt mit QuartierSim. Bänder und Intervalle: 95 %-t-Intervalle über die "
            "Wiederholungen; Differenzen gepaart (gemeinsame Zufallszahlen)." if de else
            "Made with QuartierSim. Bands and intervals: 95 % t-intervals over the "
            "replications; differences paired (common random numbers).")
    return render_page(page, title=text("title_report", lang), subtitle=results.root.name,
                       meta=meta, summary=summary, foot=foot, plotlyjs=plotlyjs)


def render_page(page: Page, *, title: str, subtitle: str, meta: str, foot: str,
                summary: list[str] | None = None, plotlyjs: str | None = None) -> str:
    """A standalone HTML page (plotly.js embedded once, works offline) of ``page``'s sections,
    with an optional summary list first."""
    if plotlyjs is None:
        from plotly.offline import get_plotlyjs

        plotlyjs = get_plotlyjs()
    lang = page.lang
    created = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    meta = f"{meta} · {'erstellt' if lang == 'de' else 'created'} {created}"
    sections = list(page.sections)
    nav = " ".join(f'<a href="#{k}">{html.escape(t)}</a>' for k, t, _ in sections)
    body = []
    if summary is not None:
        body.append(f'<section id="summary"><h2>{text("summary", lang)}</h2><ul class="summary">')
        body += [f"<li>{html.escape(s)}</li>" for s in summary]
        body.append("</ul></section>")
    for key, heading, parts in sections:
        body.append(f'<section id="{key}"><h2>{html.escape(heading)}</h2>{"".join(parts)}'
                    "</section>")
    return (f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)} – {html.escape(subtitle)}</title>"
            f"<style>{CSS}</style>"
            f'<script type="text/javascript">{plotlyjs}</script></head><body>'
            f"<header><h1>{html.escape(title)}</h1>"
            f"<p>{html.escape(meta)}</p><nav>{nav}</nav></header>"
            f"<main>{''.join(body)}<p><small>{html.escape(foot)}</small></p></main>"
            "</body></html>\n")


def write_page(page_html: str, out: str | Path) -> Path:
    """Write an HTML page atomically (readable by all: a report is made to be shared)."""
    from sim.experiments.files import write_atomic

    def write(tmp: str) -> None:
        Path(tmp).write_text(page_html, encoding="utf-8")
        os.chmod(tmp, 0o644)  # the temporary file is 0600

    return write_atomic(out, write)


def write_report(root: str | Path, out: str | Path, lang: str = "de") -> Path:
    """Read a result folder and write its report atomically to ``out``.

    Raises:
        InputError: for a missing, empty or corrupt result folder.
    """
    return write_page(build_report(load_results(root), lang), out)
