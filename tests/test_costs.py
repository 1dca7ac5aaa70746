"""Lever costs: unit costs checked by hand, every lever scenario costed, cost per effect."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import sim
from sim.experiments import costs as cm
from sim.scenario.levers import Levers

from .conftest import SCENARIOS
from .experiment_helpers import quartier, write_scenario

START = 2024  # the scenarios' start_year; the start state is year 2023
INCOME_GROWTH = 0.034  # income.income_growth (NRW poverty line 2012-2023), the default growth


def _outcomes(values: dict[str, dict[int, float]], start: int = START) -> pd.DataFrame:
    """City outcomes of one run: ``{metric: {year: value}}``, plus a start-state year."""
    rows = [{"year": start - 1, "scope": "city", "metric": "population", "value": 1000.0}]
    for metric, by_year in values.items():
        rows += [{"year": y, "scope": "city", "metric": metric, "value": v}
                 for y, v in by_year.items()]
    return pd.DataFrame(rows)


def _scenario(levers: dict, **parameters) -> dict:
    return {"name": "s", "start_year": START, "levers": levers, "parameters": parameters}


def test_bought_bindings_and_social_new_building_by_hand():
    """Worked by hand from the sourced unit costs (lever_costs.csv):

    bought binding: Neuss 2019, 2.20 EUR per m² and month; 1,000 m² bound in 2026:
    1,000 × 2.20 × 12 = 26,400 EUR in 2019 prices, grown 7 years at 3.4 % (1.034^7 = 1.263699):
    26,400 × 1.263699 = 33,361.7 EUR.

    social new building: loan per new rental flat 122,170 EUR (NRW.BANK 2017, 761 M EUR /
    6,229 flats) × (15 % Tilgungsnachlass, NRW 2015 + 15 % interest advantage, ASSUMPTION)
    = 36,651 EUR per flat in 2017 prices; 4 flats in 2026 (1.034^9 = 1.351092):
    4 × 36,651 × 1.351092 = 198,075.5 EUR.
    """
    lever = {"from_year": 2025, "new_building_social_quota": 0.3, "social_share_target": 0.3}
    out = _outcomes({"bound_floor_space_bought": {2025: 0.0, 2026: 1000.0},
                     "social_dwellings_built": {2025: 0.0, 2026: 4.0}})
    rows = cm.lever_costs(_scenario({"rent_mixing": lever}), out)
    got = rows[rows["year"] == 2026].set_index("item")["eur"]
    assert got["bought bindings"] == pytest.approx(1000 * 2.20 * 12 * 1.034 ** 7, rel=1e-9)
    assert got["bought bindings"] == pytest.approx(33_361.7, abs=0.1)
    assert got["social new building (Wohnraumförderung)"] == pytest.approx(
        4 * 122_170 * 0.30 * 1.034 ** 9, rel=1e-9)
    assert got["social new building (Wohnraumförderung)"] == pytest.approx(198_075.5, abs=0.1)
    assert rows[rows["year"] == 2025]["eur"].sum() == 0.0


def test_sozialticket_and_free_fares_per_ticket_month_by_hand():
    """Sozialticket at 19 EUR instead of the default 39 (VRR 12/2023): the public pays 20 EUR
    per ticket-month, at the start state's prices grown with incomes (2025: 2 years after
    2023); 100 holders → 100 × 12 × 20 × 1.034^2 = 25,658.7 EUR. Free fares: every holder's
    price (general 49, Sozialticket 39)."""
    out = _outcomes({"ticket_holders": {2025: 300.0}, "sozialticket_holders": {2025: 100.0}})
    social = cm.lever_costs(_scenario({"public_transport": {
        "from_year": 2025, "sozialticket_price_eur": 19.0}}), out)
    assert social["eur"].sum() == pytest.approx(100 * 12 * 20 * 1.034 ** 2, rel=1e-9)
    free = cm.lever_costs(_scenario({"public_transport": {
        "from_year": 2025, "free_fares": True}}), out)
    assert free["eur"].sum() == pytest.approx(12 * (100 * 39 + 200 * 49) * 1.034 ** 2,
                                              rel=1e-9)
    dearer = cm.lever_costs(_scenario({"public_transport": {
        "from_year": 2025, "ticket_price_eur": 58.0, "sozialticket_price_eur": 48.0}}), out)
    assert dearer["eur"].sum() < 0  # a price rise saves public money


def test_new_lever_kinds_from_plain_dicts():
    """Nursing homes, Tagespflege and Kitas, given as plain dicts with the new levers'
    fields, cost their places from the opening year (unit costs are ASSUMPTIONs, see
    docs/costs.md); the price year of these assumptions is 2024."""
    levers = {
        "nursing_homes": [{"quartier": "a", "places": 80, "opening_year": 2026, "name": "H"}],
        "tagespflege": [{"quartier": "a", "places": 15, "opening_year": 2025}],
        "kitas": [{"quartier": "b", "places_under3": 20, "places_3to6": 40,
                   "opening_year": 2025, "name": "K"}],
    }
    out = _outcomes({"population": {2024: 1000.0, 2025: 1000.0, 2026: 1000.0}})
    rows = cm.lever_costs(_scenario(levers, costs={"price_growth": 0.0}), out)
    by = rows.groupby("lever")["eur"].sum()
    assert by["nursing_homes"] == pytest.approx(80 * 12_000)          # 2026 only
    assert by["tagespflege"] == pytest.approx(2 * 15 * 15_000)        # 2025, 2026
    assert by["kitas"] == pytest.approx(60 * 30_000                   # investment, once
                                        + 2 * (20 * 18_000 + 40 * 9_000))
    assert rows["year"].min() == 2025


def test_every_lever_kind_has_a_cost_function():
    assert set(Levers.model_fields) <= set(cm.COST_FUNCTIONS)


def test_a_lever_without_a_cost_function_is_refused():
    with pytest.raises(ValueError, match="'teleport' has no cost function"):
        cm.lever_costs(_scenario({"teleport": {"x": 1}}), _outcomes({}))


LEVER_SCENARIOS = sorted(p for p in SCENARIOS.glob("*.toml")
                         if any(getattr(sim.load_scenario(p).levers, f) for f in
                                Levers.model_fields))


@pytest.mark.parametrize("path", LEVER_SCENARIOS, ids=lambda p: p.stem)
def test_every_lever_scenario_reports_its_costs(path):
    """Every scenario file with a lever gets cost rows for each lever it sets; with every
    quantity the levers pay for at 1 a year, each lever that does something costs money."""
    sc = sim.load_scenario(path)
    years = range(sc.start_year, sc.start_year + 10)
    metrics = ["social_dwellings_built", "bound_floor_space_bought", "ticket_holders",
               "bound_floor_space_extended", "dwellings_demolished_lever", "population",
               "gp_incentive_doctors", "gp_incentive_refills", "sozialticket_holders"]
    out = _outcomes({m: {y: 1.0 for y in years} for m in metrics}, start=sc.start_year)
    rows = cm.lever_costs(sc, out)
    set_levers = {f for f in Levers.model_fields if getattr(sc.levers, f)}
    assert set(rows["lever"]) == set_levers
    for lever, part in rows.groupby("lever"):
        if (part["item"] == "no paid measure in the horizon").all():
            assert path.stem == "rent_mix_no_action"  # the reference: bindings just expire
        else:
            assert part["eur"].sum() != 0.0, lever


def _ce_tables(base_cost, cost, base_effect, effect, metric="out_migrants"):
    """experiments, outcomes and cost rows of a baseline and a policy with given totals per
    replicate (one simulated year, so a sum is the value)."""
    exp, out, rows = [], [], []
    for name, costs, values in (("base", base_cost, base_effect), ("policy", cost, effect)):
        for r, (c, v) in enumerate(zip(costs, values, strict=True)):
            run = f"{name}{r}"
            exp.append({"run_id": run, "scenario": name, "replicate": r, "start_year": 2030})
            out.append({"run_id": run, "year": 2030, "scope": "city", "metric": metric,
                        "value": v})
            rows.append({"run_id": run, "scenario": name, "year": 2030, "lever": "x",
                         "item": "x", "quantity": 1.0, "quantity_unit": "-",
                         "unit_cost_eur": c, "eur": c})
    return pd.DataFrame(exp), pd.DataFrame(out), pd.DataFrame(rows, columns=cm.COST_COLUMNS)


def _kept(table):
    return table.set_index("effect").loc["out_migrants_kept"]


def test_cost_per_effect_when_the_effect_is_clear():
    """Out-migrants 100, 102, 98 → 90, 91, 89: 10, 11, 9 kept (mean 10); cost 1,000 each:
    1,000 / 10 = 100 EUR per out-migrant kept; the Fieller interval holds it and is positive."""
    exp, out, costs = _ce_tables([0, 0, 0], [1000, 1000, 1000], [100, 102, 98], [90, 91, 89])
    row = _kept(cm.cost_effectiveness(exp, out, costs, baseline="base"))
    assert row["verdict"] == "EUR per unit"
    assert row["effect_mean"] == pytest.approx(10.0)
    assert row["eur_per_unit"] == pytest.approx(100.0)
    assert 0 < row["eur_per_unit_ci_low"] < 100.0 < row["eur_per_unit_ci_high"]
    # constant cost: Fieller's interval is 1,000 / the effect's interval
    assert row["eur_per_unit_ci_low"] == pytest.approx(1000 / row["effect_ci_high"])
    assert row["eur_per_unit_ci_high"] == pytest.approx(1000 / row["effect_ci_low"])
    assert row["cost_eur"] == pytest.approx(1000.0)


@pytest.mark.parametrize("policy_effect", [[100, 102, 98], [101, 99, 100.5]],
                         ids=["zero", "insignificant"])
def test_no_cost_per_effect_when_the_interval_includes_zero(policy_effect):
    """A zero or insignificant effect gives 'no effect' and no ratio (not a division by ~0)."""
    exp, out, costs = _ce_tables([0, 0, 0], [1000, 1000, 1000], [100, 102, 98], policy_effect)
    row = _kept(cm.cost_effectiveness(exp, out, costs, baseline="base"))
    assert row["verdict"] == "no effect"
    assert math.isnan(row["eur_per_unit"]) and math.isnan(row["eur_per_unit_ci_low"])
    assert row["effect_ci_low"] <= 0 <= row["effect_ci_high"]
    shown = cm.display_table(cm.cost_effectiveness(exp, out, costs, baseline="base"))
    assert shown["EUR per unit"].iloc[0] == "no effect"  # the first effect: out-migrants
    assert (shown["EUR per unit"].iloc[1:] == "not recorded").all()


def test_worse_and_saves_money_and_one_replication():
    exp, out, costs = _ce_tables([0, 0, 0], [500, 500, 500], [100, 102, 98], [110, 112, 109])
    assert _kept(cm.cost_effectiveness(exp, out, costs, baseline="base"))["verdict"] == "worse"
    exp, out, costs = _ce_tables([0, 0, 0], [-50, -60, -40], [100, 102, 98], [90, 91, 89])
    row = _kept(cm.cost_effectiveness(exp, out, costs, baseline="base"))
    assert row["verdict"] == "saves money" and math.isnan(row["eur_per_unit"])
    exp, out, costs = _ce_tables([0], [500], [100], [90])
    assert _kept(cm.cost_effectiveness(exp, out, costs,
                                       baseline="base"))["verdict"] == "one replication"


def test_fieller_matches_the_delta_method_for_a_precise_effect():
    """With a precise effect (g ≈ 0) Fieller's interval approaches the delta method's."""
    rng = np.random.default_rng(5)
    cost = 1000 + 50 * rng.standard_normal(20)
    effect = 10 + 0.05 * rng.standard_normal(20)
    t = 2.093024  # t(0.975, 19)
    rho, lo, hi = cm.fieller_interval(cost, effect, t)
    se = np.std(cost / effect.mean(), ddof=1) / math.sqrt(20)
    assert rho == pytest.approx(cost.mean() / effect.mean())
    assert (hi - lo) / 2 == pytest.approx(t * se, rel=0.05)


def test_compare_writes_and_prints_the_costs(tmp_path):
    """A small comparison writes costs.parquet and cost_effectiveness.parquet and prints the
    cost-effectiveness table."""
    base = write_scenario(tmp_path, "base")
    policy = write_scenario(tmp_path, "sozialticket", "[levers.public_transport]\n"
                            "from_year = 2024\nsozialticket_price_eur = 9.0\n")
    out = tmp_path / "o"
    proc = quartier("compare", base, policy, "--replications", 2, "--years", 2, "--out", out,
                    "--workers", 1, "--metric", "out_migrants")
    assert proc.returncode == 0, proc.stderr
    assert "cost-effectiveness" in proc.stdout and "out-migrant kept" in proc.stdout
    costs = pd.read_parquet(out / "costs.parquet")
    assert set(costs["scenario"]) == {"sozialticket"}
    assert (costs["eur"] > 0).all() and (costs["year"] >= 2024).all()
    ce = pd.read_parquet(out / "cost_effectiveness.parquet")
    assert list(ce.columns) == cm.CE_COLUMNS and len(ce) == len(cm.EFFECTS)
    assert ce["cost_eur"].iloc[0] == pytest.approx(costs["eur"].sum() / 2)
    # the report's section shows both tables
    from dashboards.costs import cost_section
    from dashboards.data import load_results
    from dashboards.report import Page

    page = Page("en")
    cost_section(load_results(out), page)
    (key, _, parts), = page.sections
    html = "".join(parts)
    assert key == "costs" and "Sozialticket: fares paid by the public" in html
    assert "out-migrant kept" in html


def test_unit_costs_do_not_change_the_run_identity(baseline):
    """Costs are computed after the run: changing a unit cost reuses the stored runs."""
    dearer = baseline.with_values({"parameters.costs.binding_purchase_eur_m2_month": 5.0})
    assert dearer.parameters.costs.binding_purchase_eur_m2_month == 5.0
    assert dearer.content_hash() == baseline.content_hash()
    assert baseline.with_values({"parameters.income.income_growth": 0.02}).content_hash() \
        != baseline.content_hash()
