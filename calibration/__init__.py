"""Calibration: official targets (with sources) and routines comparing the model with them."""

import sim.numerics  # noqa: F401 (before numpy: the numerics every machine shares)
