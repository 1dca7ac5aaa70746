"""Figures and the HTML report of a sensitivity analysis (``quartier sensitivity``).

Pure functions of the tidy index tables of :mod:`calibration.sensitivity`: the Sobol table
(output, parameter, S1, S1_conf, ST, ST_conf, ...) and the Morris table (output, parameter,
mu, mu_star, mu_star_conf, sigma, ...). Every builder returns a plotly figure and takes
``lang`` ("de" or "en"; German by default, as in the report) and ``levers`` (lever scenario
name -> display name, from the settings' ``effects``) to label lever effects: an output
``effect:<scenario>:<metric>`` is the lever's effect (scenario - baseline, paired runs) on the
metric, labelled e.g. "Wirkung MVZ Hochfeld: Fortzüge (Summe der Jahre)".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboards.figures import COLORS, TEMPLATE, localise
from dashboards.labels import lang_index, metric_label
from sim.state.outcomes import aggregation

Levers = Mapping[str, str] | None

PARAMETER_LABELS: dict[str, tuple[str, str]] = {
    "parameters.mobility.move_rate_young": ("Umzugsrate junger Haushalte (unter 30)",
                                            "Move rate, young households (under 30)"),
    "parameters.mobility.move_rate_family": ("Umzugsrate von Familien", "Move rate, families"),
    "parameters.mobility.move_rate_middle": ("Umzugsrate 30–64 ohne Kinder",
                                             "Move rate, 30–64 without children"),
    "parameters.mobility.move_rate_old": ("Umzugsrate 65+", "Move rate, 65+"),
    "parameters.mobility.dissatisfaction_effect": ("Wirkung der Unzufriedenheit auf Umzüge",
                                                   "Effect of dissatisfaction on moving"),
    "parameters.mobility.life_event_move_probability": ("Umzug nach Geburt oder Tod",
                                                        "Move after a birth or death"),
    "parameters.mobility.rent_burden_threshold": ("Schwelle der Mietbelastung",
                                                  "Rent burden threshold"),
    "parameters.mobility.crowding_threshold": ("Schwelle der Wohnungsenge",
                                               "Crowding threshold"),
    "parameters.mobility.homophily_threshold": ("Toleranzschwelle Nachbarschaft (Schelling)",
                                                "Neighbourhood threshold (Schelling)"),
    "parameters.mobility.choice_set_size": ("Geprüfte Wohnungen je Suche",
                                            "Dwellings considered per search"),
    "parameters.mobility.utility_rent_burden": ("Nutzengewicht der Mietbelastung",
                                                "Utility weight of the rent burden"),
    "parameters.mobility.utility_space": ("Nutzen der Wohnfläche", "Utility of floor space"),
    "parameters.mobility.utility_similar_neighbours": ("Nutzen ähnlicher Nachbarn",
                                                       "Utility of similar neighbours"),
    "parameters.mobility.utility_quartier_attachment": ("Bindung an das Quartier",
                                                        "Attachment to the quartier"),
    "parameters.mobility.utility_stay": ("Nutzen des Bleibens (Umzugskosten)",
                                         "Utility of staying (moving costs)"),
    "parameters.mobility.utility_outside": ("Nutzen des Wegzugs aus der Stadt",
                                            "Utility of leaving the city"),
    "parameters.migration.in_migration_rate": ("Zuzugsrate (Wohnungssuchende von außen)",
                                               "In-migration rate (searching from outside)"),
    "parameters.demography.leaving_home_rate": ("Auszugsrate aus dem Elternhaus",
                                                "Rate of leaving the parental home"),
    "parameters.demography.total_fertility_rate": ("Zusammengefasste Geburtenziffer",
                                                   "Total fertility rate"),
    "parameters.choice.utility_health": ("Nutzen der Hausarzt-Erreichbarkeit",
                                         "Utility of GP access"),
    "parameters.choice.utility_school": ("Gewicht der Schulzusammensetzung",
                                         "Weight of school composition"),
    "scale.service_weights": ("Gewichte von Hausarzt- und Schulzugang (Faktor)",
                              "Weights of GP and school access (factor)"),
    "parameters.migration.demand_vacancy_elasticity": (
        "Elastizität der Zuzugsnachfrage zum Leerstand",
        "Elasticity of in-migration demand to vacancy"),
    "parameters.services.gp_catchment_min": ("Einzugsbereich der Hausärzte (Minuten)",
                                             "GP catchment (minutes)"),
    "parameters.services.ambulant_catchment_min": ("Einzugsbereich ambulanter Pflege (Minuten)",
                                                   "Ambulant care catchment (minutes)"),
    "parameters.jobs.pt_affordable_share": ("Bezahlbarkeitsgrenze ÖPNV-Ticket (Einkommensanteil)",
                                            "Affordable ticket (share of income)"),
    "parameters.jobs.value_of_time_eur_h": ("Zeitwert des Pendelns (EUR/h)",
                                            "Value of commuting time (EUR/h)"),
    "parameters.kitas.kita_weight": ("Gewicht eines fehlenden Kita-Platzes",
                                     "Weight of a missing Kita place"),
    "parameters.care_grades.tagespflege_home_share": (
        "Anteil der Tagespflege-Gäste, die sonst ins Heim müssten",
        "Share of Tagespflege users who would otherwise need a nursing home"),
    "city.households": ("Haushalte", "Households"),
}

EFFECT_METRICS: dict[str, tuple[str, str]] = {
    "out_migrants": ("Fortzüge", "out-migrants"),
    "out_migrants_poor": ("Fortzüge Armutsgefährdeter", "out-migrants at risk of poverty"),
    "dissimilarity_income_quartiers": ("Segregation D arm/übrige (Quartiere)",
                                       "segregation D poor/others (quartiers)"),
}
"""Short metric names in the label of a lever effect (others: the metric's label)."""
AGGREGATIONS: dict[str, tuple[str, str]] = {
    "sum": ("Summe der Jahre", "total over the years"),
    "mean": ("Mittel der Jahre", "mean over the years"),
    "final": ("letztes Jahr", "final year"),
}


def output_label(output: str, lang: str = "de", levers: Levers = None) -> str:
    """An output's display name: a metric's label, or for a lever effect
    ``effect:<scenario>:<metric>`` "Wirkung <lever>: <metric> (<aggregation>)" /
    "Effect of <lever>: ..." (``levers``: scenario name -> display name)."""
    if not output.startswith("effect:") or output.count(":") < 2:
        return metric_label(output, lang)
    _, scenario, metric = output.split(":", 2)
    i = lang_index(lang)
    name = (levers or {}).get(scenario, scenario)
    what = EFFECT_METRICS[metric][i] if metric in EFFECT_METRICS else metric_label(metric, lang)
    how = AGGREGATIONS[aggregation(metric)][i]
    return f"{('Wirkung', 'Effect of')[i]} {name}: {what} ({how})"


def effect_levers(settings: Mapping[str, Any] | None) -> dict[str, str]:
    """Lever scenario name -> display name, from a sensitivity's settings."""
    return {e["scenario"]: e.get("label") or e["scenario"]
            for e in (settings or {}).get("effects") or []}


NOISY = 0.5
"""Noise share of an output's variance above which its indices are flagged as unreliable."""

TEXT: dict[str, tuple[str, str]] = {
    "noisy": ("Achtung: überwiegend Zufallsrauschen, die Indizes sind unzuverlässig (mehr "
              "Replikationen oder eine größere Stadt rechnen)",
              "Caution: mostly noise, the indices are unreliable (run more replications or a "
              "larger city)"),
    "title": ("QuartierSim – Sensitivitätsanalyse", "QuartierSim – sensitivity analysis"),
    "sobol": ("Sobol-Indizes: Anteile an der Varianz", "Sobol indices: shares of the variance"),
    "morris": ("Morris-Screening: Elementareffekte", "Morris screening: elementary effects"),
    "ranges": ("Parameter und Spannweiten", "Parameters and ranges"),
    "reading": ("So liest man die Ergebnisse", "How to read the results"),
    "S1": ("S1 (allein)", "S1 (alone)"),
    "ST": ("ST (mit Wechselwirkungen)", "ST (with interactions)"),
    "share": ("Anteil an der Varianz des Ergebnisses", "Share of the output's variance"),
    "parameter": ("Parameter", "Parameter"),
    "path": ("Feld im Szenario", "Scenario field"),
    "low": ("von", "low"),
    "high": ("bis", "high"),
    "default": ("Basiswert", "Default"),
    "mu_star": ("μ* (mittlere absolute Wirkung über die Spannweite)",
                "μ* (mean absolute effect over the range)"),
    "sigma": ("σ (Streuung der Wirkungen)", "σ (spread of the effects)"),
    "heatmap": ("Überblick: Gesamteffekte ST je Ergebnis", "Overview: total effects ST"),
    "no_indices": ("Keine Indizes: das Ergebnis hat fehlende Werte oder ist überall gleich.",
                   "No indices: the output has missing values or is the same everywhere."),
    "assumption": (
        "Die Spannweiten sind Annahmen (keine Zahl in den Daten): etwa ±30–50 % um die "
        "Basiswerte, innerhalb der zulässigen Werte der Felder. Die Indizes gelten nur für "
        "diese Spannweiten.",
        "The ranges are assumptions (no figure in the data): about ±30–50 % around the "
        "defaults, within each field's allowed values. The indices hold for these ranges "
        "only."),
    "read_sobol": (
        "Sobol (Saltelli 2010): S1 ist der Anteil der Varianz eines Ergebnisses, den ein "
        "Parameter allein erklärt; ST der Anteil einschließlich aller Wechselwirkungen. "
        "ST nahe 0: der Parameter ist in diesen Spannweiten unwichtig und kann auf dem "
        "Basiswert bleiben. ST deutlich über S1: der Parameter wirkt vor allem im "
        "Zusammenspiel mit anderen. Die Summe der S1 liegt unter 1, soweit Wechselwirkungen "
        "und Zufallsrauschen (endliche Replikationen) zur Varianz beitragen. Balken: 95 %-"
        "Konfidenzintervalle (Bootstrap). Zufallsrauschen: der Anteil der Varianz zwischen "
        "den Entwurfspunkten, der aus den Replikationen allein kommt.",
        "Sobol (Saltelli 2010): S1 is the share of an output's variance a parameter explains "
        "alone; ST the share including all interactions. ST near 0: the parameter does not "
        "matter within these ranges and can stay at its default. ST well above S1: the "
        "parameter acts mainly together with others. The S1 sum to less than 1 as far as "
        "interactions and noise (finite replications) add to the variance. Whiskers: 95 % "
        "confidence intervals (bootstrap). Noise: the share of the variance between design "
        "points that comes from the replications alone."),
    "read_morris": (
        "Morris (Morris 1991, μ* nach Campolongo 2007): μ* ist die mittlere absolute Änderung "
        "des Ergebnisses, wenn ein Parameter einen Schritt über sein Raster macht, "
        "hochgerechnet auf die ganze Spannweite (in der Einheit des Ergebnisses); es ordnet "
        "die Parameter nach Wichtigkeit. σ groß im Vergleich zu μ*: die Wirkung hängt von "
        "den anderen Parametern ab oder ist nicht linear. Das Screening ist billig, teilt "
        "die Varianz aber nicht auf.",
        "Morris (Morris 1991, μ* after Campolongo 2007): μ* is the mean absolute change of "
        "the output when a parameter takes one step of its grid, scaled to its whole range "
        "(in the output's unit); it ranks the parameters. σ large relative to μ*: the effect "
        "depends on the other parameters or is non-linear. Screening is cheap but does not "
        "apportion the variance."),
}


def _t(key: str, lang: str) -> str:
    return TEXT[key][lang_index(lang)]


def parameter_label(dotted: str, lang: str = "de") -> str:
    """A parameter's display name (its last path component where no label is known)."""
    if dotted in PARAMETER_LABELS:
        return PARAMETER_LABELS[dotted][lang_index(lang)]
    return dotted.rsplit(".", 1)[-1].replace("_", " ")


def _number(value: float, lang: str, digits: int = 3) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return localise(f"{value:.{digits}g}" if abs(value) >= 1000 or 0 < abs(value) < 1e-3
                    else f"{value:,.{digits}f}", lang)


def _rows(table: pd.DataFrame, output: str, key: str) -> pd.DataFrame:
    rows = table[table["output"] == output]
    if rows.empty:
        raise ValueError(f"no rows for output {output!r}")
    if not np.isfinite(rows[key].to_numpy(float)).any():
        raise ValueError("no indices")
    return rows.sort_values(key, ascending=True, kind="stable")  # largest at the top


# -- Sobol ----------------------------------------------------------------------------------


def sobol_bars(table: pd.DataFrame, output: str, *, lang: str = "de",
               levers: Levers = None) -> go.Figure:
    """Tornado-style bars of one output's S1 and ST with their confidence intervals,
    parameters sorted by ST (largest on top).

    Raises:
        ValueError: if the table has no indices for the output.
    """
    rows = _rows(table, output, "ST")
    labels = [parameter_label(p, lang) for p in rows["parameter"]]
    fig = go.Figure()
    for i, key in enumerate(("S1", "ST")):
        fig.add_trace(go.Bar(
            x=rows[key], y=labels, orientation="h", name=_t(key, lang),
            marker_color=COLORS[i],
            error_x={"type": "data", "array": rows[f"{key}_conf"].fillna(0),
                     "color": "#444", "thickness": 1.2},
            customdata=np.c_[rows[f"{key}_low"], rows[f"{key}_high"], rows["parameter"]],
            hovertemplate=(f"%{{y}}<br>{key} %{{x:.3f}} [%{{customdata[0]:.3f}}, "
                           "%{customdata[1]:.3f}]<br>%{customdata[2]}<extra></extra>")))
    level = _conf_level(rows)
    fig.update_layout(
        template=TEMPLATE, barmode="group", bargap=0.25,
        title=f"{output_label(output, lang, levers)}: Sobol S1 / ST ({level} % CI)",
        xaxis_title=_t("share", lang), yaxis={"categoryorder": "array",
                                              "categoryarray": labels},
        height=max(320, 46 * len(rows) + 140), margin={"l": 280},
        legend={"orientation": "h", "y": -0.18})
    fig.add_vline(x=0, line={"color": "#888", "width": 1})
    return fig


def sobol_heatmap(table: pd.DataFrame, *, lang: str = "de", levers: Levers = None
                  ) -> go.Figure:
    """ST of every parameter (rows, by mean ST) for every output (columns).

    Raises:
        ValueError: if no output has indices.
    """
    wide = table.pivot_table(index="parameter", columns="output", values="ST",
                             aggfunc="first", dropna=False, sort=False)
    outputs = list(pd.unique(table["output"]))
    wide = wide.reindex(columns=outputs)
    if not np.isfinite(wide.to_numpy(float)).any():
        raise ValueError("no indices")
    wide = wide.loc[wide.mean(axis=1).sort_values(ascending=True).index]
    z = wide.to_numpy(float)
    text = [[_number(v, lang, 2) for v in row] for row in z]
    fig = go.Figure(go.Heatmap(
        z=z, x=[output_label(o, lang, levers) for o in outputs],
        y=[parameter_label(p, lang) for p in wide.index], zmin=0, zmax=max(1.0, np.nanmax(z)),
        colorscale="Blues", text=text, texttemplate="%{text}",
        hovertemplate="%{y}<br>%{x}<br>ST %{z:.3f}<extra></extra>",
        colorbar={"title": "ST"}))
    fig.update_layout(template=TEMPLATE, title=_t("heatmap", lang),
                      height=max(320, 40 * len(wide) + 160), margin={"l": 280})
    return fig


# -- Morris ---------------------------------------------------------------------------------


def morris_bars(table: pd.DataFrame, output: str, *, lang: str = "de",
                levers: Levers = None) -> go.Figure:
    """Tornado-style bars of one output's μ* with its confidence interval (largest on top).

    Raises:
        ValueError: if the table has no indices for the output.
    """
    rows = _rows(table, output, "mu_star")
    labels = [parameter_label(p, lang) for p in rows["parameter"]]
    fig = go.Figure(go.Bar(
        x=rows["mu_star"], y=labels, orientation="h", name="μ*", marker_color=COLORS[0],
        error_x={"type": "data", "array": rows["mu_star_conf"].fillna(0), "color": "#444",
                 "thickness": 1.2},
        customdata=np.c_[rows["mu"], rows["sigma"], rows["parameter"]],
        hovertemplate=("%{y}<br>μ* %{x:.4g}<br>μ %{customdata[0]:.4g}, σ %{customdata[1]:.4g}"
                       "<br>%{customdata[2]}<extra></extra>")))
    fig.update_layout(
        template=TEMPLATE, title=f"{output_label(output, lang, levers)}: Morris μ* "
        f"({_conf_level(rows)} % CI)", xaxis_title=_t("mu_star", lang),
        yaxis={"categoryorder": "array", "categoryarray": labels},
        height=max(300, 34 * len(rows) + 140), margin={"l": 280}, showlegend=False)
    return fig


def morris_scatter(table: pd.DataFrame, output: str, *, lang: str = "de",
                   labels_shown: int = 4, levers: Levers = None) -> go.Figure:
    """μ* against σ for one output, with the line σ = μ* (above it: the effect depends
    strongly on the other parameters, or is non-linear); the ``labels_shown`` parameters of
    largest μ* are named at their points.

    Raises:
        ValueError: if the table has no indices for the output.
    """
    rows = _rows(table, output, "mu_star")
    top = float(np.nanmax(np.r_[rows["mu_star"], rows["sigma"]])) * 1.15 or 1.0
    labels = [parameter_label(p, lang) for p in rows["parameter"]]
    # names at the largest few points only (the others crowd near 0): hover shows them all
    shown = set(rows["mu_star"].rank(ascending=False, method="first").le(labels_shown)
                .to_numpy().nonzero()[0])
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, top], y=[0, top], mode="lines", name="σ = μ*",
                             line={"color": "#888", "dash": "dash", "width": 1},
                             hoverinfo="skip"))
    fig.add_trace(go.Scatter(
        x=rows["mu_star"], y=rows["sigma"], mode="markers+text", name="Parameter",
        text=[label if i in shown else "" for i, label in enumerate(labels)],
        customdata=labels, textposition="top left", marker={"size": 10, "color": COLORS[1]},
        hovertemplate="%{customdata}<br>μ* %{x:.4g}<br>σ %{y:.4g}<extra></extra>"))
    fig.update_layout(template=TEMPLATE,
                      title=f"{output_label(output, lang, levers)}: Morris μ* / σ",
                      xaxis_title=_t("mu_star", lang), yaxis_title=_t("sigma", lang),
                      xaxis={"range": [0, top]}, yaxis={"rangemode": "tozero"},
                      height=460, showlegend=True, legend={"orientation": "h", "y": -0.2})
    return fig


