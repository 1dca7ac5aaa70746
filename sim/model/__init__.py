"""The model kernel: the yearly schedule of processes over the city's state.

:func:`build_model` is the one entry point (the CLI, sweeps, dashboards and tests all go
through it). ``kernel`` holds :class:`QuartierModel`; ``processes`` one module per yearly step;
``housing``, ``services`` and ``accessibility`` the dwelling market and the facilities;
``metrics`` and ``segregation`` the yearly outcomes; ``rng`` the random streams; ``schelling``
the classic Schelling model.
"""

from sim.model.kernel import QuartierModel, build_model, run_id

__all__ = ["QuartierModel", "build_model", "run_id"]
