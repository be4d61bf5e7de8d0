"""Activation functions, known by their DL4J names (case-insensitive; ``"leaky_relu"`` works too).

Pass a name (``activation="relu"``) or an object carrying parameters (``LeakyReLU(alpha=0.2)``).
Custom activations written with NumPy plug in through :func:`register_activation`.
"""

from __future__ import annotations

import json
import math
import numbers
from typing import Any, Callable, Dict, Union

from . import _core
from ._names import key, resolve

BUILTIN = (
    "CUBE", "ELU", "GELU", "HARDSIGMOID", "HARDTANH", "IDENTITY", "LEAKYRELU", "MISH", "RATIONALTANH",
    "RELU", "RELU6", "RRELU", "SELU", "SIGMOID", "SOFTMAX", "SOFTPLUS", "SOFTSIGN", "SWISH", "TANH",
    "THRESHOLDEDRELU",
)


class Activation:
    """An activation by name with optional parameters (the base of the parameterised classes)."""

    def __init__(self, name: str, **params: Any) -> None:
        self.name = name
        self.params = params

    def get_config(self) -> Dict[str, Any]:
        """The configuration dict stored in model files (canonical DL4J name and parameters)."""
        config = {"name": self.name}
        config.update(self.params)
        return json.loads(_core.canonical_activation(json.dumps(config)))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({args})" if type(self) is not Activation else f"Activation({self.name!r})"


def _finite(owner: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a number, got {type(value).__name__}")
    result = float(value)
    if not math.isfinite(result):
        raise ValueError(f"{owner}: {name} must be finite, got {result!r}")
    return result


class LeakyReLU(Activation):
    """max(z, alpha z); DL4J's default alpha is 0.01."""

    def __init__(self, alpha: float = 0.01) -> None:
        super().__init__("LEAKYRELU", alpha=_finite("LeakyReLU", "alpha", alpha))


class RReLU(Activation):
    """Randomized leaky ReLU: slope ~ U(lower, upper) per element while training, their mean at inference."""

    def __init__(self, lower: float = 1.0 / 8.0, upper: float = 1.0 / 3.0) -> None:
        lower, upper = _finite("RReLU", "lower", lower), _finite("RReLU", "upper", upper)
        if lower > upper:
            raise ValueError(f"RReLU: needs lower <= upper, got lower={lower!r}, upper={upper!r}")
        super().__init__("RRELU", lower=lower, upper=upper)


class ELU(Activation):
    """z for z > 0, alpha (e^z - 1) otherwise."""

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__("ELU", alpha=_finite("ELU", "alpha", alpha))


class ThresholdedReLU(Activation):
    """z for z > theta, 0 otherwise."""

    def __init__(self, theta: float = 1.0) -> None:
        super().__init__("THRESHOLDEDRELU", theta=_finite("ThresholdedReLU", "theta", theta))


class GELU(Activation):
    """Gaussian error linear unit; ``approximate="tanh"`` selects the tanh approximation."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__("GELU", approximate=approximate)


ActivationLike = Union[str, Activation, Dict[str, Any]]


def activation_config(activation: ActivationLike) -> Dict[str, Any]:
    """Canonical configuration dict of an activation given by name, object or dict."""
    if isinstance(activation, Activation):
        return activation.get_config()
    if isinstance(activation, dict):
        return json.loads(_core.canonical_activation(json.dumps(activation)))
    name = resolve("activation", activation, _core.activation_names())
    return json.loads(_core.canonical_activation(json.dumps(name)))


def register_activation(
    name: str,
    forward: Callable[[Any], Any],
    backward: Callable[[Any, Any, Any], Any],
) -> None:
    """Register a custom activation written in Python.

    ``forward(z)`` returns ``a`` and ``backward(z, a, da)`` returns ``dz`` (the gradient of the loss
    with respect to ``z`` given its gradient ``da`` with respect to ``a``), all NumPy arrays of shape
    (batch, width). Models that use it must be loaded in a process that registered it too.
    """
    if not callable(forward) or not callable(backward):
        raise TypeError("forward and backward must be callables")
    if key(str(name)) in {key(b) for b in BUILTIN} or key(str(name)) == "LINEAR":
        raise ValueError(f"{name!r} is a built-in activation; register the custom one under another name")
    _core.register_activation(str(name), forward, backward)


def available() -> list:
    """Names of all registered activations."""
    return sorted(_core.activation_names())
