"""Random factors in a spec: a constant, a uniform range, or a weighted choice.

YAML forms::

    speed: 1.0                                  # constant
    speed: [0.8, 1.25]                          # uniform in [min, max]
    azimuth_deg: {choice: [0, 90, -90], jitter: 15}       # pick one, add uniform(-15, 15)
    trajectory: {choice: [static, pan], weights: [3, 1]}  # weighted choice

Sampling always draws from an explicit `numpy.random.Generator`, so a clip is a pure
function of (spec, seed).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, model_serializer, model_validator


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and bool(np.isfinite(v))


def _check_finite(values) -> None:
    # NaN passes every range check (comparisons with it are false) and would crash a worker
    bad = [v for v in values if isinstance(v, float) and not np.isfinite(v)]
    if bad:
        raise ValueError(f"values must be finite numbers, got {bad[0]}")


class Factor(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    low: float | None = None
    high: float | None = None
    choice: list[Any] | None = None
    weights: list[float] | None = None
    jitter: float = 0.0

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, value):
        if isinstance(value, bool):
            raise ValueError("expected a number, [min, max] or {choice: [...]}, got a boolean")
        if isinstance(value, (int, float, str)):
            _check_finite([value])
            return {"choice": [value]}
        if isinstance(value, (list, tuple)):
            if len(value) != 2 or not all(_is_number(v) for v in value):
                raise ValueError(f"a range must be [min, max] with two finite numbers, got {list(value)!r}")
            if value[0] > value[1]:
                raise ValueError(f"range min {value[0]} is greater than max {value[1]}")
            return {"low": float(value[0]), "high": float(value[1])}
        if isinstance(value, dict):
            if value.get("choice") is not None:
                choice = value["choice"]
                if not isinstance(choice, list) or not choice:
                    raise ValueError("'choice' must be a non-empty list")
                _check_finite(choice)
                weights = value.get("weights")
                if weights is not None and (
                    not isinstance(weights, list) or not all(_is_number(w) for w in weights)
                    or len(weights) != len(choice) or any(w < 0 for w in weights) or sum(weights) <= 0
                ):
                    raise ValueError("'weights' must be a list of non-negative numbers, one per choice, not all zero")
                jitter = value.get("jitter", 0.0)
                if not _is_number(jitter) or jitter < 0:
                    raise ValueError(f"'jitter' must be a non-negative number, got {jitter!r}")
            return value
        return value

    @model_validator(mode="after")
    def _check(self):
        if self.choice is None and (self.low is None or self.high is None):
            raise ValueError("give a number, [min, max] or {choice: [...]}")
        return self

    @model_serializer
    def _serialize(self):
        # Written back in the same short form a user types in YAML.
        if self.choice is None:
            return [self.low, self.high]
        if len(self.choice) == 1 and not self.jitter:
            return self.choice[0]
        out: dict = {"choice": list(self.choice)}
        if self.weights is not None:
            out["weights"] = list(self.weights)
        if self.jitter:
            out["jitter"] = self.jitter
        return out

    def sample(self, rng: np.random.Generator):
        if self.choice is not None:
            if len(self.choice) == 1 and not self.jitter:
                return self.choice[0]
            p = None
            if self.weights is not None:
                p = np.asarray(self.weights, dtype=np.float64) / np.sum(self.weights)
            value = self.choice[int(rng.choice(len(self.choice), p=p))]
            if self.jitter and isinstance(value, (int, float)):
                value = float(value) + float(rng.uniform(-self.jitter, self.jitter))
            return value
        return float(rng.uniform(self.low, self.high))

    def bounds(self) -> tuple[float, float] | None:
        """Numeric range covered (for checks); None for non-numeric choices."""
        if self.choice is None:
            return self.low, self.high
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in self.choice):
            return min(self.choice) - self.jitter, max(self.choice) + self.jitter
        return None

    def check_within(self, lo: float, hi: float, name: str) -> None:
        b = self.bounds()
        if b is None:
            raise ValueError(f"{name} must be numeric")
        if b[0] < lo or b[1] > hi:
            raise ValueError(f"values must lie in [{lo}, {hi}], got [{b[0]}, {b[1]}]")
