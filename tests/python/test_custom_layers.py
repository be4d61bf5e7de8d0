"""Layers written in Python (``eigennet.CustomLayer``) inside networks of built-in layers.

The gradient check follows tests/python/test_gradients.py: float64, central differences of
``model.score`` with EPS = 1e-6, a parameter passes when its relative error is below 1e-6 or its
absolute error below 1e-8 (all activations here are smooth, so there are no kinks to avoid).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import eigennet as en
from test_gradients import gradient_check



# ----------------------------------------------------------------------------- layers under test
class ScaledTanh(en.CustomLayer):
    """y = alpha * tanh(x W + b) with a learnable per-unit scale alpha."""

    def __init__(self, units, alpha0=1.0):
        self.units = units
        self.alpha0 = alpha0

    def get_config(self):
        return {"units": self.units, "alpha0": self.alpha0}

    def output_dim(self, n_in):
        return self.units

    def parameters(self, n_in):
        return {"W": (n_in, self.units), "b": (self.units,), "alpha": (self.units,)}

    def initialize(self, params, rng):
        params["W"][...] = rng.normal(0.0, 1.0 / np.sqrt(params["W"].shape[0]), params["W"].shape)
        params["b"][...] = 0.0
        params["alpha"][...] = self.alpha0

    def forward(self, x, params, training):
        return params["alpha"] * np.tanh(x @ params["W"] + params["b"])

    def backward(self, x, y, dy, params):
        t = np.tanh(x @ params["W"] + params["b"])
        dz = dy * params["alpha"] * (1.0 - t * t)
        grads = {"W": x.T @ dz, "b": dz.sum(axis=0), "alpha": (dy * t).sum(axis=0)}
        return dz @ params["W"].T, grads


class SoftCube(en.CustomLayer):
    """A parameter-free, width-preserving layer: y = x + x^3 / 3 (default output_dim, no parameters)."""

    def forward(self, x, params, training):
        assert params == {}
        return x + x**3 / 3.0

    def backward(self, x, y, dy, params):
        return dy * (1.0 + x * x), {}


class WrongAlphaGradient(ScaledTanh):
    """ScaledTanh whose alpha gradient is 0.1 % off: the gradient check must reject it."""

    def backward(self, x, y, dy, params):
        dx, grads = super().backward(x, y, dy, params)
        grads["alpha"] = grads["alpha"] * 1.001
        return dx, grads


def numpy_forward(model, X):
    """The model [Dense(tanh), ScaledTanh, Output(softmax)] computed from get_param."""
    h = np.tanh(X @ model.get_param(0, "W") + model.get_param(0, "b"))
    h = model.get_param(1, "alpha") * np.tanh(h @ model.get_param(1, "W") + model.get_param(1, "b"))
    z = h @ model.get_param(2, "W") + model.get_param(2, "b")
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def make_model(layer=None, dtype="float64", seed=7, **kwargs):
    layer = ScaledTanh(4, alpha0=1.5) if layer is None else layer
    return en.Sequential([en.Dense(5, activation="tanh"), layer, en.Output(3, activation="softmax", loss="mcxent")],
                         input_dim=3, dtype=dtype, seed=seed, **kwargs)


def make_data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = (X[:, 0] + X[:, 1] ** 2 > 0.8).astype(np.int64) + (X[:, 2] > 0.5)
    return X, y


def check_gradients(model, X, y):
    """(analytic gradient, mask of entries failing test_gradients' finite-difference criterion)."""
    analytic, _, _, bad = gradient_check(model, X, y)
    return analytic, bad


def custom_slice(model, layer=1):
    """Indices of layer `layer`'s parameters in the flat vector."""
    locations = [loc for loc in model._network().param_locations() if loc["layer"] == layer]
    return np.concatenate([np.arange(loc["offset"], loc["offset"] + int(np.prod(loc["shape"]))) for loc in locations])


# ----------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("l2", [0.0, 0.05])
def test_gradient_check_with_builtin_layers(l2):
    model = make_model(l2=l2)
    X, y = make_data(12)
    analytic, bad = check_gradients(model, X, y)
    assert not bad.any(), f"{bad.sum()} of {bad.size} parameters fail: {np.flatnonzero(bad)[:8]}"
    inside = custom_slice(model)
    assert inside.size == 5 * 4 + 4 + 4
    assert np.abs(analytic[inside]).max() > 1e-3, "trivial gradient in the custom layer"
    assert np.abs(analytic[custom_slice(model, 0)]).max() > 1e-3, "no gradient reached the layer below"


def test_gradient_check_through_a_parameter_free_custom_layer():
    model = en.Sequential([en.Dense(4, activation="tanh"), SoftCube(), ScaledTanh(3),
                           en.Output(2, activation="sigmoid", loss="xent")], input_dim=3, dtype="float64", seed=3)
    X, _ = make_data(10)
    y = (X[:, :2] > 0).astype(float)
    analytic, bad = check_gradients(model, X, y)
    assert not bad.any()
    assert np.abs(analytic[custom_slice(model, 0)]).max() > 1e-3  # dx of SoftCube reached Dense
    assert model.num_params == (3 * 4 + 4) + (4 * 3 + 3 + 3) + (3 * 2 + 2)


def test_the_check_detects_a_wrong_custom_gradient():
    model = make_model(WrongAlphaGradient(4, alpha0=1.5))
    X, y = make_data(12)
    _, bad = check_gradients(model, X, y)
    alpha = [loc for loc in model._network().param_locations() if loc["layer"] == 1 and loc["name"] == "alpha"][0]
    assert bad.any()
    assert set(np.flatnonzero(bad)) <= set(range(alpha["offset"], alpha["offset"] + 4))


def test_frozen_custom_layer_gets_no_gradient():
    layer = ScaledTanh(4)
    layer.frozen = True
    model = make_model(layer)
    X, y = make_data(12)
    grad = model.compute_gradients(X, y)
    assert np.all(grad[custom_slice(model)] == 0)
    assert np.abs(grad[custom_slice(model, 0)]).max() > 1e-4  # still backpropagates through it
    before = model.get_param(1, "W")
    model.fit(X, y, epochs=2, verbose=0)
    np.testing.assert_array_equal(model.get_param(1, "W"), before)
    assert not np.array_equal(model.get_param(0, "W"), make_model(ScaledTanh(4)).get_param(0, "W"))


# ----------------------------------------------------------------------------- training and parameters
def test_trains_inside_a_model():
    X, y = make_data(200, seed=1)
    model = make_model(updater=en.Adam(learning_rate=0.02))
    alpha0 = model.get_param(1, "alpha")
    history = model.fit(X, y, epochs=30, batch_size=20, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.6 * losses[0]
    assert model.evaluate(X, y)["accuracy"] > 0.85
    assert not np.array_equal(model.get_param(1, "alpha"), alpha0)  # the custom parameters learn


def test_parameters_live_in_the_flat_vector():
    model = make_model()
    assert model.num_params == (3 * 5 + 5) + (5 * 4 + 4 + 4) + (4 * 3 + 3)
    assert model.get_param(1, "W").shape == (5, 4)
    assert model.get_param(1, "b").shape == (4,)
    np.testing.assert_array_equal(model.get_param(1, "alpha"), np.full(4, 1.5))  # from initialize
    locations = {loc["name"]: loc for loc in model._network().param_locations() if loc["layer"] == 1}
    assert list(locations) == ["W", "b", "alpha"]  # the order parameters() gave
    assert not locations["W"]["is_bias"] and locations["alpha"]["is_bias"]
    flat = model.params()
    W = locations["W"]
    np.testing.assert_array_equal(flat[W["offset"]:W["offset"] + 20].reshape(5, 4), model.get_param(1, "W"))

    X, _ = make_data(9)
    np.testing.assert_allclose(model.predict_output(X), numpy_forward(model, X), rtol=1e-12, atol=1e-14)
    model.set_param(1, "alpha", [0.5, -1.0, 2.0, 0.0])
    model.set_param(1, "W", np.arange(20.0).reshape(5, 4) / 20)
    np.testing.assert_allclose(model.predict_output(X), numpy_forward(model, X), rtol=1e-12, atol=1e-14)


def test_2d_parameters_are_regularized_and_1d_ones_are_not():
    X, y = make_data(12)
    plain, penalized = make_model(), make_model(l2=0.1)
    weights = sum(float((plain.get_param(i, "W") ** 2).sum()) for i in range(3))
    assert penalized.score(X, y) == pytest.approx(plain.score(X, y) + 0.05 * weights, rel=1e-12)


def test_initialization_follows_the_seed():
    a, b, c = make_model(seed=11), make_model(seed=11), make_model(seed=12)
    np.testing.assert_array_equal(a.get_param(1, "W"), b.get_param(1, "W"))
    assert not np.array_equal(a.get_param(1, "W"), c.get_param(1, "W"))


def test_default_initialize_is_xavier_uniform_and_zero():
    class Plain(en.CustomLayer):
        def parameters(self, n_in):
            return {"W": (n_in, 30), "b": 30}

        def output_dim(self, n_in):
            return 30

        def forward(self, x, params, training):
            return x @ params["W"] + params["b"]

        def backward(self, x, y, dy, params):
            return dy @ params["W"].T, {"W": x.T @ dy, "b": dy.sum(axis=0)}

    model = make_model(Plain())
    W = model.get_param(1, "W")
    limit = np.sqrt(6.0 / (5 + 30))
    assert W.shape == (5, 30) and np.abs(W).max() <= limit and np.abs(W).max() > 0.8 * limit
    np.testing.assert_array_equal(model.get_param(1, "b"), np.zeros(30))


def test_training_flag_and_config():
    seen = []

    class Recorder(ScaledTanh):
        def forward(self, x, params, training):
            seen.append(training)
            return super().forward(x, params, training)

    model = make_model(Recorder(4))
    X, y = make_data(20)
    model.fit(X, y, epochs=1, batch_size=20, verbose=0)
    assert seen == [True]
    model.predict(X)
    assert seen == [True, False]
    stored = model.get_config()["layers"][1]
    assert stored["type"] == "Recorder" and stored["n_in"] == 5 and stored["n_out"] == 4
    assert stored["config"] == {"units": 4, "alpha0": 1.0}
    assert "Recorder" in model.summary()


# ----------------------------------------------------------------------------- save and load
def test_save_and_load_round_trip(tmp_path):
    X, y = make_data(60)
    model = make_model(updater=en.Adam(learning_rate=0.01))
    model.fit(X, y, epochs=3, verbose=0)
    path = tmp_path / "custom.enet"
    model.save(path)
    loaded = en.load(path)
    assert isinstance(loaded.layers[1], ScaledTanh)
    assert loaded.layers[1].get_config() == {"units": 4, "alpha0": 1.5}
    np.testing.assert_array_equal(loaded.params(), model.params())
    np.testing.assert_array_equal(loaded.predict_output(X), model.predict_output(X))
    # training continues identically (updater state and the custom parameters came back)
    model.fit(X, y, epochs=1, shuffle=False, verbose=0)
    loaded.fit(X, y, epochs=1, shuffle=False, verbose=0)
    np.testing.assert_array_equal(loaded.params(), model.params())


def test_load_without_the_class_fails_clearly(tmp_path):
    path = tmp_path / "custom.enet"
    make_model().save(path)
    script = "import sys, eigennet\ntry:\n    eigennet.load(sys.argv[1])\nexcept eigennet.FormatError as e:\n    print(e)\n"
    out = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=120,
                         env=dict(os.environ))
    assert out.returncode == 0, out.stderr
    assert 'unknown layer type "ScaledTanh"' in out.stdout
    assert "must be registered" in out.stdout


# ----------------------------------------------------------------------------- validation
class Faulty(ScaledTanh):
    """Misbehaves in the way `fault` names."""

    def __init__(self, units=4, fault="none"):
        super().__init__(units)
        self.fault = fault

    def get_config(self):
        return {"units": self.units, "fault": self.fault}

    def forward(self, x, params, training):
        y = super().forward(x, params, training)
        return {
            "forward_shape": lambda: y[:, :3],
            "forward_transposed": lambda: y.T.copy(),
            "forward_list": lambda: y.tolist(),
            "forward_int": lambda: np.zeros(y.shape, dtype=np.int64),
            "forward_nan": lambda: np.where(y > 0, np.nan, y),
        }.get(self.fault, lambda: y)()

    def backward(self, x, y, dy, params):
        dx, grads = super().backward(x, y, dy, params)
        if self.fault == "backward_dx_shape":
            return dx[:, :2], grads
        if self.fault == "backward_not_pair":
            return dx
        if self.fault == "backward_missing":
            del grads["alpha"]
        if self.fault == "backward_extra":
            grads["gamma"] = grads["alpha"]
        if self.fault == "backward_grad_shape":
            grads["W"] = grads["W"].T
        if self.fault == "backward_inf":
            grads["b"] = grads["b"] * np.inf
        if self.fault == "backward_grads_list":
            return dx, list(grads.values())
        return dx, grads


@pytest.mark.parametrize("fault, message", [
    ("forward_shape", r"Faulty\(1\)\.forward returned y of shape \(7, 3\), expected \(7, 4\)"),
    ("forward_transposed", r"Faulty\(1\)\.forward returned y of shape \(4, 7\), expected \(7, 4\)"),
    ("forward_list", r"Faulty\(1\)\.forward returned a list for y; a NumPy array of shape \(7, 4\) is needed"),
    ("forward_int", r"Faulty\(1\)\.forward returned y of dtype int64; a floating-point array is needed"),
    ("forward_nan", r"Faulty\(1\)\.forward returned y containing NaN or infinity"),
])
def test_bad_forward_results_raise_value_error(fault, message):
    model = make_model(Faulty(fault=fault))
    X, y = make_data(7)
    with pytest.raises(ValueError, match=message):
        model.predict_output(X)
    with pytest.raises(ValueError, match=message):
        model.fit(X, y, epochs=1, batch_size=7, verbose=0)


@pytest.mark.parametrize("fault, message", [
    ("backward_dx_shape", r"Faulty\(1\)\.backward returned dx of shape \(7, 2\), expected \(7, 5\)"),
    ("backward_not_pair", r"Faulty\(1\)\.backward must return a pair \(dx, \{parameter name: gradient\}\)"),
    ("backward_missing", r"Faulty\(1\)\.backward returned no gradient for parameter \"alpha\""),
    ("backward_extra", r"Faulty\(1\)\.backward returned a gradient for 'gamma', which is not a parameter"),
    ("backward_grad_shape", r"Faulty\(1\)\.backward returned the gradient of \"W\" of shape \(4, 5\), expected \(5, 4\)"),
    ("backward_inf", r"Faulty\(1\)\.backward returned the gradient of \"b\" containing NaN or infinity"),
    ("backward_grads_list", r"Faulty\(1\)\.backward must return the parameter gradients as a dict"),
])
def test_bad_backward_results_raise_value_error(fault, message):
    model = make_model(Faulty(fault=fault))
    X, y = make_data(7)
    model.predict_output(X)  # forward is fine
    with pytest.raises(ValueError, match=message):
        model.compute_gradients(X, y)
    before = model.params()
    with pytest.raises(ValueError, match=message):
        model.fit(X, y, epochs=1, batch_size=7, verbose=0)
    np.testing.assert_array_equal(model.params(), before)  # the failed step changed nothing


def test_bad_declarations_fail_when_the_model_is_built():
    class NoWidth(ScaledTanh):
        def output_dim(self, n_in):
            return 0

    class BadShape(ScaledTanh):
        def parameters(self, n_in):
            return {"W": (n_in, self.units, 2)}

    class NotADict(ScaledTanh):
        def parameters(self, n_in):
            return [("W", (n_in, self.units))]

    with pytest.raises(ValueError, match=r"NoWidth\(1\): NoWidth\.output_dim\(5\) must be between 1 and 2\*\*31"):
        make_model(NoWidth(4))
    with pytest.raises(ValueError, match=r"BadShape\(1\): BadShape\.parameters: the shape of 'W' must be"):
        make_model(BadShape(4))
    with pytest.raises(TypeError, match=r"NotADict\.parameters must return a dict"):
        make_model(NotADict(4))


def test_exceptions_in_python_methods_propagate_unchanged():
    class Boom(Exception):
        pass

    class Exploding(ScaledTanh):
        def __init__(self, units=4, where="forward"):
            super().__init__(units)
            self.where = where

        def get_config(self):
            return {"units": self.units, "where": self.where}

        def forward(self, x, params, training):
            if self.where == "forward":
                raise Boom("forward failed")
            return super().forward(x, params, training)

        def backward(self, x, y, dy, params):
            raise KeyError("backward failed")

    X, y = make_data(8)
    model = make_model(Exploding(where="forward"))
    with pytest.raises(Boom, match="forward failed"):
        model.predict(X)
    with pytest.raises(Boom, match="forward failed"):
        model.fit(X, y, epochs=1, verbose=0)
    model = make_model(Exploding(where="backward"))
    with pytest.raises(KeyError, match="backward failed"):
        model.fit(X, y, epochs=1, verbose=0)
    assert model.predict_output(X).shape == (8, 3)  # still usable


def test_parameter_views_are_read_only_and_must_not_be_kept():
    class Writer(ScaledTanh):
        def forward(self, x, params, training):
            params["W"][0, 0] = 1.0
            return super().forward(x, params, training)

    class Keeper(ScaledTanh):
        def __init__(self, units=4, derived=False):
            super().__init__(units)
            self.derived = derived

        def get_config(self):
            return {"units": self.units, "derived": self.derived}

        def forward(self, x, params, training):
            self.kept = params["W"][1:] if self.derived else params["W"]
            return super().forward(x, params, training)

    X, _ = make_data(5)
    with pytest.raises(ValueError, match="read-only"):
        make_model(Writer(4)).predict(X)
    for derived in (False, True):
        with pytest.raises(ValueError, match=r"Keeper\(1\)\.forward kept a reference to a parameter array"):
            make_model(Keeper(derived=derived)).predict(X)


def test_registration_rules():
    with pytest.raises(ValueError, match="built-in"):
        class Dense(en.CustomLayer):  # noqa: F811 - the name of a built-in layer
            pass
    with pytest.raises(ValueError, match="built-in layer type"):
        class Clash(en.CustomLayer):
            type_name = "batch_normalization"
    with pytest.raises(ValueError, match="clashes with the registered 'ScaledTanh'"):
        class Clash2(en.CustomLayer):
            type_name = "scaled-tanh"
    assert en.layers.Layer._registry["Dense"] is en.Dense  # refused names left the built-ins alone
    assert "ScaledTanh" in en._core.layer_type_names()


def test_unknown_type_suggests_a_registered_one():
    config = make_model().get_config()
    config["layers"][1]["type"] = "ScaledTan"
    with pytest.raises(ValueError, match='unknown layer type "ScaledTan"; did you mean "ScaledTanh"'):
        en._core.NetworkF64(json.dumps(config))


# ----------------------------------------------------------------------------- float32 and threads
def test_float32_model():
    dtypes = []

    class Checked(ScaledTanh):
        def forward(self, x, params, training):
            dtypes.append((x.dtype, params["W"].dtype))
            return super().forward(x, params, training)

    X, y = make_data(100, seed=2)
    model = make_model(Checked(4, alpha0=1.5), dtype="float32", updater=en.Adam(learning_rate=0.02))
    history = model.fit(X, y, epochs=15, batch_size=25, verbose=0)
    assert history.history["loss"][-1] < 0.8 * history.history["loss"][0]
    assert set(dtypes) == {(np.dtype(np.float32), np.dtype(np.float32))}
    out = model.predict_output(X)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, numpy_forward(model, X.astype(np.float32)), rtol=1e-4, atol=1e-5)
    grad = model.compute_gradients(X, y)
    assert grad.dtype == np.float32 and np.abs(grad[custom_slice(model)]).max() > 1e-4


