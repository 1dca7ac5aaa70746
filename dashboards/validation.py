"""The validation report: simulated vs observed for every target (figures and HTML page).

Pure functions of the validation table (:func:`calibration.validation.compare`).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from dashboards.report import Page, render_page, write_page

PASS_COLOR = "#2e7d32"
FAIL_COLOR = "#c62828"
GROUP_LABELS = {
    "demography": ("Demografie", "Demography"), "households": ("Haushalte", "Households"),
    "care": ("Pflege", "Care"), "mobility": ("Umzüge und Wanderung", "Moves and migration"),
    "housing": ("Wohnen und Einkommen", "Housing and incomes"),
    "services": ("Versorgung", "Services"),
    "segregation": ("Segregation", "Segregation"), "missing": ("Fehlende Zielwerte", "Missing"),
}
ROLE_TEXT = {"fitted": ("kalibriert", "fitted"), "input": ("Eingabe", "input"),
             "held out": ("zurückgehalten", "held out"), "missing": ("fehlt", "missing")}


def _i(lang: str) -> int:
    return 0 if lang == "de" else 1


UNITS = {"years": ("Jahre", "years"), "children per woman": ("Kinder je Frau",
                                                              "children per woman"),
         "persons": ("Personen", "persons"), "EUR/m²": ("EUR/m²", "EUR/m²"), "index": ("", "")}


def format_value(value: float, unit: str, lang: str = "de", *, with_unit: bool = True) -> str:
    """A target's value in its unit (shares as percent, rates per 1,000 as ‰)."""
    if value is None or not math.isfinite(value):
        return "–"
    if unit == "share":
        text = f"{100 * value:.1f} %"
    elif unit == "per 1000":
        text = f"{value:.1f} ‰"
    else:
        number = f"{value:,.1f}" if unit == "persons" else f"{value:.2f}"
        label = UNITS.get(unit, (unit, unit))[_i(lang)]
        text = f"{number} {label}" if with_unit and label else number
    if lang == "de":
        text = text.replace(",", "\u202f").replace(".", ",")
    return text


def format_tolerance(value: float, unit: str, lang: str = "de") -> str:
    if value is None or not math.isfinite(value):
        return "–"
    if unit == "share":
        text = f"± {100 * value:.1f} " + ("Pkt." if lang == "de" else "pts")
    else:
        text = "± " + format_value(value, unit, lang)
    return text.replace(".", ",", 1) if lang == "de" and unit == "share" else text


