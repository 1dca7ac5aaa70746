"""Parameter draws: sets of parameter values from a calibration, and lever effects over them.

A **draws file** (CSV or Parquet) holds N parameter sets, one per row::

    draw,weight,parameters.mobility.utility_outside,parameters.demography.partnership_rate
    0,0.031,3.12,0.081
    1,0.027,2.95,0.104

- ``draw``: the draw's number (integers, each once; optional, default the row number);
- ``weight``: its weight (optional, >= 0; default equal weights), e.g. an ABC particle's;
- ``seed``: optional, one value for every row: the seed of the resampling below (the
  calibration writes its own seed; default the comparison's ``seed``);
- every other column: a numeric scenario field by dotted path (as in sweep and calibration
  files), whose value the draw sets.

``quartier calibrate`` writes ``calibration_draws.csv`` (and ``.parquet``): with
``method = "abc"`` the final ABC-SMC population, particles with their weights.

Taking N draws (:func:`select_draws`): with equal weights the first N rows (in ``draw`` order);
with unequal weights N rows drawn with replacement in proportion to the weights (multinomial
resampling with ``numpy.random.default_rng(SeedSequence([seed, 19]))``), so every selected
draw counts equally afterwards. N may not exceed the rows of the file.

A comparison over draws (``sim.compare(..., parameter_draws=N)``) runs every scenario on each
draw (the draw's values override the scenario's, see :func:`draw_scenarios`) and ``R``
replications. Within a draw, replicate r of every scenario uses the same seed
``seed + DRAW_SEED_STRIDE * d + r`` (common random numbers); draws get different seeds, so
their noise is independent. The effect's interval (:func:`combine_draws`) follows the law of
total variance; see its docstring.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import InputError, display_path
from sim.scenario import Scenario

DRAW_SEED_STRIDE = 10_000
"""Seeds of draw d are ``seed + DRAW_SEED_STRIDE * d + r`` (r < 10,000 replications)."""
DRAW_COLUMNS = ("draw", "weight", "seed")
"""Columns of a draws file that are not parameters."""
DRAWS_FILE = "calibration_draws"
"""Stem of the draws files ``quartier calibrate`` writes (``.csv`` and ``.parquet``)."""
SELECTED_DRAWS_FILE = "parameter_draws.csv"
"""The draws a comparison used (``draw, source_draw``, the values), in its folder."""
DRAW_EFFECTS_FILE = "comparison_draws.parquet"
"""Per scenario, metric, scope, year and draw: the mean paired difference (``mean``), its
variance over the replications (``var``) and the pairs (``n``)."""
INTERVAL_STOCHASTIC = "stochastic"
INTERVAL_COMBINED = "parameter+stochastic"
DRAW_EXTRA_COLUMNS = ["interval", "draws", "var_parametric", "var_stochastic",
                      "parametric_share", "stochastic_ci_low", "stochastic_ci_high"]
"""Columns a comparison over draws adds to :data:`~sim.experiments.comparison.
COMPARISON_COLUMNS` (``replications`` then counts the pairs per draw)."""


# -- the file ----------------------------------------------------------------------------------


def read_draws(path: str | Path) -> pd.DataFrame:
    """Read and check a draws file (format: the module docstring).

    Returns:
        Columns ``draw``, ``weight``, ``seed`` (NaN when absent), then the parameters, sorted
        by ``draw``.

    Raises:
        InputError: naming the file and the column: no such file, unreadable, a column that is
            no numeric scenario field, a value that is not a finite number, bad weights.
    """
    from sim.experiments.sweeps import field_annotation, numeric_kind

    path = Path(path)
    source = display_path(path)
    if not path.is_file():
        raise InputError(source, None, "file not found (a draws file: CSV or Parquet, written "
                         "by quartier calibrate as calibration_draws.csv)")
    try:
        table = (pd.read_parquet(path) if path.suffix.lower() == ".parquet"
                 else pd.read_csv(path))
    except Exception as exc:  # empty, binary or malformed
        raise InputError(source, None, f"unreadable draws file ({exc.__class__.__name__})"
                         ) from None
    table.columns = [str(c).strip() for c in table.columns]
    if table.empty:
        raise InputError(source, None, "holds no draws")
    names = [c for c in table.columns if c not in DRAW_COLUMNS]
    if not names:
        raise InputError(source, None, "no parameter column (dotted scenario paths such as "
                         "parameters.mobility.utility_outside)")
    for name in names:
        try:
            kind = numeric_kind(field_annotation(name, source))
        except InputError:
            raise InputError(source, name, "no such scenario parameter") from None
        if kind is None:
            raise InputError(source, name, "not a numeric scenario parameter")
    for name in [*names, *(c for c in DRAW_COLUMNS if c in table)]:
        values = pd.to_numeric(table[name], errors="coerce")
        if not np.isfinite(values.to_numpy(float)).all():
            raise InputError(source, name, "a value is missing or not a number")
        table[name] = values
    if "draw" not in table:
        table.insert(0, "draw", np.arange(len(table)))
    if table["draw"].duplicated().any() or (table["draw"] != table["draw"].round()).any():
        raise InputError(source, "draw", "draw numbers must be whole and each given once")
    table["draw"] = table["draw"].astype(int)
    if "weight" not in table:
        table["weight"] = 1.0
    if (table["weight"] < 0).any() or not table["weight"].sum() > 0:
        raise InputError(source, "weight", "weights must be >= 0 and not all 0")
    if "seed" in table and (table["seed"].nunique() != 1 or table["seed"].iloc[0] < 0):
        raise InputError(source, "seed", "one seed (>= 0) for every row")
    if "seed" not in table:
        table["seed"] = np.nan
    table = table[["draw", "weight", "seed", *names]].sort_values("draw", kind="stable")
    return table.reset_index(drop=True)


def select_draws(table: pd.DataFrame, n: int, *, seed: int = 1,
                 source: str = "draws") -> pd.DataFrame:
    """N draws of a draws table (:func:`read_draws`): the first N with equal weights, else N
    resampled in proportion to the weights (seed: the file's ``seed``, else ``seed``).

    Returns:
        The selected rows, numbered ``draw = 0 .. N-1``, with ``source_draw`` (the row's draw
        in the file) and the parameters.

    Raises:
        InputError: N < 1 or more than the file holds.
    """
    if n < 1:
        raise InputError("--parameter-draws", None, "must be at least 1")
    if n > len(table):
        raise InputError(source, "draw", f"holds {len(table)} draws, fewer than the "
                         f"{n} asked for (--parameter-draws)")
    weights = table["weight"].to_numpy(float)
    if np.allclose(weights, weights[0]):
        rows = np.arange(n)
    else:
        file_seed = table["seed"].iloc[0]
        key = int(file_seed) if math.isfinite(file_seed) else int(seed)
        rng = np.random.default_rng(np.random.SeedSequence([key, 19]))
        rows = np.sort(rng.choice(len(table), size=n, replace=True, p=weights / weights.sum()))
    picked = table.iloc[rows]
    params = picked.drop(columns=list(DRAW_COLUMNS))
    out = pd.DataFrame({"draw": np.arange(n), "source_draw": picked["draw"].to_numpy()})
    return pd.concat([out, params.reset_index(drop=True)], axis=1)


def draw_values(draws: pd.DataFrame) -> list[dict[str, Any]]:
    """Per selected draw, its values by dotted path (integer fields rounded)."""
    from sim.experiments.sweeps import field_annotation, numeric_kind

    names = [c for c in draws.columns if c not in ("draw", "source_draw")]
    integer = [numeric_kind(field_annotation(n)) == "int" for n in names]
    return [{n: int(round(float(v))) if i else float(v)
             for n, i, v in zip(names, integer, row, strict=True)}
            for row in draws[names].itertuples(index=False, name=None)]


def draw_name(name: str, draw: int) -> str:
    """The stored name of scenario ``name`` on draw ``draw``."""
    return f"{name}@draw{draw:03d}"


def draw_scenarios(scenario: Scenario, draws: pd.DataFrame, *,
                   source: str = "draws") -> list[Scenario]:
    """The scenario once per draw: the draw's values override the scenario's (a lever that
    sets a drawn parameter is overridden too), named :func:`draw_name`.

    Raises:
        InputError: a value the scenario schema refuses (naming the file and the column).
    """
    out = []
    for d, values in zip(draws["draw"], draw_values(draws), strict=True):
        try:
            sc = scenario.with_values({**values, "name": draw_name(scenario.name, int(d))})
        except InputError as exc:
            raise InputError(source, exc.field, f"draw {int(d)}: {exc.message}") from None
        out.append(sc)
    return out


def draw_seed(seed: int, draw: int) -> int:
    """The base seed of draw ``draw`` (replicate r adds r)."""
    return int(seed) + DRAW_SEED_STRIDE * int(draw)


# -- the interval ------------------------------------------------------------------------------


def combine_draws(per_draw: pd.DataFrame, group: list[str],
                  confidence: float = 0.95) -> pd.DataFrame:
    """Combine per-draw effects into one interval (parameter and stochastic uncertainty).

    Within draw d (parameters θ_d from the calibration's posterior) the R paired differences
    have mean m_d and variance s_d². Over the D draws::

        m   = mean of the m_d                      (the reported effect)
        B   = var(m_d, ddof=1)                     (estimates Var μ(θ) + E σ²(θ) / R)
        W   = mean of the s_d²                     (estimates E σ²(θ), the runs' noise)
        V_p = max(0, B - W / R)                    (the spread of the expected effect μ(θ)
                                                    over the posterior: parametric)
        T   = V_p + B / D                          (law of total variance, below)
        interval = m ± t(0.975, ν) * sqrt(T)

    The interval is for the expected effect μ(θ*) of the true parameters θ*, taken as one more
    draw from the posterior: m - μ(θ*) has variance Var μ (1 + 1/D) + E σ² / (D R), estimated by
    T; parametric part ``var_parametric = V_p (1 + 1/D)``, stochastic (Monte Carlo) part
    ``var_stochastic = T - var_parametric`` (= W / (D R) unless V_p is cut at 0), and
    ``parametric_share = var_parametric / T``. Without parameter spread it is the t-interval of
    the D draw means (the runs' noise only, as without draws); with no run noise it is the
    normal prediction interval of a new draw. With R = 1 the two parts cannot be told apart:
    T = B (1 + 1/D) (all counted as parametric, a conservative interval) and the share is NaN.
    With D = 1 there is no interval.

    ν is Satterthwaite's degrees of freedom of T = (1 + 1/D) B - W / R (at most D - 1; D - 1
    when V_p is 0 or R = 1). Coverage of μ(θ*) measured on normal synthetic data
    (tests/test_parameter_draws.py, 20,000 trials): 95 % when the parameters dominate or do not
    matter; when the runs' noise of a draw mean (σ²/R) is several times the parameter spread
    Var μ, V_p is poorly determined and coverage falls (about 88 % at σ²/R = 3 Var μ with
    D = 10-20, R = 3): add replications until the parametric share is high or low.

    Args:
        per_draw: One row per group and draw: ``mean``, ``var`` (ddof 1; NaN when n = 1),
            ``n`` (pairs).
        group: The grouping columns (e.g. scenario, metric, scope, year).
        confidence: Level of the interval.

    Returns:
        Per group: ``difference, draws, var_parametric, var_stochastic, parametric_share,
        half_width, ci_low, ci_high``.
    """
    from scipy import stats

    g = per_draw.groupby(group, sort=False, observed=True)
    out = g.agg(difference=("mean", "mean"), between=("mean", "var"),
                within=("var", "mean"), reps=("n", "mean"), draws=("mean", "size"),
                ).reset_index()
    d = out["draws"].to_numpy(float)
    b = out["between"].to_numpy(float)
    w = out["within"].to_numpy(float)
    r = out["reps"].to_numpy(float)
    split = np.isfinite(w) & (r >= 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        vp = np.where(split, np.maximum(0.0, b - w / r), b)
        total = vp + b / d
        parametric = vp * (1 + 1 / d)
        share = np.where(split, np.where(total > 0, parametric / total, 0.0), np.nan)
        # Satterthwaite's degrees of freedom of (1 + 1/D) B - W / R (B: D - 1, W: D (R - 1))
        subtract = split & (b - w / r > 0)
        spread = (((1 + 1 / d) * b) ** 2 / np.maximum(d - 1, 1)
                  + np.where(subtract, (w / r) ** 2 / (d * np.maximum(r - 1, 1)), 0.0))
        dof = np.where(subtract, np.clip(total ** 2 / spread, 1.0, np.maximum(d - 1, 1)),
                       np.maximum(d - 1, 1))
        q = np.where(d >= 2, stats.t.ppf(0.5 + confidence / 2, dof), np.nan)
        half = q * np.sqrt(total)
    out["var_parametric"] = np.where(split, parametric, np.nan)
    out["var_stochastic"] = np.where(split, total - parametric, np.nan)
    out["parametric_share"] = share
    out["half_width"] = half
    out["ci_low"] = out["difference"] - half
    out["ci_high"] = out["difference"] + half
    out["draws"] = out["draws"].astype(int)
    return out.drop(columns=["between", "within", "reps"])
