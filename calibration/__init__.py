"""Calibration targets (official figures with sources) and routines that compare the model with them."""
