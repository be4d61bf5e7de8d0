"""Layers. Like Keras layers they only hold configuration until the model knows its input width."""

from __future__ import annotations

import inspect
import math
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


def _check_rate(rate: Any, name: str, owner: str) -> float:
    """A probability of dropping: a real number in [0, 1)."""
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a number (the probability of dropping), got {type(rate).__name__}")
    value = float(rate)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{owner}: {name} must be in [0, 1) (the probability of dropping), got {rate!r}")
    return value


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
        """The layer's configuration as stored in a model file (JSON-serializable; "type" names the layer)."""
        raise NotImplementedError

    def _full_config(self) -> Dict[str, Any]:
        """get_config() plus the fields every layer shares."""
        config = self.get_config()
        if self.frozen:
            config["frozen"] = True
        return config

    @property
    def has_loss(self) -> bool:
        """Whether the layer carries a loss (Output, LossLayer) and so must be the last one."""
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

    ``dropout`` is the probability of dropping each INPUT unit of the layer while training (inverted
    dropout, as DL4J applies a layer's dropout to its input; note DL4J's ``dropOut(p)`` takes the
    probability of keeping). ``weight_dropout`` is DropConnect: the probability of dropping each
    weight of ``W`` for one training step (kept weights scaled by 1 / (1 - rate)). Both are off at
    inference.
    """

    type_name = "Dense"

    def __init__(
        self,
        units: int,
        activation: ActivationLike = "identity",
        weight_init: Optional[InitLike] = None,
        has_bias: bool = True,
        bias_init: float = 0.0,
        dropout: float = 0.0,
        weight_dropout: float = 0.0,
    ) -> None:
        owner = type(self).__name__
        self.units = _check_units(units, owner)
        self.activation = activation_config(activation)
        self.weight_init = None if weight_init is None else init_config(weight_init)
        if not isinstance(has_bias, bool):
            raise TypeError(f"{owner}: has_bias must be True or False")
        self.has_bias = has_bias
        self.bias_init = _check_real(bias_init, "bias_init", owner)
        self.dropout = _check_rate(dropout, "dropout", owner)
        self.weight_dropout = _check_rate(weight_dropout, "weight_dropout", owner)

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
        if self.dropout:
            config["dropout"] = self.dropout
        if self.weight_dropout:
            config["weight_dropout"] = self.weight_dropout
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
        dropout: float = 0.0,
        weight_dropout: float = 0.0,
    ) -> None:
        super().__init__(units, activation, weight_init, has_bias, bias_init, dropout=dropout,
                         weight_dropout=weight_dropout)
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


# ----------------------------------------------------------------------------- normalization and noise
def _check_real(value: Any, name: str, owner: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{owner}: {name} must be finite, got {value}")
    return value


class BatchNormalization(Layer):
    """Batch normalization per feature: ``gamma * (x - mean) / sqrt(var + eps) + beta``; width unchanged.

    While training, ``mean`` and ``var`` are the mini-batch's (the biased variance) and the running
    statistics move towards them: ``running = decay * running + (1 - decay) * batch``, with the
    UNBIASED batch variance for ``running_var``, as ``torch.nn.BatchNorm1d(momentum=1 - decay)``.
    ``predict``, ``score`` and ``evaluate`` use the running statistics; ``compute_gradients`` and the
    full-batch optimizers use the batch's, without updating the running ones.

    Parameters ``"gamma"`` and ``"beta"`` start at ``gamma`` and ``beta``; ``lock_gamma_beta=True``
    fixes them there (they are then not parameters at all). The running statistics are the
    non-trainable parameters ``"mean"`` (starts at 0) and ``"var"`` (starts at 1): saved, loaded and
    copied with the others, with a gradient that is always 0. A frozen BatchNormalization uses and
    keeps its running statistics. Defaults are DL4J's (decay 0.9, eps 1e-5).
    """

    type_name = "BatchNormalization"

    def __init__(
        self,
        decay: float = 0.9,
        eps: float = 1e-5,
        lock_gamma_beta: bool = False,
        gamma: float = 1.0,
        beta: float = 0.0,
    ) -> None:
        owner = type(self).__name__
        self.decay = _check_real(decay, "decay", owner)
        if not 0.0 <= self.decay <= 1.0:
            raise ValueError(f"{owner}: decay must be in [0, 1], got {decay!r}")
        self.eps = _check_real(eps, "eps", owner)
        if self.eps <= 0.0:
            raise ValueError(f"{owner}: eps must be > 0, got {eps!r}")
        if not isinstance(lock_gamma_beta, bool):
            raise TypeError(f"{owner}: lock_gamma_beta must be True or False, got {type(lock_gamma_beta).__name__}")
        self.lock_gamma_beta = lock_gamma_beta
        self.gamma = _check_real(gamma, "gamma", owner)
        self.beta = _check_real(beta, "beta", owner)

    def get_config(self) -> Dict[str, Any]:
        return {
            "type": self.type_name,
            "decay": self.decay,
            "eps": self.eps,
            "lock_gamma_beta": self.lock_gamma_beta,
            "gamma": self.gamma,
            "beta": self.beta,
        }


class _RateLayer(Layer):
    """A noise layer configured by a probability of dropping, ``rate`` in [0, 1)."""

    def __init__(self, rate: float) -> None:
        self.rate = _check_rate(rate, "rate", type(self).__name__)

    def get_config(self) -> Dict[str, Any]:
        return {"type": self.type_name, "rate": self.rate}


class Dropout(_RateLayer):
    """Inverted dropout: while training, each unit is zeroed with probability ``rate`` and the kept
    ones are scaled by 1 / (1 - rate); the identity at inference. ``rate`` is the probability of
    DROPPING (Keras, PyTorch); DL4J's ``Dropout(p)`` takes the probability of keeping, so DL4J's
    ``Dropout(0.8)`` is ``Dropout(0.2)`` here."""

    type_name = "Dropout"


class GaussianDropout(_RateLayer):
    """Multiplicative Gaussian noise while training: ``x * n`` with ``n ~ N(1, rate / (1 - rate))`` per
    unit (Keras and DL4J GaussianDropout; ``rate`` is the probability of dropping whose Bernoulli
    dropout has the same variance). The identity at inference."""

    type_name = "GaussianDropout"


class AlphaDropout(_RateLayer):
    """Alpha dropout for SELU networks (Klambauer et al. 2017): while training, dropped units (with
    probability ``rate``) are set to SELU's saturation value -lambda * alpha, then ``a * x + b`` restores
    the mean and variance of zero-mean, unit-variance inputs. The identity at inference. DL4J's
    ``AlphaDropout(p)`` takes the probability of keeping."""

    type_name = "AlphaDropout"


class GaussianNoise(Layer):
    """Additive zero-mean Gaussian noise with standard deviation ``stddev`` while training; the
    identity at inference (Keras and DL4J GaussianNoise)."""

    type_name = "GaussianNoise"

    def __init__(self, stddev: float) -> None:
        owner = type(self).__name__
        self.stddev = _check_real(stddev, "stddev", owner)
        if self.stddev < 0.0:
            raise ValueError(f"{owner}: stddev must be >= 0, got {stddev!r}")

    def get_config(self) -> Dict[str, Any]:
        return {"type": self.type_name, "stddev": self.stddev}
