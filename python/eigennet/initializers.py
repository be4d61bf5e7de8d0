"""Weight initializers with DL4J's names and formulas (see ``cpp/include/eigennet/init.hpp``).

Pass a name (``weight_init="xavier"``) or one of :class:`Constant`, :class:`Normal`, :class:`Uniform`.
When a layer gives none, ReLU-family activations get ``RELU`` (He), SELU gets ``LECUN_NORMAL`` and the
rest get ``XAVIER`` (DL4J's default).
"""

from __future__ import annotations

import json
from typing import Any, Dict, Union

from . import _core

BUILTIN = (
    "ZERO", "ONES", "CONSTANT", "NORMAL", "UNIFORM", "XAVIER", "XAVIER_UNIFORM", "XAVIER_FAN_IN",
    "LECUN_NORMAL", "LECUN_UNIFORM", "RELU", "RELU_UNIFORM", "SIGMOID_UNIFORM", "DISTRIBUTION",
)


class Constant:
    """Every weight set to ``value``."""

    def __init__(self, value: float) -> None:
        self.value = float(value)

    def get_config(self) -> Dict[str, Any]:
        """The configuration dict stored in model files (canonical DL4J name and parameters)."""
        return {"name": "CONSTANT", "value": self.value}


class Normal:
    """A user distribution N(mean, std^2) (DL4J ``WeightInit.DISTRIBUTION`` with a NormalDistribution)."""

    def __init__(self, mean: float = 0.0, std: float = 1.0) -> None:
        self.mean, self.std = float(mean), float(std)

    def get_config(self) -> Dict[str, Any]:
        """The configuration dict stored in model files (canonical DL4J name and parameters)."""
        return {"name": "DISTRIBUTION", "distribution": "normal", "mean": self.mean, "std": self.std}


class Uniform:
    """A user distribution U(lower, upper)."""

    def __init__(self, lower: float = -1.0, upper: float = 1.0) -> None:
        self.lower, self.upper = float(lower), float(upper)

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
