"""Layers written in Python: subclass :class:`CustomLayer`.

A custom layer's forward and backward passes run in Python (NumPy) inside a network of built-in
layers; its parameters live in the network's flat parameter vector like every layer's, so
``params()``, ``get_param``, the updaters, regularization, ``save`` and ``load`` treat them alike.
"""

from __future__ import annotations

import json
import math
import numbers
from typing import Any, Dict, List, Mapping, Tuple

import numpy as np

from . import _core
from ._names import key
from .layers import Layer

__all__ = ["CustomLayer"]

_MAX_WIDTH = 2**31
_MAX_PARAMS = 2**34  # per layer, as for Dense

# Custom layer classes by type name, to refuse a second class whose name differs only in case,
# '_' or '-' (the core would look both up as the same type).
_custom_types: Dict[str, str] = {}


class CustomLayer(Layer):
    """Base class of layers written in Python.

    Subclass it and implement :meth:`forward` and :meth:`backward`; override :meth:`output_dim`,
    :meth:`parameters`, :meth:`initialize` and :meth:`get_config` as needed. Defining the class
    registers it under ``type_name`` (default: the class name), which is the layer's "type" in a
    saved model: :func:`eigennet.load` rebuilds such a model only once the class is defined again
    (import the module that defines it first), as with Keras custom objects. Defining another
    class under the same name replaces the registration.

    The model builds its own instance from :meth:`get_config` (the layer object passed to
    ``Sequential`` only carries the configuration, as for every layer), so ``get_config`` must
    return the constructor's keyword arguments, JSON-serializable.

    Arrays are NumPy arrays of the model's dtype with samples as rows: ``x`` is (batch, n_in) and
    ``y`` (batch, n_out). ``params`` maps each parameter name to an array of its declared shape
    viewing the network's memory: writable in :meth:`initialize`, read-only in :meth:`forward` and
    :meth:`backward`, and valid only during the call. Keep a copy (``params["W"].copy()``), never
    the array itself: a method that returns while still referencing one raises ValueError.

    ``forward`` also serves predictions, possibly from several threads (one at a time: the methods
    run holding the GIL), so it must not leave on ``self`` anything ``backward`` relies on;
    ``backward`` receives the input and output of the forward pass instead. Exceptions raised in
    these methods reach the caller of ``fit``, ``predict``, ... unchanged.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        if "type_name" not in cls.__dict__:
            cls.type_name = cls.__name__
        name = cls.type_name
        if not isinstance(name, str) or not key(name):
            raise TypeError(f"{cls.__name__}.type_name must be a non-empty string, got {name!r}")
        existing = Layer._registry.get(name)
        if existing is not None and not issubclass(existing, CustomLayer):
            raise ValueError(f"{name!r} is the name of the built-in layer {existing.__name__}; "
                             f"set another type_name on {cls.__name__}")
        other = _custom_types.get(key(name))
        if other is not None and other != name:
            raise ValueError(f"custom layer type {name!r} clashes with the registered {other!r} (names are "
                             "compared ignoring case, '_' and '-'); choose another type_name")
        _core.register_layer(name, _builder(cls))  # refuses the core's built-in type names
        _custom_types[key(name)] = name
        super().__init_subclass__(**kwargs)  # Layer registers it for Layer.from_config

    # ------------------------------------------------------------------ what subclasses implement
    def output_dim(self, n_in: int) -> int:
        """Width of the output for an input of width ``n_in`` (default: ``n_in``)."""
        return n_in

    def parameters(self, n_in: int) -> Mapping[str, Any]:
        """The layer's parameters: ``{name: shape}`` with 1-D ``(k,)`` or 2-D ``(a, b)`` shapes, in the
        order they take in the flat parameter vector (default: none). 2-D parameters are
        regularized (l1, l2, weight_decay) like Dense weights; 1-D ones like biases, only with
        ``regularize_bias=True``."""
        return {}

    def initialize(self, params: Dict[str, np.ndarray], rng: np.random.Generator) -> None:
        """Write initial values into the (writable) arrays of ``params``; ``rng`` is seeded from the
        model's seed. Default: Xavier-uniform for 2-D parameters, zeros for 1-D ones."""
        for value in params.values():
            if value.ndim == 2:
                limit = math.sqrt(6.0 / (value.shape[0] + value.shape[1]))
                value[...] = rng.uniform(-limit, limit, size=value.shape)
            else:
                value[...] = 0

    def forward(self, x: np.ndarray, params: Dict[str, np.ndarray], training: bool) -> np.ndarray:
        """Return the output, a (batch, n_out) floating-point array. ``training`` is True in the
        steps of ``fit`` and False for predictions, scores and gradient computations."""
        raise NotImplementedError(f"{type(self).__name__} must implement forward(x, params, training)")

    def backward(
        self, x: np.ndarray, y: np.ndarray, dy: np.ndarray, params: Dict[str, np.ndarray]
    ) -> Tuple[np.ndarray, Dict[str, np.ndarray]]:
        """Given ``dy``, the gradient of the score with respect to ``y = forward(x)``, return
        ``(dx, grads)``: the gradient with respect to ``x`` (batch, n_in) and ``{name: gradient}`` of
        every parameter, each of its parameter's shape. ``dy`` already carries the 1/batch of the
        mean loss: sum over the samples, do not average again."""
        raise NotImplementedError(f"{type(self).__name__} must implement backward(x, y, dy, params)")

    def get_config(self) -> Dict[str, Any]:
        """The constructor's keyword arguments (JSON-serializable); default: none."""
        return {}

    # ------------------------------------------------------------------ plumbing
    @property
    def has_loss(self) -> bool:
        return False

    def _full_config(self) -> Dict[str, Any]:
        user = self.get_config()
        if not isinstance(user, dict):
            raise TypeError(f"{type(self).__name__}.get_config must return a dict, got {type(user).__name__}")
        try:
            json.dumps(user, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{type(self).__name__}.get_config must return JSON-serializable values: {exc}") from None
        config: Dict[str, Any] = {"type": self.type_name, "config": user}
        if self.frozen:
            config["frozen"] = True
        return config

    @classmethod
    def _from_config(cls, config: Dict[str, Any]) -> "CustomLayer":
        return cls(**config.get("config", {}))


def _check_dim(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{what} must be an integer, got {type(value).__name__}")
    if not 1 <= int(value) <= _MAX_WIDTH:
        raise ValueError(f"{what} must be between 1 and 2**31, got {value}")
    return int(value)


def _check_parameters(spec: Any, owner: str) -> List[Tuple[str, Tuple[int, ...]]]:
    what = f"{owner}.parameters"
    if not isinstance(spec, Mapping):
        raise TypeError(f"{what} must return a dict {{name: shape}}, got {type(spec).__name__}")
    out = []
    total = 0
    for name, shape in spec.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"{what}: parameter names must be non-empty strings, got {name!r}")
        dims = (shape,) if isinstance(shape, numbers.Integral) and not isinstance(shape, bool) else shape
        if not isinstance(dims, (tuple, list)) or len(dims) not in (1, 2):
            raise ValueError(f"{what}: the shape of {name!r} must be (k,) or (a, b), got {shape!r}")
        dims = tuple(_check_dim(d, f"{what}: each dimension of {name!r}") for d in dims)
        total += math.prod(dims)
        if total > _MAX_PARAMS:
            raise ValueError(f"{what}: more than 2**34 parameters")
        out.append((name, dims))
    return out


def _builder(cls: type) -> Any:
    """What the core calls to make the layer of a network: from the layer's stored configuration
    and input width, (instance, n_out, [(name, shape)], JSON of get_config())."""

    def build(config_json: str, n_in: int, where: str) -> Tuple[Any, int, List[Tuple[str, Tuple[int, ...]]], str]:
        config = json.loads(config_json)
        if not isinstance(config.get("config", {}), dict):
            raise ValueError(f'{where}: the layer\'s "config" must be an object of constructor arguments')
        layer = cls._from_config(config)
        n_out = _check_dim(layer.output_dim(n_in), f"{where}: {cls.__name__}.output_dim({n_in})")
        params = _check_parameters(layer.parameters(n_in), f"{where}: {cls.__name__}")
        user = layer._full_config()["config"]
        return layer, n_out, params, json.dumps(user, allow_nan=False)

    return build