def validation_chart(table: pd.DataFrame, *, lang: str = "de") -> go.Figure:
    """Deviation of every compared target in units of its tolerance.

    The green band is the tolerance (−1 … 1); dots are the mean over the replications, bars its
    95 % interval; red dots miss.

    Raises:
        ValueError: if no target has an observed figure.
    """
    rows = table[table["role"] != "missing"].copy()
    if rows.empty:
        raise ValueError("no target has an observed figure")
    de = lang == "de"
    rows["z"] = rows["deviation"] / rows["tolerance"]
    rows["z_low"] = (rows["ci_low"] - rows["observed"]) / rows["tolerance"]
    rows["z_high"] = (rows["ci_high"] - rows["observed"]) / rows["tolerance"]
    label_col = "label_de" if de else "label_en"
    rows["label"] = [f"{lab} ({ROLE_TEXT[r][_i(lang)]})"
                     for lab, r in zip(rows[label_col], rows["role"], strict=True)]
    rows = rows.iloc[::-1]  # first target on top
    fig = go.Figure()
    fig.add_vrect(x0=-1, x1=1, fillcolor="rgba(46,125,50,0.12)", line_width=0,
                  annotation_text="Toleranz" if de else "tolerance",
                  annotation_position="top left")
    fig.add_vline(x=0, line_color="#555", line_width=1)
    for passed, color, name in ((True, PASS_COLOR, "innerhalb" if de else "within"),
                                (False, FAIL_COLOR, "außerhalb" if de else "outside")):
        part = rows[rows["passed"].fillna(False) == passed]
        if part.empty:
            continue
        hover = [
            f"{lab}<br>{'simuliert' if de else 'simulated'}: {format_value(s, u, lang)} "
            f"[{format_value(lo, u, lang)}, {format_value(hi, u, lang)}]<br>"
            f"{'beobachtet' if de else 'observed'}: {format_value(o, u, lang)} "
            f"{format_tolerance(t, u, lang)}<br>{src}"
            for lab, s, lo, hi, o, t, u, src in zip(
                part[label_col], part["simulated"], part["ci_low"], part["ci_high"],
                part["observed"], part["tolerance"], part["unit"], part["source"], strict=True)]
        fig.add_trace(go.Scatter(
            x=part["z"], y=part["label"], mode="markers", name=name,
            marker={"color": color, "size": 10},
            error_x={"type": "data", "symmetric": False,
                     "array": (part["z_high"] - part["z"]).fillna(0),
                     "arrayminus": (part["z"] - part["z_low"]).fillna(0), "color": color},
            hovertext=hover, hoverinfo="text"))
    span = max(3.0, float(rows[["z", "z_low", "z_high"]].abs().max().max()) * 1.1)
    order = list(rows["label"])
    fig.update_layout(
        title=("Simuliert vs. beobachtet, in Toleranzen" if de else
               "Simulated vs observed, in tolerances"),
        xaxis={"title": ("(simuliert − beobachtet) / Toleranz" if de else
                         "(simulated − observed) / tolerance"), "range": [-span, span],
               "zeroline": False},
        yaxis={"automargin": True, "categoryorder": "array", "categoryarray": order},
        height=max(380, 26 * len(rows) + 140),
        template="plotly_white", legend={"orientation": "h", "y": -0.12},
        margin={"l": 20, "r": 20, "t": 60, "b": 60})
    return fig


def display_table(table: pd.DataFrame, *, lang: str = "de") -> pd.DataFrame:
    """The validation table with formatted values, for reading."""
    de = lang == "de"
    i = _i(lang)
    out = pd.DataFrame({
        ("Zielgröße" if de else "target"): table["label_de" if de else "label_en"],
        ("Rolle" if de else "role"): [ROLE_TEXT[r][i] for r in table["role"]],
        ("beobachtet" if de else "observed"): [
            format_value(v, u, lang) for v, u in zip(table["observed"], table["unit"],
                                                     strict=True)],
        ("Toleranz" if de else "tolerance"): [
            format_tolerance(v, u, lang) for v, u in zip(table["tolerance"], table["unit"],
                                                         strict=True)],
        ("simuliert" if de else "simulated"): [
            format_value(v, u, lang) for v, u in zip(table["simulated"], table["unit"],
                                                     strict=True)],
        ("95 %-KI" if de else "95 % CI"): [
            f"{format_value(lo, u, lang, with_unit=False)} – "
            f"{format_value(hi, u, lang, with_unit=False)}"
            for lo, hi, u in zip(table["ci_low"], table["ci_high"], table["unit"], strict=True)],
        ("Ergebnis" if de else "result"): [
            "–" if pd.isna(p) else ("✓" if p else ("✗ verfehlt" if de else "✗ missed"))
            for p in table["passed"]],
        ("Quelle" if de else "source"): table["source"].fillna(""),
    })
    return out


def summary_sentences(result, *, lang: str = "de") -> list[str]:
    """Short statements for the top of the report."""
    de = lang == "de"
    table = result.table
    lines = []
    for roles, label_de, label_en in (
            (("fitted", "input", "held out"), "Alle Zielwerte", "All targets"),
            (("held out",), "Zurückgehaltene Zielwerte", "Held-out targets"),
            (("fitted",), "Kalibrierte Zielwerte", "Fitted targets")):
        passed, total = result.counts(roles)
        if total:
            lines.append(f"{label_de if de else label_en}: {passed} von {total} innerhalb der "
                         f"Toleranz." if de else f"{label_en}: {passed} of {total} within "
                         "tolerance.")
    missed = table[table["passed"].fillna(True) == False]  # noqa: E712
    if len(missed):
        names = ", ".join(missed["label_de" if de else "label_en"])
        lines.append(("Verfehlt: " if de else "Missed: ") + names + ".")
    absent = table[table["role"] == "missing"]
    if len(absent):
        lines.append(f"{len(absent)} Zielgrößen fehlen in den Daten (nur simuliert gezeigt)."
                       if de else f"{len(absent)} targets are missing from the data (shown "
                       "simulated only).")
    return lines


