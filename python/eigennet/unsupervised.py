"""Unsupervised layers: :class:`AutoEncoder`, :class:`RBM` and :class:`VariationalAutoencoder`.

In a :class:`~eigennet.Sequential` each acts as an encoder (like :class:`~eigennet.Dense`, its
output has ``units`` columns) and can be pretrained on its own objective, layer by layer, with
``model.pretrain(X)`` before supervised fine-tuning with ``model.fit``. Parameters that only the
decoder uses (``vb``, ``W_dec``, the VAE's ``logvar_*``, ``dec*`` and ``out*``) get a zero gradient
in supervised training, so ``fit`` leaves them unchanged (unless l1/l2/weight decay shrink them).

The formulas (objectives, gradients, initialization) are in docs/reference.md, section
"Unsupervised layers and pretraining", and at the top of cpp/src/layer_pretrain.cpp.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Dict, Iterable, Optional, Sequence, Tuple

from ._names import key
from .activations import ActivationLike, activation_config
from .initializers import InitLike, init_config
from .layers import Layer, _check_units

__all__ = ["AutoEncoder", "RBM", "VariationalAutoencoder"]


def _real(value: Any, name: str, owner: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a number, got {type(value).__name__}")
    result = float(value)
    if not math.isfinite(result):
        raise ValueError(f"{owner}: {name} must be finite, got {value!r}")
    return result


def _fraction(value: Any, name: str, owner: str, meaning: str) -> float:
    """A real number in [0, 1)."""
    result = _real(value, name, owner)
    if not 0.0 <= result < 1.0:
        raise ValueError(f"{owner}: {name} ({meaning}) must be in [0, 1), got {value!r}")
    return result


def _non_negative(value: Any, name: str, owner: str) -> float:
    result = _real(value, name, owner)
    if result < 0:
        raise ValueError(f"{owner}: {name} must be >= 0, got {value!r}")
    return result


def _integer(value: Any, name: str, owner: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # stored configurations may hold 1.0
        else:
            raise TypeError(f"{owner}: {name} must be an integer, got {type(value).__name__}")
    if not low <= int(value) <= high:
        raise ValueError(f"{owner}: {name} must be between {low} and {high}, got {value!r}")
    return int(value)


def _choice(value: Any, name: str, owner: str, choices: Sequence[str]) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{owner}: {name} must be a string, one of {list(choices)}, got {type(value).__name__}")
    for choice in choices:
        if key(choice) == key(value):
            return choice
    raise ValueError(f"{owner}: {name} must be one of {list(choices)}, got {value!r}")


def _sizes(value: Any, name: str, owner: str) -> Tuple[int, ...]:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    if isinstance(value, (str, bytes, dict)) or not isinstance(value, Iterable):
        raise TypeError(f"{owner}: {name} must be a sequence of layer widths, got {type(value).__name__}")
    value = list(value)
    if len(value) == 0:
        raise ValueError(f"{owner}: {name} needs at least one layer width")
    return tuple(_integer(v, f"{name} entry", owner, 1, 2**31) for v in value)


def _sparsity(sparsity: Any, sparsity_weight: Any, owner: str) -> Tuple[float, float]:
    rho = _fraction(sparsity, "sparsity", owner, "the target mean hidden activation")
    beta = _non_negative(sparsity_weight, "sparsity_weight", owner)
    if beta > 0 and rho == 0:
        raise ValueError(f"{owner}: sparsity_weight > 0 needs a sparsity target in (0, 1), e.g. sparsity=0.05")
    return rho, beta


class AutoEncoder(Layer):
    """Autoencoder layer (DL4J ``AutoEncoder``): encoder ``h = f(x @ W + b)``, decoder
    ``x^ = f(h @ W.T + vb)`` (``tied=True``, the default) or ``f(h @ W_dec + vb)`` (``tied=False``,
    adding a parameter ``W_dec`` of shape (units, n_in)); ``f`` is ``activation`` for both.

    Pretraining minimises the mean over samples of the reconstruction loss plus a sparsity penalty:

    - ``loss="mse"``: mean over features of (x^ - x)^2; ``loss="xent"``: cross-entropy summed over
      features (needs ``activation="sigmoid"`` and inputs in [0, 1]).
    - ``corruption_level`` c: denoising autoencoder; each input is set to 0 with probability c
      (masking noise, pretraining only) and the clean input is reconstructed.
    - ``sparsity`` rho and ``sparsity_weight`` beta: sparse autoencoder; adds
      ``beta * sum_j KL(rho || rho^_j)`` with rho^_j the batch mean of hidden unit j (needs sigmoid).

    In supervised use the layer outputs ``h`` (the clean input, no noise) and ``vb``/``W_dec`` get a
    zero gradient. ``weight_init`` defaults by activation as for Dense (XAVIER for sigmoid).
    """

    type_name = "AutoEncoder"

    def __init__(
        self,
        units: int,
        activation: ActivationLike = "sigmoid",
        tied: bool = True,
        corruption_level: float = 0.0,
        sparsity: float = 0.0,
        sparsity_weight: float = 0.0,
        loss: str = "mse",
        weight_init: Optional[InitLike] = None,
    ) -> None:
        owner = type(self).__name__
        self.units = _check_units(units, owner)
        self.activation = activation_config(activation)
        if not isinstance(tied, bool):
            raise TypeError(f"{owner}: tied must be True or False, got {type(tied).__name__}")
        self.tied = tied
        self.corruption_level = _fraction(corruption_level, "corruption_level", owner,
                                          "the probability of zeroing each input")
        self.sparsity, self.sparsity_weight = _sparsity(sparsity, sparsity_weight, owner)
        self.loss = _choice(loss, "loss", owner, ("MSE", "XENT"))
        sigmoid = self.activation["name"] == "SIGMOID"
        if self.sparsity_weight > 0 and not sigmoid:
            raise ValueError(f"{owner}: the sparsity penalty needs hidden activations in (0, 1); use "
                             f"activation='sigmoid', not {self.activation['name'].lower()!r}")
        if self.loss == "XENT" and not sigmoid:
            raise ValueError(f"{owner}: loss='xent' needs activation='sigmoid' (the reconstruction must be a "
                             f"probability), not {self.activation['name'].lower()!r}")
        self.weight_init = None if weight_init is None else init_config(weight_init)

    def get_config(self) -> Dict[str, Any]:
        config: Dict[str, Any] = {
            "type": self.type_name,
            "n_out": self.units,
            "activation": self.activation,
            "tied": self.tied,
            "corruption_level": self.corruption_level,
            "sparsity": self.sparsity,
            "sparsity_weight": self.sparsity_weight,
            # Not "loss": that key marks an output layer.
            "reconstruction_loss": self.loss,
        }
        if self.weight_init is not None:
            config["weight_init"] = self.weight_init
        return config

    @classmethod
    def _from_config(cls, config: Dict[str, Any]) -> "Layer":
        config = dict(config)
        if "reconstruction_loss" in config:
            config["loss"] = config.pop("reconstruction_loss")
        return super()._from_config(config)


class RBM(Layer):
    """Restricted Boltzmann machine (DL4J ``RBM``) with binary hidden units, trained by contrastive
    divergence CD-k (Hinton 2010, "A practical guide to training RBMs").

    ``p(h=1 | v) = sigmoid(v @ W + b)`` is also the supervised output (W as a Dense layer's);
    ``visible="binary"``: ``p(v=1 | h) = sigmoid(h @ W.T + vb)`` (inputs in [0, 1]);
    ``visible="gaussian"``: ``v | h ~ N(h @ W.T + vb, 1)`` (unit variance: standardize the inputs).
    ``k`` is the number of Gibbs steps of CD-k. CD follows no objective: the value pretraining reports
    is the error of the mean-field reconstruction (cross-entropy summed over features for binary
    visible units, mean squared error for gaussian ones), plus ``sparsity_weight * sum_j KL(sparsity
    || mean hidden probability_j)`` when that optional penalty is on. Weights start N(0, 0.01^2)
    unless ``weight_init`` says otherwise.
    """

    type_name = "RBM"

    def __init__(
        self,
        units: int,
        visible: str = "binary",
        hidden: str = "binary",
        k: int = 1,
        sparsity: float = 0.0,
        sparsity_weight: float = 0.0,
        weight_init: Optional[InitLike] = None,
    ) -> None:
        owner = type(self).__name__
        self.units = _check_units(units, owner)
        self.visible = _choice(visible, "visible", owner, ("binary", "gaussian"))
        self.hidden = _choice(hidden, "hidden", owner, ("binary",))
        self.k = _integer(k, "k (the number of contrastive divergence steps)", owner, 1, 100000)
        self.sparsity, self.sparsity_weight = _sparsity(sparsity, sparsity_weight, owner)
        self.weight_init = None if weight_init is None else init_config(weight_init)

    def get_config(self) -> Dict[str, Any]:
        config: Dict[str, Any] = {
            "type": self.type_name,
            "n_out": self.units,
            "visible": self.visible,
            "hidden": self.hidden,
            "k": self.k,
            "sparsity": self.sparsity,
            "sparsity_weight": self.sparsity_weight,
        }
        if self.weight_init is not None:
            config["weight_init"] = self.weight_init
        return config


class VariationalAutoencoder(Layer):
    """Variational autoencoder (Kingma & Welling 2014; DL4J ``VariationalAutoencoder``) with a
    Gaussian latent space of ``units`` dimensions.

    An encoder MLP (``encoder_layer_sizes``, ``activation``) gives the mean ``mu`` and log-variance of
    ``q(z|x)``; a decoder MLP (``decoder_layer_sizes``) maps ``z`` to the parameters of ``p(x|z)``:
    ``reconstruction="bernoulli"`` (probabilities sigmoid(logits); inputs in [0, 1]) or
    ``"gaussian"`` (a mean and a log-variance per feature). Pretraining minimises the negative ELBO
    ``KL(q(z|x) || N(0, I)) - E_q[log p(x|z)]`` averaged over the batch, the expectation estimated with
    ``num_samples`` draws of z per input.

    In supervised use the layer outputs ``mu`` (as DL4J does). Parameters: ``enc{i}_W``/``enc{i}_b``,
    ``mu_W``/``mu_b``, ``logvar_W``/``logvar_b``, ``dec{i}_W``/``dec{i}_b``, ``out_W``/``out_b`` and, for
    gaussian reconstruction, ``out_logvar_W``/``out_logvar_b``.
    """

    type_name = "VariationalAutoencoder"

    def __init__(
        self,
        units: int,
        encoder_layer_sizes: Sequence[int] = (256,),
        decoder_layer_sizes: Sequence[int] = (256,),
        activation: ActivationLike = "relu",
        reconstruction: str = "bernoulli",
        num_samples: int = 1,
        weight_init: Optional[InitLike] = None,
    ) -> None:
        owner = type(self).__name__
        self.units = _check_units(units, owner)
        self.encoder_layer_sizes = _sizes(encoder_layer_sizes, "encoder_layer_sizes", owner)
        self.decoder_layer_sizes = _sizes(decoder_layer_sizes, "decoder_layer_sizes", owner)
        self.activation = activation_config(activation)
        self.reconstruction = _choice(reconstruction, "reconstruction", owner, ("bernoulli", "gaussian"))
        self.num_samples = _integer(num_samples, "num_samples", owner, 1, 10000)
        self.weight_init = None if weight_init is None else init_config(weight_init)

    def get_config(self) -> Dict[str, Any]:
        config: Dict[str, Any] = {
            "type": self.type_name,
            "n_out": self.units,
            "encoder_layer_sizes": list(self.encoder_layer_sizes),
            "decoder_layer_sizes": list(self.decoder_layer_sizes),
            "activation": self.activation,
            "reconstruction": self.reconstruction,
            "num_samples": self.num_samples,
        }
        if self.weight_init is not None:
            config["weight_init"] = self.weight_init
        return config
