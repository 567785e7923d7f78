"""The base of every spec model: unknown keys refused, instances immutable."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class SpecModel(BaseModel):
    """A part of a spec file. Scalars are strict (see :mod:`dcctl.spec.types`); lists load as
    tuples so that a loaded spec is immutable and comparable."""

    model_config = ConfigDict(extra="forbid", frozen=True)
