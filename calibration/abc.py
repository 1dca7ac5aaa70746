"""Approximate Bayesian computation (ABC-SMC with pyABC), the optional second method of
``quartier calibrate`` (``method = "abc"`` in the calibration file).

Instead of one best point, ABC gives a posterior: uniform priors over the parameters' ranges,
populations of particles accepted while their distance to the targets shrinks from generation
to generation (pyABC's ABC-SMC, Toni et al. 2009, with its adaptive median epsilon). The
distance is sqrt(J), J as in SMM (:mod:`calibration.smm`); a particle's moments are the mean
of ``replications`` runs with common random numbers, run through the sweep machinery (so the
runs of one particle go to local processes or a Dask cluster, and are stored and reused).

The fitted parameters written to the scenario file are the posterior's weighted medians;
``posterior`` gives them with their 5 % and 95 % weighted quantiles, and ``draws`` the final
population's particles with their weights (written as ``calibration_draws.csv`` and
``.parquet``: the parameter draws of ``quartier compare --parameter-draws N``).

pyABC samples its priors and perturbations with numpy's global generator; it is seeded with
the calibration's seed for the search and restored afterwards, and particles are evaluated one
at a time (pyABC's single-core sampler), so the same file and seed give the same posterior.
Needs ``pip install 'quartiersim[abc]'``.
"""

from __future__ import annotations

import logging
import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import InputError


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The q-quantile of a weighted sample (the smallest value whose cumulative weight
    reaches q)."""
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order]) / weights.sum()
    return float(values[order][min(np.searchsorted(cum, q), values.size - 1)])


def search(problem, evaluator, record, *, budget: int, population: int, generations: int,
           out: Path) -> tuple[np.ndarray, pd.DataFrame, str, pd.DataFrame]:
    """Run ABC-SMC; returns (posterior medians, posterior table, message, particles).

    The particles are the final population: ``draw, weight, seed`` (the calibration's, for
    resampling) and one column per parameter (a draws file, :mod:`sim.experiments.draws`).

    ``record(thetas, stage)`` evaluates parameter vectors and logs them in the trace (the
    caller's), ``evaluator`` gives their moments.
    """
    try:
        import pyabc
    except ImportError:
        raise InputError(problem.source, "method",
                         "'abc' needs pyABC: pip install 'quartiersim[abc]'") from None
    names = problem.names
    keys = [f"p{i}" for i in range(len(names))]
    prior = pyabc.Distribution(**{
        k: pyabc.RV("uniform", float(lo), float(hi - lo))
        for k, lo, hi in zip(keys, problem.low, problem.high, strict=True)})
    fit = [t.key for t in problem.fit]
    observed = {t.key: float(t.observed) for t in problem.fit}
    tolerance = {t.key: float(t.tolerance) for t in problem.fit}

    def model(parameters: dict[str, Any]) -> dict[str, float]:
        theta = np.array([float(parameters[k]) for k in keys])
        record(theta[None, :], "abc")
        moments = evaluator.moments(theta[None, :])[0]
        return dict(zip(fit, (float(m) for m in moments), strict=True))

    def distance(x: dict[str, float], x0: dict[str, float]) -> float:
        z = [(x[k] - x0[k]) / tolerance[k] for k in fit]
        return math.sqrt(sum(v * v for v in z)) if all(math.isfinite(v) for v in z) else math.inf

    state = np.random.get_state()
    np.random.seed(problem.spec.seed)
    loggers = [logging.getLogger(n) for n in ("ABC", "ABC.History", "ABC.Sampler")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:  # the progress bar reports; pyABC's INFO lines would interleave
        lg.setLevel(logging.WARNING)
    try:
        abc = pyabc.ABCSMC(model, prior, distance, population_size=population,
                           sampler=pyabc.sampler.SingleCoreSampler())
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=out) as tmp:
            db = "sqlite:///" + str(Path(tmp) / "abc.db")
            abc.new(db, observed)
            history = abc.run(max_nr_populations=generations,
                              max_total_nr_simulations=budget)
            frame, weights = history.get_distribution(m=0, t=history.max_t)
            epsilons = history.get_all_populations()
    finally:
        np.random.set_state(state)
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)
    rows, medians = [], []
    for name, key in zip(names, keys, strict=True):
        values = frame[key].to_numpy(float)
        median = weighted_quantile(values, weights, 0.5)
        medians.append(median)
        rows.append({"parameter": name, "median": median,
                     "mean": float(np.average(values, weights=weights)),
                     "q05": weighted_quantile(values, weights, 0.05),
                     "q95": weighted_quantile(values, weights, 0.95)})
    last = epsilons[epsilons["t"] >= 0].iloc[-1]
    message = (f"ABC-SMC: {int(last['t']) + 1} generations of {population} particles, "
               f"final epsilon {float(last['epsilon']):.3g} (distance sqrt(J))")
    return np.array(medians), pd.DataFrame(rows), message, particles(
        names, [frame[k].to_numpy(float) for k in keys], weights, problem.spec.seed)


def particles(names: list[str], values: list[np.ndarray], weights: np.ndarray,
              seed: int) -> pd.DataFrame:
    """A population of particles as a draws table: ``draw, weight, seed``, the parameters
    (weights normalised to sum 1)."""
    weights = np.asarray(weights, float)
    table = pd.DataFrame({"draw": np.arange(weights.size), "weight": weights / weights.sum(),
                          "seed": int(seed)})
    for name, column in zip(names, values, strict=True):
        table[name] = column
    return table
