"""Employment status: employed, unemployed (first year: Arbeitslosengeld I; later: SGB II) or
not in the labour force, for persons 18-74; everybody else is outside the labour force.

**Start**: the employed are those of :mod:`sim.model.processes.jobs` (NRW employment rates by
age and sex, lower odds in households at risk of poverty); of the others aged 18-64 a share is
unemployed such that unemployment is ``unemployment_rate`` of the labour force, and of the
unemployed the share still unemployed a year on (1 - ``unemployment_exit_rate``) has been so for
a year or more. **Each year** persons move between the states at yearly rates by age and sex:
unemployment ends at ``unemployment_exit_rate`` (into a job or out of the labour force), the
employed leave the labour force at ``inactivity_rate``; the inflows into unemployment and into
jobs from outside the labour force are DERIVED so that the shares by age and sex stay at their
start values. Where the employment rate falls with age (55, 65, 70, 75) the employed retire in
the proportion it falls; at 65 the unemployed retire. At 18 a person's status is drawn like at
the start. Newcomers (in-migrants) arrive with a status drawn like at the start.

**Earnings potential**: every adult has a fixed net earnings potential (EUR/month at the start
year's level). At the start (and for in-migrants on arrival) the earners of a household share
its net income by their status (:func:`sim.model.processes.incomes.status_weight`); adults
without income draw theirs from the start distribution of the employed, by a keyed number
correlated with their household's income rank (``potential_household_correlation``), as do
young people turning 18.
:mod:`sim.model.processes.incomes` turns status and potential into household income each year.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numba import njit
from scipy.special import ndtr, ndtri

from sim.model.metrics import with_city
from sim.model.processes.incomes import (
    age_profile,
    benefit_levels,
    new_sums,
    recompute,
    status_weight,
    weight_table,
)
from sim.model.processes.jobs import employed, employment_tables
from sim.model.rng import keyed_base, keyed_uniforms, uniform_from
from sim.model.tilt import tilted
from sim.state.income import income_group, income_sigma

if TYPE_CHECKING:
    from sim.model.kernel import QuartierModel
    from sim.model.schedule import Draws
    from sim.model.year import YearState
    from sim.scenario.employment_parameters import EmploymentParameters

EMPLOYED, UNEMPLOYED_SHORT, UNEMPLOYED_LONG, INACTIVE = 0, 1, 2, 3
STATUS_NAMES = ("employed", "unemployed_under_1_year", "unemployed_1_year_plus",
                "not_in_labour_force")
WORK_MIN_AGE, WORK_MAX_AGE, PENSION_AGE = 18, 74, 65
SLOT_UNEMPLOYED, SLOT_LONG, SLOT_POTENTIAL, SLOT_MOVE, SLOT_RETIRE, SLOT_TRANSITORY = range(6)
N_QUANTILES = 1001
NORMAL_TABLE = ndtri((np.arange(4096) + 0.5) / 4096)  # standard normal by 4,096 quantiles


@dataclass
class EmploymentState:
    """What the employment process keeps for the run.

    Attributes:
        start_table: Employment probability at the start by (poor, sex, age) (from jobs).
        target: Employed and unemployed shares by (sex, age), shape (2, 2, ages).
        rates: Yearly transition probabilities by (sex, age): E→U, E→N, U exit, N→U, N→E,
            retirement of the employed at this age; shape (6, 2, ages).
        potential_quantiles: Start distribution of the employed's earnings potentials.
        weights: Income per unit of potential: first year of unemployment, outside the
            labour force (18-64), pension (65+); and the yearly growth with age.
        log_moments: Mean and variance of the start earners' log incomes.
        risk_means: Mean factor of the risk gradient of the employed, unemployed and inactive
            (last year's; normalises this year's rates).
        risk_parameters: The parameters the persons' kept risk factors were computed with
            (``Population.risk_potential``, ``risk_factor``, ``risk_negative``; see
            :func:`_moves`); ``None`` before the first year.
    """

    start_table: np.ndarray
    target: np.ndarray
    rates: np.ndarray
    potential_quantiles: np.ndarray
    weights: np.ndarray
    log_moments: np.ndarray
    risk_means: np.ndarray = field(default_factory=lambda: np.ones(3))
    risk_parameters: tuple | None = None


def targets(jobs_table: np.ndarray, poor_share: float, ep: EmploymentParameters) -> np.ndarray:
    """Employed and unemployed shares by (sex, age): the mean employment rate of the start
    table (over poor and not poor) and unemployment at ``unemployment_rate`` of the labour
    force below the pension age."""
    e = (1.0 - poor_share) * jobs_table[0] + poor_share * jobs_table[1]
    u = np.zeros_like(e)
    ages = np.arange(e.shape[1])
    working = (ages >= WORK_MIN_AGE) & (ages < PENSION_AGE)
    u[:, working] = e[:, working] * ep.unemployment_rate / (1.0 - ep.unemployment_rate)
    return np.stack([e, np.minimum(u, 1.0 - e)])


def transition_rates(target: np.ndarray, ep: EmploymentParameters) -> np.ndarray:
    """Yearly transition probabilities that keep the shares ``target`` (see the module
    docstring): rows E→U, E→N, U exit, N→U, N→E, retirement of the employed."""
    e, u = target
    n = np.maximum(1.0 - e - u, 0.0)
    out_u = u * ep.unemployment_exit_rate
    with np.errstate(divide="ignore", invalid="ignore"):
        p_eu = np.where(e > 0, ep.entry_from_employment_share * out_u / e, 0.0)
        p_nu = np.where(n > 0, (1.0 - ep.entry_from_employment_share) * out_u / n, 0.0)
        p_ne = np.where(n > 0, (e * (p_eu + ep.inactivity_rate)
                                - out_u * ep.exit_to_employment_share) / n, 0.0)
        retire = np.zeros_like(e)
        prev = np.concatenate([e[:, :1], e[:, :-1]], axis=1)
        retire = np.where((prev > e) & (prev > 0), 1.0 - e / prev, 0.0)
    p_en = np.where(e > 0, ep.inactivity_rate, 0.0)
    p_u = np.where(u > 0, ep.unemployment_exit_rate, 1.0)
    rates = np.stack([p_eu, p_en, p_u, p_nu, np.clip(p_ne, 0.0, 1.0), retire])
    return np.clip(np.nan_to_num(rates), 0.0, 1.0)


def start_status(age: np.ndarray, sex: np.ndarray, poor: np.ndarray, pid: np.ndarray,
                 jobs_key: np.uint64, key: np.uint64, state: EmploymentState,
                 ep: EmploymentParameters, year: int = 0,
                 rank: np.ndarray | None = None) -> np.ndarray:
    """Status drawn from the start shares: employed as :func:`jobs.employed` (the same keyed
    numbers), else unemployed with the probability that gives the target unemployment, and
    unemployed for a year or more with the probability ``1 - unemployment_exit_rate``.

    With ``rank`` (the household's income rank as a standard normal score, standing in for
    the person's potential score of :func:`_moves`), both follow the yearly moves' risk
    gradient: the odds of unemployment among those without a job scale with
    ``exp(-2 risk_gradient rank)`` (job loss more likely by ``exp(-g z)``, exit less likely
    by ``exp(g z)``), and the chance of a year or more with ``1 - exit rate × exp(g rank)``;
    both normalised so that the shares by age and sex stay the targets."""
    a = np.minimum(age.astype(np.int64), state.target.shape[2] - 1)
    s = sex.astype(np.int64)
    status = np.full(age.size, INACTIVE, np.int8)
    emp = employed(age, sex, poor, pid, jobs_key, state.start_table)
    e, u = state.target[0, s, a], state.target[1, s, a]
    p_unemp = np.minimum(u / np.maximum(1.0 - e, 1e-9), 1.0)
    p_long = np.full(age.size, 1.0 - ep.unemployment_exit_rate)
    g = ep.risk_gradient
    if rank is not None and g > 0.0 and age.size:
        cell = s * state.target.shape[2] + a
        n_cells = 2 * state.target.shape[2]
        odds = np.exp(-2.0 * g * np.nan_to_num(rank))
        p_unemp = tilted(p_unemp, odds, ~emp, cell, n_cells)
        exit_factor = np.exp(g * np.nan_to_num(rank))
        weight = p_unemp[~emp]
        mean = (float((exit_factor[~emp] * weight).sum() / weight.sum()) if weight.sum() > 0
                else 1.0)
        p_long = np.clip(1.0 - ep.unemployment_exit_rate * exit_factor / mean, 0.0, 1.0)
    unemp = ~emp & (keyed_uniforms(key, year, pid, SLOT_UNEMPLOYED) < p_unemp)
    long = keyed_uniforms(key, year, pid, SLOT_LONG) < p_long
    status[unemp] = np.where(long[unemp], UNEMPLOYED_LONG, UNEMPLOYED_SHORT)
    status[emp] = EMPLOYED
    status[(age < WORK_MIN_AGE) | (age > WORK_MAX_AGE)] = INACTIVE
    return status


@njit(cache=True)
def _split_income(household, age, status, alive, net, potential, index, w, profile):
    """Income per unit of status weight of the members with income-bearing status of
    households whose potentials are not set: the household's net income shared by weights."""
    n = net.size
    total = np.zeros(n)
    for i in range(household.size):
        if alive[i] and np.isnan(potential[i]):
            total[household[i]] += status_weight(status[i], age[i], w, profile)
    done = np.zeros(household.size, np.bool_)
    for i in range(household.size):
        h = household[i]
        if alive[i] and np.isnan(potential[i]) and total[h] > 0.0:
            if status_weight(status[i], age[i], w, profile) > 0.0:
                potential[i] = net[h] / total[h] / index
                done[i] = True
    return done


@njit(cache=True)
def _household_net(household, age, income, n):
    """Net income (``income`` times the new OECD scale, as :func:`sim.state.income.oecd_scale`,
    over the members given) of the households in ``household``; the others are not set."""
    members = np.zeros(n, np.int64)
    young = np.zeros(n, np.int64)
    for i in range(household.size):
        h = household[i]
        members[h] += 1
        young[h] += age[i] < 14
    net = np.empty(n)
    for i in range(household.size):
        h = household[i]
        net[h] = np.float64(income[h]) * (1.0 + 0.5 * max(members[h] - young[h] - 1, 0)
                                          + 0.3 * young[h])
    return net


def draw_potentials(model: QuartierModel, persons: np.ndarray, key: np.uint64,
                    quantiles: np.ndarray) -> np.ndarray:
    """Potentials of ``persons`` from the start distribution, by a keyed number correlated with
    their household's income rank (log-normal rank of its equivalised income)."""
    pop = model.population
    ep = model.scenario.parameters.employment
    ip = model.scenario.parameters.income
    rho = ep.potential_household_correlation
    eq = np.maximum(pop.income[pop.household[persons]].astype(np.float64), 1.0)
    z_rank = np.log(eq / model.median_income) / income_sigma(ip.poverty_rate)
    z = rho * z_rank + np.sqrt(1.0 - rho * rho) * ndtri(
        keyed_uniforms(key, 0, pop.pid[persons], SLOT_POTENTIAL))
    return np.interp(ndtr(z), np.linspace(0.0, 1.0, quantiles.size), quantiles).astype(
        np.float32)


def assign_potentials(model: QuartierModel, persons: np.ndarray, key: np.uint64,
                      state: EmploymentState, start: bool = False) -> None:
    """Potentials and transitory factors of ``persons`` (all members of their households;
    potentials not set): the household's net income split among the members with income, less
    a transitory part (at the start the household's, drawn with the start incomes apart from
    where it lives (:func:`sim.model.housing.initialise`); for in-migrants its expected share
    given the income, plus noise: the spread of the potentials is the start spread less the
    transitory one); draws for the other adults. At the start this also fixes the pension
    share (if DERIVED), the log-income moments and the potentials' distribution."""
    pop = model.population
    ep = model.scenario.parameters.employment
    n = pop.n_households
    hh, age, status = pop.household[persons], pop.age[persons], pop.employment[persons]
    net = _household_net(hh, age, pop.income, n)
    w = state.weights.copy()
    if start:
        w[2] = 1.0
    potential = pop.potential[persons]
    done = _split_income(hh, age, status, np.ones(persons.size, np.bool_), net, potential,
                         model.income_index, w, age_profile(ep.earnings_growth_with_age))
    worker = done & (status == EMPLOYED) & (age < PENSION_AGE)
    if start:
        pensioner = done & (status == INACTIVE) & (age >= PENSION_AGE)
        if ep.pension_share is None and pensioner.any() and worker.any():
            state.weights[2] = float(np.median(potential[pensioner])
                                     / np.median(potential[worker]))
        potential[pensioner] /= np.float32(max(state.weights[2], 1e-6))
        logs = np.log(np.maximum(potential[worker].astype(np.float64), 1.0))
        if logs.size > 1:
            state.log_moments = np.array([logs.mean(), logs.var()])
    var_t = ep.transitory_sd ** 2
    mu, var = state.log_moments
    share = min(var_t / var, 0.9) if var > 0 else 0.0
    idx = np.flatnonzero(done)
    logs = np.log(np.maximum(potential[idx].astype(np.float64), 1.0))
    if start:  # the household's transitory part, drawn with the start incomes
        eps = np.log(pop.transitory[persons[idx]].astype(np.float64))
    else:
        xi = ndtri(keyed_uniforms(key, 0, pop.pid[persons[idx]], SLOT_TRANSITORY))
        eps = share * (logs - mu) + np.sqrt(max(var_t - share * share * var, 0.0)) * xi
    pop.transitory[persons[idx]] = np.exp(eps)
    potential[idx] = np.exp(logs - eps)
    pop.potential[persons] = potential
    if start:
        values = potential[worker]
        state.potential_quantiles = (
            np.quantile(values, np.linspace(0.0, 1.0, N_QUANTILES)) if values.size
            else np.full(N_QUANTILES, model.median_income))
    new_adults(model, persons[np.isnan(potential) & (age >= WORK_MIN_AGE)], key, state)


def new_adults(model: QuartierModel, persons: np.ndarray, key: np.uint64,
               state: EmploymentState) -> None:
    """Potentials (keyed draws) and transitory parts (stationary draws) of new adults."""
    if persons.size == 0:
        return
    pop = model.population
    pop.potential[persons] = draw_potentials(model, persons, key, state.potential_quantiles)
    pop.transitory[persons] = np.exp(model.scenario.parameters.employment.transitory_sd * ndtri(
        keyed_uniforms(key, 0, pop.pid[persons], SLOT_TRANSITORY)))


def setup(model: QuartierModel) -> EmploymentState:
    """Statuses and potentials of the start population; its incomes recomputed from them."""
    pop = model.population
    params = model.scenario.parameters
    ep, jp = params.employment, params.jobs
    group = income_group(pop.income, model.median_income)
    poor = group[pop.household] == 0
    poor_share = float(poor.mean()) if pop.n_persons else 0.0
    table = employment_tables(jp, params.demography.max_age, poor_share)
    target = targets(table, poor_share, ep)
    state = EmploymentState(table, target, transition_rates(target, ep), np.zeros(0),
                            np.array([ep.unemployment_benefit_share, ep.inactive_income_share,
                                      ep.pension_share or 0.0, ep.earnings_growth_with_age]),
                            np.array([0.0, 0.0]))
    pop.employment = start_status(pop.age, pop.sex, poor, pop.pid, model.keys["jobs"],
                                  model.keys["employment"], state, ep,
                                  rank=_income_rank(model, pop.transitory)[pop.household])
    # a household not at risk of poverty whose only members of working age are long-term
    # unemployed lives on Arbeitslosengeld I: its unemployed count as unemployed under a year
    bearing = (pop.employment == EMPLOYED) | (pop.employment == UNEMPLOYED_SHORT) | (
        (pop.employment == INACTIVE) & (pop.age >= WORK_MIN_AGE))
    no_income = np.bincount(pop.household[bearing], minlength=pop.n_households) == 0
    lift = (pop.employment == UNEMPLOYED_LONG) & (no_income & (group != 0))[pop.household]
    pop.employment[lift] = UNEMPLOYED_SHORT
    pop.potential = np.full(pop.n_persons, np.nan, np.float32)
    if pop.transitory.size != pop.n_persons:  # not drawn with the start incomes
        pop.transitory = np.ones(pop.n_persons, np.float32)
    alive = np.ones(pop.n_persons, bool)
    assign_potentials(model, np.arange(pop.n_persons), model.keys["employment"], state,
                      start=True)
    household_alive = np.ones(pop.n_households, bool)
    pop.income = recompute(model, alive, household_alive, state)
    pop.poverty_years = (pop.income < 0.6 * model.median_income).astype(np.int16)
    state.risk_means = _risk_means(pop, state, ep.risk_gradient)
    return state


def _income_rank(model: QuartierModel, transitory: np.ndarray) -> np.ndarray:
    """Households' income rank as a standard normal score: the log of their equivalised
    income (less the transitory part drawn with the start incomes, if any) over the median,
    in units of the income spread (as :func:`draw_potentials`)."""
    pop = model.population
    eq = np.maximum(pop.income.astype(np.float64), 1.0)
    if transitory.size == pop.n_persons and pop.n_persons:
        first = np.full(pop.n_households, -1, np.int64)
        first[pop.household[::-1]] = np.arange(pop.n_persons)[::-1]
        has = first >= 0
        eq[has] /= transitory[first[has]].astype(np.float64)
    sigma = income_sigma(model.scenario.parameters.income.poverty_rate)
    return np.log(eq / model.median_income) / sigma


def arrive(model: QuartierModel) -> None:
    """In-migrants (the persons without a status) get a status (start shares, by their
    household's poverty and income rank) and potentials (their drawn income shared among the
    earners)."""
    pop = model.population
    st: EmploymentState = model.employment
    new = np.flatnonzero(pop.employment < 0)
    if new.size == 0:
        return
    income = pop.income[pop.household[new]].astype(np.float64)
    poor = income < 0.6 * model.median_income
    rank = np.log(np.maximum(income, 1.0) / model.median_income) / income_sigma(
        model.scenario.parameters.income.poverty_rate)
    pop.employment[new] = start_status(pop.age[new], pop.sex[new], poor, pop.pid[new],
                                       model.keys["jobs"], model.keys["employment"], st,
                                       model.scenario.parameters.employment, rank=rank)
    assign_potentials(model, new, model.keys["employment"], st)


def step(model: QuartierModel, year: YearState, params: EmploymentParameters,
         draws: Draws) -> dict[str, np.ndarray]:
    """This year's moves between the states; statuses of newborns and of persons turning 18;
    potentials of new adults."""
    pop = model.population
    st: EmploymentState = model.employment
    key = np.uint64(draws.key)
    status = pop.employment
    alive, enter, adults = _prepare(pop.household, year.person_alive, year.household_alive,
                                    pop.age, status, pop.potential)
    if enter.size:
        poor_h = pop.income < 0.6 * model.median_income
        status[enter] = start_status(pop.age[enter], pop.sex[enter], poor_h[pop.household[enter]],
                                     pop.pid[enter], model.keys["jobs"], key, st, params,
                                     year.year)
    new_adults(model, adults, key, st)
    log_mu, log_sd = _log_scale(st.potential_quantiles)
    params_now = (float(params.risk_gradient), log_mu, log_sd)
    if params.risk_gradient > 0.0:  # without a gradient there are no factors to keep
        if pop.risk_factor.size != pop.n_persons:
            pop.start_risk_columns()
        elif st.risk_parameters != params_now:
            pop.risk_potential[:] = np.nan
        st.risk_parameters = params_now
    counts, sums = _moves(pop.age, pop.sex, status, pop.potential, pop.transitory, alive,
                          pop.pid, key, year.year, st.rates, log_mu, log_sd,
                          params.risk_gradient, params.exit_to_employment_share,
                          params.transitory_autocorrelation, params.transitory_sd,
                          NORMAL_TABLE, st.risk_means, pop.household,
                          year.household_quartier, year.n_quartiers, pop.is_child,
                          pop.n_households, st.weights,
                          age_profile(params.earnings_growth_with_age), benefit_levels(params),
                          pop.risk_potential, pop.risk_factor, pop.risk_negative)
    model.income_sums = (year, sums)
    return {"job_losses": with_city(counts[0].astype(float)),
            "job_entries": with_city(counts[1].astype(float))}


@njit(cache=True)
def _prepare(household, person_alive, household_alive, age, status, potential):
    """Living persons; persons under 18 without a status made inactive; the living persons
    turning 18 or without a status, and the living adults without a potential."""
    n = household.size
    alive = np.empty(n, np.bool_)
    enter = np.empty(n, np.int64)
    adults = np.empty(n, np.int64)
    n_enter = n_adults = 0
    for i in range(n):
        a = age[i]
        if status[i] < 0 and a < WORK_MIN_AGE:
            status[i] = INACTIVE
        alive[i] = person_alive[i] and household_alive[household[i]]
        if not alive[i]:
            continue
        if a == WORK_MIN_AGE or status[i] < 0:
            enter[n_enter] = i
            n_enter += 1
        if a >= WORK_MIN_AGE and np.isnan(potential[i]):
            adults[n_adults] = i
            n_adults += 1
    return alive, enter[:n_enter].copy(), adults[:n_adults].copy()


def _log_scale(quantiles: np.ndarray) -> tuple[float, float]:
    """Median and robust standard deviation of the log potentials."""
    log_q = np.log(np.maximum(quantiles, 1.0))
    sd = 0.5 * (log_q[int(0.841 * (log_q.size - 1))] - log_q[int(0.159 * (log_q.size - 1))])
    return float(log_q[log_q.size // 2]), max(float(sd), 1e-6)


def _risk_means(pop, state: EmploymentState, g: float) -> np.ndarray:
    """Mean factor of the risk gradient of the employed, unemployed and inactive 19-75."""
    at = (pop.age > WORK_MIN_AGE) & (pop.age <= WORK_MAX_AGE + 1)
    mu, sd = _log_scale(state.potential_quantiles)
    z = np.nan_to_num((np.log(pop.potential[at].astype(np.float64)) - mu) / sd)
    status = pop.employment[at]
    out = np.ones(3)
    for k, (mask, sign) in enumerate(((status == EMPLOYED, -1.0),
                                      ((status == UNEMPLOYED_SHORT)
                                       | (status == UNEMPLOYED_LONG), 1.0),
                                      (status == INACTIVE, 1.0))):
        if mask.any():
            out[k] = float(np.exp(sign * g * z[mask]).mean())
    return out


@njit(cache=True)
def _moves(age, sex, status, potential, transitory, alive, pid, key, year, rates, log_mu,
           log_sd, g, to_employment, phi, sd, normal_table, means, household, quartier, n_q,
           is_child, n_households, w, profile, levels, c_pot, c_f, c_neg):
    """One pass over the persons: the year's transitory factor of adults (exp of an AR(1)
    whose normal draw is the keyed number's quantile among ``normal_table``) and the moves
    between the states of persons 19-75 (see the module docstring). The potential's score is
    its log's distance from the start median in (robust) standard deviations; the rates are
    normalised by ``means``, the mean factors of those at risk the year before (updated here).
    Returns the jobs lost to unemployment and taken up by quartier (shape (2, n_q)), and the
    household sums of :func:`incomes.household_sums` after the moves.

    Each person's risk factor is kept with the potential and sign it was computed from
    (``c_*``: potentials, factors, employed; rows move with the person) and reused where they
    are unchanged: the factor is a function of them and of the parameters, with which the
    caller resets the kept potentials to NaN."""
    n = age.size
    top = rates.shape[2] - 1
    m_e, m_u, m_n = means[0], means[1], means[2]
    s_e = s_u = s_n = 0.0
    n_e = n_u = n_n = 0
    noise = np.sqrt(1.0 - phi * phi) * sd
    factor_table = np.exp(noise * normal_table)
    counts = np.zeros((2, n_q), np.int64)
    sums = new_sums(n_households)
    earn, size, young, adults, need_minors = sums
    weight, last = weight_table(w, profile), profile.size - 1
    for i in range(n):
        if not alive[i]:
            continue
        a = age[i]
        h = household[i]
        if a >= WORK_MIN_AGE:
            base = keyed_base(key, year, pid[i])
            k = int(uniform_from(base, SLOT_TRANSITORY) * normal_table.size)
            if phi > 0.0:
                transitory[i] = np.exp(phi * np.log(transitory[i]) + noise * normal_table[k])
            else:
                transitory[i] = factor_table[k]
        if WORK_MIN_AGE < a <= WORK_MAX_AGE + 1:
            s = sex[i]
            aa = min(a, top)
            p_eu, p_en, p_u = rates[0, s, aa], rates[1, s, aa], rates[2, s, aa]
            p_nu, p_ne, retire = rates[3, s, aa], rates[4, s, aa], rates[5, s, aa]
            old = status[i]
            if g > 0.0:
                p = potential[i]
                neg = old == EMPLOYED
                if c_pot[i] == p and c_neg[i] == neg:
                    f = c_f[i]
                else:
                    z = 0.0 if np.isnan(p) else (np.log(p) - log_mu) / log_sd
                    f = np.exp(-g * z) if neg else np.exp(g * z)
                    c_pot[i] = p
                    c_f[i] = f
                    c_neg[i] = neg
                if neg:
                    s_e += f
                    n_e += 1
                    p_eu = min(p_eu * f / m_e, 1.0)
                else:
                    if old == INACTIVE:
                        s_n += f
                        n_n += 1
                        p_ne = min(p_ne * f / m_n, 1.0 - p_nu)
                    else:
                        s_u += f
                        n_u += 1
                        p_u = min(p_u * f / m_u, 1.0)
            u = uniform_from(base, SLOT_MOVE)
            new = old
            if old == EMPLOYED:
                if u < p_eu:
                    new = UNEMPLOYED_SHORT
                elif u < p_eu + p_en:
                    new = INACTIVE
                if retire > 0.0 and uniform_from(base, SLOT_RETIRE) < retire:
                    new = INACTIVE
            elif old == INACTIVE:
                if u < p_nu:
                    new = UNEMPLOYED_SHORT
                elif u < p_nu + p_ne:
                    new = EMPLOYED
            elif u < p_u:
                new = EMPLOYED if u < p_u * to_employment else INACTIVE
            else:
                new = UNEMPLOYED_LONG
            if (new != EMPLOYED and a >= PENSION_AGE) or a > WORK_MAX_AGE:
                new = INACTIVE
            status[i] = new
            if old == EMPLOYED and (new == UNEMPLOYED_SHORT or new == UNEMPLOYED_LONG):
                counts[0, quartier[h]] += 1
            elif old != EMPLOYED and new == EMPLOYED:
                counts[1, quartier[h]] += 1
        # the household sums of incomes.household_sums, after the moves
        size[h] += 1
        if a < 14:
            young[h] += 1
        p = potential[i]
        if not np.isnan(p):
            sw = weight[status[i], min(a, last)]
            if sw > 0.0:
                earn[h] += p * transitory[i] * sw
        if a < 6:
            need_minors[h] += levels[5]
        elif a < 14:
            need_minors[h] += levels[4]
        elif a < 18:
            need_minors[h] += levels[3]
        elif is_child[i]:
            need_minors[h] += levels[2]
        else:
            adults[h] += 1
    if n_e > 0:
        means[0] = s_e / n_e
    if n_u > 0:
        means[1] = s_u / n_u
    if n_n > 0:
        means[2] = s_n / n_n
    return counts, sums
