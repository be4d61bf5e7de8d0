"""Learning-rate schedules (DL4J ISchedule), accepted as ``learning_rate=`` by every updater that has one::

    eigennet.Adam(learning_rate=eigennet.schedules.Exponential(0.1, gamma=0.99))

A schedule maps a counter ``i`` to a rate. ``schedule_type="iteration"`` (the default) counts the
updater steps taken before the current one (0 for the first step, carried on by later ``fit`` calls
and by saved models); ``schedule_type="epoch"`` counts the epochs completed before the current one,
so the rate changes only between epochs. With ``v0 = initial_value``:

* ``Fixed(value)``: ``value``.
* ``Step(initial_value, decay_rate, step)``: ``v0 * decay_rate ** floor(i / step)``.
* ``Exponential(initial_value, gamma)``: ``v0 * gamma ** i``.
* ``Inverse(initial_value, gamma, power)``: ``v0 / (1 + gamma * i) ** power``.
* ``Poly(initial_value, power, max_iter)``: ``v0 * (1 - i / max_iter) ** power``, and 0 from ``max_iter`` on.
  (DL4J's PolySchedule computes ``v0 * (1 + i / max_iter) ** power``, which grows, while its javadoc
  says ``** -power``; this is the usual "poly" policy, which reaches 0 at ``max_iter``.)
* ``Sigmoid(initial_value, gamma, step_size)``: ``v0 / (1 + exp(-gamma * (i - step_size)))``.
* ``Map({0: v0, 10: v1, ...})``: the value of the largest key ``<= i`` (key 0 is required).
* ``CosineWarmup(peak_value, warmup, total, final_value=0.0)``: ``peak_value * i / warmup`` for
  ``i < warmup`` (so the first step's rate is 0), then
  ``final_value + (peak_value - final_value) * (1 + cos(pi * (i - warmup) / (total - warmup))) / 2``
  for ``warmup <= i < total``, and ``final_value`` from ``total`` on.

The formulas live in the C++ core (``cpp/include/eigennet/schedule.hpp``); :meth:`Schedule.value_at`
asks it, so Python and training always agree.
"""

from __future__ import annotations

import json
import math
import numbers
from typing import Any, Dict, Mapping, Optional

from . import _core
from ._names import closest, resolve


def _number(owner: str, field: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {field} must be a number, got {type(value).__name__}")
    try:
        result = float(value)
    except OverflowError:
        result = math.inf
    if not math.isfinite(result):
        raise ValueError(f"{owner}: {field} must be finite, got {result!r}")
    return result


def _integer(owner: str, field: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{owner}: {field} must be an integer, got {type(value).__name__}")
    return int(value)


def _counter(field: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"value_at: {field} must be an integer, got {type(value).__name__}")
    if not 0 <= int(value) < 2**63:
        raise ValueError(f"value_at: {field} must be >= 0, got {value}")
    return int(value)


class Schedule:
    """Base class: a schedule's name, its fields and the counter (``schedule_type``) that drives it.

    Schedules are immutable; their fields read as attributes (``schedule.gamma``).
    """

    name = ""

    def __init__(self, schedule_type: str = "iteration", **fields: Any) -> None:
        owner = type(self).__name__
        if not isinstance(schedule_type, str):
            raise TypeError(f"{owner}: schedule_type must be \"iteration\" or \"epoch\", got {type(schedule_type).__name__}")
        config = {"name": self.name, **fields, "schedule_type": schedule_type}
        # The core validates every field (ValueError naming it) and returns the canonical form.
        self._config: Dict[str, Any] = json.loads(_core.canonical_schedule(json.dumps(config)))
        self._config_json = json.dumps(self._config)

    def __getattr__(self, item: str) -> Any:
        config = self.__dict__.get("_config", {})
        if item in config and item != "name":
            return config[item]
        raise AttributeError(f"{type(self).__name__} has no attribute {item!r}")

    def get_config(self) -> Dict[str, Any]:
        """``{"name": ..., fields..., "schedule_type": ...}``, as stored in a model file."""
        return json.loads(self._config_json)

    def value_at(self, iteration: int, epoch: int = 0) -> float:
        """The rate of the step that follows ``iteration`` steps, during epoch ``epoch`` (both from 0)."""
        return float(_core.schedule_value(self._config_json, _counter("iteration", iteration), _counter("epoch", epoch)))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._config if k != "name")
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self._config == other._config  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._config_json)


