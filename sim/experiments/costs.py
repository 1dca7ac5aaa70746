"""What the levers cost the public purse, and what a scenario's effects cost per unit.

Every lever kind has one small cost function (:data:`COST_FUNCTIONS`): from the lever's
settings, what the run did (its citywide yearly outcomes, e.g. social dwellings built, m² of
bought bindings, ticket holders, doctors funded) and the unit costs of
``scenario.parameters.costs`` (:mod:`sim.scenario.cost_parameters`, each with its source or
ASSUMPTION) it returns the lever's cost rows: year, item, quantity, unit cost, EUR. Money is
nominal: a unit cost grows from its price year by ``costs.price_growth`` (default: the incomes'
growth); ticket prices grow with incomes as in the model. Costs over the horizon are the plain
sum over the simulated years (not discounted).

A lever given as a pydantic model or as a plain dict (the stored scenario) is costed alike.

:func:`cost_effectiveness` pairs each scenario's runs with the baseline's (replicate r with
replicate r) and reports the extra cost and the cost per unit of effect with a Fieller interval,
or says why there is no such number ("no effect" when the effect's interval includes 0).
See docs/costs.md.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.results import COST_FILES
from sim.scenario.cost_parameters import PRICE_YEARS, CostParameters

COST_COLUMNS = ["run_id", "scenario", "year", "lever", "item", "quantity", "quantity_unit",
                "unit_cost_eur", "eur"]
COST_FILE, COST_EFFECTIVENESS_FILE = COST_FILES
MONTHS = 12


# -- what a run did -----------------------------------------------------------------------


def _get(obj: Any, name: str, default: Any = None) -> Any:
    """A field of a lever given as a pydantic model, a plain object or a dict."""
    if isinstance(obj, Mapping):
        value = obj.get(name, default)
    else:
        value = getattr(obj, name, default)
    return default if value is None else value


@dataclass
class RunFacts:
    """One run as the cost functions see it.

    Attributes:
        years: The simulated years (the start state's year excluded).
        city: Citywide outcomes, index year, one column per metric.
    """

    years: list[int]
    city: pd.DataFrame

    @classmethod
    def from_outcomes(cls, outcomes: pd.DataFrame, start_year: int) -> RunFacts:
        city = outcomes[outcomes["scope"].astype(str) == "city"]
        wide = city.pivot_table(index="year", columns="metric", values="value",
                                aggfunc="first", observed=True)
        wide.columns = wide.columns.astype(str)
        years = [int(y) for y in wide.index if int(y) >= start_year]
        return cls(years, wide)

    def value(self, metric: str, year: int) -> float:
        """The metric in ``year`` (0 where the run did not record it)."""
        if metric not in self.city.columns or year not in self.city.index:
            return 0.0
        v = float(self.city.at[year, metric])
        return v if math.isfinite(v) else 0.0


@dataclass
class Prices:
    """Unit costs of a scenario, grown to the year asked for."""

    unit: CostParameters
    growth: float
    income_growth: float
    start_year: int

    def cost(self, name: str, year: int) -> float:
        """Unit cost ``name`` in ``year``'s prices."""
        return float(getattr(self.unit, name)) * (1.0 + self.growth) ** (year - PRICE_YEARS[name])

    def fare(self, price: float, year: int) -> float:
        """A ticket price set at the start state's level, in ``year`` (grown with incomes, as
        the model grows it)."""
        return price * (1.0 + self.income_growth) ** (year - (self.start_year - 1))


@dataclass
class Row:
    year: int
    item: str
    quantity: float
    quantity_unit: str
    unit_cost_eur: float

    @property
    def eur(self) -> float:
        return self.quantity * self.unit_cost_eur


CostFunction = Callable[[Any, RunFacts, Prices, Mapping], list[Row]]


def _from(year0: Any, facts: RunFacts) -> list[int]:
    start = int(year0) if year0 is not None else facts.years[0] if facts.years else 0
    return [y for y in facts.years if y >= start]


def _once(year0: Any, facts: RunFacts) -> int | None:
    """The year a one-off payment falls in: the opening year, or the first simulated year if it
    opened before; None after the horizon."""
    if not facts.years:
        return None
    year = max(int(year0), facts.years[0])
    return year if year <= facts.years[-1] else None


# -- one function per lever kind ----------------------------------------------------------


def rent_mixing_cost(lever: Any, facts: RunFacts, prices: Prices, params: Mapping) -> list[Row]:
    """New social dwellings (grant equivalent of the Wohnraumförderung loan), bought and
    extended bindings (per m² and month while bound). The rent cap is regulation: no budget."""
    rows = []
    target = _get(lever, "social_share_target", 0.0)
    buys = (any(v > 0 for v in target.values()) if isinstance(target, Mapping)
            else float(target) > 0) and float(_get(lever, "max_bindings_bought_per_year",
                                                    0.005)) > 0
    for y in _from(_get(lever, "from_year"), facts):
        share = prices.unit.repayment_waiver_share + prices.unit.interest_subsidy_share
        if float(_get(lever, "new_building_social_quota", 0.0)) > 0:
            rows.append(Row(y, "social new building (Wohnraumförderung)",
                            facts.value("social_dwellings_built", y), "dwellings",
                            share * prices.cost("social_loan_per_new_flat_eur", y)))
        if buys:
            rows.append(Row(y, "bought bindings", facts.value("bound_floor_space_bought", y),
                            "m² bound",
                            MONTHS * prices.cost("binding_purchase_eur_m2_month", y)))
        if int(_get(lever, "binding_extension_years", 0)) > 0:
            rows.append(Row(y, "extended bindings",
                            facts.value("bound_floor_space_extended", y), "m² bound",
                            MONTHS * prices.cost("binding_extension_eur_m2_month", y)))
        if _get(lever, "rent_cap") is not None:
            rows.append(Row(y, "rent cap (regulation, no public budget)", 0.0, "-", 0.0))
    return rows


def mvz_cost(lever: Any, facts: RunFacts, prices: Prices, params: Mapping) -> list[Row]:
    """MVZ: a founding grant per centre and the settlement grant per doctor, once when it
    opens; the incentive: the settlement grant for each doctor it brings and each successor in
    its quartier."""
    rows = []
    for centre in _get(lever, "centres", []) or []:
        y = _once(_get(centre, "opening_year"), facts)
        if y is None:
            continue
        name = _get(centre, "name", "") or "MVZ"
        rows.append(Row(y, f"MVZ founding grant ({name})", 1.0, "centres",
                        prices.cost("mvz_founding_grant_eur", y)))
        rows.append(Row(y, f"MVZ doctors' settlement grants ({name})",
                        float(_get(centre, "doctors", 0.0)), "doctors",
                        prices.cost("gp_settlement_grant_eur", y)))
    incentive = _get(lever, "incentive")
    if incentive is not None:
        first, last = int(_get(incentive, "from_year", 0)), int(_get(incentive, "until_year", 9999))
        for y in (y for y in facts.years if first <= y <= last):
            funded = facts.value("gp_incentive_doctors", y) + facts.value("gp_incentive_refills", y)
            rows.append(Row(y, "doctor incentive: settlement grants", funded, "doctors",
                            prices.cost("gp_settlement_grant_eur", y)))
    return rows


def public_transport_cost(lever: Any, facts: RunFacts, prices: Prices,
                          params: Mapping) -> list[Row]:
    """Fares the public pays instead of the riders (per ticket-month: the price without the
    lever minus the price with it; negative when the lever raises prices), more frequent
    service (vehicle-km) and new stops."""
    jobs = _get(params, "jobs", {})
    base_general = float(_get(jobs, "ticket_price_eur", 49.0))
    base_social = min(float(_get(jobs, "sozialticket_price_eur", 39.0)), base_general)
    base_rule = _get(jobs, "sozialticket_eligibility", "poverty")
    free = bool(_get(lever, "free_fares", False))
    general = 0.0 if free else float(_get(lever, "ticket_price_eur", base_general))
    social = 0.0 if free else min(float(_get(lever, "sozialticket_price_eur", base_social)),
                                  general)
    # holders the lever makes eligible would otherwise pay the general price
    rule = _get(lever, "sozialticket_eligibility", base_rule)
    social_without = base_social if rule == base_rule else base_general
    headway = float(_get(lever, "headway_factor", 1.0))
    rows = []
    years = _from(_get(lever, "from_year"), facts)
    for y in years:
        holders = facts.value("ticket_holders", y)
        on_social = facts.value("sozialticket_holders", y)
        if social != social_without:
            rows.append(Row(y, "Sozialticket: fares paid by the public", MONTHS * on_social,
                            "ticket-months", prices.fare(social_without - social, y)))
        if general != base_general:
            rows.append(Row(y, "general ticket: fares paid by the public",
                            MONTHS * (holders - on_social), "ticket-months",
                            prices.fare(base_general - general, y)))
        if headway != 1.0:
            rows.append(Row(y, f"service frequency (headways × {headway:g})",
                            facts.value("population", y), "residents",
                            (1.0 / headway - 1.0)
                            * prices.cost("pt_frequency_cost_per_resident_eur", y)))
    stops = len(_get(lever, "extra_stops", []) or [])
    if stops and years:
        rows.append(Row(years[0], "new stops", float(stops), "stops",
                        prices.cost("stop_cost_eur", years[0])))
    return rows


def school_investment_cost(lever: Any, facts: RunFacts, prices: Prices,
                           params: Mapping) -> list[Row]:
    """A yearly budget per invested quartier, scaled by the investment's quality."""
    rows = []
    for entry in lever or []:
        quality = float(_get(entry, "quality", 0.5))
        for y in _from(_get(entry, "from_year"), facts):
            rows.append(Row(y, f"school investment ({_get(entry, 'quartier', '?')})", quality,
                            "quality", prices.cost("school_investment_eur_per_quartier_year", y)))
    return rows


def ambulant_care_cost(lever: Any, facts: RunFacts, prices: Prices,
                       params: Mapping) -> list[Row]:
    """The extra clients' public care cost, every year from the lever's year."""
    clients = float(_get(lever, "extra_clients", 0.0))
    return [Row(y, "ambulant care capacity", clients, "client-years",
                prices.cost("ambulant_care_eur_per_client_year", y))
            for y in _from(_get(lever, "from_year"), facts)]


def demolition_cost(lever: Any, facts: RunFacts, prices: Prices, params: Mapping) -> list[Row]:
    """The dwellings the lever demolishes beyond the background rate."""
    return [Row(y, "Rückbau", facts.value("dwellings_demolished_lever", y), "dwellings",
                prices.cost("demolition_eur_per_dwelling", y))
            for y in _from(_get(lever, "from_year"), facts)]


def _places_cost(entries: Any, facts: RunFacts, prices: Prices, label: str,
                 unit_name: str) -> list[Row]:
    rows = []
    for entry in entries or []:
        name = _get(entry, "name", "") or _get(entry, "quartier", "?")
        for y in _from(_get(entry, "opening_year"), facts):
            rows.append(Row(y, f"{label} ({name})", float(_get(entry, "places", 0.0)),
                            "place-years", prices.cost(unit_name, y)))
    return rows


def nursing_homes_cost(lever: Any, facts: RunFacts, prices: Prices,
                       params: Mapping) -> list[Row]:
    """New nursing-home places (``{quartier, places, opening_year, name}``), per place and
    year from the opening year."""
    return _places_cost(lever, facts, prices, "nursing-home places",
                        "nursing_home_eur_per_place_year")


def tagespflege_cost(lever: Any, facts: RunFacts, prices: Prices,
                     params: Mapping) -> list[Row]:
    """New Tagespflege places (``{quartier, places, opening_year}``), per place and year."""
    return _places_cost(lever, facts, prices, "Tagespflege places",
                        "tagespflege_eur_per_place_year")


def kitas_cost(lever: Any, facts: RunFacts, prices: Prices, params: Mapping) -> list[Row]:
    """New Kita places (``{quartier, places_under3, places_3to6, opening_year, name}``): the
    investment once in the opening year, the running cost per place and year."""
    rows = []
    for kita in lever or []:
        name = _get(kita, "name", "") or _get(kita, "quartier", "?")
        under3 = float(_get(kita, "places_under3", 0.0))
        older = float(_get(kita, "places_3to6", 0.0))
        y0 = _once(_get(kita, "opening_year"), facts)
        if y0 is not None:
            rows.append(Row(y0, f"Kita investment ({name})", under3 + older, "places",
                            prices.cost("kita_investment_eur_per_place", y0)))
        for y in _from(_get(kita, "opening_year"), facts):
            rows.append(Row(y, f"Kita places under 3 ({name})", under3, "place-years",
                            prices.cost("kita_eur_per_place_under3_year", y)))
            rows.append(Row(y, f"Kita places 3-6 ({name})", older, "place-years",
                            prices.cost("kita_eur_per_place_3to6_year", y)))
    return rows


COST_FUNCTIONS: dict[str, CostFunction] = {
    "rent_mixing": rent_mixing_cost,
    "mvz": mvz_cost,
    "public_transport": public_transport_cost,
    "school_investment": school_investment_cost,
    "ambulant_care": ambulant_care_cost,
    "demolition": demolition_cost,
    "nursing_homes": nursing_homes_cost,
    "tagespflege": tagespflege_cost,
    "kitas": kitas_cost,
}
"""Lever field of ``scenario.levers`` → its cost function (a new lever kind adds one entry)."""


# -- costs of runs ------------------------------------------------------------------------


def scenario_dict(scenario: Any) -> dict:
    """A scenario as a plain dict (a pydantic Scenario, a dict, or the stored JSON)."""
    if isinstance(scenario, str):
        return json.loads(scenario)
    if isinstance(scenario, Mapping):
        return dict(scenario)
    return scenario.model_dump()


def prices_of(scenario: Mapping) -> Prices:
    params = scenario.get("parameters") or {}
    unit = CostParameters(**(params.get("costs") or {}))
    income_growth = float((params.get("income") or {}).get("income_growth", 0.034))
    growth = income_growth if unit.price_growth is None else float(unit.price_growth)
    return Prices(unit, growth, income_growth, int(scenario.get("start_year", 2024)))


def lever_costs(scenario: Any, outcomes: pd.DataFrame, *, run_id: str = "",
                functions: Mapping[str, CostFunction] | None = None) -> pd.DataFrame:
    """The cost rows of one run (columns :data:`COST_COLUMNS`).

    Args:
        scenario: The run's scenario (pydantic, dict or stored JSON).
        outcomes: The run's tidy outcomes (``year, scope, metric, value``).
        run_id: Written into the rows.
        functions: Cost functions by lever field (default :data:`COST_FUNCTIONS`).

    Raises:
        ValueError: for a lever set in the scenario that has no cost function.
    """
    functions = COST_FUNCTIONS if functions is None else functions
    sc = scenario_dict(scenario)
    prices = prices_of(sc)
    facts = RunFacts.from_outcomes(outcomes, prices.start_year)
    params = sc.get("parameters") or {}
    out = []
    for kind, lever in (sc.get("levers") or {}).items():
        if lever is None or lever == [] or lever == {}:
            continue
        if kind not in functions:
            raise ValueError(f"lever '{kind}' has no cost function in sim.experiments.costs")
        rows = functions[kind](lever, facts, prices, params)
        if not rows and facts.years:  # set, but nothing to pay for in the horizon
            rows = [Row(facts.years[0], "no paid measure in the horizon", 0.0, "-", 0.0)]
        for row in rows:
            out.append((run_id, sc.get("name", ""), row.year, kind, row.item, row.quantity,
                        row.quantity_unit, row.unit_cost_eur, row.eur))
    return pd.DataFrame(out, columns=COST_COLUMNS).astype(
        {"year": "int64", "quantity": float, "unit_cost_eur": float, "eur": float})


def costs_of_runs(experiments: pd.DataFrame, outcomes: pd.DataFrame,
                  scenarios: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """The cost rows of every run (the scenario from ``scenarios`` by name, else the run's
    stored ``parameters`` JSON)."""
    frames = []
    by_run = dict(tuple(outcomes.groupby("run_id", observed=True, sort=False)))
    for row in experiments.itertuples(index=False):
        sc = (scenarios or {}).get(row.scenario)
        if sc is None:
            sc = getattr(row, "parameters", None)
        if sc is None or row.run_id not in by_run:
            continue
        frames.append(lever_costs(sc, by_run[row.run_id], run_id=row.run_id))
    if not frames:
        return pd.DataFrame(columns=COST_COLUMNS)
    return pd.concat(frames, ignore_index=True)


def cost_summary(costs: pd.DataFrame, experiments: pd.DataFrame) -> pd.DataFrame:
    """Per scenario, lever and item: the cost over the horizon, mean over the replications
    (EUR), and its first and last year."""
    runs = experiments.groupby("scenario")["run_id"].nunique()
    if costs.empty:
        return pd.DataFrame(columns=["scenario", "lever", "item", "eur", "first_year",
                                     "last_year"])
    out = costs.groupby(["scenario", "lever", "item"], sort=False).agg(
        eur=("eur", "sum"), first_year=("year", "min"), last_year=("year", "max")).reset_index()
    out["eur"] = out["eur"] / out["scenario"].map(runs).astype(float)
    return out


# -- cost-effectiveness -------------------------------------------------------------------


@dataclass(frozen=True)
class Effect:
    """A unit of effect: ``sign × (scenario - baseline) / scale`` of ``metric``, citywide,
    summed over the simulated years (``"sum"``, flows) or in the final year (``"final"``)."""

    name: str
    unit: str
    metric: str
    how: str
    sign: float
    scale: float = 1.0


EFFECTS = (
    Effect("out_migrants_kept", "out-migrant kept", "out_migrants", "sum", -1.0),
    Effect("poor_kept", "poor resident kept", "out_migrants_poor", "sum", -1.0),
    Effect("dissimilarity_reduced", "0.01 less D (poor vs rest, quartiers)",
           "dissimilarity_income_quartiers", "final", -1.0, 0.01),
    Effect("old_near_gp", "additional resident 65+ near a GP",
           "residents_65plus_gp_within_reach", "final", 1.0),
)
"""The effects that cost-effectiveness is reported for (positive = better)."""

CE_COLUMNS = ["scenario", "effect", "effect_unit", "replications", "scenario_cost_eur",
              "cost_eur", "cost_ci_low", "cost_ci_high", "effect_mean", "effect_ci_low",
              "effect_ci_high", "eur_per_unit", "eur_per_unit_ci_low", "eur_per_unit_ci_high",
              "verdict"]


def _per_run_effects(outcomes: pd.DataFrame, start_year: int) -> pd.DataFrame:
    """Per run: the value of each effect's metric (sum over simulated years or final)."""
    city = outcomes[outcomes["scope"].astype(str) == "city"]
    city = city.assign(metric=city["metric"].astype(str))
    final = int(city["year"].max()) if len(city) else start_year
    out = {}
    for e in EFFECTS:
        rows = city[city["metric"] == e.metric]
        if e.how == "sum":
            rows = rows[rows["year"] >= start_year]
            out[e.name] = rows.groupby("run_id")["value"].sum(min_count=1)
        else:
            out[e.name] = rows[rows["year"] == final].groupby("run_id")["value"].first()
    return pd.DataFrame(out)


def fieller_interval(cost: np.ndarray, effect: np.ndarray,
                     t: float) -> tuple[float, float, float]:
    """Ratio of means mean(cost) / mean(effect) and its Fieller interval for paired samples.

    ``(nan, nan, nan)`` when the effect's interval (mean ± t·se) includes 0: then no bounded
    interval exists."""
    n = cost.size
    c, e = float(cost.mean()), float(effect.mean())
    v11 = float(np.var(cost, ddof=1)) / n
    v22 = float(np.var(effect, ddof=1)) / n
    v12 = float(np.cov(cost, effect, ddof=1)[0, 1]) / n
    if e == 0.0 or abs(e) <= t * math.sqrt(v22):
        return math.nan, math.nan, math.nan
    rho = c / e
    g = t * t * v22 / (e * e)
    adj = g * v12 / v22 if v22 > 0 else 0.0
    inner = v11 - 2 * rho * v12 + rho * rho * v22 - (g * (v11 - v12 * v12 / v22)
                                                        if v22 > 0 else 0.0)
    half = t / abs(e) * math.sqrt(max(inner, 0.0))
    lo, hi = (rho - adj - half) / (1 - g), (rho - adj + half) / (1 - g)
    return rho, lo, hi


def cost_effectiveness(experiments: pd.DataFrame, outcomes: pd.DataFrame,
                       costs: pd.DataFrame, *, baseline: str,
                       scenarios: Iterable[str] | None = None,
                       confidence: float = 0.95) -> pd.DataFrame:
    """Extra cost over the horizon and EUR per unit of each effect (:data:`EFFECTS`), paired
    with the baseline by replicate, with t-intervals (cost, effect) and a Fieller interval
    (ratio).

    ``verdict``: ``"EUR per unit"`` (a ratio with its interval); ``"no effect"`` (the effect's
    interval includes 0: no ratio is given, dividing by a noisy near-zero effect means
    nothing); ``"worse"`` (the effect is significantly the wrong way); ``"saves money"`` (a
    significant effect at no extra cost); ``"one replication"`` (no interval); ``"not
    recorded"`` (the runs lack the effect's metric).
    """
    runs = experiments[["run_id", "scenario", "replicate"]]
    start = _start_year(experiments, outcomes)
    effects = _per_run_effects(outcomes, start)
    total = costs.groupby("run_id")["eur"].sum() if len(costs) else pd.Series(dtype=float)
    per_run = runs.set_index("run_id").join(effects).assign(
        cost=lambda d: total.reindex(d.index).fillna(0.0).to_numpy())
    base = per_run[per_run["scenario"] == baseline].set_index("replicate")
    names = (list(scenarios) if scenarios is not None
             else [s for s in pd.unique(runs["scenario"]) if s != baseline])
    out = []
    for name in names:
        other = per_run[per_run["scenario"] == name].set_index("replicate")
        common = other.index.intersection(base.index)
        d_cost = (other.loc[common, "cost"] - base.loc[common, "cost"]).to_numpy(float)
        own = float(other.loc[common, "cost"].mean()) if len(common) else math.nan
        n = d_cost.size
        t = float(t_quantile(confidence, n - 1)) if n >= 2 else math.nan
        c_half = t * np.std(d_cost, ddof=1) / math.sqrt(n) if n >= 2 else math.nan
        for e in EFFECTS:
            d_eff = (e.sign * (other.loc[common, e.name] - base.loc[common, e.name])
                     / e.scale).to_numpy(float)
            ok = np.isfinite(d_eff)
            row = {"scenario": name, "effect": e.name, "effect_unit": e.unit,
                   "replications": int(ok.sum()), "scenario_cost_eur": own,
                   "cost_eur": float(d_cost.mean()) if n else math.nan,
                   "cost_ci_low": float(d_cost.mean() - c_half) if n else math.nan,
                   "cost_ci_high": float(d_cost.mean() + c_half) if n else math.nan}
            row.update(_ratio(d_cost[ok], d_eff[ok], confidence))
            out.append(row)
    return pd.DataFrame(out, columns=CE_COLUMNS)


def t_quantile(confidence: float, dof: int) -> float:
    """Two-sided Student-t quantile (as in the comparison's intervals)."""
    from scipy import stats

    return float(stats.t.ppf(0.5 + confidence / 2, dof))


def _ratio(cost: np.ndarray, effect: np.ndarray, confidence: float) -> dict:
    nan = math.nan
    n = effect.size
    row = {"effect_mean": float(effect.mean()) if n else nan, "effect_ci_low": nan,
           "effect_ci_high": nan, "eur_per_unit": nan, "eur_per_unit_ci_low": nan,
           "eur_per_unit_ci_high": nan}
    if n < 2:
        row["verdict"] = "one replication" if n == 1 else "not recorded"
        return row
    t = float(t_quantile(confidence, n - 1))
    half = t * float(np.std(effect, ddof=1)) / math.sqrt(n)
    mean = float(effect.mean())
    row.update(effect_ci_low=mean - half, effect_ci_high=mean + half)
    if mean - half <= 0.0 <= mean + half:
        row["verdict"] = "no effect"
    elif mean < 0:
        row["verdict"] = "worse"
    elif cost.mean() <= 0:
        row["verdict"] = "saves money"
    else:
        rho, lo, hi = fieller_interval(cost, effect, t)
        row.update(eur_per_unit=rho, eur_per_unit_ci_low=lo, eur_per_unit_ci_high=hi,
                   verdict="EUR per unit")
    return row


def _start_year(experiments: pd.DataFrame, outcomes: pd.DataFrame) -> int:
    """The first simulated year (the start state's year + 1)."""
    if "start_year" in experiments.columns and len(experiments):
        return int(experiments["start_year"].iloc[0])
    return int(outcomes["year"].min()) + 1


# -- display ------------------------------------------------------------------------------


def euros(value: float) -> str:
    """EUR for a table: millions from 1 M, else whole euros."""
    if not math.isfinite(value):
        return "n/a"
    if abs(value) >= 1e6:
        return f"{value / 1e6:,.2f} M€"
    return f"{value:,.0f} €"


VERDICTS_DE = {"no effect": "keine Wirkung", "worse": "Verschlechterung",
               "saves money": "spart Geld", "one replication": "eine Replikation",
               "not recorded": "nicht erfasst"}


def display_table(effectiveness: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """The cost-effectiveness table as text, one row per scenario and effect: extra cost over
    the horizon with its 95 % interval, the effect with its interval, and EUR per unit (or the
    verdict saying why there is none)."""
    de = lang == "de"
    cols = (["Szenario", "Mehrkosten (Zeitraum)", "95 %-KI Kosten", "Wirkung", "Differenz",
             "95 %-KI Wirkung", "EUR je Einheit", "95 %-KI EUR je Einheit"] if de else
            ["scenario", "extra cost (horizon)", "95 % CI cost", "effect", "difference",
             "95 % CI effect", "EUR per unit", "95 % CI EUR per unit"])
    rows = []
    for r in effectiveness.itertuples(index=False):
        interval = (f"[{euros(r.cost_ci_low)}, {euros(r.cost_ci_high)}]"
                    if math.isfinite(r.cost_ci_low) else "n/a")
        eff_ci = (f"[{r.effect_ci_low:+,.1f}, {r.effect_ci_high:+,.1f}]"
                  if math.isfinite(r.effect_ci_low) else "n/a")
        if r.verdict == "EUR per unit":
            per, per_ci = euros(r.eur_per_unit), (
                f"[{euros(r.eur_per_unit_ci_low)}, {euros(r.eur_per_unit_ci_high)}]")
        else:
            per, per_ci = (VERDICTS_DE.get(r.verdict, r.verdict) if de else r.verdict), ""
        rows.append([r.scenario, euros(r.cost_eur), interval, r.effect_unit,
                     f"{r.effect_mean:+,.1f}" if math.isfinite(r.effect_mean) else "n/a",
                     eff_ci, per, per_ci])
    return pd.DataFrame(rows, columns=cols)
