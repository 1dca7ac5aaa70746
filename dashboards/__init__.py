"""Plotly figure builders: pure functions of the tidy result tables (no model code)."""
