"""Schelling mode: the classic segregation model, nothing else.

``scenarios/schelling.toml`` reduces QuartierSim to Schelling's (1971) checkerboard model so that
it can be checked against the classic results and against other frameworks: no demography, no
housing market, one household per cell, two groups, and one rule. A household is *happy* when the
share of households of its own group among its occupied neighbours is at least ``tolerance``;
unhappy households move to a uniformly random empty cell, one at a time, in a random order that
is drawn afresh every step.

The rules follow Mesa's own example (``mesa.examples.basic.schelling``, Mesa 3.3.1) exactly, so
that the two can be compared agent-step for agent-step:

* **Placement.** Every cell is occupied with probability ``density``; an occupant belongs to
  group 1 (Mesa's "minority") with probability ``minority_share``, else to group 0. Both
  counts are therefore binomial, not fixed.
* **Neighbourhood.** Moore neighbourhood of radius ``radius`` (all cells within Chebyshev
  distance ``radius``, the cell itself excluded). Mesa builds its grid with
  ``OrthogonalMooreGrid(..., capacity=1)`` and no ``torus`` argument, i.e. ``torus=False``: a
  bounded grid where edge cells have fewer neighbours. ``torus=True`` is available.
* **Happiness.** ``similar / occupied >= tolerance``, where ``occupied`` counts the occupied
  neighbouring cells and ``similar`` those of the household's own group. A household with no
  occupied neighbour has a similarity of 0: it is unhappy unless ``tolerance`` is 0 (Mesa's
  ``homophily`` is this fraction, although its docstring calls it a number).
* **When happiness is judged** (the one subtle point). In Mesa every agent's happiness is
  computed at the end of a step (``agents.do("assign_state")``) and acted on in the next one:
  ``agents.shuffle_do("step")`` moves the agents that were unhappy at the start of the step,
  even if moves earlier in the same step have made them happy meanwhile.
  ``happiness_check="start_of_step"`` (the default) reproduces this.
  ``happiness_check="on_turn"`` is the fully sequential variant: each household judges the grid
  as it is when its turn comes, so a household made unhappy by an earlier mover moves in the
  same step and one made happy stays.
* **Moving.** A mover picks an empty cell uniformly at random from the cells empty at that moment
  (its own cell is still occupied, so it cannot stay put) and then vacates its old cell, which is
  available to later movers. It does not check whether the new place suits it better, as in Mesa;
  Schelling (1971) moved the dissatisfied to the nearest place that satisfied them instead.
  Random relocation is the variant most frameworks ship; it shows the same pattern.
* **Stopping.** The run stops once no household is unhappy (Mesa: ``running = happy < agents``);
  :attr:`SchellingModel.converged_step` records the step. If there is no empty cell at all,
  unhappy households cannot move and stay where they are (Mesa would loop forever).

The state is a few numpy arrays (the grid as ``int8``: -1 empty, 0 or 1 the group; each
household's cell; the list of empty cells, from which a random cell is taken and the vacated
one put in its place in O(1)), and the sequential loop is a numba kernel. All randomness comes
from one numpy ``Generator``: each step draws the activation order and one uniform number per
mover from it before the kernel runs, so a run depends only on its seed. (``mesa.Model`` is
given the same generator as ``rng`` and draws one number from it to seed its stdlib ``random``,
which this model never uses.) With ``"on_turn"`` one uniform number is drawn per household,
since who moves is known only during the step.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable

import numpy as np
import pandas as pd
from numba import njit

from sim.model.segregation import dissimilarity
from sim.scenario.schema import SchellingSettings

# Importing mesa switches multiprocessing to "spawn" for the whole program (mesa.batchrunner);
# keep the start method the user had (as in sim.model).
_start_method = multiprocessing.get_start_method(allow_none=True)
import mesa  # noqa: E402

if multiprocessing.get_start_method(allow_none=True) != _start_method:
    multiprocessing.set_start_method(_start_method, force=True)

__all__ = [
    "BLOCK_SIZE",
    "METRICS",
    "SchellingModel",
    "SchellingSettings",
    "block_dissimilarity",
    "grid_metrics",
]

EMPTY = -1
BLOCK_SIZE = 10
"""Side, in cells, of the square blocks over which ``dissimilarity_group_blocks`` is taken."""

METRICS = (
    "households",
    "share_similar_neighbours",
    "share_unhappy",
    "moves",
    "dissimilarity_group_blocks",
)
"""The metrics :meth:`SchellingModel.outcomes` reports for every step."""


# -- numba kernels ------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _neighbours(grid, cell, height, width, radius, torus):
    """Own-group and occupied counts in the Moore neighbourhood of ``cell`` (flat index)."""
    i = cell // width
    j = cell - i * width
    group = grid[cell]
    similar = 0
    occupied = 0
    for di in range(-radius, radius + 1):
        ni = i + di
        if ni < 0:
            if not torus:
                continue
            ni += height
        elif ni >= height:
            if not torus:
                continue
            ni -= height
        row = ni * width
        for dj in range(-radius, radius + 1):
            if di == 0 and dj == 0:
                continue
            nj = j + dj
            if nj < 0:
                if not torus:
                    continue
                nj += width
            elif nj >= width:
                if not torus:
                    continue
                nj -= width
            v = grid[row + nj]
            if v >= 0:
                occupied += 1
                if v == group:
                    similar += 1
    return similar, occupied


@njit(cache=True, inline="always")
def _neighbours_r1(grid, cell, height, width, torus):
    """Radius-1 case of :func:`_neighbours`: the 8 Moore neighbours, branch-free inside."""
    i = cell // width
    j = cell - i * width
    if i == 0 or j == 0 or i == height - 1 or j == width - 1:
        return _neighbours(grid, cell, height, width, 1, torus)
    group = grid[cell]
    above = cell - width
    below = cell + width
    a = grid[above - 1]
    b = grid[above]
    c = grid[above + 1]
    d = grid[cell - 1]
    e = grid[cell + 1]
    f = grid[below - 1]
    g = grid[below]
    h = grid[below + 1]
    occupied = ((a >= 0) + (b >= 0) + (c >= 0) + (d >= 0) + (e >= 0) + (f >= 0) + (g >= 0)
                + (h >= 0))
    similar = ((a == group) + (b == group) + (c == group) + (d == group) + (e == group)
               + (f == group) + (g == group) + (h == group))
    return similar, occupied


@njit(cache=True, inline="always")
def _counts(grid, cell, height, width, radius, torus):
    if radius == 1:
        return _neighbours_r1(grid, cell, height, width, torus)
    return _neighbours(grid, cell, height, width, radius, torus)


@njit(cache=True)
def _move_households(grid, household_cell, cell_household, empty_cells, order, uniforms, height,
                     width, radius, torus, tolerance, check_on_turn):
    """Activate households one at a time in the given order; return how many moved.

    With ``check_on_turn``, ``order`` lists household ids and each household judges the current
    grid when activated. Otherwise ``order`` lists the cells of the households found unhappy at
    the start of the step, and each of them moves (its occupant cannot have changed before its
    turn, since movers only go to empty cells). A mover takes the empty cell
    ``empty_cells[int(u * n_empty)]`` (``u = uniforms[k]`` for the k-th activation) and its old
    cell takes that slot in the list of empty cells.
    """
    n_empty = empty_cells.shape[0]
    if n_empty == 0:
        return 0
    moves = 0
    for k in range(order.shape[0]):
        if check_on_turn:
            household = order[k]
            cell = household_cell[household]
            similar, occupied = _counts(grid, cell, height, width, radius, torus)
            share = similar / occupied if occupied > 0 else 0.0
            if share >= tolerance:
                continue
        else:
            cell = order[k]
            household = cell_household[cell]
        slot = int(uniforms[k] * n_empty)
        if slot >= n_empty:  # guards against rounding up to 1.0
            slot = n_empty - 1
        target = empty_cells[slot]
        grid[target] = grid[cell]
        grid[cell] = EMPTY
        cell_household[target] = household
        cell_household[cell] = -1
        household_cell[household] = target
        empty_cells[slot] = cell
        moves += 1
    return moves


@njit(cache=True)
def _padded(grid, height, width, radius, torus):
    """The grid with a border of ``radius`` cells: wrapped copies on a torus, else empty."""
    r = radius
    out = np.full((height + 2 * r, width + 2 * r), EMPTY, dtype=np.int8)
    for i in range(-r, height + r):
        si = i
        if i < 0 or i >= height:
            if not torus:
                continue
            si = i % height
        for j in range(-r, width + r):
            sj = j
            if j < 0 or j >= width:
                if not torus:
                    continue
                sj = j % width
            out[i + r, j + r] = grid[si * width + sj]
    return out


@njit(cache=True)
def _evaluate(grid, unhappy, block_counts, height, width, radius, torus, tolerance, block_size):
    """Judge every household against the current grid, cell by cell.

    Fills ``unhappy`` (per cell; False for empty cells) and ``block_counts`` (households of
    each group per block of ``block_size`` x ``block_size`` cells) and returns the sum of the
    similar shares over households with at least one occupied neighbour, the number of those
    households, and the number of unhappy households.
    """
    r = radius
    padded = _padded(grid, height, width, radius, torus)
    block_counts[:] = 0
    n_block_cols = (width + block_size - 1) // block_size
    column_block = np.empty(width, dtype=np.int64)
    for j in range(width):
        column_block[j] = j // block_size
    share_sum = 0.0
    with_neighbours = 0
    n_unhappy = 0
    for i in range(height):
        row_block = (i // block_size) * n_block_cols
        up = padded[i + r - 1]
        mid = padded[i + r]
        down = padded[i + r + 1]
        for j in range(width):
            cell = i * width + j
            group = grid[cell]
            if group < 0:
                unhappy[cell] = False
                continue
            similar = 0
            occupied = 0
            if r == 1:
                for v in (up[j], up[j + 1], up[j + 2], mid[j], mid[j + 2],
                          down[j], down[j + 1], down[j + 2]):
                    occupied += v >= 0
                    similar += v == group
            else:
                for pi in range(i, i + 2 * r + 1):
                    prow = padded[pi]
                    for pj in range(j, j + 2 * r + 1):
                        if pi == i + r and pj == j + r:
                            continue
                        v = prow[pj]
                        occupied += v >= 0
                        similar += v == group
            if occupied > 0:
                share = similar / occupied
                share_sum += share
                with_neighbours += 1
            else:
                share = 0.0
            is_unhappy = share < tolerance
            unhappy[cell] = is_unhappy
            n_unhappy += is_unhappy
            block_counts[row_block + column_block[j], group] += 1
    return share_sum, with_neighbours, n_unhappy


# -- helpers ------------------------------------------------------------------------------------


def _dissimilarity(block_counts: np.ndarray) -> float:
    """Duncan & Duncan's D of group 1 vs group 0 from per-block counts ``[block, group]``."""
    return dissimilarity(block_counts[:, 1], block_counts.sum(axis=1))


