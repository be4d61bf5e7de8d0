"""Layers. Like Keras layers they only hold configuration until the model knows its input width."""

from __future__ import annotations

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
    """Base class of all layers."""

    type_name = "Layer"

    def get_config(self) -> Dict[str, Any]:
        raise NotImplementedError

    @property
    def has_loss(self) -> bool:
        return "loss" in self.get_config()

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "type")
        return f"{type(self).__name__}({fields})"

    @staticmethod
    def from_config(config: Dict[str, Any]) -> "Layer":
        """Rebuild a layer from the configuration stored in a model."""
        kind = config["type"]
        if kind == "Dense":
            return Dense(config["n_out"], activation=config.get("activation", "identity"),
                         weight_init=config.get("weight_init"), has_bias=config.get("has_bias", True),
                         bias_init=config.get("bias_init", 0.0))
        if kind == "Output":
            return Output(config["n_out"], activation=config.get("activation", "identity"), loss=config["loss"],
                          weight_init=config.get("weight_init"), has_bias=config.get("has_bias", True),
                          bias_init=config.get("bias_init", 0.0))
        if kind == "Activation":
            return ActivationLayer(config.get("activation", "identity"))
        if kind == "Loss":
            return LossLayer(activation=config.get("activation", "identity"), loss=config["loss"])
        raise ValueError(f"unknown layer type {kind!r}")


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
