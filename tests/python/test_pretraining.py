"""Greedy layer-wise pretraining of a stack (stacked autoencoders / RBMs), then supervised fine-tuning."""

from __future__ import annotations

import numpy as np
import pytest

import eigennet as en
from eigennet.datasets import load_digits, train_test_split
from eigennet.unsupervised import RBM, AutoEncoder


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits()
    return train_test_split(X / 16.0, y, test_size=0.3, seed=1)


def _stack(seed):
    return en.Sequential(
        [AutoEncoder(48, activation="sigmoid", corruption_level=0.2),
         AutoEncoder(32, activation="sigmoid"),
         AutoEncoder(24, activation="sigmoid"),
         en.Output(10)],
        updater=en.Adam(learning_rate=5e-3), seed=seed, input_dim=64,
    )


def test_stacked_autoencoders_pretrain_then_fine_tune_at_least_as_well_as_from_scratch(digits):
    X_train, X_test, y_train, y_test = digits
    scratch = _stack(seed=7)
    scratch.fit(X_train, y_train, epochs=25, verbose=0)
    scratch_accuracy = scratch.evaluate(X_test, y_test)["accuracy"]

    pretrained = _stack(seed=7)
    before = {k: pretrained.reconstruction_error(X_train, layer=k) for k in (0, 1, 2)}
    histories = pretrained.pretrain(X_train, epochs=15, verbose=0)
    assert sorted(histories) == [0, 1, 2]
    for k, values in histories.items():
        assert len(values) == 15
        assert values[-1] < values[0], (k, values)
        assert pretrained.reconstruction_error(X_train, layer=k) < before[k]
    pretrained.fit(X_train, y_train, epochs=25, verbose=0)
    pretrained_accuracy = pretrained.evaluate(X_test, y_test)["accuracy"]
    print(f"from scratch {scratch_accuracy:.4f}, pretrained then fine-tuned {pretrained_accuracy:.4f}")
    assert pretrained_accuracy >= scratch_accuracy - 0.005
    assert pretrained_accuracy > 0.9


def test_pretraining_layer_k_sees_the_output_of_the_layers_below(digits):
    X_train = digits[0][:300]
    model = _stack(seed=3)
    model.pretrain(X_train, epochs=2, layers=[0], verbose=0)
    first = model.params().copy()
    # Pretraining layer 1 alone changes only layer 1's slice of the parameters.
    model.pretrain(X_train, epochs=2, layers=[1], verbose=0)
    after = model.params()
    offsets = {}
    for loc in model._network().param_locations():
        start = loc["offset"]
        offsets.setdefault(loc["layer"], [start, start])[1] = start + int(np.prod(loc["shape"]))
    lo, hi = offsets[1]
    changed = np.flatnonzero(after != first)
    assert changed.size > 0 and changed.min() >= lo and changed.max() < hi
    # Its input is layer 0's encoding of X: reconstruct(layer=1) reconstructs that, not X.
    assert model.reconstruct(X_train, layer=1).shape == (300, 48)


def test_rbm_stack_pretrains_dense_layers(digits):
    X_train, X_test, y_train, y_test = digits
    model = en.Sequential([RBM(40), RBM(30), en.Output(10)], updater=en.Adam(learning_rate=5e-3), seed=2, input_dim=64)
    histories = model.pretrain(X_train, epochs=8, verbose=0)
    assert all(values[-1] < values[0] for values in histories.values()), histories
    model.fit(X_train, y_train, epochs=20, verbose=0)
    assert model.evaluate(X_test, y_test)["accuracy"] > 0.85


def test_pretrain_errors():
    model = en.Sequential([en.Dense(8), en.Output(2)], input_dim=4, seed=0)
    with pytest.raises(ValueError, match="no AutoEncoder"):
        model.pretrain(np.zeros((5, 4)), verbose=0)
    with pytest.raises(ValueError, match="no unsupervised objective"):
        model.pretrain(np.zeros((5, 4)), layers=[0], verbose=0)
    stack = _stack(seed=0)
    with pytest.raises(ValueError, match="features"):
        stack.pretrain(np.zeros((5, 3)), verbose=0)
    with pytest.raises(ValueError, match="NaN"):
        stack.pretrain(np.full((5, 64), np.nan), verbose=0)
    with pytest.raises(ValueError, match="epochs"):
        stack.pretrain(np.zeros((5, 64)), epochs=-1, verbose=0)
