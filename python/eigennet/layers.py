"""Layers. Like Keras layers they only hold configuration until the model knows its input width."""

from __future__ import annotations

import inspect
import numbers
from typing import Any, Dict, Optional

from .activations import ActivationLike, activation_config
from .initializers import InitLike, init_config
from .losses import LossLike, loss_config

_MAX_WIDTH = 2**31


def _check_units(units: Any, owner: str) -> int:
    if isinstance(units, bool) or not isinstance(units, numbers.Integral):
        raise TypeError(f"{owner}: units must be an integer, got {type(units).__name__}")
    if not 1 <= int(units) <= _MAX_WIDTH:
        raise ValueError(f"{owner}: units must be between 1 and 2**31, got {units}")
    return int(units)


class Layer:
    """Base class of all layers.

    A subclass sets ``type_name`` (the "type" in the stored configuration, which the C++ core
    knows) and implements ``get_config``; it is registered under that name, so that
    :meth:`from_config` can rebuild it from a model file. The default ``_from_config`` passes the
    stored fields to ``__init__`` by name, ``n_out`` as ``units``; override it where the
    configuration and the constructor differ more.

    ``layer.frozen = True`` (or :func:`eigennet.transfer`) freezes a layer: its parameters get no
    gradient and never change during training.
    """

    type_name = "Layer"
    frozen = False
    _registry: Dict[str, type] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "type_name" in cls.__dict__:
            Layer._registry[cls.type_name] = cls

    def get_config(self) -> Dict[str, Any]:
        raise NotImplementedError

    def _full_config(self) -> Dict[str, Any]:
        """get_config() plus the fields every layer shares."""
        config = self.get_config()
        if self.frozen:
            config["frozen"] = True
        return config

    @property
    def has_loss(self) -> bool:
        return "loss" in self.get_config()

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "type")
        return f"{type(self).__name__}({fields})"

    @classmethod
    def _from_config(cls, config: Dict[str, Any]) -> "Layer":
        parameters = inspect.signature(cls.__init__).parameters
        kwargs = {}
        for key, value in config.items():
            name = "units" if key == "n_out" else key
            if name in parameters and name != "self":
                kwargs[name] = value
        return cls(**kwargs)

    @staticmethod
    def from_config(config: Dict[str, Any]) -> "Layer":
        """Rebuild a layer from the configuration stored in a model."""
        kind = config["type"]
        cls = Layer._registry.get(kind)
        if cls is None:
            raise ValueError(f"unknown layer type {kind!r}; known: {sorted(Layer._registry)}")
        layer = cls._from_config(config)
        layer.frozen = bool(config.get("frozen", False))
        return layer


class Dense(Layer):
    """Fully connected layer: ``activation(x @ W + b)`` with ``W`` of shape (n_in, units).

    ``activation`` defaults to identity (as in Keras). ``weight_init`` defaults by activation: ``RELU``
    (He) for the ReLU family, ``LECUN_NORMAL`` for SELU, ``XAVIER`` otherwise. ``has_bias=False``
    drops ``b`` (DL4J ``hasBias(false)``).
    """

    type_name = "Dense"

    def __init__(
        self,
        units: int,
        activation: ActivationLike = "identity",
        weight_init: Optional[InitLike] = None,
        has_bias: bool = True,
        bias_init: float = 0.0,
    ) -> None:
        owner = type(self).__name__
        self.units = _check_units(units, owner)
        self.activation = activation_config(activation)
        self.weight_init = None if weight_init is None else init_config(weight_init)
        if not isinstance(has_bias, bool):
            raise TypeError(f"{owner}: has_bias must be True or False")
        self.has_bias = has_bias
        self.bias_init = float(bias_init)

    def get_config(self) -> Dict[str, Any]:
        config: Dict[str, Any] = {
            "type": self.type_name,
            "n_out": self.units,
            "activation": self.activation,
            "has_bias": self.has_bias,
            "bias_init": self.bias_init,
        }
        if self.weight_init is not None:
            config["weight_init"] = self.weight_init
        return config


class Output(Dense):
    """DL4J OutputLayer: a Dense layer followed by a loss. Must be the last layer."""

    type_name = "Output"

    def __init__(
        self,
        units: int,
        activation: ActivationLike = "softmax",
        loss: LossLike = "mcxent",
        weight_init: Optional[InitLike] = None,
        has_bias: bool = True,
        bias_init: float = 0.0,
    ) -> None:
        super().__init__(units, activation, weight_init, has_bias, bias_init)
        self.loss = loss_config(loss)

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config["loss"] = self.loss
        return config


class ActivationLayer(Layer):
    """Applies an activation; no parameters, width unchanged."""

    type_name = "Activation"

    def __init__(self, activation: ActivationLike) -> None:
        self.activation = activation_config(activation)

    def get_config(self) -> Dict[str, Any]:
        return {"type": self.type_name, "activation": self.activation}


class LossLayer(Layer):
    """DL4J LossLayer: an activation and a loss with no parameters (width unchanged)."""

    type_name = "Loss"

    def __init__(self, activation: ActivationLike = "identity", loss: LossLike = "mse") -> None:
        self.activation = activation_config(activation)
        self.loss = loss_config(loss)

    def get_config(self) -> Dict[str, Any]:
        return {"type": self.type_name, "activation": self.activation, "loss": self.loss}
