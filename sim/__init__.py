"""QuartierSim: demographic change in the quartiers of a German city, agent by agent.

The public entry points::

    import sim
    scenario = sim.load_scenario("scenarios/baseline.toml")
    model = sim.build_model(scenario, seed=1).run(years=10)
    model.outcomes()  # tidy DataFrame: run_id, year, scope, metric, value

    experiments, outcomes = sim.sweep(scenario, {"parameters.demography.total_fertility_rate":
                                                 [1.2, 1.6]}, replications=3, out="results/tfr")
    policy = sim.load_scenario("scenarios/my_policy.toml")
    sim.compare(scenario, [policy], replications=5, out="results/compare").table
"""

from __future__ import annotations

from sim import numerics

numerics.configure()  # before numpy is imported: the same results on AVX-512 and AVX2 machines

from pathlib import Path  # noqa: E402

from sim.errors import InputError  # noqa: E402
from sim.scenario import Scenario  # noqa: E402
from sim.version import __version__  # noqa: E402

__all__ = ["InputError", "Scenario", "build_model", "check_levers", "compare", "load_scenario",
           "results", "segregation", "set_threads", "sweep", "__version__"]


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario file (following ``extends``), validate it and check its levers against
    the city (see :func:`sim.inputs.levers.load_scenario`).

    Raises:
        InputError: naming the file and the field for any invalid input.
    """
    from sim.inputs.levers import load_scenario as _load

    return _load(path)


def check_levers(scenario: Scenario) -> None:
    """Check a scenario's lever locations against its city (cells inside it, quartiers it
    has); :func:`load_scenario` and :func:`build_model` do this too.

    Raises:
        InputError: naming the file that set the field, the field and the problem.
    """
    from sim.inputs.levers import check_levers as _check

    _check(scenario)


def build_model(scenario: Scenario, *, seed: int):
    """Build a model from a scenario and a seed (see :func:`sim.model.build_model`)."""
    from sim.model import build_model as _build

    return _build(scenario, seed=seed)


def set_threads(n: int | None) -> int:
    """Threads within one run (default 1; None or 0: all cores). The result is the same for
    any number; sweeps and comparisons run one thread per worker process regardless (see
    :mod:`sim.model.threads`). Returns the number set."""
    from sim.model.threads import set_threads as _set

    return _set(n)


def __getattr__(name: str):
    """``sim.sweep``, ``sim.compare`` and ``sim.results``, imported on first use (they need
    pandas and scipy); ``sim.segregation``, the segregation indices the model computes
    (:mod:`sim.model.segregation`), for observed data."""
    if name == "sweep":
        from sim.experiments.sweeps import sweep

        return sweep
    if name == "compare":
        from sim.experiments.comparison import compare

        return compare
    if name == "results":
        from sim.experiments import results

        return results
    if name == "segregation":
        from sim.model import segregation

        return segregation
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
