"""Transfer learning (DL4J ``TransferLearning.Builder``): build a new model from a trained one.

::

    new_model = (
        TransferLearning(trained)
        .fine_tune(updater=eigennet.Adam(learning_rate=1e-4))
        .set_feature_extractor(1)        # freeze layers 0 and 1
        .n_out_replace(2, 5)             # the output layer now has 5 units (re-initialized)
        .build()
    )

Layers that keep their configuration and input width keep their trained parameters; the others
(replaced, added, or fed by a layer whose width changed) are initialized from the new model's
seed. Frozen layers get no gradient, so neither the updater, weight decay, L1/L2 nor the full-batch
optimizers change them; the flag is part of the layer configuration and survives save/load.
"""

from __future__ import annotations

import copy
from typing import Any, Dict, List, Optional, Union

from .initializers import InitLike, init_config
from .layers import Layer, _check_units
from .model import LayerIndexError, Sequential
from .updaters import Updater, as_updater

__all__ = ["TransferLearning"]

_UNSET: Any = object()


class TransferLearning:
    """Builder of a new :class:`~eigennet.Sequential` from a trained one; the original is not changed."""

    def __init__(self, model: Sequential) -> None:
        if not isinstance(model, Sequential):
            raise TypeError(f"TransferLearning needs a Sequential model, got {type(model).__name__}")
        if not model.built:
            raise ValueError("TransferLearning needs a built (trained) model")
        self._model = model
        config = model.get_config()
        # (layer configuration, index of the source layer whose parameters it keeps, or None)
        self._layers: List[List[Any]] = [[copy.deepcopy(c), i] for i, c in enumerate(config["layers"])]
        self._frozen_below = 0
        self._settings: Dict[str, Any] = {}

    # ---------------------------------------------------------------- edits
    def fine_tune(
        self,
        updater: Optional[Union[Updater, str, Dict[str, Any]]] = None,
        l1: Any = _UNSET,
        l2: Any = _UNSET,
        weight_decay: Any = _UNSET,
        seed: Any = _UNSET,
    ) -> "TransferLearning":
        """Training settings of the new model (DL4J ``FineTuneConfiguration``); unset ones are kept.
        The new model always starts with a fresh updater state."""
        if updater is not None:
            self._settings["updater"] = as_updater(updater)
        for name, value in (("l1", l1), ("l2", l2), ("weight_decay", weight_decay), ("seed", seed)):
            if value is not _UNSET:
                self._settings[name] = value
        return self

    def set_feature_extractor(self, layer: int) -> "TransferLearning":
        """Freeze layers 0..``layer`` (inclusive, as in DL4J)."""
        self._frozen_below = self._index(layer) + 1
        return self

    def freeze_first(self, k: int) -> "TransferLearning":
        """Freeze the first ``k`` layers (``freeze_first(0)`` freezes none)."""
        if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= len(self._layers):
            raise LayerIndexError(f"k must be an integer in [0, {len(self._layers)}], got {k!r}")
        self._frozen_below = k
        return self

    def n_out_replace(self, layer: int, n_out: int, weight_init: Optional[InitLike] = None) -> "TransferLearning":
        """Give ``layer`` ``n_out`` units. It and the layer after it (whose input width changes) are
        re-initialized; ``weight_init`` replaces the layer's initializer if given."""
        index = self._index(layer)
        config = self._layers[index][0]
        if "n_out" not in config or config["type"] in ("Activation", "Loss"):
            raise ValueError(f"layer {index} ({config['type']}) has no configurable n_out")
        config["n_out"] = _check_units(n_out, "n_out_replace")
        if weight_init is not None:
            config["weight_init"] = init_config(weight_init)
        self._layers[index][1] = None
        if index + 1 < len(self._layers):
            self._layers[index + 1][1] = None
        return self

    def remove_output_layer(self) -> "TransferLearning":
        """Remove the last layer (add a new output with :meth:`add_layer`)."""
        return self.remove_layers_from_output(1)

    def remove_layers_from_output(self, n: int) -> "TransferLearning":
        """Remove the last ``n`` layers."""
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= len(self._layers):
            raise ValueError(f"n must be an integer in [1, {len(self._layers)}], got {n!r}")
        del self._layers[-n:]
        return self

    def add_layer(self, layer: Layer) -> "TransferLearning":
        """Append a new (freshly initialized) layer."""
        if not isinstance(layer, Layer):
            raise TypeError(f"add_layer takes an eigennet layer, got {type(layer).__name__}")
        self._layers.append([layer.get_config(), None])
        return self

    # ---------------------------------------------------------------- result
    def build(self) -> Sequential:
        """The new model, built, with the kept layers' trained parameters and fresh updater state."""
        if not self._layers:
            raise ValueError("the new model has no layers")
        if self._frozen_below > len(self._layers):
            raise LayerIndexError(f"{self._frozen_below} layers are to be frozen but the new model has {len(self._layers)}")
        old = self._model
        layers = []
        for i, (config, _) in enumerate(self._layers):
            layer = Layer.from_config(config)
            layer.frozen = i < self._frozen_below
            layers.append(layer)
        settings = {
            "updater": old.updater, "l1": old.l1, "l2": old.l2, "weight_decay": old.weight_decay, "seed": old.seed,
            **self._settings,
        }
        new = Sequential(
            layers,
            updater=settings["updater"],
            l1=settings["l1"],
            l2=settings["l2"],
            weight_decay=settings["weight_decay"],
            regularize_bias=old.regularize_bias,
            seed=settings["seed"],
            dtype=old.dtype,
            gradient_normalization=old.gradient_normalization,
            gradient_normalization_threshold=old.gradient_normalization_threshold,
        )
        new.build(int(old.input_dim))
        # Widths can change downstream of a replaced layer only through n_out_replace, which marks
        # the next layer for re-initialization; every other kept layer sees its old input width.
        locations = new._network().param_locations()
        for new_index, (_, source) in enumerate(self._layers):
            if source is None:
                continue
            for loc in locations:
                if loc["layer"] == new_index:
                    new.set_param(new_index, loc["name"], old.get_param(source, loc["name"]))
        new.metadata = copy.deepcopy(old.metadata)
        new.normalizer = copy.deepcopy(old.normalizer)  # the same inputs need the same scaling
        if self._layers[-1][1] == len(old.layers) - 1:
            new.threshold = old.threshold  # the same output layer keeps its decision threshold
        return new

    def _index(self, layer: int) -> int:
        n = len(self._layers)
        if isinstance(layer, bool) or not isinstance(layer, int) or not -n <= layer < n:
            raise LayerIndexError(f"layer index {layer!r} out of range: the model has {n} layers (0..{n - 1})")
        return layer % n
