"""The base of every scenario table: unknown keys are errors, numbers are finite (no NaN or
infinity), values are frozen."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
