"""The model API: :class:`Sequential` and :func:`load`."""

from __future__ import annotations

import functools
import json
import math
import os
import sys
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import _core
from ._arguments import check_flag, check_path
from .layers import Layer
from .losses import CLASSIFICATION
from .updaters import Updater, as_updater

__all__ = ["Sequential", "History", "LayerIndexError", "load"]

ArrayLike = Any
_DTYPES = {"float32": np.float32, "float64": np.float64}


def _dtype_name(dtype: Any) -> str:
    try:
        name = np.dtype(dtype).name
    except TypeError:
        name = str(dtype)
    if name not in _DTYPES:
        raise ValueError(f'dtype must be "float32" or "float64", got {dtype!r}')
    return name


def _check_regularization(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be finite and >= 0, got {value}")
    return value


def _numeric_array(values: ArrayLike, name: str) -> np.ndarray:
    try:
        array = np.asarray(values)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name} could not be converted to an array: {exc}") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {array.dtype}")
    return array


_NO_BATCH = object()  # end of a batch iterator in Sequential.fit_batches


class LayerIndexError(IndexError, ValueError):
    """A layer index out of range (an IndexError that is also a ValueError, like other bad arguments)."""


def _check_verbose(value: Any) -> int:
    """0, 1 or 2 (True and False count as 1 and 0)."""
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if not isinstance(value, (int, np.integer)) or value not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1 or 2, got {value!r}")
    return int(value)


def _restores_untrained_state(method: Any) -> Any:
    """Wraps a training method so that an exception raised before any training step leaves the model
    as it was: not built if it was not, and its normalizer not fitted if it was not."""

    @functools.wraps(method)
    def wrapper(self: "Sequential", *args: Any, **kwargs: Any) -> Any:
        was_built = self._net is not None
        normalizer = self.normalizer
        normalizer_was_unfitted = normalizer is not None and not normalizer.fitted
        counters = (int(self._net.iteration), int(self._net.epoch)) if was_built else (0, 0)
        try:
            return method(self, *args, **kwargs)
        except BaseException:
            trained = self._net is not None and (int(self._net.iteration), int(self._net.epoch)) != counters
            if not trained:
                if not was_built:
                    self._net, self.input_dim = None, None
                if normalizer_was_unfitted:
                    normalizer.shift, normalizer.scale = None, None
            raise

    return wrapper


def _all_finite(array: np.ndarray) -> bool:
    """np.isfinite(array).all(), without allocating a boolean copy of a large training set: the
    core checks C-contiguous float32/float64 arrays in place (on its threads, without the GIL);
    anything else is checked by NumPy in slices of about a million elements."""
    if array.dtype in (np.float32, np.float64) and array.dtype.isnative and array.flags.c_contiguous:
        return bool(_core.all_finite(array))
    flat = array.reshape(-1) if array.flags.c_contiguous else array.ravel()
    step = 1 << 20
    return all(np.isfinite(flat[i : i + step]).all() for i in range(0, flat.size, step))


class History:
    """Per-epoch metrics recorded by :meth:`Sequential.fit` (``history["loss"]``, ``history["val_loss"]``, ...).

    With a full-batch ``algorithm``, ``iterations`` lists every optimizer iteration (epoch, loss,
    gradient_norm, step_size, function_evaluations, and damping/cg_iterations for Hessian-free) and
    ``optimizer`` one summary per epoch (iterations, function_evaluations, converged, stop_reason).
    """

    def __init__(self) -> None:
        self.history: Dict[str, List[float]] = {}
        self.epoch: List[int] = []
        self.iterations: List[Dict[str, Any]] = []
        self.optimizer: List[Dict[str, Any]] = []

    def _record(self, epoch: int, metrics: Dict[str, float]) -> None:
        self.epoch.append(epoch)
        for key, value in metrics.items():
            self.history.setdefault(key, []).append(float(value))

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={sorted(self.history)})"


