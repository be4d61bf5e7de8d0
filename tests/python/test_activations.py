"""Values of every built-in activation against independent oracles, plus name handling, RReLU's
training/inference behaviour and custom (Python-registered) activations.

Oracles
-------
* NumPy/SciPy implementations of the DL4J formulas (``ORACLES`` below), written from the formulas
  alone: e.g. HARDSIGMOID = clip(0.2 x + 0.5, 0, 1), RATIONALTANH = 1.7159 sgn(y) (1 - 1 / (1 + |y| +
  y^2 + 1.41645 y^4)) with y = 2x/3, GELU with ``scipy.special.erf``, RReLU at inference = leaky ReLU
  with slope (lower + upper) / 2.
* PyTorch's functional activations where one exists (``TORCH`` below), for values and, through
  autograd, for derivatives.

The network output is read either from ``Dense(d, identity)`` with W = I, b = 0 followed by
``ActivationLayer(act)`` (so the activation sees exactly X), or from an ``Output`` layer whose W and b
are set with ``set_param`` (so it sees X @ W + b).

Gradient checks by finite differences live in ``test_gradients.py``.
"""

import math

import numpy as np
import pytest
import scipy.special as sp
import torch
import torch.nn.functional as F

import eigennet as en

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
RRELU_LOWER, RRELU_UPPER = 1.0 / 8.0, 1.0 / 3.0


# --------------------------------------------------------------------------- NumPy oracles
def _elu(alpha):
    return lambda x: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def _leaky(alpha):
    return lambda x: np.where(x > 0, x, alpha * x)


def _rational_tanh(x):
    y = 2.0 * x / 3.0
    ay = np.abs(y)
    return 1.7159 * np.sign(y) * (1.0 - 1.0 / (1.0 + ay + y**2 + 1.41645 * y**4))


def _selu(x):
    return SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0.0)))


def _gelu_exact(x):
    return 0.5 * x * (1.0 + sp.erf(x / math.sqrt(2.0)))


def _gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


def _softplus(x):
    return np.logaddexp(0.0, x)


# id -> (activation spec passed to eigennet, NumPy oracle, kink points of the derivative)
ORACLES = {
    "CUBE": ("cube", lambda x: x**3, ()),
    "ELU": ("elu", _elu(1.0), (0.0,)),
    "ELU(alpha=0.5)": (en.ELU(alpha=0.5), _elu(0.5), (0.0,)),
    "GELU": ("gelu", _gelu_exact, ()),
    "GELU(tanh)": (en.GELU(approximate="tanh"), _gelu_tanh, ()),
    "HARDSIGMOID": ("hardsigmoid", lambda x: np.clip(0.2 * x + 0.5, 0.0, 1.0), (-2.5, 2.5)),
    "HARDTANH": ("hardtanh", lambda x: np.clip(x, -1.0, 1.0), (-1.0, 1.0)),
    "IDENTITY": ("identity", lambda x: x, ()),
    "LEAKYRELU": ("leakyrelu", _leaky(0.01), (0.0,)),
    "LEAKYRELU(alpha=0.2)": (en.LeakyReLU(alpha=0.2), _leaky(0.2), (0.0,)),
    "RATIONALTANH": ("rationaltanh", _rational_tanh, (0.0,)),
    "RELU": ("relu", lambda x: np.maximum(x, 0.0), (0.0,)),
    "RELU6": ("relu6", lambda x: np.clip(x, 0.0, 6.0), (0.0, 6.0)),
    "RRELU": ("rrelu", _leaky((RRELU_LOWER + RRELU_UPPER) / 2), (0.0,)),
    "RRELU(0.2,0.6)": (en.RReLU(lower=0.2, upper=0.6), _leaky(0.4), (0.0,)),
    "SELU": ("selu", _selu, (0.0,)),
    "SIGMOID": ("sigmoid", sp.expit, ()),
    "SOFTMAX": ("softmax", lambda x: sp.softmax(x, axis=1), ()),
    "SOFTPLUS": ("softplus", _softplus, ()),
    "SOFTSIGN": ("softsign", lambda x: x / (1.0 + np.abs(x)), (0.0,)),
    "SWISH": ("swish", lambda x: x * sp.expit(x), ()),
    "MISH": ("mish", lambda x: x * np.tanh(_softplus(x)), ()),
    "TANH": ("tanh", np.tanh, ()),
    "THRESHOLDEDRELU": ("thresholdedrelu", lambda x: np.where(x > 1.0, x, 0.0), (1.0,)),
    "THRESHOLDEDRELU(theta=0.5)": (en.ThresholdedReLU(theta=0.5), lambda x: np.where(x > 0.5, x, 0.0), (0.5,)),
}