class Fixed(Schedule):
    """A constant ``value`` (the same as passing the number itself)."""

    name = "FIXED"

    def __init__(self, value: float, *, schedule_type: str = "iteration") -> None:
        super().__init__(schedule_type, value=_number("Fixed", "value", value))


class Step(Schedule):
    """``initial_value * decay_rate ** floor(i / step)``: multiply by ``decay_rate`` every ``step`` steps."""

    name = "STEP"

    def __init__(self, initial_value: float, decay_rate: float, step: float, *, schedule_type: str = "iteration") -> None:
        super().__init__(
            schedule_type,
            initial_value=_number("Step", "initial_value", initial_value),
            decay_rate=_number("Step", "decay_rate", decay_rate),
            step=_number("Step", "step", step),
        )


class Exponential(Schedule):
    """``initial_value * gamma ** i``."""

    name = "EXPONENTIAL"

    def __init__(self, initial_value: float, gamma: float, *, schedule_type: str = "iteration") -> None:
        super().__init__(
            schedule_type,
            initial_value=_number("Exponential", "initial_value", initial_value),
            gamma=_number("Exponential", "gamma", gamma),
        )


class Inverse(Schedule):
    """``initial_value / (1 + gamma * i) ** power``."""

    name = "INVERSE"

    def __init__(self, initial_value: float, gamma: float, power: float, *, schedule_type: str = "iteration") -> None:
        super().__init__(
            schedule_type,
            initial_value=_number("Inverse", "initial_value", initial_value),
            gamma=_number("Inverse", "gamma", gamma),
            power=_number("Inverse", "power", power),
        )


class Poly(Schedule):
    """``initial_value * (1 - i / max_iter) ** power``, 0 from ``max_iter`` on."""

    name = "POLY"

    def __init__(self, initial_value: float, power: float, max_iter: int, *, schedule_type: str = "iteration") -> None:
        super().__init__(
            schedule_type,
            initial_value=_number("Poly", "initial_value", initial_value),
            power=_number("Poly", "power", power),
            max_iter=_integer("Poly", "max_iter", max_iter),
        )


class Sigmoid(Schedule):
    """``initial_value / (1 + exp(-gamma * (i - step_size)))``: a smooth step around ``step_size``
    (down for ``gamma < 0``, up for ``gamma > 0``)."""

    name = "SIGMOID"

    def __init__(self, initial_value: float, gamma: float, step_size: int, *, schedule_type: str = "iteration") -> None:
        super().__init__(
            schedule_type,
            initial_value=_number("Sigmoid", "initial_value", initial_value),
            gamma=_number("Sigmoid", "gamma", gamma),
            step_size=_integer("Sigmoid", "step_size", step_size),
        )


class Map(Schedule):
    """Piecewise constant: ``values[k]`` for the largest key ``k <= i``; ``values`` must have key 0.

    ``Map({0: 0.1, 10: 0.01})`` uses 0.1 for steps 0-9 and 0.01 from step 10 on.
    """

    name = "MAP"

    def __init__(self, values: Mapping[int, float], *, schedule_type: str = "iteration") -> None:
        if not isinstance(values, Mapping):
            raise TypeError(f"Map: values must be a dict {{iteration: value}}, got {type(values).__name__}")
        points = {}
        for key, value in values.items():
            index = _integer("Map", "values key", key)
            points[str(index)] = _number("Map", f"values[{index}]", value)
        super().__init__(schedule_type, values=points)

    @property
    def values(self) -> Dict[int, float]:
        """The points as ``{iteration or epoch: value}``, in increasing order."""
        return {int(k): v for k, v in self._config["values"].items()}