class Sequential:
    """A stack of layers ending in an :class:`~eigennet.Output` (or :class:`~eigennet.LossLayer`).

    Parameters
    ----------
    layers: the layers, last one carrying the loss.
    input_dim: number of input features; if None, taken from the first ``fit``.
    updater: an :class:`~eigennet.updaters.Updater` (default ``SGD()``), name or config dict.
    l1, l2: penalties ``l1 * sum|w|`` and ``0.5 * l2 * sum w^2`` on weights, added to the score and
        applied to the gradient before the updater (DL4J ``l1``/``l2``).
    weight_decay: decoupled decay applied after the updater: ``w -= lr * weight_decay * w``.
    regularize_bias: apply l1, l2 and weight decay to biases too (off by default, as in DL4J).
    gradient_normalization: DL4J GradientNormalization applied to each step's loss gradient before the
        l1/l2 terms and the updater (DL4J's order): "renormalize_l2_per_layer", "renormalize_l2_per_param_type",
        "clip_element_wise_absolute_value", "clip_l2_per_layer", "clip_l2_per_param_type" or None;
        the clipping kinds use ``gradient_normalization_threshold``.
    seed: seed of all randomness (initialisation, shuffling, RReLU); same seed and thread count give
        bit-identical training. None draws one and records it in the configuration.
    dtype: "float32" (default, fastest) or "float64".

    ``model.metadata`` is a dict of JSON-serializable values of your own (e.g. class names) that
    :meth:`save` stores in the file and :func:`load` restores.

    normalizer: None, "standardize", "minmax" or an :mod:`eigennet.data` normalizer: fitted on the
        first training data ``fit`` (or ``pretrain``) sees, saved in the model file, and applied to
        every input of ``predict``, ``evaluate``, ``score`` and validation data.

    ``model.threshold`` (default 0.5, strictly between 0 and 1) is the decision threshold of sigmoid
    (XENT) outputs: :meth:`predict` returns 1 where the probability is ``>= threshold``. It is saved
    with the model; :class:`~eigennet.evaluation.BinaryEvaluation` has helpers that choose it.
    """

    def __init__(
        self,
        layers: Sequence[Layer],
        input_dim: Optional[int] = None,
        updater: Optional[Union[Updater, str, Dict[str, Any]]] = None,
        l1: float = 0.0,
        l2: float = 0.0,
        weight_decay: float = 0.0,
        regularize_bias: bool = False,
        seed: Optional[int] = None,
        dtype: Any = "float32",
        gradient_normalization: Optional[str] = None,
        gradient_normalization_threshold: float = 1.0,
        normalizer: Any = None,
    ) -> None:
        if isinstance(layers, Layer) or not isinstance(layers, (list, tuple)):
            raise TypeError(f"layers must be a list of eigennet layers, got {type(layers).__name__}")
        layers = list(layers)
        if not layers:
            raise ValueError("Sequential needs at least one layer")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layer {i} is a {type(layer).__name__}, not an eigennet layer")
            if layer.has_loss and i != len(layers) - 1:
                raise ValueError(f"layer {i} ({type(layer).__name__}) has a loss and must be the last layer")
        if not layers[-1].has_loss:
            raise ValueError(
                f"the last layer must carry a loss (an Output or LossLayer), got {type(layers[-1]).__name__}"
            )
        self.layers = layers
        # Read on every predict call; computing it once keeps small predictions cheap.
        self._output_config = layers[-1].get_config()
        self.updater = as_updater(updater)
        self.l1 = _check_regularization(l1, "l1")
        self.l2 = _check_regularization(l2, "l2")
        self.weight_decay = _check_regularization(weight_decay, "weight_decay")
        if not isinstance(regularize_bias, bool):
            raise TypeError("regularize_bias must be True or False")
        self.regularize_bias = regularize_bias
        if seed is None:
            seed = int.from_bytes(os.urandom(6), "little")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2**53:
            raise ValueError(f"seed must be an integer in [0, 2**53), got {seed!r}")
        self.seed = int(seed)
        if gradient_normalization is not None and not isinstance(gradient_normalization, str):
            raise TypeError(f"gradient_normalization must be a name or None, got {type(gradient_normalization).__name__}")
        self.gradient_normalization = gradient_normalization
        self.gradient_normalization_threshold = _check_regularization(
            gradient_normalization_threshold, "gradient_normalization_threshold")
        if gradient_normalization is not None:
            self._gradient_normalization_config()  # validates the name and threshold in the core
        self.dtype = _dtype_name(dtype)
        self._np_dtype = _DTYPES[self.dtype]
        self._net: Any = None
        self.input_dim: Optional[int] = None
        self.metadata: Dict[str, Any] = {}
        self._threshold = 0.5
        self.stop_training = False  # a callback sets it to end fit after the current epoch
        from .data import as_normalizer

        self.normalizer = as_normalizer(normalizer)
        if input_dim is not None:
            self.build(input_dim)

    # ------------------------------------------------------------------ building
    def get_config(self) -> Dict[str, Any]:
        """The full configuration (as stored in a model file)."""
        if self._net is not None:
            return json.loads(self._net.config())
        return {
            "input_dim": self.input_dim,
            "layers": [layer._full_config() for layer in self.layers],
            "updater": self.updater.get_config(),
            "l1": self.l1,
            "l2": self.l2,
            "weight_decay": self.weight_decay,
            "regularize_bias": self.regularize_bias,
            "seed": self.seed,
            "gradient_normalization": self._gradient_normalization_config(),
        }

    def _gradient_normalization_config(self) -> Optional[Dict[str, Any]]:
        if self.gradient_normalization is None:
            return None
        return json.loads(_core.canonical_gradient_normalization(json.dumps(
            {"name": self.gradient_normalization, "threshold": self.gradient_normalization_threshold})))

    def build(self, input_dim: int) -> "Sequential":
        """Create the network and initialise its weights from the seed."""
        if isinstance(input_dim, bool) or not isinstance(input_dim, (int, np.integer)) or not 1 <= input_dim <= 2**31:
            raise ValueError(f"input_dim must be a positive integer, got {input_dim!r}")
        self.input_dim = int(input_dim)
        config = self.get_config()
        config["input_dim"] = self.input_dim
        network_class = _core.NetworkF32 if self.dtype == "float32" else _core.NetworkF64
        self._net = network_class(json.dumps(config))
        return self

    @property
    def built(self) -> bool:
        """Whether the network exists (input width known, weights initialised)."""
        return self._net is not None

    def _network(self) -> Any:
        if self._net is None:
            raise RuntimeError("the model is not built yet: pass input_dim to Sequential or call fit first")
        return self._net

    # ------------------------------------------------------------------ task
    @property
    def loss_name(self) -> str:
        """DL4J name of the output layer's loss, e.g. "MCXENT"."""
        return self._output_config["loss"]["name"]

    @property
    def output_activation(self) -> str:
        """DL4J name of the output layer's activation, e.g. "SOFTMAX"."""
        return self._output_config["activation"]["name"]

    @property
    def n_outputs(self) -> int:
        """Width of the output layer."""
        return int(self._network().output_dim)

    @property
    def task(self) -> str:
        """"multiclass", "binary", "multilabel" or "regression", from the output layer's loss."""
        loss = self.loss_name
        if loss in ("MCXENT", "NEGATIVELOGLIKELIHOOD", "SPARSE_MCXENT"):
            return "multiclass"
        if loss == "XENT":
            return "binary" if self.n_outputs == 1 else "multilabel"
        return "regression"

    @property
    def is_classifier(self) -> bool:
        """Whether the loss is a classification loss (cross-entropy family, hinge, ...)."""
        return self.loss_name in CLASSIFICATION

    # ------------------------------------------------------------------ data conversion
    def _features(self, X: ArrayLike, name: str = "X", check_finite: bool = True,
                  fit_normalizer: bool = False) -> np.ndarray:
        """X as a C-contiguous (n, input_dim) array of the model's dtype, validated and normalized.
        ``check_finite`` is off on the prediction path, where the core checks finiteness itself at
        less cost. ``fit_normalizer`` (training data) fits a normalizer that is not fitted yet."""
        array = _numeric_array(X, name)
        if array.ndim != 2:
            hint = " (use X.reshape(1, -1) for a single sample)" if array.ndim == 1 else ""
            raise ValueError(f"{name} must be 2-D (n_samples, n_features), got shape {array.shape}{hint}")
        if array.shape[0] == 0:
            raise ValueError(f"{name} has no samples (shape {array.shape})")
        if array.shape[1] == 0:
            raise ValueError(f"{name} has no features (shape {array.shape})")
        if self.input_dim is not None and array.shape[1] != self.input_dim:
            raise ValueError(f"{name} has {array.shape[1]} features, but the model expects {self.input_dim}")
        array = np.ascontiguousarray(array, dtype=self._np_dtype)
        if check_finite and not _all_finite(array):
            raise ValueError(f"{name} contains NaN or infinity")
        if self.normalizer is not None:
            if not self.normalizer.fitted:
                if not fit_normalizer:
                    raise RuntimeError("the model's normalizer is not fitted yet: train the model (fit) first")
                self.normalizer.fit(array)
            array = self.normalizer.transform(array, dtype=self._np_dtype)
        return array

    def _targets(self, y: ArrayLike, n_samples: int, name: str = "y") -> np.ndarray:
        array = _numeric_array(y, name)
        n_out = self.n_outputs
        loss = self.loss_name
        if array.ndim == 0 or array.ndim > 2:
            raise ValueError(f"{name} must be 1-D or 2-D, got shape {array.shape}")
        if array.shape[0] != n_samples:
            raise ValueError(f"X has {n_samples} samples but {name} has {array.shape[0]}")
        if array.dtype.kind == "f" and not _all_finite(array):
            raise ValueError(f"{name} contains NaN or infinity")
        if loss in ("MCXENT", "NEGATIVELOGLIKELIHOOD", "SPARSE_MCXENT") and (
            array.ndim == 1 or (array.ndim == 2 and array.shape[1] == 1 and n_out > 1)
        ):
            labels = self._class_indices(array.reshape(-1), n_out, name)
            if loss == "SPARSE_MCXENT":
                return np.ascontiguousarray(labels.reshape(-1, 1), dtype=self._np_dtype)
            one_hot = np.zeros((n_samples, n_out), dtype=self._np_dtype)
            one_hot[np.arange(n_samples), labels] = 1
            return one_hot
        if loss == "SPARSE_MCXENT":
            raise ValueError(f"SPARSE_MCXENT takes integer class labels of shape (n,), got shape {array.shape}")
        if array.ndim == 1:
            if n_out != 1:
                raise ValueError(f"{name} has shape {array.shape} but the output layer has {n_out} outputs; "
                                 f"pass an array of shape (n, {n_out})")
            array = array.reshape(-1, 1)
        if array.shape[1] != n_out:
            raise ValueError(f"{name} has {array.shape[1]} columns but the output layer has {n_out} outputs")
        if loss == "XENT" and ((array < 0).any() or (array > 1).any()):
            raise ValueError(f"XENT needs {name} in [0, 1] (binary labels or probabilities)")
        return np.ascontiguousarray(array, dtype=self._np_dtype)

    @staticmethod
    def _class_indices(labels: np.ndarray, n_classes: int, name: str) -> np.ndarray:
        if labels.dtype.kind == "f":
            if not np.all(labels == np.round(labels)):
                raise ValueError(f"{name} must hold integer class labels for a classifier, got non-integer values")
        if labels.dtype.kind == "b":
            labels = labels.astype(np.int64)
        low, high = labels.min(), labels.max()
        if low < 0 or high >= n_classes:
            bad = low if low < 0 else high
            raise ValueError(
                f"{name} contains label {bad:g}, but the output layer has {n_classes} classes "
                f"(labels must be integers 0..{n_classes - 1})"
            )
        return labels.astype(np.int64)

    def _ensure_built(self, X: np.ndarray) -> None:
        if self._net is None:
            self.build(X.shape[1])

    # ------------------------------------------------------------------ training
    @_restores_untrained_state
    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike = None,
        epochs: int = 1,
        batch_size: Optional[int] = None,
        validation_data: Optional[Tuple[ArrayLike, ArrayLike]] = None,
        shuffle: bool = True,
        verbose: int = 1,
        algorithm: str = "sgd",
        max_iterations: int = 100,
        tolerance: float = 1e-5,
        optimizer_options: Optional[Dict[str, Any]] = None,
        callbacks: Optional[Sequence[Any]] = None,
        class_weight: Any = None,
    ) -> History:
        """Train the model.

        ``y`` holds integer class labels or one-hot rows for classifiers, target values for regressors.
        ``shuffle=False`` keeps the data order. ``verbose=0`` prints nothing; ``verbose=1`` shows a
        tqdm progress bar over the epochs when stderr is a terminal or in a notebook (loss,
        validation metrics, samples/s), otherwise a line per epoch on stdout; ``verbose=2`` always
        a line per epoch. Calling ``fit`` again continues training (updater state and counters carry on).

        ``callbacks`` are :class:`eigennet.callbacks.Callback` objects (EarlyStopping,
        ModelCheckpoint, CSVLogger, ...), called between epochs; one that sets
        ``model.stop_training = True`` ends training after the current epoch. A NaN or infinite
        training loss raises FloatingPointError unless a callback's ``on_nan`` returns True
        (e.g. :class:`~eigennet.callbacks.TerminateOnNaN`), which ends training gracefully.

        ``algorithm`` (DL4J OptimizationAlgorithm) chooses how:

        * ``"sgd"`` (STOCHASTIC_GRADIENT_DESCENT, the default): mini-batch steps of the model's
          updater. ``batch_size`` defaults to 32; ``batch_size=len(X)`` is full-batch gradient
          descent and ``batch_size=1`` online learning.
        * ``"lbfgs"``, ``"conjugate_gradient"``, ``"line_gradient_descent"``, ``"hessian_free"``:
          the optimizer runs on the score, full-batch by default (``batch_size=None``) or on each
          mini-batch of ``batch_size`` in turn, up to ``max_iterations`` iterations per batch and
          epoch; it stops early when the largest gradient component falls below
          ``tolerance * max(1, |loss|)``. ``optimizer_options`` sets the rest (``lbfgs_memory``,
          ``function_tolerance``, ``max_line_search_steps``, ``wolfe_c1``, ``wolfe_c2``,
          ``cg_wolfe_c2``, ``cg_restart_every``, ``hf_initial_damping``, ``hf_max_cg_iterations``,
          ``hf_cg_decay``). These algorithms do not use the updater; dropout is off while they run
          and batch normalization uses batch statistics without updating its running ones.

        ``class_weight`` (MCXENT / NEGATIVELOGLIKELIHOOD classifiers): None, a dict
        ``{class_index: weight}`` (missing classes weigh 1) or ``"balanced"``
        (``n_samples / (n_classes * count)`` as in scikit-learn, over the classes present in ``y``).
        A sample of class ``c`` then contributes ``weight[c]`` times its loss and gradient, exactly;
        the training loss in the history is this weighted mean, validation metrics are unweighted.
        SPARSE_MCXENT and XENT outputs raise ValueError (use one-hot MCXENT labels, or per-output
        loss weights for XENT). To train from batches that do not fit in memory, see :meth:`fit_batches`.
        """
        if y is None:
            raise TypeError("fit(X, y) needs labels y; to train from an iterable or generator of "
                            "(X_batch, y_batch) pairs use fit_batches(batches, epochs=...)")
        algorithm_key = _core.canonical_algorithm(str(algorithm)) if isinstance(algorithm, str) else None
        if algorithm_key is None:
            raise TypeError(f"algorithm must be a name such as \"lbfgs\", got {type(algorithm).__name__}")
        full_batch = algorithm_key != "STOCHASTIC_GRADIENT_DESCENT"
        options_json = None
        if full_batch:
            if not isinstance(optimizer_options, (dict, type(None))):
                raise TypeError(f"optimizer_options must be a dict, got {type(optimizer_options).__name__}")
            options = dict(optimizer_options or {})
            options.update({"algorithm": algorithm_key, "max_iterations": max_iterations,
                            "gradient_tolerance": tolerance})
            for key, value in options.items():
                if isinstance(value, bool) or (key != "algorithm" and not isinstance(value, (int, float, np.integer, np.floating))):
                    raise TypeError(f"optimizer option {key} must be a number, got {value!r}")
                if key != "algorithm" and not math.isfinite(float(value)):
                    shown = {"gradient_tolerance": "tolerance"}.get(key, key)
                    raise ValueError(f"{shown} must be finite, got {value!r}")
            options_json = _core.canonical_optimizer_options(json.dumps(options, default=float))
        elif optimizer_options:
            raise ValueError("optimizer_options only apply to the full-batch algorithms (lbfgs, conjugate_gradient, ...)")
        if batch_size is None:
            batch_size = 2**62 if full_batch else 32
        shuffle = check_flag(shuffle, "shuffle")
        verbose = _check_verbose(verbose)
        for value, name, low in ((epochs, "epochs", 0), (batch_size, "batch_size", 1)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        X_arr = _numeric_array(X, "X")
        if X_arr.ndim == 2 and self._net is None and X_arr.shape[1] >= 1:
            self.build(X_arr.shape[1])
        X_arr = self._features(X_arr, fit_normalizer=True)
        Y_arr = self._targets(y, X_arr.shape[0])
        if class_weight is not None:
            Y_arr = self._weight_classes(Y_arr, self._class_weight_vector(class_weight, Y_arr))
        validation = self._validation_arrays(validation_data)
        net = self._network()
        history = History()

        def train_epoch(epoch: int, number: int, callback_list: Any) -> float:
            interval = callback_list.iteration_interval() if options_json is None else None
            if interval:
                return net.fit_epoch(X_arr, Y_arr, int(batch_size), bool(shuffle), interval,
                                     lambda iteration, score: callback_list.iteration_end(number, iteration, score))
            if options_json is None:
                return net.fit_epoch(X_arr, Y_arr, int(batch_size), bool(shuffle))
            result = net.optimize_epoch(X_arr, Y_arr, int(batch_size), bool(shuffle), options_json)
            for step in result.pop("trace"):
                history.iterations.append({"epoch": number, **step})
            history.optimizer.append(result)
            return result["loss"]

        return self._train_epochs(history, callbacks, validation, train_epoch, {
            "epochs": int(epochs), "batch_size": int(batch_size), "n_samples": int(X_arr.shape[0]),
            "algorithm": algorithm_key, "verbose": verbose})

    def _train_epochs(self, history: History, callbacks: Any, validation: Optional[Tuple[np.ndarray, np.ndarray]],
                      train_epoch: Any, params: Dict[str, Any]) -> History:
        """The epoch loop fit and fit_batches share: ``train_epoch(epoch index, epoch number,
        callback list)`` trains one epoch and returns its loss; callbacks run around each epoch and
        can stop training."""
        from .callbacks import _CallbackList

        first_epoch = int(self._network().epoch)
        verbose = params["verbose"]
        callback_list = _CallbackList(callbacks, self, history, {
            "epochs": params["epochs"], "first_epoch": first_epoch, "batch_size": params["batch_size"],
            "n_samples": params["n_samples"], "algorithm": params["algorithm"],
            "verbose": 0 if not verbose else 2 if verbose == 2 else 1,
            "validation": validation is not None, "metrics": self._epoch_metric_names(validation is not None)})
        self.stop_training = False
        try:
            callback_list.train_begin()
            for epoch in range(params["epochs"]):
                if self.stop_training:
                    break
                number = first_epoch + epoch + 1
                callback_list.epoch_begin(number)
                start = time.perf_counter()
                loss = train_epoch(epoch, number, callback_list)
                if not self._end_epoch(number, float(loss), validation, history, callback_list,
                                       time.perf_counter() - start):
                    break
            callback_list.train_end({})
        finally:
            callback_list.close()
        return history

    def _epoch_metric_names(self, validation: bool) -> List[str]:
        """The keys of the epoch logs callbacks receive."""
        if not validation:
            return ["loss"]
        extra = ["accuracy"] if self.task != "regression" else ["mse", "mae"]
        return ["loss"] + [f"val_{name}" for name in ["loss", *extra]]

    def _validation_arrays(self, validation_data: Any) -> Optional[Tuple[np.ndarray, np.ndarray]]:
        if validation_data is None:
            return None
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError("validation_data must be a tuple (X_val, y_val)")
        Xv = self._features(validation_data[0], "validation X")
        return Xv, self._targets(validation_data[1], Xv.shape[0], "validation y")

    def _end_epoch(self, number: int, loss: float, validation: Optional[Tuple[np.ndarray, np.ndarray]],
                   history: History, callback_list: Any, elapsed: float) -> bool:
        """Records an epoch's metrics and runs the callbacks; False when training must stop. A
        non-finite loss raises FloatingPointError unless a callback's on_nan ends training."""
        if not math.isfinite(loss):
            if callback_list.nan(number, {"loss": loss}):
                history._record(number, {"loss": loss})
                self.stop_training = True
                return False
            raise FloatingPointError(
                f"the training loss became {loss} in epoch {number}; "
                "lower the learning rate or check the data scaling"
            )
        metrics = {"loss": loss}
        if validation is not None:
            metrics.update({f"val_{k}": v for k, v in self._metrics(validation[0], validation[1]).items()})
        history._record(number, metrics)
        callback_list.epoch_end(number, dict(metrics), elapsed)
        return True

    def _class_weight_vector(self, class_weight: Any, Y_arr: Optional[np.ndarray]) -> np.ndarray:
        """One weight per output column (class) for ``class_weight``; ``Y_arr`` (converted labels)
        is needed for "balanced"."""
        loss = self.loss_name
        if loss in ("SPARSE_MCXENT", "XENT"):
            raise ValueError(
                f"class_weight needs one-hot MCXENT (or NEGATIVELOGLIKELIHOOD) labels; this model's loss is {loss}"
                + (": use loss MCXENT with integer or one-hot labels instead" if loss == "SPARSE_MCXENT" else
                   ": use per-output loss weights (a weighted XENT loss) to weight the outputs"))
        if loss not in ("MCXENT", "NEGATIVELOGLIKELIHOOD"):
            raise ValueError(f"class_weight needs a MCXENT or NEGATIVELOGLIKELIHOOD classifier; this model's loss is {loss}")
        n_out = self.n_outputs
        if isinstance(class_weight, str):
            if class_weight != "balanced":
                raise ValueError(f'class_weight must be None, a dict or "balanced", got {class_weight!r}')
            if Y_arr is None:
                raise ValueError('class_weight="balanced" needs the class counts of the whole data, which a stream '
                                 'of batches does not give; compute the weights (e.g. with '
                                 'sklearn.utils.class_weight.compute_class_weight) and pass them as a dict')
            counts = Y_arr.sum(axis=0, dtype=np.float64)  # the bincount for one-hot rows
            present = counts > 0
            weights = np.ones(n_out, dtype=np.float64)
            weights[present] = Y_arr.shape[0] / (int(present.sum()) * counts[present])
            return weights
        if not isinstance(class_weight, dict):
            raise TypeError(f'class_weight must be None, a dict or "balanced", got {type(class_weight).__name__}')
        weights = np.ones(n_out, dtype=np.float64)
        for key, value in class_weight.items():
            if isinstance(key, (bool, np.bool_)) or not isinstance(key, (int, np.integer)) or not 0 <= key < n_out:
                raise ValueError(f"class_weight key {key!r} is not a class index 0..{n_out - 1}")
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)) \
                    or not math.isfinite(float(value)) or value < 0:
                raise ValueError(f"class_weight[{key}] must be a finite number >= 0, got {value!r}")
            weights[int(key)] = float(value)
        return weights

    def _weight_classes(self, Y_arr: np.ndarray, weights: np.ndarray) -> np.ndarray:
        # Exact class weighting by scaling the labels: the loss -sum_c y_c log a_c is linear in y, and so
        # is its gradient (softmax fused: a * sum(y) - y; otherwise -y / a through the activation), so
        # scaling a one-hot row by w multiplies that sample's loss and gradient by w. Scaling column c
        # by weight[c] does that for one-hot rows and weights soft labels per class. A new array: Y_arr
        # may be the caller's own labels.
        return np.ascontiguousarray(Y_arr * weights.astype(self._np_dtype), dtype=self._np_dtype)

    @_restores_untrained_state
    def fit_batches(
        self,
        batches: Any,
        epochs: int = 1,
        validation_data: Optional[Tuple[ArrayLike, ArrayLike]] = None,
        verbose: int = 1,
        callbacks: Optional[Sequence[Any]] = None,
        class_weight: Optional[Dict[int, float]] = None,
    ) -> History:
        """Train on a stream of mini-batches: one step of the model's updater per ``(X_batch, y_batch)``
        pair, in the order given (for data that does not fit in memory, or batches made on the fly).

        ``batches`` is one of:

        * a callable without arguments returning a fresh iterable of batches, e.g. a generator
          function that reads a file chunk by chunk: it is called once per epoch, any ``epochs`` works;
        * a re-iterable collection (a list of pairs, or any object whose ``iter()`` starts over),
          iterated once per epoch;
        * a one-shot iterator (a generator object, a file reader): it can be consumed only once, so
          ``epochs > 1`` raises ValueError; pass the generator function itself instead.

        Each batch is checked and converted like ``fit``'s data (integer labels or one-hot rows for
        classifiers, ...); batches may differ in size. A bad batch (wrong width, NaN, bad labels)
        raises ValueError naming its 0-based index in the epoch; the steps on the batches before it
        are kept, the epoch counter is not advanced and the model stays usable. The model's epoch
        counter advances once per complete pass. ``history["loss"]`` of an epoch is the mean of the
        step scores weighted by batch size, as in ``fit``; streaming ``X, y`` in order in batches of
        ``b`` rows trains exactly (bit for bit) like ``fit(X, y, batch_size=b, shuffle=False)``.
        Shuffling is up to the source.

        A normalizer that is not fitted yet is fitted on the first batch (its statistics only); to use
        statistics of the whole data, fit it first (``model.normalizer.fit(X_sample)``).
        ``validation_data``, ``verbose`` and ``callbacks`` work as in ``fit`` (``params["n_samples"]``
        of the callbacks is the number of samples of the epoch); ``class_weight`` is a dict as in
        ``fit`` ("balanced" needs counts over the whole data: compute them and pass a dict). Only the
        mini-batch updater is available (no full-batch ``algorithm``).
        """
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(f"epochs must be an integer >= 0, got {epochs!r}")
        verbose = _check_verbose(verbose)
        if isinstance(batches, (np.ndarray, str, bytes)) or (isinstance(batches, tuple) and len(batches) == 2
                                                             and isinstance(batches[0], np.ndarray)):
            raise TypeError("fit_batches takes an iterable (or a function returning one) of (X_batch, y_batch) "
                            "pairs; to train on arrays use fit(X, y)")
        if isinstance(class_weight, str):
            raise ValueError('class_weight="balanced" needs the class counts of the whole data, which a stream '
                             'of batches does not give; pass a dict of weights' if class_weight == "balanced" else
                             f"fit_batches takes class_weight None or a dict, got {class_weight!r}")
        if hasattr(batches, "__iter__"):
            one_shot = iter(batches) is batches
            if one_shot and epochs > 1:
                raise ValueError(
                    f"batches is a one-shot iterator ({type(batches).__name__}), which can be consumed only once, "
                    f"but epochs={epochs}; pass a function returning a fresh iterator per epoch (e.g. the "
                    "generator function itself) or a list of batches")

            def epoch_source() -> Any:
                return iter(batches)
        elif callable(batches):
            def epoch_source() -> Any:
                made = batches()
                if not hasattr(made, "__iter__"):
                    raise TypeError(f"the batches function returned a {type(made).__name__}, not an iterable of "
                                    "(X_batch, y_batch) pairs")
                return iter(made)
        else:
            raise TypeError(f"batches must be an iterable of (X_batch, y_batch) pairs or a function returning "
                            f"one, got {type(batches).__name__}")
        history = History()
        if epochs == 0:
            return history
        weights: Optional[np.ndarray] = None

        def convert(item: Any, index: int) -> Tuple[np.ndarray, np.ndarray]:
            try:
                if not isinstance(item, (tuple, list)) or len(item) != 2:
                    raise ValueError(f"expected an (X_batch, y_batch) pair, got {type(item).__name__}")
                X_arr = _numeric_array(item[0], "X")
                if X_arr.ndim == 2 and self._net is None and X_arr.shape[1] >= 1:
                    self.build(X_arr.shape[1])
                X_arr = self._features(X_arr, fit_normalizer=True)
                Y_arr = self._targets(item[1], X_arr.shape[0])
                if weights is not None:
                    Y_arr = self._weight_classes(Y_arr, weights)
                return X_arr, Y_arr
            except (ValueError, TypeError) as exc:
                raise type(exc)(f"batch {index}: {exc}") from None

        iterator = epoch_source()
        first = next(iterator, None)
        if first is None:
            raise ValueError("the batch source yielded no batches")
        first_batch = convert(first, 0)
        if class_weight is not None:
            weights = self._class_weight_vector(class_weight, None)
            first_batch = (first_batch[0], self._weight_classes(first_batch[1], weights))
        validation = self._validation_arrays(validation_data)
        net = self._network()

        def train_epoch(epoch: int, number: int, callback_list: Any) -> float:
            nonlocal iterator
            if epoch > 0:
                previous, iterator = iterator, epoch_source()
                if iterator is previous:
                    raise ValueError("the batches function returned the same iterator again; it must return a "
                                     "fresh one per epoch (e.g. a generator function, not a generator)")
            total, n_seen, index = 0.0, 0, 0
            pending = first_batch if epoch == 0 else None
            while True:
                if pending is None:
                    item = next(iterator, _NO_BATCH)
                    if item is _NO_BATCH:
                        break
                    pending = convert(item, index)
                X_b, Y_b = pending
                pending = None
                try:
                    step = net.train_batch(X_b, Y_b)
                except ValueError as exc:
                    raise ValueError(f"batch {index}: {exc}") from None
                total += float(step) * X_b.shape[0]
                n_seen += X_b.shape[0]
                index += 1
            if n_seen == 0:
                raise ValueError(f"epoch {number}: the batch source yielded no batches (an iterator that "
                                 "was already consumed?)")
            net.epoch = int(net.epoch) + 1
            for cb in callback_list.callbacks:
                cb.params["n_samples"] = n_seen
            # Rounded to the model's dtype like fit's epoch loss (the same value for the same steps).
            return float(self._np_dtype(total / n_seen))

        first_size = int(first_batch[0].shape[0])
        return self._train_epochs(history, callbacks, validation, train_epoch, {
            "epochs": int(epochs), "batch_size": first_size, "n_samples": first_size,
            "algorithm": "STOCHASTIC_GRADIENT_DESCENT", "verbose": verbose})

    # ------------------------------------------------------------------ inference
    @property
    def threshold(self) -> float:
        """Decision threshold of sigmoid (XENT) outputs used by :meth:`predict` (and the accuracy of
        :meth:`evaluate`): class 1 where the probability is ``>= threshold``. Default 0.5; must be
        strictly between 0 and 1; saved in the model file."""
        return self._threshold

    @threshold.setter
    def threshold(self, value: float) -> None:
        from .evaluation import _check_threshold

        self._threshold = _check_threshold(value, "threshold")

    def predict_output(self, X: ArrayLike) -> np.ndarray:
        """The raw output of the last layer, shape (n, n_outputs)."""
        net = self._network()
        if self.normalizer is None:
            out = net.predict_if_ready(X)
            if out is not None:
                return out
        return net.predict(self._features(X, check_finite=False))

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities, shape (n, n_classes); for a single sigmoid output, (n, 2) as [1 - p, p]."""
        if not self.is_classifier:
            raise TypeError(f"predict_proba needs a classifier; this model's loss is {self.loss_name}")
        out = self.predict_output(X)
        if self.task == "binary":
            proba = np.empty((out.shape[0], 2), dtype=out.dtype)
            proba[:, 1] = out[:, 0]
            np.subtract(1, out[:, 0], out=proba[:, 0])
            return proba
        return out

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Class indices (n,) for a classifier (0/1 for binary: 1 where the probability is
        ``>= model.threshold``, 0.5 by default; an (n, k) 0/1 matrix for multi-label, with the same
        threshold); output values for a regressor, (n,) for one output or (n, k)."""
        out = self.predict_output(X)
        task = self.task
        if task == "multiclass":
            return out.argmax(axis=1)
        if task == "binary":
            return (out[:, 0] >= self._threshold).astype(np.int64)
        if task == "multilabel":
            return (out >= self._threshold).astype(np.int64)
        return out[:, 0] if out.shape[1] == 1 else out

    def score(self, X: ArrayLike, y: ArrayLike) -> float:
        """The DL4J score: mean loss over the samples plus the l1/l2 penalty."""
        X_arr = self._features(X)
        return float(self._network().score(X_arr, self._targets(y, X_arr.shape[0])))

    def _metrics(self, X_arr: np.ndarray, Y_arr: np.ndarray) -> Dict[str, float]:
        net = self._network()
        metrics = {"loss": float(net.score(X_arr, Y_arr))}
        out = net.predict(X_arr)
        task = self.task
        if task == "multiclass":
            truth = Y_arr[:, 0].astype(np.int64) if self.loss_name == "SPARSE_MCXENT" else Y_arr.argmax(axis=1)
            metrics["accuracy"] = float(np.mean(out.argmax(axis=1) == truth))
        elif task in ("binary", "multilabel"):
            metrics["accuracy"] = float(np.mean((out >= self._threshold) == (Y_arr >= 0.5)))
        else:
            metrics["mse"] = float(np.mean((out - Y_arr) ** 2))
            metrics["mae"] = float(np.mean(np.abs(out - Y_arr)))
        return metrics

    def evaluate(self, X: ArrayLike, y: ArrayLike) -> Dict[str, float]:
        """``{"loss": ..., "accuracy": ...}`` for classifiers, ``{"loss", "mse", "mae"}`` for regressors."""
        X_arr = self._features(X)
        return self._metrics(X_arr, self._targets(y, X_arr.shape[0]))

    def evaluate_classification(self, X: ArrayLike, y: ArrayLike) -> Any:
        """An :class:`~eigennet.evaluation.ClassificationEvaluation` of the predictions on ``X`` against
        the classes ``y`` (labels or one-hot): accuracy, precision/recall/F1, confusion matrix, top-k
        accuracy, ``stats()``. Binary models decide at ``model.threshold``."""
        from .evaluation import ClassificationEvaluation

        task = self.task
        if task not in ("multiclass", "binary"):
            raise TypeError(
                f"evaluate_classification needs a multi-class or binary classifier; this model is {task}")
        X_arr = self._features(X)
        self._targets(y, X_arr.shape[0])  # validates y against the output layer
        out = self._network().predict(X_arr)
        if task == "binary":
            return ClassificationEvaluation(y, out, threshold=self._threshold)
        if out.min() < 0 or out.max() > 1:  # not probabilities (e.g. a log-softmax output): classes only
            return ClassificationEvaluation(y, out.argmax(axis=1), labels=np.arange(out.shape[1]))
        return ClassificationEvaluation(y, out)

    def evaluate_binary(self, X: ArrayLike, y: ArrayLike) -> Any:
        """A :class:`~eigennet.evaluation.BinaryEvaluation` of a binary (single sigmoid output) model on
        ``X`` against 0/1 labels ``y``, at ``model.threshold``: ROC/AUC, precision-recall/AUPRC and
        the threshold helpers (assign their result to ``model.threshold``)."""
        from .evaluation import BinaryEvaluation

        if self.task != "binary":
            raise TypeError(
                f"evaluate_binary needs a binary model (one sigmoid output, XENT); this model is {self.task}")
        X_arr = self._features(X)
        self._targets(y, X_arr.shape[0])
        return BinaryEvaluation(y, self._network().predict(X_arr), threshold=self._threshold)

    def evaluate_regression(self, X: ArrayLike, y: ArrayLike) -> Any:
        """A :class:`~eigennet.evaluation.RegressionEvaluation` (MSE, RMSE, MAE, R² per output column)
        of the model's outputs on ``X`` against ``y``."""
        from .evaluation import RegressionEvaluation

        if self.is_classifier:
            raise TypeError(f"evaluate_regression needs a regressor; this model's loss is {self.loss_name}")
        X_arr = self._features(X)
        targets = self._targets(y, X_arr.shape[0])
        truth = _numeric_array(y, "y").astype(np.float64).reshape(targets.shape)  # y at full precision
        return RegressionEvaluation(truth, self._network().predict(X_arr))

    # ------------------------------------------------------------------ parameters
    def params(self) -> np.ndarray:
        """Copy of the flat parameter vector: for each layer W (n_in x n_out, column by column of the
        (n_out, n_in) storage, i.e. the C-order bytes of ``get_param(i, "W")``) then b."""
        return self._network().params()

    def set_params(self, theta: ArrayLike) -> None:
        """Replace all parameters from a flat vector laid out as :meth:`params`."""
        net = self._network()
        array = _numeric_array(theta, "theta")
        if array.shape != (net.num_params,):
            raise ValueError(f"theta must have shape ({net.num_params},), got {array.shape}")
        net.set_params(np.ascontiguousarray(array, dtype=self._np_dtype))

    @property
    def num_params(self) -> int:
        """Length of the flat parameter vector (:meth:`params`)."""
        return int(self._network().num_params)

    def get_param(self, layer: int, name: str) -> np.ndarray:
        """Copy of one parameter: ``"W"`` has shape (n_in, n_out), ``"b"`` shape (n_out,)."""
        return self._network().get_param(self._layer_index(layer), str(name))

    def set_param(self, layer: int, name: str, value: ArrayLike) -> None:
        """Replace one parameter; the shape must match :meth:`get_param`'s."""
        index = self._layer_index(layer)
        array = _numeric_array(value, "value")
        expected = self.get_param(index, name).shape  # raises for unknown names
        if array.shape != expected:
            raise ValueError(
                f"layer {index} parameter {name} has shape {expected}, got an array of shape {array.shape}"
            )
        self._network().set_param(index, str(name), np.ascontiguousarray(array, dtype=self._np_dtype))

    def _layer_index(self, layer: int) -> int:
        if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)):
            raise TypeError(f"layer must be an integer index, got {type(layer).__name__}")
        n = len(self.layers)
        if not -n <= layer < n:
            raise LayerIndexError(f"layer index {layer} out of range: the model has {n} layers (0..{n - 1})")
        return int(layer) % n

    def compute_gradients(self, X: ArrayLike, y: ArrayLike) -> np.ndarray:
        """Gradient of :meth:`score` on (X, y) as one batch, laid out as :meth:`params`."""
        X_arr = self._features(X)
        _, grad = self._network().compute_gradients(X_arr, self._targets(y, X_arr.shape[0]))
        return grad

    # ------------------------------------------------------------------ unsupervised layers
    def _pretrainable_layers(self) -> List[int]:
        return [int(i) for i in self._network().pretrainable_layers()]

    def _unsupervised_layer(self, layer: Optional[int]) -> int:
        if layer is None:
            candidates = self._pretrainable_layers()
            if not candidates:
                raise ValueError("the model has no AutoEncoder, RBM or VariationalAutoencoder layer")
            return candidates[0]
        return self._layer_index(layer)

    @_restores_untrained_state
    def pretrain(
        self,
        X: ArrayLike,
        epochs: int = 1,
        batch_size: int = 32,
        layers: Optional[Sequence[int]] = None,
        shuffle: bool = True,
        verbose: int = 1,
    ) -> Dict[int, List[float]]:
        """Greedy layer-wise unsupervised pretraining (DL4J ``pretrain``).

        Each AutoEncoder, RBM and VariationalAutoencoder layer in ``layers`` (default: all of them, in
        order) trains on its own objective for ``epochs`` epochs, its input being ``X`` passed through
        the layers below it, which are pretrained first. Each layer gets a fresh updater with the
        model's updater configuration; L1/L2 apply to its weights. Labels are not used. Returns
        ``{layer index: [objective per epoch]}`` (the objectives are listed in the reference).
        """
        for value, name, low in ((epochs, "epochs", 0), (batch_size, "batch_size", 1)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        shuffle = check_flag(shuffle, "shuffle")
        verbose = _check_verbose(verbose)
        X_arr = _numeric_array(X, "X")
        if X_arr.ndim == 2 and self._net is None and X_arr.shape[1] >= 1:
            self.build(X_arr.shape[1])
        X_arr = self._features(X_arr, fit_normalizer=True)
        net = self._network()
        if layers is None:
            chosen = self._pretrainable_layers()
            if not chosen:
                raise ValueError("the model has no AutoEncoder, RBM or VariationalAutoencoder layer to pretrain")
        else:
            chosen = sorted({self._layer_index(k) for k in layers})
        histories: Dict[int, List[float]] = {}
        for k in chosen:
            start = time.perf_counter()
            values = [float(v) for v in net.pretrain_layer(k, X_arr, int(epochs), int(batch_size), bool(shuffle))]
            histories[k] = values
            if not all(math.isfinite(v) for v in values):
                raise FloatingPointError(
                    f"the pretraining objective of layer {k} became {values[-1]}; "
                    "lower the learning rate or check the data scaling"
                )
            if verbose and values:
                print(f"pretrain layer {k} ({type(self.layers[k]).__name__}): objective {values[0]:.4f} -> "
                      f"{values[-1]:.4f} in {time.perf_counter() - start:.2f}s", file=sys.stdout, flush=True)
        return histories

    def reconstruct(self, X: ArrayLike, layer: Optional[int] = None) -> np.ndarray:
        """An unsupervised layer's reconstruction of its input for ``X`` (default: the first such layer).
        For a layer above the first, the result reconstructs that layer's input, not ``X``."""
        index = self._unsupervised_layer(layer)
        return self._network().layer_reconstruct(index, self._features(X))

    def reconstruction_error(self, X: ArrayLike, layer: Optional[int] = None) -> float:
        """Mean reconstruction error of an unsupervised layer on ``X`` (see the layer's documentation)."""
        index = self._unsupervised_layer(layer)
        return float(self._network().layer_reconstruction_error(index, self._features(X)))

    def reconstruction_log_probability(self, X: ArrayLike, layer: Optional[int] = None,
                                       num_samples: int = 16) -> np.ndarray:
        """VariationalAutoencoder: importance-sampled estimate of log p(x) for each sample, shape (n,)."""
        if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) or num_samples < 1:
            raise ValueError(f"num_samples must be an integer >= 1, got {num_samples!r}")
        index = self._unsupervised_layer(layer)
        return self._network().layer_reconstruction_log_probability(index, self._features(X), int(num_samples))

    def generate(self, Z: ArrayLike, layer: Optional[int] = None) -> np.ndarray:
        """VariationalAutoencoder: the mean of p(x | z) for each row of ``Z`` (n, latent size)."""
        index = self._unsupervised_layer(layer)
        array = _numeric_array(Z, "Z")
        if array.ndim != 2:
            raise ValueError(f"Z must be 2-D (n_samples, latent_size), got shape {array.shape}")
        array = np.ascontiguousarray(array, dtype=self._np_dtype)
        if not _all_finite(array):
            raise ValueError("Z contains NaN or infinity")
        return self._network().layer_generate(index, array)

    @property
    def iteration(self) -> int:
        """Updater steps taken so far."""
        return int(self._network().iteration)

    @property
    def epoch(self) -> int:
        """Epochs trained so far."""
        return int(self._network().epoch)

    def updater_state(self) -> Dict[str, np.ndarray]:
        """Copies of the updater's state vectors (e.g. Adam's "m" and "v")."""
        return dict(self._network().updater_state())

    def set_updater_state(self, state: Dict[str, ArrayLike]) -> None:
        """Replace the updater's state vectors: ``state`` maps each name of :meth:`updater_state`
        to a vector of :attr:`num_params` finite values. All are checked before any is written."""
        net = self._network()
        current = net.updater_state()
        if not isinstance(state, dict):
            raise TypeError(f"state must be a dict of name -> array, got {type(state).__name__}")
        unknown = sorted(set(state) - set(current))
        missing = sorted(set(current) - set(state))
        if unknown or missing:
            raise ValueError(f"state must have exactly the updater's entries {sorted(current)}; "
                             f"unknown {unknown}, missing {missing}")
        arrays = {}
        for name, values in state.items():
            array = _numeric_array(values, f"state[{name!r}]")
            if array.shape != (net.num_params,):
                raise ValueError(f"state[{name!r}] must have shape ({net.num_params},), got {array.shape}")
            if not _all_finite(array):
                raise ValueError(f"state[{name!r}] contains NaN or infinity")
            arrays[name] = array
        for name, array in arrays.items():
            net.set_updater_state(name, array)

    # ------------------------------------------------------------------ persistence
    def save(self, path: Union[str, "os.PathLike[str]"]) -> None:
        """Write the model (configuration, parameters, updater state, counters) to one file, atomically.
        Raises IsADirectoryError if ``path`` is a directory, FileNotFoundError if its directory does
        not exist and OSError if the file cannot be written."""
        path = check_path(path, "path")
        net = self._network()
        if os.path.isdir(path):
            raise IsADirectoryError(f"path {path} is a directory; give a file name")
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise FileNotFoundError(f"could not create {path}: the directory {directory} does not exist")
        try:
            net.save(path, self._extra_metadata())
        except RuntimeError as exc:
            raise OSError(str(exc)) from None

    def _extra_metadata(self) -> str:
        """The Python-side settings stored beside the network, as JSON."""
        if not isinstance(self.metadata, dict):
            raise TypeError(f"model.metadata must be a dict, got {type(self.metadata).__name__}")
        try:
            user = json.dumps(self.metadata, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"model.metadata must hold JSON-serializable values: {exc}") from None
        extra = {"python": {"package_version": _package_version(), "metadata": json.loads(user),
                            "threshold": self._threshold,
                            "normalizer": None if self.normalizer is None else self.normalizer.get_config()}}
        return json.dumps(extra)

    def to_bytes(self) -> bytes:
        """The model exactly as :meth:`save` would write it, as bytes (:func:`eigennet.from_bytes`
        reads them back). Pickling a model uses the same bytes."""
        return bytes(self._network().to_bytes(self._extra_metadata()))

    def __reduce__(self) -> Any:
        if self._net is None:
            return super().__reduce__()
        return (from_bytes, (self.to_bytes(),))

    def summary(self) -> str:
        """Print and return a table of the layers with their output shapes and parameter counts."""
        net = self._network()
        rows = [("#", "layer", "activation", "output", "params")]
        total = 0
        for i in range(net.num_layers):
            config = json.loads(net.layer_config(i))
            count = sum(int(np.prod(loc["shape"])) for loc in net.param_locations() if loc["layer"] == i)
            total += count
            kind = config["type"] + (f" ({config['loss']['name']})" if "loss" in config else "")
            rows.append((str(i), kind, config["activation"]["name"], f"(None, {config['n_out']})", f"{count:,}"))
        widths = [max(len(r[c]) for r in rows) for c in range(5)]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in rows]
        rule = "-" * len(lines[0])
        text = "\n".join(
            [f"Sequential: input_dim={net.input_dim}, dtype={self.dtype}, updater={self.updater!r}", rule,
             lines[0], rule, *lines[1:], rule, f"total parameters: {total:,}"]
        )
        print(text)
        return text

    def __repr__(self) -> str:
        return f"Sequential({self.layers!r}, input_dim={self.input_dim}, dtype={self.dtype!r})"

    # ------------------------------------------------------------------ export (ONNX, JSON, YAML)
    def to_onnx(self, path: Optional[Union[str, "os.PathLike[str]"]] = None, opset: int = 17) -> Any:
        """Write the inference graph as ONNX to ``path`` (if given) and return the ``onnx.ModelProto``.

        Input ``"X"`` (the model's float type, dynamic batch), output ``"output"`` (as
        :meth:`predict_output`) and, for classifiers, ``"probabilities"`` (as :meth:`predict_proba`).
        Needs the ``onnx`` package; layers or activations written in Python raise NotImplementedError.
        """
        from .export import to_onnx

        return to_onnx(self, path, opset=opset)

    def to_json(self, indent: Optional[int] = 2) -> str:
        """The configuration (layers, updater, regularization, seed, dtype) as JSON, without
        parameters (DL4J ``toJson``); :meth:`from_json` reads it back."""
        from .export import config_to_dict

        return json.dumps(config_to_dict(self), indent=indent, allow_nan=False)

    @classmethod
    def from_json(cls, text: Union[str, bytes]) -> "Sequential":
        """A fresh model from :meth:`to_json`'s text: built (weights initialised from the stored seed)
        if the configuration records ``input_dim``. Raises ValueError for invalid text or configuration."""
        from .export import model_from_config, parse_json

        return model_from_config(parse_json(text), "JSON")

    def to_yaml(self) -> str:
        """The configuration as YAML (needs pyyaml), as :meth:`to_json`."""
        from .export import config_to_dict, dump_yaml

        return dump_yaml(config_to_dict(self))

    @classmethod
    def from_yaml(cls, text: Union[str, bytes]) -> "Sequential":
        """A fresh model from :meth:`to_yaml`'s text, as :meth:`from_json`."""
        from .export import model_from_config, parse_yaml

        return model_from_config(parse_yaml(text), "YAML")


