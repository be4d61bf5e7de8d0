"""Loss functions with DL4J names and semantics.

The score of a mini-batch is the mean over its samples of each sample's loss (summed over the
outputs, each output optionally weighted). ``MSE`` divides by the number of outputs and ``L2``
does not (as in DL4J); ``MCXENT``/``NEGATIVELOGLIKELIHOOD`` take one-hot (or probability) labels,
``SPARSE_MCXENT`` takes integer class labels, ``XENT`` is binary cross-entropy per output, and
``HINGE``/``SQUARED_HINGE`` expect labels in {-1, +1}.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, Optional, Sequence, Union

from . import _core
from ._names import key, resolve

BUILTIN = (
    "COSINE_PROXIMITY", "HINGE", "KL_DIVERGENCE", "L1", "L2", "MCXENT", "MEAN_ABSOLUTE_ERROR",
    "MEAN_ABSOLUTE_PERCENTAGE_ERROR", "MEAN_SQUARED_LOGARITHMIC_ERROR", "MSE", "NEGATIVELOGLIKELIHOOD",
    "POISSON", "SPARSE_MCXENT", "SQUARED_HINGE", "XENT",
)

# Losses whose output layer makes the model a classifier (labels are class indices or one-hot).
CLASSIFICATION = ("MCXENT", "NEGATIVELOGLIKELIHOOD", "SPARSE_MCXENT", "XENT")


class Loss:
    """A loss by name with optional per-output weights."""

    def __init__(self, name: str, weights: Optional[Sequence[float]] = None) -> None:
        self.name = name
        self.weights = None if weights is None else [float(w) for w in weights]

    def get_config(self) -> Dict[str, Any]:
        """The configuration dict stored in model files (canonical DL4J name and parameters)."""
        config: Dict[str, Any] = {"name": resolve("loss", self.name, _core.loss_names())}
        if self.weights is not None:
            config["weights"] = self.weights
        return json.loads(_core.canonical_loss(json.dumps(config)))

    def __repr__(self) -> str:
        return f"Loss({self.name!r}" + (f", weights={self.weights!r})" if self.weights is not None else ")")


LossLike = Union[str, Loss, Dict[str, Any]]


def loss_config(loss: LossLike) -> Dict[str, Any]:
    """Canonical configuration dict of a loss given by name, object or dict."""
    if isinstance(loss, Loss):
        return loss.get_config()
    if isinstance(loss, dict):
        return json.loads(_core.canonical_loss(json.dumps(loss)))
    return Loss(loss).get_config()


def register_loss(
    name: str,
    loss: Callable[[Any, Any], Any],
    gradient: Callable[[Any, Any], Any],
) -> None:
    """Register a custom loss written in Python.

    ``loss(output, labels)`` returns each sample's loss, shape (batch,); ``gradient(output, labels)``
    returns the derivative of each sample's loss with respect to the output, shape (batch, width).
    eigennet takes the batch mean and chains the output activation's derivative itself.
    """
    if not callable(loss) or not callable(gradient):
        raise TypeError("loss and gradient must be callables")
    if key(str(name)) in {key(b) for b in BUILTIN}:
        raise ValueError(f"{name!r} is a built-in loss; register the custom one under another name")
    _core.register_loss(str(name), loss, gradient)


def available() -> list:
    """Names of all registered losses."""
    return sorted(_core.loss_names())
