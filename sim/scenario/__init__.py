"""Scenario files: what a user writes, validated.

A scenario is a TOML file organised as in EMA Workbench: ``city`` holds the constants of the
place, ``parameters`` the behavioural parameters (the uncertainties a calibration or sweep
varies), ``levers`` the policy, ``outcomes`` what is recorded. A file may ``extends`` another
(path relative to itself) and then overrides only what changes; tables merge key by key.

This package imports nothing of the model: :func:`read_scenario` checks the file against
the schema. :func:`sim.load_scenario` also checks lever locations against the city.

Modules: ``schema`` (the :class:`Scenario`), ``parameters`` and ``service_parameters``
(behaviour), ``levers`` (policy), ``loading`` (files and ``extends``).
"""

from sim.scenario.loading import read_scenario
from sim.scenario.schema import Scenario, run_id

__all__ = ["Scenario", "read_scenario", "run_id"]
