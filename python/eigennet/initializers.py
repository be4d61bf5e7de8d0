"""Weight initializers with DL4J's names and formulas (see ``cpp/include/eigennet/init.hpp``).

Pass a name (``weight_init="xavier"``) or one of :class:`Constant`, :class:`Normal`, :class:`Uniform`.
When a layer gives none, ReLU-family activations get ``RELU`` (He), SELU gets ``LECUN_NORMAL`` and the
rest get ``XAVIER`` (DL4J's default).
"""

from __future__ import annotations

import json
import math
import numbers
from typing import Any, Dict, Union

from . import _core

BUILTIN = (
    "ZERO", "ONES", "CONSTANT", "NORMAL", "UNIFORM", "XAVIER", "XAVIER_UNIFORM", "XAVIER_FAN_IN",
    "LECUN_NORMAL", "LECUN_UNIFORM", "RELU", "RELU_UNIFORM", "SIGMOID_UNIFORM", "DISTRIBUTION",
)


def _finite(owner: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a number, got {type(value).__name__}")
    result = float(value)
    if not math.isfinite(result):
        raise ValueError(f"{owner}: {name} must be finite, got {result!r}")
    return result


class Constant:
    """Every weight set to ``value``."""

    def __init__(self, value: float) -> None:
        self.value = _finite("Constant", "value", value)

    def get_config(self) -> Dict[str, Any]:
        """The configuration dict stored in model files (canonical DL4J name and parameters)."""
        return {"name": "CONSTANT", "value": self.value}


class Normal:
    """A user distribution N(mean, std^2) (DL4J ``WeightInit.DISTRIBUTION`` with a NormalDistribution)."""

    def __init__(self, mean: float = 0.0, std: float = 1.0) -> None:
        self.mean, self.std = _finite("Normal", "mean", mean), _finite("Normal", "std", std)
        if self.std < 0:
            raise ValueError(f"Normal: std must be >= 0, got {std!r}")

    def get_config(self) -> Dict[str, Any]:
        """The configuration dict stored in model files (canonical DL4J name and parameters)."""
        return {"name": "DISTRIBUTION", "distribution": "normal", "mean": self.mean, "std": self.std}


class Uniform:
    """A user distribution U(lower, upper)."""

    def __init__(self, lower: float = -1.0, upper: float = 1.0) -> None:
        self.lower, self.upper = _finite("Uniform", "lower", lower), _finite("Uniform", "upper", upper)
        if self.lower > self.upper:
            raise ValueError(f"Uniform: needs lower <= upper, got lower={lower!r}, upper={upper!r}")

    def get_config(self) -> Dict[str, Any]:
        """The configuration dict stored in model files (canonical DL4J name and parameters)."""
        return {"name": "DISTRIBUTION", "distribution": "uniform", "lower": self.lower, "upper": self.upper}


InitLike = Union[str, Constant, Normal, Uniform, Dict[str, Any]]


def init_config(init: InitLike) -> Dict[str, Any]:
    """Canonical configuration dict of a weight initializer."""
    if hasattr(init, "get_config"):
        spec: Any = init.get_config()  # type: ignore[union-attr]
    elif isinstance(init, (str, dict)):
        spec = init
    else:
        raise TypeError(f"weight_init must be a name or an initializer object, got {type(init).__name__}")
    return json.loads(_core.canonical_weight_init(json.dumps(spec)))