def _package_version() -> str:
    from . import __version__

    return __version__


def load(path: Union[str, "os.PathLike[str]"]) -> Sequential:
    """Load a model saved by :meth:`Sequential.save` (or by the C++ ``save_network``)."""
    path = check_path(path, "path")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no model file at {path}")
    dtype = _core.model_dtype(path)
    network_class = _core.NetworkF32 if dtype == "float32" else _core.NetworkF64
    return _model_from_network(*network_class.load(path), dtype=dtype, source=path)


def from_bytes(data: Union[bytes, bytearray, memoryview]) -> Sequential:
    """A model from the bytes of :meth:`Sequential.to_bytes` (the model-file format, in memory)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    data = bytes(data)
    dtype = _core.model_dtype_from_bytes(data)
    network_class = _core.NetworkF32 if dtype == "float32" else _core.NetworkF64
    return _model_from_network(*network_class.from_bytes(data), dtype=dtype, source="model bytes")


def _model_from_network(net: Any, extra_text: str, dtype: str, source: str) -> Sequential:
    try:
        config = json.loads(net.config())
        model = Sequential(
            [Layer.from_config(layer) for layer in config["layers"]],
            updater=config["updater"],
            l1=config["l1"],
            l2=config["l2"],
            weight_decay=config["weight_decay"],
            regularize_bias=config["regularize_bias"],
            seed=int(config["seed"]),
            dtype=dtype,
            gradient_normalization=(config.get("gradient_normalization") or {}).get("name"),
            gradient_normalization_threshold=(config.get("gradient_normalization") or {}).get("threshold", 1.0),
        )
        model.input_dim = int(config["input_dim"])
        extra = json.loads(extra_text)
        metadata = extra.get("python", {}).get("metadata", {}) if isinstance(extra, dict) else {}
        model.metadata = metadata if isinstance(metadata, dict) else {}
        threshold = extra.get("python", {}).get("threshold", 0.5) if isinstance(extra, dict) else 0.5
        model.threshold = threshold
        from .data import normalizer_from_config

        model.normalizer = normalizer_from_config(
            extra.get("python", {}).get("normalizer") if isinstance(extra, dict) else None)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        reason = f"{type(exc).__name__}: {exc}"
        raise _core.FormatError(f"{source}: the stored configuration cannot be used ({reason})") from None
    model._net = net
    return model