def _conf_level(rows: pd.DataFrame) -> str:
    level = float(rows["conf_level"].iloc[0]) if "conf_level" in rows else 0.95
    return f"{100 * level:g}"


# -- tables and the page --------------------------------------------------------------------


def sobol_table(table: pd.DataFrame, output: str, *, lang: str = "de") -> pd.DataFrame:
    """One output's Sobol indices formatted for a page (sorted by ST)."""
    rows = table[table["output"] == output].sort_values("ST", ascending=False)
    ci = "95 %-KI" if lang == "de" else "95 % CI"
    return pd.DataFrame({
        _t("parameter", lang): [parameter_label(p, lang) for p in rows["parameter"]],
        "S1": [_number(v, lang) for v in rows["S1"]],
        f"S1 {ci}": [_interval(lo, hi, lang) for lo, hi in zip(rows["S1_low"], rows["S1_high"],
                                                               strict=True)],
        "ST": [_number(v, lang) for v in rows["ST"]],
        f"ST {ci}": [_interval(lo, hi, lang) for lo, hi in zip(rows["ST_low"], rows["ST_high"],
                                                               strict=True)],
    })


def morris_table(table: pd.DataFrame, output: str, *, lang: str = "de") -> pd.DataFrame:
    """One output's Morris indices formatted for a page (sorted by μ*)."""
    rows = table[table["output"] == output].sort_values("mu_star", ascending=False)
    ci = "95 %-KI" if lang == "de" else "95 % CI"
    return pd.DataFrame({
        _t("parameter", lang): [parameter_label(p, lang) for p in rows["parameter"]],
        "μ*": [_number(v, lang, 4) for v in rows["mu_star"]],
        f"μ* {ci}": [_interval(lo, hi, lang, 4) for lo, hi in
                     zip(rows["mu_star_low"], rows["mu_star_high"], strict=True)],
        "μ": [_number(v, lang, 4) for v in rows["mu"]],
        "σ": [_number(v, lang, 4) for v in rows["sigma"]],
    })