class CosineWarmup(Schedule):
    """Linear warm-up from 0 to ``peak_value`` over ``warmup`` steps, then cosine decay to
    ``final_value`` at step ``total``, constant after (see the module docstring for the formula)."""

    name = "COSINE_WARMUP"

    def __init__(
        self, peak_value: float, warmup: int, total: int, final_value: float = 0.0, *, schedule_type: str = "iteration"
    ) -> None:
        super().__init__(
            schedule_type,
            peak_value=_number("CosineWarmup", "peak_value", peak_value),
            warmup=_integer("CosineWarmup", "warmup", warmup),
            total=_integer("CosineWarmup", "total", total),
            final_value=_number("CosineWarmup", "final_value", final_value),
        )


_BY_NAME = {cls.name: cls for cls in (Fixed, Step, Exponential, Inverse, Poly, Sigmoid, Map, CosineWarmup)}
_FIELDS = {
    "FIXED": ("value",),
    "STEP": ("initial_value", "decay_rate", "step"),
    "EXPONENTIAL": ("initial_value", "gamma"),
    "INVERSE": ("initial_value", "gamma", "power"),
    "POLY": ("initial_value", "power", "max_iter"),
    "SIGMOID": ("initial_value", "gamma", "step_size"),
    "MAP": ("values",),
    "COSINE_WARMUP": ("peak_value", "warmup", "total", "final_value"),
}
_OPTIONAL_FIELDS = {"final_value"}


def _map_key(key: Any) -> int:
    """A saved MAP key ("10") back to an integer."""
    if isinstance(key, str) and key.isdigit():
        return int(key)
    if isinstance(key, numbers.Integral) and not isinstance(key, bool):
        return int(key)
    raise ValueError(f"Map: values key {key!r} is not a non-negative whole number (an iteration or epoch)")


def from_config(config: Mapping[str, Any]) -> Schedule:
    """Rebuild a schedule from its configuration dict (as :meth:`Schedule.get_config` returns it)."""
    if not isinstance(config, Mapping):
        raise TypeError(f"a schedule config must be a dict, got {type(config).__name__}")
    if "name" not in config:
        raise ValueError(f"a schedule config needs a \"name\" (one of {', '.join(sorted(_BY_NAME))})")
    name = resolve("schedule", config["name"], list(_BY_NAME))
    cls = _BY_NAME[name]
    allowed = _FIELDS[name] + ("schedule_type",)
    fields = {k: v for k, v in config.items() if k != "name"}
    unknown = [k for k in fields if k not in allowed]
    if unknown:
        hint = closest(unknown[0], allowed)
        raise TypeError(
            f"{cls.__name__} got unexpected field(s) {sorted(unknown)}"
            + (f'; did you mean "{hint}"?' if hint else f"; it takes {list(allowed)}")
        )
    missing = [k for k in _FIELDS[name] if k not in fields and k not in _OPTIONAL_FIELDS]
    if missing:
        raise ValueError(f"{cls.__name__}: missing field(s) {missing}")
    if name == "MAP" and isinstance(fields.get("values"), Mapping):
        fields["values"] = {_map_key(k): v for k, v in fields["values"].items()}
    return cls(**fields)


def as_schedule(value: Any) -> Optional[Schedule]:
    """A Schedule for a Schedule object or a schedule config dict, None for anything else."""
    if isinstance(value, Schedule):
        return value
    if isinstance(value, Mapping):
        return from_config(value)
    return None


def names() -> list:
    """The schedule names the core knows (``"EXPONENTIAL"``, ...)."""
    return sorted(_core.schedule_names())


__all__ = [
    "Schedule", "Fixed", "Step", "Exponential", "Inverse", "Poly", "Sigmoid", "Map", "CosineWarmup",
    "from_config", "as_schedule", "names",
]
