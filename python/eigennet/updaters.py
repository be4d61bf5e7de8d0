"""Updaters (DL4J IUpdater) with DL4J's default hyperparameters.

Each applies one step to the flat parameter vector per mini-batch; ``t`` counts steps from 1.

* ``SGD(learning_rate=1e-3)``: ``p -= lr g``.
* ``Nesterovs(learning_rate=0.1, momentum=0.9)``: ``v' = mu v - lr g; p += -mu v + (1 + mu) v'``
  (identical to PyTorch ``SGD(nesterov=True)``).
* ``AdaGrad(learning_rate=0.1, epsilon=1e-6)``: ``h += g^2; p -= lr g / (sqrt(h) + eps)``.
  DL4J starts ``h`` at ``eps``; PyTorch starts it at 0 (``initial_accumulator_value``).
* ``RMSProp(learning_rate=0.1, rms_decay=0.95, epsilon=1e-8)``: ``s = d s + (1 - d) g^2;
  p -= lr g / (sqrt(s) + eps)``; ``s`` starts at ``eps`` (PyTorch: at 0; its ``alpha`` is ``rms_decay``).
* ``AdaDelta(rho=0.95, epsilon=1e-6)``: no learning rate (PyTorch's ``Adadelta(lr=1.0)`` is the same).
* ``Adam(learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8)``:
  ``p -= lr sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v) + eps)``. DL4J adds ``eps`` to the uncorrected
  ``sqrt(v)``; PyTorch adds it after the bias correction, so the two agree exactly when ``eps = 0``.
* ``AdaMax(...)``: ``u = max(b2 u, |g|); p -= lr / (1 - b1^t) m / (u + eps)`` (PyTorch puts eps inside the max).
* ``Nadam(...)``: ``p -= lr (b1 m + (1 - b1) g) / (1 - b1^t) / (sqrt(v) + eps)``: DL4J's form, which has
  neither PyTorch NAdam's momentum-decay schedule nor its correction of ``v``.
* ``AMSGrad(...)``: Adam with ``vmax = max(vmax, v)`` in the denominator (PyTorch ``Adam(amsgrad=True)``).
* ``NoOp()``: parameters never change (DL4J ``NONE``). DL4J's NoOp passes the gradient through
  unchanged, so there it only freezes layers whose gradient is zeroed; here it always freezes.

``learning_rate`` may also be a schedule from :mod:`eigennet.schedules`
(``Adam(learning_rate=schedules.Exponential(0.1, gamma=0.99))``): each step then uses the schedule's
value at that step (or epoch). AdaDelta and NoOp have no learning rate and take no schedule.
"""

from __future__ import annotations

import json
import math
import numbers
from typing import Any, Dict

from . import _core
from ._names import resolve
from .schedules import Schedule, as_schedule


class Updater:
    """Base class: an updater name and its hyperparameters."""

    name = "SGD"
    _defaults: Dict[str, float] = {}

    def __init__(self, **hyperparameters: float) -> None:
        unknown = set(hyperparameters) - set(self._defaults)
        if unknown:
            no_rate = " (it has no learning rate, so no schedule either)" if "learning_rate" in unknown else ""
            raise TypeError(
                f"{type(self).__name__} got unexpected hyperparameter(s) {sorted(unknown)}; "
                f"it takes {sorted(self._defaults)}{no_rate}"
            )
        self.hyperparameters: Dict[str, Any] = dict(self._defaults)
        for k, v in hyperparameters.items():
            if k == "learning_rate":
                schedule = as_schedule(v)  # a Schedule, or a saved schedule's config dict
                if schedule is not None:
                    self.hyperparameters[k] = schedule
                    continue
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                expected = "a number or a schedule (eigennet.schedules)" if k == "learning_rate" else "a number"
                raise TypeError(f"{type(self).__name__}: {k} must be {expected}, got {type(v).__name__}")
            try:
                value = float(v)
            except OverflowError:
                value = math.inf
            if not math.isfinite(value):
                raise ValueError(f"{type(self).__name__}: {k} must be finite, got {value!r}")
            self.hyperparameters[k] = value
        self.get_config()  # validates ranges in the core

    def __getattr__(self, item: str) -> Any:
        hyper = self.__dict__.get("hyperparameters", {})
        if item in hyper:
            return hyper[item]
        raise AttributeError(item)

    def get_config(self) -> Dict[str, Any]:
        """The configuration dict stored in model files (canonical DL4J name and parameters)."""
        config = {"name": self.name}
        for key, value in self.hyperparameters.items():
            config[key] = value.get_config() if isinstance(value, Schedule) else value
        return json.loads(_core.canonical_updater(json.dumps(config)))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters.items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.hyperparameters == other.hyperparameters  # type: ignore[attr-defined]


def _updater(class_name: str, dl4j_name: str, defaults: Dict[str, float], doc: str) -> type:
    cls = type(class_name, (Updater,), {"name": dl4j_name, "_defaults": defaults, "__doc__": doc})
    cls.__module__ = __name__
    return cls


_ADAM = {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}

SGD = _updater("SGD", "SGD", {"learning_rate": 1e-3}, "Plain stochastic gradient descent.")
Nesterovs = _updater("Nesterovs", "NESTEROVS", {"learning_rate": 0.1, "momentum": 0.9}, "Nesterov momentum.")
AdaGrad = _updater("AdaGrad", "ADAGRAD", {"learning_rate": 0.1, "epsilon": 1e-6}, "AdaGrad (accumulator starts at epsilon).")
RMSProp = _updater(
    "RMSProp", "RMSPROP", {"learning_rate": 0.1, "rms_decay": 0.95, "epsilon": 1e-8}, "RMSProp (accumulator starts at epsilon)."
)
AdaDelta = _updater("AdaDelta", "ADADELTA", {"rho": 0.95, "epsilon": 1e-6}, "AdaDelta (no learning rate).")
Adam = _updater("Adam", "ADAM", dict(_ADAM), "Adam with DL4J's epsilon placement.")
AdaMax = _updater("AdaMax", "ADAMAX", dict(_ADAM), "AdaMax (infinity-norm Adam).")
Nadam = _updater("Nadam", "NADAM", dict(_ADAM), "Nesterov Adam in DL4J's form.")
AMSGrad = _updater("AMSGrad", "AMSGRAD", dict(_ADAM), "AMSGrad (Adam with a running maximum of v).")
NoOp = _updater("NoOp", "NONE", {}, "No updates (frozen parameters).")

_BY_NAME = {cls.name: cls for cls in (SGD, Nesterovs, AdaGrad, RMSProp, AdaDelta, Adam, AdaMax, Nadam, AMSGrad, NoOp)}


def from_config(config: Dict[str, Any]) -> Updater:
    """Rebuild an updater object from its configuration dict."""
    name = resolve("updater", config["name"], list(_BY_NAME) + ["NOOP"])
    cls = _BY_NAME["NONE" if name == "NOOP" else name]
    return cls(**{k: v for k, v in config.items() if k != "name"})


def as_updater(updater: Any) -> Updater:
    """Accept an Updater object, a name (defaults) or a config dict."""
    if updater is None:
        return SGD()
    if isinstance(updater, Updater):
        return updater
    if isinstance(updater, str):
        return from_config({"name": updater})
    if isinstance(updater, dict):
        return from_config(updater)
    raise TypeError(f"updater must be an Updater (e.g. eigennet.Adam()), a name or a dict, got {type(updater).__name__}")