def test_fit_and_predict_from_threads_do_not_deadlock():
    X, y = make_data(300, seed=3)
    trained = make_model(updater=en.Adam(learning_rate=0.01), seed=1)
    reader = make_model(seed=2)
    expected = reader.predict_output(X)
    errors, results = [], []

    def train():
        try:
            trained.fit(X, y, epochs=5, batch_size=10, verbose=0)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def predict():
        try:
            for _ in range(20):
                results.append(reader.predict_output(X))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=train)] + [threading.Thread(target=predict) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "deadlock"
    assert not errors, errors
    assert len(results) == 60
    for r in results:
        np.testing.assert_array_equal(r, expected)
    assert trained.epoch == 5


def test_full_batch_optimizers_run_custom_layers():
    X, y = make_data(60)
    model = make_model()
    history = model.fit(X, y, epochs=2, algorithm="lbfgs", max_iterations=20, verbose=0)
    assert history.history["loss"][-1] < 0.5 * make_model().score(X, y)
    with pytest.raises(ValueError, match=r"layer 1 \(ScaledTanh\) has no forward-mode derivative"):
        model.fit(X, y, epochs=1, algorithm="hessian_free", verbose=0)


def test_custom_layer_first_in_the_network():
    # The lowest trainable layer's dx is not needed by anyone; it is still checked, then dropped.
    model = en.Sequential([ScaledTanh(4), en.Output(2, activation="identity", loss="mse")],
                          input_dim=3, dtype="float64", seed=9)
    X, _ = make_data(10)
    y = np.stack([np.sin(X[:, 0]), X[:, 1] * X[:, 2]], axis=1)
    analytic, bad = check_gradients(model, X, y)
    assert not bad.any()
    assert np.abs(analytic[custom_slice(model, 0)]).max() > 1e-3
    first = en.Sequential([Faulty(fault="backward_dx_shape"), en.Output(2, activation="identity", loss="mse")],
                          input_dim=3, dtype="float64", seed=9)
    with pytest.raises(ValueError, match=r"Faulty\(0\)\.backward returned dx of shape \(10, 2\), expected \(10, 3\)"):
        first.compute_gradients(X, y)