def build_validation_report(result, *, lang: str = "de") -> str:
    """The validation report as one standalone HTML page."""
    de = lang == "de"
    page = Page(lang)
    table = result.table
    compared = table[table["role"] != "missing"]
    parts = page.section("chart", "Übersicht" if de else "Overview")
    page.figure(parts, lambda: validation_chart(table, lang=lang))
    page.paragraph(parts, (
        "Punkte: Mittelwert über die Wiederholungen; Balken: 95 %-Konfidenzintervall des "
        "Mittelwerts; grünes Band: Toleranz. Rollen: kalibriert = in der Kalibrierung "
        "verwendet; Eingabe = die Zahl ist auch eine Eingabe des Modells; zurückgehalten = "
        "weder Eingabe noch kalibriert (der eigentliche Test)." if de else
        "Dots: mean over the replications; bars: 95 % confidence interval of the mean; green "
        "band: tolerance. Roles: fitted = used by the calibration; input = the figure is also "
        "an input of the model; held out = neither an input nor fitted (the real test)."))
    for group, (g_de, g_en) in GROUP_LABELS.items():
        rows = compared[compared["group"] == group]
        if rows.empty:
            continue
        parts = page.section(f"group-{group}", g_de if de else g_en)
        page.table(parts, display_table(rows, lang=lang))
        notes = [f"{lab}: {note}" for lab, note in zip(
            rows["label_de" if de else "label_en"], rows["note"].fillna(""), strict=True)
            if note]
        for note in notes:
            page.note(parts, note)
    absent = table[table["role"] == "missing"]
    if len(absent):
        parts = page.section("missing", "Fehlende Zielwerte" if de else "Missing from the data")
        shown = pd.DataFrame({
            ("Zielgröße" if de else "target"): absent["label_de" if de else "label_en"],
            ("simuliert" if de else "simulated"): [
                format_value(v, u, lang) for v, u in zip(absent["simulated"], absent["unit"],
                                                         strict=True)],
            ("Hinweis" if de else "note"): absent["note"].fillna(""),
        })
        page.table(parts, shown)
    parts = page.section("sources", "Quellen" if de else "Sources")
    cited = compared[["label_de" if de else "label_en", "cited", "source"]].copy()
    cited.columns = (["Zielgröße", "Datei:Zeile", "Quelle"] if de
                     else ["target", "file:line", "source"])
    page.table(parts, cited)
    households = (f"{result.households:,}" if result.households else
                  ("Szenario-Standard" if de else "the scenario's"))
    meta = (f"{result.scenario} · {result.replications} "
            f"{'Wiederholungen' if de else 'replications'} · {result.years} "
            f"{'Jahre' if de else 'years'} · {households} "
            f"{'Haushalte' if de else 'households'}")
    foot = ("Erstellt mit QuartierSim (quartier validate). 'früh' = Mittel der ersten "
            f"{result.early_years} simulierten Jahre; Lebenserwartung und Geburtenziffer aus "
            f"allen simulierten Jahren. Zielwerte: {result.targets_source}." if de else
            "Made with QuartierSim (quartier validate). 'early' = mean of the first "
            f"{result.early_years} simulated years; life expectancy and fertility from all "
            f"simulated years. Targets: {result.targets_source}.")
    return render_page(page, title="Validierung" if de else "Validation",
                       subtitle=result.scenario, meta=meta, foot=foot,
                       summary=summary_sentences(result, lang=lang))


def write_validation_report(result, out: str | Path, *, lang: str = "de") -> Path:
    """Write the report atomically."""
    return write_page(build_validation_report(result, lang=lang), out)
