"""Transfer learning: frozen layers, replaced and added layers, fine-tuning settings, save/load."""

from __future__ import annotations

import numpy as np
import pytest

import eigennet as en
from eigennet.datasets import load_digits, train_test_split
from eigennet.transfer import TransferLearning


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits()
    return train_test_split(X / 16.0, y, test_size=0.3, seed=0)


@pytest.fixture(scope="module")
def trained_on_five(digits):
    """A 64-32-16-5 network trained on digits 0..4 only."""
    X_train, _, y_train, _ = digits
    keep = y_train < 5
    model = en.Sequential(
        [en.Dense(32, activation="relu"), en.Dense(16, activation="tanh"), en.Output(5)],
        updater=en.Adam(learning_rate=1e-2), seed=4, dtype="float64",
    )
    model.fit(X_train[keep], y_train[keep], epochs=10, verbose=0)
    model.metadata["task"] = "digits 0-4"
    return model


def test_feature_extractor_layers_never_change_and_the_new_output_learns(digits, trained_on_five):
    X_train, X_test, y_train, y_test = digits
    new = TransferLearning(trained_on_five).set_feature_extractor(1).n_out_replace(2, 10).build()
    assert [layer.frozen for layer in new.layers] == [True, True, False]
    for layer in (0, 1):
        for name in ("W", "b"):
            np.testing.assert_array_equal(new.get_param(layer, name), trained_on_five.get_param(layer, name))
    assert new.get_param(2, "W").shape == (16, 10)
    frozen_before = [new.get_param(i, n) for i in (0, 1) for n in ("W", "b")]
    output_before = new.get_param(2, "W")
    new.fit(X_train, y_train, epochs=15, verbose=0)
    frozen_after = [new.get_param(i, n) for i in (0, 1) for n in ("W", "b")]
    for a, b in zip(frozen_before, frozen_after):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(output_before, new.get_param(2, "W"))
    # Features learnt on five digits carry over to all ten.
    assert new.evaluate(X_test, y_test)["accuracy"] > 0.8
    # The original model is untouched.
    assert trained_on_five.n_outputs == 5
    assert new.metadata == {"task": "digits 0-4"}


@pytest.mark.parametrize("updater", [en.SGD(learning_rate=0.5), en.Adam(learning_rate=0.05), en.Nesterovs()])
def test_frozen_layers_ignore_updaters_weight_decay_and_l1_l2(digits, trained_on_five, updater):
    X_train, _, y_train, _ = digits
    new = (TransferLearning(trained_on_five).freeze_first(2)
           .fine_tune(updater=updater, l1=1e-3, l2=1e-2, weight_decay=1e-2).build())
    before = new.params()
    new.fit(X_train[y_train < 5], y_train[y_train < 5], epochs=2, verbose=0)
    after = new.params()
    frozen_end = sum(int(np.prod(loc["shape"])) for loc in new._network().param_locations() if loc["layer"] < 2)
    np.testing.assert_array_equal(after[:frozen_end], before[:frozen_end])
    assert not np.array_equal(after[frozen_end:], before[frozen_end:])
    assert new.updater == updater
    assert new.l2 == 1e-2


def test_only_freezing_keeps_predictions(digits, trained_on_five):
    _, X_test, _, _ = digits
    new = TransferLearning(trained_on_five).freeze_first(3).build()
    np.testing.assert_array_equal(new.predict_output(X_test), trained_on_five.predict_output(X_test))
    # Everything frozen: training changes nothing at all.
    new.fit(X_test, np.zeros(len(X_test), dtype=int), epochs=1, verbose=0)
    np.testing.assert_array_equal(new.predict_output(X_test), trained_on_five.predict_output(X_test))


def test_remove_output_and_add_layers(digits, trained_on_five):
    X_train, X_test, y_train, y_test = digits
    new = (TransferLearning(trained_on_five)
           .set_feature_extractor(0)
           .remove_output_layer()
           .add_layer(en.Dense(12, activation="relu"))
           .add_layer(en.Output(10))
           .build())
    assert [type(layer).__name__ for layer in new.layers] == ["Dense", "Dense", "Dense", "Output"]
    np.testing.assert_array_equal(new.get_param(1, "W"), trained_on_five.get_param(1, "W"))
    assert new.get_param(2, "W").shape == (16, 12)
    new.fit(X_train, y_train, epochs=10, verbose=0)
    assert new.evaluate(X_test, y_test)["accuracy"] > 0.8


def test_replacing_a_hidden_width_reinitializes_the_next_layer(trained_on_five):
    new = TransferLearning(trained_on_five).n_out_replace(0, 20, weight_init="xavier").build()
    assert new.get_param(0, "W").shape == (64, 20)
    assert new.get_param(1, "W").shape == (20, 16)
    np.testing.assert_array_equal(new.get_param(2, "W"), trained_on_five.get_param(2, "W"))
    assert new.get_config()["layers"][0]["weight_init"]["name"] == "XAVIER"


def test_transferred_model_saves_and_loads_with_its_frozen_layers(tmp_path, digits, trained_on_five):
    X_train, X_test, y_train, _ = digits
    new = TransferLearning(trained_on_five).set_feature_extractor(0).n_out_replace(-1, 10).build()
    path = tmp_path / "transfer.enet"
    new.save(path)
    loaded = en.load(path)
    assert [layer.frozen for layer in loaded.layers] == [True, False, False]
    np.testing.assert_array_equal(loaded.predict_output(X_test), new.predict_output(X_test))
    W0 = loaded.get_param(0, "W")
    loaded.fit(X_train, y_train, epochs=1, verbose=0)
    np.testing.assert_array_equal(loaded.get_param(0, "W"), W0)


def test_builder_errors_are_clear(trained_on_five):
    with pytest.raises(IndexError, match="out of range"):
        TransferLearning(trained_on_five).set_feature_extractor(3)
    with pytest.raises(ValueError, match="must carry a loss"):
        TransferLearning(trained_on_five).remove_output_layer().build()
    with pytest.raises(ValueError, match="units"):
        TransferLearning(trained_on_five).n_out_replace(2, 0)
    with pytest.raises(TypeError, match="eigennet layer"):
        TransferLearning(trained_on_five).add_layer("Dense")
    with pytest.raises(ValueError, match="built"):
        TransferLearning(en.Sequential([en.Output(2)]))
    with pytest.raises(IndexError):
        TransferLearning(trained_on_five).remove_layers_from_output(1).freeze_first(3).build()