def _interval(low: float, high: float, lang: str, digits: int = 3) -> str:
    if not (math.isfinite(low) and math.isfinite(high)):
        return "–"
    return f"[{_number(low, lang, digits)}, {_number(high, lang, digits)}]"


def ranges_table(settings: Mapping[str, Any], *, lang: str = "de") -> pd.DataFrame:
    """The varied parameters with their ranges and defaults."""
    params = settings.get("parameters", {})
    return pd.DataFrame({
        _t("parameter", lang): [parameter_label(p, lang) for p in params],
        _t("path", lang): list(params),
        _t("low", lang): [_number(v["low"], lang, 4) for v in params.values()],
        _t("high", lang): [_number(v["high"], lang, 4) for v in params.values()],
        _t("default", lang): [_number(v.get("default"), lang, 4)
                              if isinstance(v.get("default"), int | float) else "–"
                              for v in params.values()],
    })


def summary_sentences(tables: Mapping[str, pd.DataFrame], settings: Mapping[str, Any] | None,
                      lang: str = "de") -> list[str]:
    """What ran, and per output the most influential parameters."""
    de = lang == "de"
    settings = settings or {}
    out = []
    if settings:
        sizes = []
        if settings.get("samples"):
            sizes.append(f"Sobol N = {settings['samples']}")
        if settings.get("trajectories"):
            sizes.append(f"Morris r = {settings['trajectories']}")
        d = len(settings.get("parameters", {}))
        households = settings.get("households")
        city = (f", {localise(f'{households:,}', lang)} {'Haushalte' if de else 'households'}"
                if households else "")
        g = settings.get
        if de:
            out.append(
                f"{d} Parameter, {', '.join(sizes)}: {g('design_points')} Entwurfspunkte × "
                f"{g('replications')} Replikationen = {g('runs')} Läufe ({g('simulated')} neu "
                f"gerechnet); {g('years')} Jahre ab {g('start_year')}{city}. Ergebnis je Lauf: "
                f"Mittel der letzten {g('last_years')} Jahre (Gesamtstadt).")
        else:
            out.append(
                f"{d} parameters, {', '.join(sizes)}: {g('design_points')} design points × "
                f"{g('replications')} replications = {g('runs')} runs ({g('simulated')} "
                f"simulated); {g('years')} years from {g('start_year')}{city}. Output per run: "
                f"mean of the last {g('last_years')} years (whole city).")
    sobol, morris = tables.get("sobol"), tables.get("morris")
    main = sobol if sobol is not None else morris
    key = "ST" if sobol is not None else "mu_star"
    if main is None:
        return out
    noise = settings.get("noise_share") or {}
    levers = effect_levers(settings)
    for output in pd.unique(main["output"]):
        rows = main[main["output"] == output].dropna(subset=[key])
        label = output_label(output, lang, levers)
        if rows.empty:
            out.append(f"{label}: {_t('no_indices', lang)}")
            continue
        rows = rows.sort_values(key, ascending=False).head(3)
        parts = [f"{parameter_label(r.parameter, lang)} ({'ST' if key == 'ST' else 'μ*'} "
                 f"{_number(getattr(r, key), lang, 2 if key == 'ST' else 3)})"
                 for r in rows.itertuples(index=False)]
        sentence = f"{label}: {parts[0]}"
        if len(parts) > 1:
            sentence = (f"{label}: {'vor allem' if de else 'mainly'} {parts[0]}, "
                        f"{'dann' if de else 'then'} {', '.join(parts[1:])}")
        share = noise.get(output)
        if share is not None and math.isfinite(share):
            sentence += (f"; Zufallsrauschen ≈ {localise(f'{100 * share:.0f}', lang)} % der "
                         "Varianz" if de else
                         f"; noise ≈ {100 * share:.0f} % of the variance")
            if share > NOISY:
                sentence += f". {_t('noisy', lang)}"
        out.append(sentence + ".")
    return out