def block_dissimilarity(grid: np.ndarray, block_size: int = BLOCK_SIZE) -> float:
    """Index of dissimilarity D of group 1 vs group 0 over square blocks of cells.

    ``D = 1/2 * sum_b |g1_b / G1 - g0_b / G0|`` over blocks ``b`` of ``block_size`` x
    ``block_size`` cells (blocks at the right and bottom edges may be smaller). 0 means both
    groups are spread alike over the blocks, 1 that no block holds both. Note that D over
    blocks is not 0 for a random placement: with ~80 households per block it is about 0.09.

    Args:
        grid: ``(height, width)`` array, -1 empty, 0 or 1 the group.
        block_size: Side length of the blocks, in cells.

    Returns:
        D, or NaN if either group is absent.
    """
    grid = np.asarray(grid)
    height, width = grid.shape
    rows, cols = np.nonzero(grid >= 0)
    n_block_cols = -(-width // block_size)
    n_blocks = -(-height // block_size) * n_block_cols
    block = (rows // block_size) * n_block_cols + cols // block_size
    groups = grid[rows, cols]
    counts = np.stack([
        np.bincount(block[groups == g], minlength=n_blocks) for g in (0, 1)
    ], axis=1)
    return _dissimilarity(counts)


def _grid_metrics(grid, unhappy, block_counts, height, width, radius, torus, tolerance):
    """The state metrics of a flat grid (all of :data:`METRICS` but ``moves``), and the number
    of unhappy households; fills ``unhappy`` and ``block_counts``."""
    share_sum, with_neighbours, n_unhappy = _evaluate(
        grid, unhappy, block_counts, height, width, radius, torus, tolerance, BLOCK_SIZE)
    n = int(block_counts.sum())
    return {
        "households": float(n),
        "share_similar_neighbours": share_sum / with_neighbours if with_neighbours else np.nan,
        "share_unhappy": n_unhappy / n if n else np.nan,
        "dissimilarity_group_blocks": _dissimilarity(block_counts),
    }, n_unhappy


def grid_metrics(grid: np.ndarray, *, tolerance: float, radius: int = 1,
                 torus: bool = False) -> dict[str, float]:
    """Schelling mode's state metrics for any grid, e.g. one read from another framework.

    Args:
        grid: ``(height, width)`` integer array, -1 empty, 0 or 1 the group.
        tolerance: Threshold for ``share_unhappy`` (see :class:`SchellingSettings`).
        radius: Moore neighbourhood radius.
        torus: Whether the grid wraps around.

    Returns:
        ``households``, ``share_similar_neighbours``, ``share_unhappy`` and
        ``dissimilarity_group_blocks``, as in :meth:`SchellingModel.outcomes`.
    """
    grid = np.ascontiguousarray(grid, dtype=np.int8)
    height, width = grid.shape
    n_blocks = -(-height // BLOCK_SIZE) * -(-width // BLOCK_SIZE)
    values, _ = _grid_metrics(grid.ravel(), np.zeros(grid.size, dtype=np.bool_),
                              np.zeros((n_blocks, 2), dtype=np.int64), height, width, radius,
                              torus, tolerance)
    return values


# -- the model ----------------------------------------------------------------------------------


class SchellingModel(mesa.Model):
    """Schelling's segregation model over numpy arrays (the rules are in the module docstring).

    Example::

        model = SchellingModel(SchellingSettings(tolerance=0.3), seed=1).run(100)
        model.converged_step, model.outcomes()

    Args:
        settings: Grid size, density, groups, tolerance, neighbourhood, update rule.
        seed: The run's seed; the random generator is ``np.random.default_rng(seed)`` unless
            ``rng`` is given.
        rng: A numpy Generator to draw all random numbers from instead (``seed`` is then only
            recorded).
        run_id: Identifies the run in :meth:`outcomes`.
        start_year: Step ``k`` is labelled year ``start_year - 1 + k``; step 0 (the initial
            placement) is ``start_year - 1``.

    Attributes:
        settings: The settings.
        seed: The seed.
        run_id: The run id.
        year: Label of the last completed step (``start_year - 1`` before the first).
        steps: Steps completed (Mesa's counter).
        converged_step: The first step after which no household was unhappy (0 if none was
            at the start), else None. ``run`` stops there; ``running`` turns False.
        n_households: Number of households (constant).
    """

    def __init__(
        self,
        settings: SchellingSettings,
        *,
        seed: int,
        rng: np.random.Generator | None = None,
        run_id: str = "",
        start_year: int = 0,
    ) -> None:
        generator = rng if rng is not None else np.random.default_rng(seed)
        # Mesa keeps this very generator as self.rng (and seeds its stdlib random from it).
        super().__init__(rng=generator)
        self.settings = settings
        self.seed = int(seed)
        self.run_id = run_id
        self.start_year = int(start_year)
        self.year = self.start_year - 1
        self.converged_step: int | None = None
        self.scenario = None  # set by sim.build_model
        self.scenario_hash = ""

        s = settings
        n_cells = s.width * s.height
        occupied = self.rng.random(n_cells) < s.density
        minority = self.rng.random(n_cells) < s.minority_share
        grid = np.full(n_cells, EMPTY, dtype=np.int8)
        grid[occupied] = minority[occupied]
        self._grid = grid
        self._household_cell = np.flatnonzero(occupied).astype(np.int32)
        self.n_households = int(self._household_cell.size)
        self._cell_household = np.full(n_cells, -1, dtype=np.int32)
        self._cell_household[self._household_cell] = np.arange(self.n_households)
        self._empty_cells = np.flatnonzero(~occupied).astype(np.int32)
        self._unhappy = np.zeros(n_cells, dtype=np.bool_)  # per cell, as of the last evaluation
        n_blocks = -(-s.height // BLOCK_SIZE) * -(-s.width // BLOCK_SIZE)
        self._block_counts = np.zeros((n_blocks, 2), dtype=np.int64)
        self._records: list[tuple[int, tuple[float, ...]]] = []
        self._record(moves=float("nan"))

    # -- running --------------------------------------------------------------------------------

    def step(self) -> None:
        """One step: unhappy households move, one at a time in a fresh random order.

        With ``happiness_check="start_of_step"`` the movers are the households found unhappy at
        the end of the previous step (or at placement), activated in random order. Only they are
        shuffled: the order among them is as random as in Mesa's shuffle of everyone, where the
        others do nothing. With ``"on_turn"`` all households are activated in random order and
        each judges the grid as it is then. Afterwards every household is judged against the new
        grid for the outcomes (and the next step's movers).
        """
        s = self.settings
        if s.happiness_check == "on_turn":
            order = self.rng.permutation(self.n_households)
        else:
            order = self.rng.permutation(np.flatnonzero(self._unhappy))
        uniforms = self.rng.random(order.size)
        moves = _move_households(
            self._grid, self._household_cell, self._cell_household, self._empty_cells, order,
            uniforms, s.height, s.width, s.radius, s.torus, s.tolerance,
            s.happiness_check == "on_turn",
        )
        self.year = self.start_year - 1 + self.steps
        self._record(moves=float(moves))

    def run(self, steps: int | None = None, progress: Callable[[int], object] | None = None
            ) -> SchellingModel:
        """Run up to ``steps`` steps, stopping early once no household is unhappy.

        Args:
            steps: The most steps to run (default: the scenario's ``years``, if built from a
                scenario with :func:`sim.build_model`).
            progress: Called with :attr:`year` after each step.

        Returns:
            The model.
        """
        if steps is None:
            steps = self.scenario.years
        for _ in range(steps):
            if self.converged_step is not None:
                break
            self.step()
            if progress is not None:
                progress(self.year)
        return self

    def _record(self, moves: float) -> None:
        s = self.settings
        values, n_unhappy = _grid_metrics(self._grid, self._unhappy, self._block_counts,
                                          s.height, s.width, s.radius, s.torus, s.tolerance)
        values["moves"] = moves
        self._records.append((self.year, tuple(values[m] for m in METRICS)))
        if n_unhappy == 0 and self.converged_step is None:
            self.converged_step = int(self.steps)
            self.running = False

    # -- results --------------------------------------------------------------------------------

    def grid(self) -> np.ndarray:
        """A copy of the grid, shape ``(height, width)``: -1 empty, 0 or 1 the group."""
        return self._grid.reshape(self.settings.height, self.settings.width).copy()

    def unhappy(self) -> np.ndarray:
        """A ``(height, width)`` boolean array: cells whose household is unhappy now."""
        return self._unhappy.reshape(self.settings.height, self.settings.width).copy()

    def outcomes(self) -> pd.DataFrame:
        """Tidy results, one row per step and metric: ``run_id, year, scope, metric, value``.

        ``scope`` is always ``"city"``. Step 0 (year ``start_year - 1``) is the initial
        placement, where ``moves`` is NaN. Metrics:

        * ``households``: number of households.
        * ``share_similar_neighbours``: mean, over households with at least one occupied
          neighbour, of the share of own-group households among the occupied neighbours
          (Schelling's measure of segregation; about ``1 - 2m(1-m)`` for minority share ``m``
          when placed at random, i.e. 0.5 for equal groups).
        * ``share_unhappy``: share of households unhappy with the grid at the end of the step.
        * ``moves``: households that moved during the step.
        * ``dissimilarity_group_blocks``: index of dissimilarity D of group 1 vs group 0 over
          blocks of 10 x 10 cells (see :func:`block_dissimilarity`).
        """
        years = np.array([year for year, _ in self._records], dtype=np.int32)
        values = np.array([vals for _, vals in self._records], dtype=np.float64)
        n_steps, n_metrics = values.shape
        return pd.DataFrame({
            "run_id": self.run_id,
            "year": np.repeat(years, n_metrics),
            "scope": pd.Categorical(["city"] * (n_steps * n_metrics)),
            "metric": pd.Categorical(np.tile(METRICS, n_steps), categories=list(METRICS)),
            "value": values.ravel(),
        })