# PyTorch equivalents (as functions of a float64 tensor). HARDSIGMOID and RATIONALTANH have no
# PyTorch equivalent with DL4J's definition, so they are spelled out in torch operations (which
# still gives an independent autograd derivative).
TORCH = {
    "CUBE": lambda t: t**3,
    "ELU": lambda t: F.elu(t, alpha=1.0),
    "ELU(alpha=0.5)": lambda t: F.elu(t, alpha=0.5),
    "GELU": lambda t: F.gelu(t),
    "GELU(tanh)": lambda t: F.gelu(t, approximate="tanh"),
    "HARDSIGMOID": lambda t: torch.clamp(0.2 * t + 0.5, 0.0, 1.0),
    "HARDTANH": lambda t: F.hardtanh(t),
    "IDENTITY": lambda t: t,
    "LEAKYRELU": lambda t: F.leaky_relu(t, negative_slope=0.01),
    "LEAKYRELU(alpha=0.2)": lambda t: F.leaky_relu(t, negative_slope=0.2),
    "RATIONALTANH": lambda t: 1.7159
    * torch.sign(t)
    * (1 - 1 / (1 + (2 * t / 3).abs() + (2 * t / 3) ** 2 + 1.41645 * (2 * t / 3) ** 4)),
    "RELU": F.relu,
    "RELU6": F.relu6,
    "RRELU": lambda t: F.rrelu(t, lower=RRELU_LOWER, upper=RRELU_UPPER, training=False),
    "RRELU(0.2,0.6)": lambda t: F.rrelu(t, lower=0.2, upper=0.6, training=False),
    "SELU": F.selu,
    "SIGMOID": torch.sigmoid,
    "SOFTMAX": lambda t: F.softmax(t, dim=1),
    "SOFTPLUS": lambda t: F.softplus(t, threshold=1000.0),
    "SOFTSIGN": F.softsign,
    "SWISH": F.silu,
    "MISH": F.mish,
    "TANH": torch.tanh,
    "THRESHOLDEDRELU": lambda t: F.threshold(t, 1.0, 0.0),
    "THRESHOLDEDRELU(theta=0.5)": lambda t: F.threshold(t, 0.5, 0.0),
}

IDS = sorted(ORACLES)


