"""The base of every scenario table: unknown keys are errors, numbers are finite (no NaN or
infinity), of a magnitude a simulation can compute with (0, or between 1e-6 and 1e9 either way:
no parameter of the model lies outside, and values outside overflow or underflow its arithmetic:
divisions, root finders, catchment widths) and never true/false; values are frozen."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

SMALLEST = 1e-6  # the smallest magnitude of a non-zero number (floats)
LARGEST = 1e9  # the largest magnitude of a number (floats; ints have their own bounds)


def _allows_bool(annotation: Any) -> bool:
    if annotation is bool or annotation is Any:
        return True
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return any(_allows_bool(a) for a in typing.get_args(annotation))
    return False


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        """true/false is not a number (pydantic would read it as 1/0)."""
        if isinstance(value, bool) and info.field_name is not None and not _allows_bool(
                cls.model_fields[info.field_name].annotation):
            raise ValueError("must be a value of its kind, not true/false")
        for number in (value if isinstance(value, list | tuple) else (value,)):
            if not isinstance(number, float) or number != number or abs(number) == float("inf"):
                continue  # not a number, or NaN/infinity (refused as not finite)
            if number != 0 and not SMALLEST <= abs(number) <= LARGEST:
                raise ValueError(f"must be 0 or of magnitude {SMALLEST:g} to {LARGEST:g} "
                                 f"(got {number!r})")
        return value
