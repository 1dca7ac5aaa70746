"""Calibration: official targets (with sources) and routines comparing the model with them."""