def _grid(rng, width, kinks, low=-8.0, high=8.0, n_random=96):
    """Inputs covering [low, high] (a grid plus random points), none within 1e-6 of a kink."""
    values = np.concatenate([np.linspace(low, high, 8 * width + 1) + 0.0123, rng.uniform(low, high, n_random)])
    for k in kinks:
        close = np.abs(values - k) < 1e-6
        values[close] += 1e-3
    values = values[: (len(values) // width) * width]
    return values.reshape(-1, width)


def _activation_model(spec, width, dtype="float64"):
    """Dense(width, identity) with W = I, b = 0, then ActivationLayer(spec): the output is f(X)."""
    model = en.Sequential(
        [en.Dense(width), en.ActivationLayer(spec), en.LossLayer("identity", "mse")],
        input_dim=width,
        dtype=dtype,
        seed=0,
    )
    model.set_param(0, "W", np.eye(width))
    model.set_param(0, "b", np.zeros(width))
    return model


# --------------------------------------------------------------------------- values
def test_every_builtin_activation_has_an_oracle():
    covered = {ORACLES[i][0] if isinstance(ORACLES[i][0], str) else ORACLES[i][0].name for i in IDS}
    covered = {c.upper() for c in covered}
    assert set(en.activations.BUILTIN) <= covered
    assert set(en.activations.BUILTIN) <= set(en.activations.available())


@pytest.mark.parametrize("act_id", IDS)
def test_values_through_activation_layer_float64(act_id, rng):
    spec, oracle, kinks = ORACLES[act_id]
    X = _grid(rng, 6, kinks)
    out = _activation_model(spec, 6).predict_output(X)
    assert out.dtype == np.float64 and out.shape == X.shape
    np.testing.assert_allclose(out, oracle(X), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("act_id", IDS)
def test_values_through_activation_layer_float32(act_id, rng):
    spec, oracle, kinks = ORACLES[act_id]
    X = _grid(rng, 6, kinks).astype(np.float32)
    out = _activation_model(spec, 6, dtype="float32").predict_output(X)
    assert out.dtype == np.float32
    expected = oracle(X.astype(np.float64))
    scale = np.maximum(np.abs(expected), 1.0) if act_id != "SOFTMAX" else 1.0
    assert np.all(np.abs(out - expected) <= 5e-6 * scale), np.max(np.abs(out - expected) / scale)


@pytest.mark.parametrize("act_id", IDS)
def test_values_through_output_layer_with_known_weights(act_id, rng):
    spec, oracle, _ = ORACLES[act_id]
    n_in, n_out = 4, 5
    model = en.Sequential([en.Output(n_out, activation=spec, loss="mse")], input_dim=n_in, dtype="float64", seed=1)
    W = rng.normal(size=(n_in, n_out)) * 1.5
    b = rng.normal(size=n_out)
    model.set_param(0, "W", W)
    model.set_param(0, "b", b)
    np.testing.assert_array_equal(model.get_param(0, "W"), W)
    X = rng.normal(size=(40, n_in)) * 2.0
    np.testing.assert_allclose(model.predict_output(X), oracle(X @ W + b), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("act_id", IDS)
def test_values_match_torch(act_id, rng):
    spec, _, kinks = ORACLES[act_id]
    X = _grid(rng, 5, kinks, low=-12.0, high=12.0)
    out = _activation_model(spec, 5).predict_output(X)
    with torch.no_grad():
        expected = TORCH[act_id](torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("act_id", IDS)
def test_derivatives_match_torch_autograd(act_id, rng):
    """d/dz of sum((f(z) - t)^2) at 600 points, read from the bias gradient of a model whose
    pre-activations are exactly its biases (input x = (1, 0), W = 0), against PyTorch autograd."""
    spec, _, kinks = ORACLES[act_id]
    z = _grid(rng, 600, kinks, low=-9.0, high=9.0, n_random=0)[0]
    target = rng.normal(size=z.shape)
    model = en.Sequential(
        [en.Dense(z.size), en.ActivationLayer(spec), en.LossLayer("identity", "l2")],
        input_dim=2,
        dtype="float64",
        seed=0,
    )
    model.set_param(0, "W", np.zeros((2, z.size)))
    model.set_param(0, "b", z)
    grad = model.compute_gradients(np.array([[1.0, 0.0]]), target[None, :])
    grad_W = grad[: 2 * z.size].reshape(2, z.size)  # layout: W as C-order (n_in, n_out), then b
    grad_b = grad[2 * z.size :]
    t = torch.from_numpy(z[None, :].copy()).requires_grad_(True)
    loss = ((TORCH[act_id](t) - torch.from_numpy(target[None, :])) ** 2).sum()
    loss.backward()
    np.testing.assert_allclose(grad_b, t.grad.numpy()[0], rtol=1e-11, atol=1e-12)
    # and W's gradient is the same vector times the input (1, 0)
    np.testing.assert_array_equal(grad_W[0], grad_b)
    np.testing.assert_array_equal(grad_W[1], np.zeros(z.size))


EXTREME = np.array([[-1000.0, -80.0, -30.0, 0.25, 30.0, 80.0, 1000.0]])


@pytest.mark.parametrize("act_id", IDS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_extreme_inputs_give_finite_exact_values(act_id, dtype):
    spec, oracle, _ = ORACLES[act_id]
    if act_id == "CUBE" and dtype == "float32":
        X = EXTREME / 10.0  # 1000^3 is fine, but keep float32 far from overflow of the loss too
    else:
        X = EXTREME
    model = _activation_model(spec, X.shape[1], dtype=dtype)
    out = model.predict_output(X)
    assert np.all(np.isfinite(out))
    expected = oracle(X)
    np.testing.assert_allclose(out, expected, rtol=1e-6 if dtype == "float32" else 1e-13, atol=1e-30)


# --------------------------------------------------------------------------- configuration and names
def test_parameterised_activation_configs():
    assert en.LeakyReLU(alpha=0.2).get_config() == {"name": "LEAKYRELU", "alpha": 0.2}
    assert en.LeakyReLU().get_config() == {"name": "LEAKYRELU", "alpha": 0.01}
    assert en.ELU().get_config() == {"name": "ELU", "alpha": 1.0}
    assert en.ThresholdedReLU().get_config() == {"name": "THRESHOLDEDRELU", "theta": 1.0}
    rrelu = en.RReLU().get_config()
    assert rrelu["name"] == "RRELU"
    assert rrelu["lower"] == pytest.approx(1 / 8, abs=0) and rrelu["upper"] == pytest.approx(1 / 3, rel=1e-15)
    assert en.GELU().get_config() == {"name": "GELU", "approximate": "none"}
    assert en.GELU(approximate="tanh").get_config() == {"name": "GELU", "approximate": "tanh"}
    layer = en.Dense(3, activation={"name": "leaky_relu", "alpha": 0.3})
    assert layer.activation == {"name": "LEAKYRELU", "alpha": 0.3}


@pytest.mark.parametrize("spelling", ["LeakyReLU", "leaky_relu", "leakyrelu", "LEAKYRELU", "Leaky-ReLU", "leaky relu"])
def test_activation_names_are_case_and_separator_insensitive(spelling, rng):
    layer = en.Dense(3, activation=spelling)
    assert layer.activation == {"name": "LEAKYRELU", "alpha": 0.01}
    assert en.ActivationLayer(spelling).activation["name"] == "LEAKYRELU"
    X = rng.normal(size=(10, 3))
    out = _activation_model(spelling, 3).predict_output(X)
    np.testing.assert_allclose(out, _leaky(0.01)(X), rtol=1e-15)


@pytest.mark.parametrize(
    "spelling, canonical",
    [("Tanh", "TANH"), ("soft_max", "SOFTMAX"), ("HardSigmoid", "HARDSIGMOID"), ("rational_tanh", "RATIONALTANH"),
     ("thresholded_relu", "THRESHOLDEDRELU"), ("ReLU6", "RELU6"), ("linear", "IDENTITY"), ("Gelu", "GELU")],
)
def test_more_spellings(spelling, canonical):
    assert en.Dense(2, activation=spelling).activation["name"] == canonical
    assert en.Activation(spelling).get_config()["name"] == canonical
    assert en.Dense(2, activation={"name": spelling}).activation["name"] == canonical


@pytest.mark.parametrize("bad, suggestion", [("leaky_rellu", "LEAKYRELU"), ("tanhh", "TANH"), ("sigmoyd", "SIGMOID"),
                                             ("relu7", "RELU")])
def test_unknown_activation_names_suggest_the_closest(bad, suggestion):
    with pytest.raises(ValueError, match="did you mean") as info:
        en.Dense(3, activation=bad)
    assert suggestion in str(info.value)
    with pytest.raises(ValueError, match="did you mean") as info:
        en.ActivationLayer(bad)
    assert suggestion in str(info.value)
    # the core's own lookup (used for objects and dicts) says the same
    with pytest.raises(ValueError, match="did you mean"):
        en.Activation(bad).get_config()
    with pytest.raises(ValueError, match="did you mean"):
        en.Dense(3, activation={"name": bad})


def test_activation_name_of_wrong_type_raises_type_error():
    with pytest.raises(TypeError):
        en.Dense(3, activation=3)


@pytest.mark.parametrize(
    "make",
    [lambda: en.GELU(approximate="erf").get_config(), lambda: en.RReLU(lower=0.5, upper=0.1).get_config(),
     lambda: en.RReLU(lower=-0.1, upper=0.1).get_config(), lambda: en.LeakyReLU(alpha=float("nan")).get_config(),
     lambda: en.ELU(alpha=float("inf")).get_config()],
)
def test_invalid_activation_parameters_raise_value_error(make):
    with pytest.raises(ValueError):
        make()


# --------------------------------------------------------------------------- RReLU
def test_rrelu_inference_is_deterministic_mean_slope(rng):
    X = rng.normal(size=(50, 4))
    model = _activation_model(en.RReLU(lower=0.1, upper=0.5), 4)
    first = model.predict_output(X)
    np.testing.assert_array_equal(model.predict_output(X), first)
    np.testing.assert_allclose(first, np.where(X > 0, X, 0.3 * X), rtol=1e-15)
    leaky = _activation_model(en.LeakyReLU(alpha=0.3), 4).predict_output(X)
    np.testing.assert_allclose(first, leaky, rtol=1e-15)


X_UNIT = np.array([[1.0, 0.0]])


def _rrelu_slopes_after_one_step(seed, lower=RRELU_LOWER, upper=RRELU_UPPER, k=400, epochs=1):
    """Train Dense(k, no bias) -> LossLayer(RReLU, L2) one SGD step on x = (1, 0), y = 0 with all
    pre-activations z = w < 0 (w: first row of W). Then a = s w and dL/dw = 2 s^2 w, so
    w' = w (1 - 2 lr s^2) reveals each slope s."""
    lr = 0.5
    model = en.Sequential(
        [en.Dense(k, has_bias=False), en.LossLayer(en.RReLU(lower=lower, upper=upper), "l2")],
        input_dim=2,
        updater=en.SGD(learning_rate=lr),
        dtype="float64",
        seed=seed,
    )
    w = -np.linspace(0.5, 1.5, k)
    slopes = []
    for _ in range(epochs):
        model.set_param(0, "W", np.vstack([w, np.zeros(k)]))
        model.fit(X_UNIT, np.zeros((1, k)), epochs=1, batch_size=1, shuffle=False, verbose=0)
        w_new = model.get_param(0, "W")[0]
        slopes.append(np.sqrt((1.0 - w_new / w) / (2 * lr)))
    return model, w, slopes


def test_rrelu_training_slopes_are_uniform_in_bounds_and_seeded():
    lower, upper = 0.1, 0.4
    model, w, (s1, s2) = _rrelu_slopes_after_one_step(7, lower, upper, epochs=2)
    tol = 1e-9
    assert np.all(s1 >= lower - tol) and np.all(s1 <= upper + tol)
    assert np.all(s2 >= lower - tol) and np.all(s2 <= upper + tol)
    # they are random (not the mean slope) and spread over the whole interval like U(lower, upper)
    assert np.std(s1) > 0.25 * (upper - lower) / math.sqrt(12)
    assert s1.min() < lower + 0.05 * (upper - lower) and s1.max() > upper - 0.05 * (upper - lower)
    assert abs(s1.mean() - (lower + upper) / 2) < 0.1 * (upper - lower)
    # every training step draws fresh slopes
    assert not np.allclose(s1, s2)
    # same seed -> the same slopes, a different seed -> different ones
    _, _, (same,) = _rrelu_slopes_after_one_step(7, lower, upper)
    _, _, (other,) = _rrelu_slopes_after_one_step(8, lower, upper)
    np.testing.assert_array_equal(same, s1)
    assert not np.allclose(other, s1)
    # at inference (after training) the slope is the mean again, for outputs and for gradients
    mean = (lower + upper) / 2
    w_trained = model.get_param(0, "W")[0]
    np.testing.assert_allclose(model.predict_output(X_UNIT)[0], mean * w_trained, rtol=1e-14)
    grad = model.compute_gradients(X_UNIT, np.zeros((1, w_trained.size)))
    np.testing.assert_allclose(grad[: w_trained.size], 2 * mean**2 * w_trained, rtol=1e-12)
    np.testing.assert_array_equal(grad[w_trained.size :], 0.0)


def test_rrelu_default_bounds_in_training():
    _, _, (s,) = _rrelu_slopes_after_one_step(3)
    assert np.all(s >= RRELU_LOWER - 1e-9) and np.all(s <= RRELU_UPPER + 1e-9)
    assert np.ptp(s) > 0.5 * (RRELU_UPPER - RRELU_LOWER)


def test_rrelu_training_is_reproducible_with_a_seed(rng):
    X = rng.normal(size=(64, 5))
    y = rng.integers(0, 3, size=64)

    def train(seed):
        model = en.Sequential(
            [en.Dense(16, activation="rrelu"), en.Dense(8, activation=en.RReLU(0.05, 0.5)), en.Output(3)],
            input_dim=5,
            updater=en.Adam(learning_rate=0.01),
            dtype="float64",
            seed=seed,
        )
        model.fit(X, y, epochs=3, batch_size=16, verbose=0)
        return model.params()

    a, b, c = train(11), train(11), train(12)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_rrelu_with_equal_bounds_trains_like_leaky_relu(rng):
    """lower == upper leaves no randomness: training must equal LeakyReLU(alpha=lower) exactly."""
    X = rng.normal(size=(32, 4))
    y = rng.normal(size=(32, 2))

    def train(act):
        model = en.Sequential([en.Dense(6, activation=act, weight_init="xavier"), en.Output(2, "identity", "mse")],
                              input_dim=4, updater=en.SGD(learning_rate=0.1), dtype="float64", seed=5)
        model.fit(X, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
        return model.params()

    np.testing.assert_allclose(train(en.RReLU(0.25, 0.25)), train(en.LeakyReLU(0.25)), rtol=1e-14, atol=1e-15)


# --------------------------------------------------------------------------- custom activations
def _register_py_tanh(name):
    en.register_activation(name, lambda z: np.tanh(z), lambda z, a, da: da * (1.0 - a * a))


def test_custom_activation_equals_builtin_tanh(rng):
    _register_py_tanh("test_act_mytanh")
    assert "test_act_mytanh" in en.activations.available()
    X = rng.normal(size=(30, 5))
    y = rng.integers(0, 3, size=30)

    def build(act):
        return en.Sequential([en.Dense(8, activation=act, weight_init="xavier"), en.Output(3)],
                             input_dim=5, updater=en.Adam(learning_rate=0.02), dtype="float64", seed=21)

    mine, builtin = build("test_act_mytanh"), build("tanh")
    np.testing.assert_array_equal(mine.params(), builtin.params())
    np.testing.assert_allclose(mine.predict_output(X), builtin.predict_output(X), rtol=1e-13)
    np.testing.assert_allclose(mine.compute_gradients(X, y), builtin.compute_gradients(X, y), rtol=1e-11, atol=1e-14)
    mine.fit(X, y, epochs=5, batch_size=10, verbose=0)
    builtin.fit(X, y, epochs=5, batch_size=10, verbose=0)
    np.testing.assert_allclose(mine.params(), builtin.params(), rtol=1e-10, atol=1e-12)
    assert not np.allclose(mine.params(), build("tanh").params())  # training did something
    # case-insensitive lookup works for custom names too
    assert en.Dense(2, activation="TEST_ACT_MYTANH").activation["name"] == "test_act_mytanh"


def test_custom_activation_in_float32_and_as_output_activation(rng):
    _register_py_tanh("test_act_mytanh32")
    X = rng.normal(size=(20, 3)).astype(np.float32)
    mine = en.Sequential([en.Output(2, activation="test_act_mytanh32", loss="mse")], input_dim=3, seed=2)
    builtin = en.Sequential([en.Output(2, activation="tanh", loss="mse")], input_dim=3, seed=2)
    np.testing.assert_allclose(mine.predict_output(X), builtin.predict_output(X), rtol=2e-6, atol=1e-7)


def test_custom_activation_errors_surface_as_python_exceptions(rng):
    en.register_activation("test_act_badshape", lambda z: z[:, :1], lambda z, a, da: da)
    model = en.Sequential([en.Dense(3, activation="test_act_badshape"), en.Output(2, "identity", "mse")],
                          input_dim=2, dtype="float64", seed=0)
    with pytest.raises(ValueError, match="shape"):
        model.predict_output(rng.normal(size=(4, 2)))
    en.register_activation("test_act_nan", lambda z: z * np.nan, lambda z, a, da: da)
    model = en.Sequential([en.Output(2, activation="test_act_nan", loss="mse")], input_dim=2, dtype="float64", seed=0)
    with pytest.raises(ValueError, match="NaN"):
        model.predict_output(rng.normal(size=(4, 2)))
    with pytest.raises(TypeError):
        en.register_activation("test_act_notcallable", 1, 2)
