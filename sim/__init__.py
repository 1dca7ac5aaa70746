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

from sim.errors import InputError
from sim.scenario import Scenario, load_scenario

__version__ = "0.1.0"
__all__ = ["InputError", "Scenario", "build_model", "compare", "load_scenario", "sweep",
           "__version__"]


def build_model(scenario: Scenario, *, seed: int):
    """Build a model from a scenario and a seed (see :func:`sim.model.build_model`)."""
    from sim.model import build_model as _build

    return _build(scenario, seed=seed)


def __getattr__(name: str):
    """``sim.sweep`` and ``sim.compare``, imported on first use (they need pandas and scipy)."""
    if name == "sweep":
        from sim.sweeps import sweep

        return sweep
    if name == "compare":
        from sim.comparison import compare

        return compare
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