def build_sensitivity_page(tables: Mapping[str, pd.DataFrame], lang: str = "de",
                           settings: Mapping[str, Any] | None = None) -> str:
    """The report of a sensitivity analysis as one HTML string (works offline)."""
    from dashboards.report import Page, render_page

    page = Page(lang)
    settings = settings or {}
    levers = effect_levers(settings)
    sobol, morris = tables.get("sobol"), tables.get("morris")
    if sobol is not None:
        parts = page.section("sobol", _t("sobol", lang))
        page.paragraph(parts, _t("read_sobol", lang))
        if sobol["output"].nunique() > 1:
            page.figure(parts, lambda: sobol_heatmap(sobol, lang=lang, levers=levers),
                        _t("no_indices", lang))
        for output in pd.unique(sobol["output"]):
            page.heading(parts, output_label(output, lang, levers))
            page.figure(parts, lambda o=output: sobol_bars(sobol, o, lang=lang, levers=levers),
                        f"{output_label(output, lang, levers)}: {_t('no_indices', lang)}")
            page.table(parts, sobol_table(sobol, output, lang=lang))
    if morris is not None:
        parts = page.section("morris", _t("morris", lang))
        page.paragraph(parts, _t("read_morris", lang))
        for output in pd.unique(morris["output"]):
            missing = f"{output_label(output, lang, levers)}: {_t('no_indices', lang)}"
            page.heading(parts, output_label(output, lang, levers))
            page.figure(parts, lambda o=output: morris_bars(morris, o, lang=lang, levers=levers),
                        missing)
            page.figure(parts, lambda o=output: morris_scatter(morris, o, lang=lang,
                                                               levers=levers), missing)
            page.table(parts, morris_table(morris, output, lang=lang))
    parts = page.section("ranges", _t("ranges", lang))
    page.note(parts, _t("assumption", lang))
    if settings.get("parameters"):
        page.table(parts, ranges_table(settings, lang=lang))
    else:
        first = sobol if sobol is not None else morris
        if first is not None:
            rows = first.drop_duplicates("parameter")
            page.table(parts, pd.DataFrame({
                _t("parameter", lang): [parameter_label(p, lang) for p in rows["parameter"]],
                _t("path", lang): rows["parameter"].tolist(),
                _t("low", lang): [_number(v, lang, 4) for v in rows["low"]],
                _t("high", lang): [_number(v, lang, 4) for v in rows["high"]]}))
    de = lang == "de"
    n_runs = settings.get("runs")
    meta = " · ".join(str(x) for x in (
        settings.get("base"), f"{n_runs} {'Läufe' if de else 'runs'}" if n_runs else None,
        settings.get("spec")) if x)
    foot = ("Erstellt mit QuartierSim und SALib. Konfidenzintervalle: Bootstrap über die "
            "Entwurfspunkte (Index ± Halbbreite)." if de else
            "Made with QuartierSim and SALib. Confidence intervals: bootstrap over the design "
            "points (index ± half-width).")
    return render_page(page, title=_t("title", lang), subtitle=str(settings.get("base", "")),
                       meta=meta or "–", foot=foot,
                       summary=summary_sentences(tables, settings, lang))


def write_sensitivity_report(tables: Mapping[str, pd.DataFrame], out: str | Path,
                             lang: str = "de", *,
                             settings: Mapping[str, Any] | None = None) -> Path:
    """Write the report of a sensitivity analysis atomically to ``out``.

    Args:
        tables: The index tables by method (``"morris"``, ``"sobol"``).
        out: The HTML file.
        lang: ``"de"`` or ``"en"``.
        settings: The analysis's settings (``sensitivity.json``) for the summary and the
            table of ranges.
    """
    from dashboards.report import write_page

    lang_index(lang)  # ValueError for an unknown language
    return write_page(build_sensitivity_page(tables, lang, settings), out)
