"""Gradient checks: ``model.compute_gradients`` against central finite differences of ``model.score``.

Method (after DL4J's GradientCheckUtil)
---------------------------------------
Everything runs in float64. For each parameter theta_i the numeric derivative is
``(score(theta + EPS e_i) - score(theta - EPS e_i)) / (2 EPS)`` with ``EPS = 1e-6``, where ``score`` is
the mean loss over the batch plus the l1/l2 penalty. A parameter passes when the relative error
``|analytic - numeric| / (|analytic| + |numeric|)`` is below ``MAX_REL_ERROR = 1e-6``, or when the
absolute error ``|analytic - numeric|`` is below the floor ``MIN_ABS_ERROR = 1e-8`` (the round-off of
a score difference is about 1e-16 * |score| / EPS ~ 1e-10 for the O(1-10) scores used here, so
relative errors of near-zero gradient entries carry no information; parameter scales are chosen so
that outputs and scores stay that small). Every check also asserts that the gradient is not
trivially zero, and ``test_the_check_detects_wrong_derivatives`` shows the checker rejects a
derivative that is off by 0.1 %.

``compute_gradients`` and ``score`` run the network in inference mode, so RRELU is checked with its
deterministic mean slope (lower + upper) / 2; its random training slopes are tested in
``test_activations.py``.

Avoiding kinks
--------------
Finite differences are meaningless across a point where the function is not differentiable.
Before each check, data and parameters (drawn from a seeded generator) are resampled until
* every pre-activation of a layer whose activation has a kink (RELU at 0, RELU6 at 0 and 6, HARDTANH
  at +-1, HARDSIGMOID at +-2.5, THRESHOLDEDRELU at theta, LEAKYRELU/RRELU/ELU/SELU/SOFTSIGN/RATIONALTANH
  at 0) is at least ``MARGIN = 1e-3`` away from it; these pre-activations are recomputed here in
  NumPy from ``get_param`` (the layer under test always sits on X @ W + b or on tanh of it);
* for losses with kinks, the network output a = ``predict_output(X)`` is ``MARGIN`` away from them
  (L1, MEAN_ABSOLUTE_ERROR, MEAN_ABSOLUTE_PERCENTAGE_ERROR at a == y; HINGE, SQUARED_HINGE at y a == 1);
* with l1 > 0, every parameter is ``MARGIN`` away from 0 (the kink of |w|).
A perturbation of EPS moves a pre-activation by at most ~1e-5, far less than MARGIN. For the
activation checks the pre-activations must in addition fall on every side of every kink, so that
all branches of the derivative are exercised.
"""

import zlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import eigennet as en
from labels import (  # tests/python is on sys.path
    normal as _normal,
    one_hot as _one_hot,
    probabilities as _probabilities,
    binary as _binary,
    unit_interval as _unit_interval,
    plus_minus_one as _plus_minus_one,
    counts as _counts,
    away_from_zero as _away_from_zero,
    positive as _positive,
)

EPS = 1e-6
MAX_REL_ERROR = 1e-6
MIN_ABS_ERROR = 1e-8
MARGIN = 1e-3


def _rng(*parts):
    """A generator seeded from the test's parameters (stable across runs, unlike hash())."""
    return np.random.default_rng(zlib.crc32(repr(parts).encode()))


def gradient_check(model, X, y):
    """compute_gradients and central differences of score at the current parameters:
    (analytic, numeric, relative error, mask of entries failing the module docstring's criterion)."""
    theta = model.params()
    base_score = model.score(X, y)
    analytic = model.compute_gradients(X, y)
    assert analytic.shape == theta.shape
    np.testing.assert_array_equal(model.params(), theta)  # computing gradients changes no parameter
    numeric = np.empty_like(theta)
    for i in range(theta.size):
        shifted = theta.copy()
        shifted[i] = theta[i] + EPS
        model.set_params(shifted)
        plus = model.score(X, y)
        shifted[i] = theta[i] - EPS
        model.set_params(shifted)
        minus = model.score(X, y)
        numeric[i] = (plus - minus) / (2 * EPS)
    model.set_params(theta)
    assert model.score(X, y) == base_score
    diff = np.abs(analytic - numeric)
    total = np.abs(analytic) + np.abs(numeric)
    rel = np.divide(diff, total, out=np.zeros_like(diff), where=total > 0)
    bad = (rel > MAX_REL_ERROR) & (diff > MIN_ABS_ERROR)
    return analytic, numeric, rel, bad


def check_gradients(model, X, y):
    """Assert compute_gradients == central differences of score (criterion in the module docstring)."""
    analytic, numeric, rel, bad = gradient_check(model, X, y)
    assert not bad.any(), (
        f"{bad.sum()} of {bad.size} parameters fail: index {np.flatnonzero(bad)[:8]}, "
        f"analytic {analytic[bad][:4]}, numeric {numeric[bad][:4]}, rel {rel[bad][:4]}"
    )
    assert np.abs(analytic).max() > 1e-3, "trivial (all-zero) gradient"
    return analytic, numeric


# ----------------------------------------------------------------------------- kinks
def _activation_kinks(config):
    name = config["name"]
    if name in ("RELU", "LEAKYRELU", "RRELU", "ELU", "SELU", "SOFTSIGN", "RATIONALTANH"):
        return (0.0,)
    if name == "RELU6":
        return (0.0, 6.0)
    if name == "HARDTANH":
        return (-1.0, 1.0)
    if name == "HARDSIGMOID":
        return (-2.5, 2.5)
    if name == "THRESHOLDEDRELU":
        return (config["theta"],)
    return ()


_SMOOTH_HIDDEN = {"IDENTITY": lambda z: z, "TANH": np.tanh}


def _kinked_preactivations(model, X):
    """[(pre-activations, kinks)] for every layer whose activation has kinks.

    Walks the layers in NumPy using get_param; past a layer it can only continue through identity
    or tanh, and it checks that nothing after a layer it cannot follow has kinks."""
    h = X
    found = []
    blind = False
    for i, layer in enumerate(model.layers):
        config = layer.get_config()
        act = config["activation"]
        kinks = _activation_kinks(act)
        if blind:
            assert not kinks, "test setup: cannot compute pre-activations after a non-smooth layer"
            continue
        if config["type"] in ("Dense", "Output"):
            z = h @ model.get_param(i, "W")
            if config["has_bias"]:
                z = z + model.get_param(i, "b")
        else:
            z = h
        if kinks:
            found.append((z, kinks))
        if act["name"] in _SMOOTH_HIDDEN:
            h = _SMOOTH_HIDDEN[act["name"]](z)
        else:
            blind = True
    return found


def _loss_kink_distance(loss, out, y):
    if loss in ("L1", "MEAN_ABSOLUTE_ERROR", "MEAN_ABSOLUTE_PERCENTAGE_ERROR"):
        return np.abs(out - y).min()
    if loss in ("HINGE", "SQUARED_HINGE"):
        return np.abs(y * out - 1.0).min()
    return np.inf


def _covers_all_sides(z, kinks):
    edges = (-np.inf,) + tuple(kinks) + (np.inf,)
    return all(np.any((z > lo) & (z < hi)) for lo, hi in zip(edges[:-1], edges[1:]))


def _param_layer_index(model):
    """The layer index of every entry of the flat parameter vector (W then b of each layer)."""
    owner = []
    for i, layer in enumerate(model.layers):
        config = layer.get_config()
        if config["type"] in ("Dense", "Output"):
            owner += [i] * (model.get_param(i, "W").size + (model.get_param(i, "b").size if config["has_bias"] else 0))
    owner = np.array(owner, dtype=np.int64)
    assert owner.size == model.num_params
    return owner


def sample_safe(model, rng, make_data, param_scale=1.0, layer_scales=None, need_coverage=False, l1=False,
                unclipped=False, tries=500):
    """Set random parameters (N(0, param_scale^2), or layer_scales[i] for layer i) and draw (X, y)
    until no kink is within MARGIN (see module docstring). ``unclipped``: also until no output of a
    saturating activation sits at 0 or 1, where the losses clip probabilities by a precision-dependent
    epsilon (1e-7 in float32, 1e-12 in float64) and the two precisions' scores differ by design."""
    loss = model.loss_name
    scale = np.full(model.num_params, float(param_scale))
    for layer, layer_scale in (layer_scales or {}).items():
        scale[_param_layer_index(model) == layer] = layer_scale
    for _ in range(tries):
        theta = rng.normal(size=model.num_params) * scale
        if l1 and np.abs(theta).min() < MARGIN:
            continue
        model.set_params(theta)
        X, y = make_data(rng)
        pre = _kinked_preactivations(model, X)
        if any(np.abs(z[..., None] - np.asarray(k)).min() < MARGIN for z, k in pre):
            continue
        if need_coverage and not all(_covers_all_sides(z, k) for z, k in pre):
            continue
        if np.ndim(y) == 2 and _loss_kink_distance(loss, model.predict_output(X), y) < MARGIN:
            continue
        if unclipped:
            out = model.predict_output(X)
            if ((out < 1e-6) | (out > 1 - 1e-6)).any():
                continue
        return X, y
    raise AssertionError("could not sample data away from the kinks")


# ----------------------------------------------------------------------------- activations
ACTIVATIONS = {
    "CUBE": "cube", "ELU": "elu", "ELU(alpha=0.5)": en.ELU(alpha=0.5), "GELU": "gelu",
    "GELU(tanh)": en.GELU(approximate="tanh"), "HARDSIGMOID": "hardsigmoid", "HARDTANH": "hardtanh",
    "IDENTITY": "identity", "LEAKYRELU": "leakyrelu", "LEAKYRELU(alpha=0.2)": en.LeakyReLU(alpha=0.2),
    "RATIONALTANH": "rationaltanh", "RELU": "relu", "RELU6": "relu6", "RRELU": "rrelu",
    "RRELU(0.2,0.6)": en.RReLU(lower=0.2, upper=0.6), "SIGMOID": "sigmoid", "SOFTMAX": "softmax",
    "SOFTPLUS": "softplus", "SOFTSIGN": "softsign", "TANH": "tanh", "SELU": "selu", "SWISH": "swish",
    "MISH": "mish", "THRESHOLDEDRELU": "thresholdedrelu", "THRESHOLDEDRELU(theta=0.5)": en.ThresholdedReLU(theta=0.5),
}
ACT_IDS = sorted(ACTIVATIONS)

N_IN = 3


def _activation_network(arrangement, act):
    """The activation under test in each kind of layer, with an MSE loss."""
    if arrangement == "dense":
        return [en.Dense(4, activation=act), en.Output(2, activation="identity", loss="mse")]
    if arrangement == "dense_no_bias":
        return [en.Dense(4, activation=act, has_bias=False), en.Output(2, activation="identity", loss="mse")]
    if arrangement == "activation_layer":
        return [en.Dense(4), en.ActivationLayer(act), en.Output(2, activation="identity", loss="mse")]
    if arrangement == "output":
        return [en.Dense(4, activation="tanh"), en.Output(3, activation=act, loss="mse")]
    if arrangement == "loss_layer":
        return [en.Dense(4, activation="tanh"), en.Dense(3), en.LossLayer(activation=act, loss="mse")]
    raise AssertionError(arrangement)


def test_every_builtin_activation_is_checked():
    names = {(a if isinstance(a, str) else a.name).upper() for a in ACTIVATIONS.values()}
    assert set(en.activations.BUILTIN) <= names


@pytest.mark.parametrize("arrangement", ["dense", "dense_no_bias", "activation_layer", "output", "loss_layer"])
@pytest.mark.parametrize("act_id", ACT_IDS)
def test_activation_gradients(act_id, arrangement):
    rng = _rng((act_id, arrangement))
    model = en.Sequential(_activation_network(arrangement, ACTIVATIONS[act_id]), input_dim=N_IN, dtype="float64",
                          seed=1)
    n_out = model.n_outputs

    def data(r):
        return r.normal(size=(8, N_IN)), r.normal(size=(8, n_out))

    # Large pre-activations reach every side of every kink (RELU6 > 6, HARDSIGMOID > 2.5); a small
    # last layer then keeps the outputs O(1), so the score's round-off stays far below the floor.
    # CUBE's outputs grow like z^3: keep its pre-activations moderate.
    scale = 0.8 if act_id == "CUBE" else 2.0
    last = len(model.layers) - 1
    layer_scales = {last: 0.3} if arrangement in ("dense", "dense_no_bias", "activation_layer") else None
    X, y = sample_safe(model, rng, data, param_scale=scale, layer_scales=layer_scales, need_coverage=True)
    check_gradients(model, X, y)


def test_rrelu_gradient_is_that_of_the_mean_slope(rng):
    """compute_gradients runs in inference mode: RReLU(l, u) behaves as LeakyReLU((l + u) / 2)."""
    X = rng.normal(size=(10, N_IN))
    y = rng.normal(size=(10, 2))
    grads = []
    for act in (en.RReLU(lower=0.1, upper=0.5), en.LeakyReLU(alpha=0.3)):
        model = en.Sequential(_activation_network("dense", act), input_dim=N_IN, dtype="float64", seed=1)
        model.set_params(np.random.default_rng(0).normal(size=model.num_params))
        grads.append(model.compute_gradients(X, y))
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-14, atol=1e-16)


@pytest.mark.parametrize("act_id", ACT_IDS)
def test_float32_gradients_agree_with_float64(act_id):
    rng = np.random.default_rng(99)
    layers = _activation_network("activation_layer", ACTIVATIONS[act_id])
    m64 = en.Sequential(layers, input_dim=N_IN, dtype="float64", seed=1)
    m32 = en.Sequential(layers, input_dim=N_IN, dtype="float32", seed=1)
    X, y = sample_safe(m64, rng, lambda r: (r.normal(size=(8, N_IN)), r.normal(size=(8, 2))), param_scale=1.0)
    m32.set_params(m64.params().astype(np.float32))
    m64.set_params(m32.params().astype(np.float64))  # identical (float32-representable) parameters
    g64 = m64.compute_gradients(X, y)
    g32 = m32.compute_gradients(X, y)
    assert g32.dtype == np.float32
    np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-5 * np.abs(g64).max())


# ----------------------------------------------------------------------------- losses


def _class_index(rng, n, k):
    return rng.integers(0, k, size=n)


LOSS_CASES = [
    ("MSE", "identity", _normal), ("MSE", "tanh", _normal),
    ("L2", "identity", _normal), ("L2", "tanh", _normal),
    ("L1", "identity", _normal), ("L1", "tanh", _normal),
    ("MEAN_ABSOLUTE_ERROR", "identity", _normal), ("MEAN_ABSOLUTE_ERROR", "tanh", _normal),
    ("MCXENT", "softmax", _one_hot), ("MCXENT", "softmax", _probabilities), ("MCXENT", "sigmoid", _one_hot),
    ("NEGATIVELOGLIKELIHOOD", "softmax", _one_hot), ("NEGATIVELOGLIKELIHOOD", "sigmoid", _one_hot),
    ("SPARSE_MCXENT", "softmax", _class_index), ("SPARSE_MCXENT", "sigmoid", _class_index),
    ("XENT", "sigmoid", _binary), ("XENT", "sigmoid", _unit_interval), ("XENT", "hardsigmoid", _binary),
    ("XENT", "hardsigmoid", _unit_interval),
    ("HINGE", "identity", _plus_minus_one), ("HINGE", "tanh", _plus_minus_one),
    ("SQUARED_HINGE", "identity", _plus_minus_one), ("SQUARED_HINGE", "tanh", _plus_minus_one),
    ("KL_DIVERGENCE", "softmax", _probabilities),
    ("POISSON", "softplus", _counts), ("POISSON", "sigmoid", _counts),
    ("COSINE_PROXIMITY", "identity", _normal), ("COSINE_PROXIMITY", "tanh", _normal),
    ("MEAN_ABSOLUTE_PERCENTAGE_ERROR", "identity", _away_from_zero),
    ("MEAN_SQUARED_LOGARITHMIC_ERROR", "softplus", _positive), ("MEAN_SQUARED_LOGARITHMIC_ERROR", "relu", _positive),
]
LOSS_IDS = [f"{loss}-{act}-{gen.__name__.strip('_')}" for loss, act, gen in LOSS_CASES]
N_OUT = 3


def _loss_network(arrangement, act, loss):
    if arrangement == "output":
        return [en.Dense(4, activation="tanh"), en.Output(N_OUT, activation=act, loss=loss)]
    if arrangement == "loss_layer":
        return [en.Dense(4, activation="tanh"), en.Dense(N_OUT), en.LossLayer(activation=act, loss=loss)]
    raise AssertionError(arrangement)


def _loss_scale(loss, act):
    """Parameter scale of the loss checks. XENT after HARDSIGMOID: smaller, so that few outputs are
    clipped at 0 or 1 (a clipped wrong label adds -log(1e-12) = 27.6 to the score, and with it round-off)."""
    return 0.6 if (loss, act) == ("XENT", "hardsigmoid") else 1.0


def _loss_data(labels, n=10):
    return lambda r: (r.normal(size=(n, N_IN)), labels(r, n, N_OUT))


def test_every_builtin_loss_is_checked():
    assert {loss for loss, _, _ in LOSS_CASES} == set(en.losses.BUILTIN)


@pytest.mark.parametrize("arrangement", ["output", "loss_layer"])
@pytest.mark.parametrize("loss, act, labels", LOSS_CASES, ids=LOSS_IDS)
def test_loss_gradients(loss, act, labels, arrangement):
    rng = _rng((loss, act, labels.__name__, arrangement))
    model = en.Sequential(_loss_network(arrangement, act, loss), input_dim=N_IN, dtype="float64", seed=2)
    X, y = sample_safe(model, rng, _loss_data(labels), param_scale=_loss_scale(loss, act))
    check_gradients(model, X, y)


WEIGHTS = [0.5, 2.0, 1.25]


@pytest.mark.parametrize("loss, act, labels", [c for c in LOSS_CASES if c[0] != "COSINE_PROXIMITY"],
                         ids=[i for c, i in zip(LOSS_CASES, LOSS_IDS) if c[0] != "COSINE_PROXIMITY"])
def test_weighted_loss_gradients(loss, act, labels):
    rng = _rng(("weighted", loss, act, labels.__name__))
    spec = en.Loss(loss, weights=WEIGHTS)
    model = en.Sequential(_loss_network("output", act, spec), input_dim=N_IN, dtype="float64", seed=2)
    X, y = sample_safe(model, rng, _loss_data(labels), param_scale=_loss_scale(loss, act))
    weighted, _ = check_gradients(model, X, y)
    plain = en.Sequential(_loss_network("output", act, loss), input_dim=N_IN, dtype="float64", seed=2)
    plain.set_params(model.params())
    assert not np.allclose(weighted, plain.compute_gradients(X, y))  # the weights are used


@pytest.mark.parametrize("loss, act, labels", LOSS_CASES, ids=LOSS_IDS)
def test_float32_loss_gradients_agree_with_float64(loss, act, labels):
    rng = _rng(("float32", loss, act, labels.__name__))
    layers = _loss_network("output", act, loss)
    m64 = en.Sequential(layers, input_dim=N_IN, dtype="float64", seed=2)
    m32 = en.Sequential(layers, input_dim=N_IN, dtype="float32", seed=2)
    X, y = sample_safe(m64, rng, _loss_data(labels), param_scale=_loss_scale(loss, act),
                       unclipped=act in ("hardsigmoid", "sigmoid", "softmax"))
    X = X.astype(np.float32).astype(np.float64)
    m32.set_params(m64.params().astype(np.float32))
    m64.set_params(m32.params().astype(np.float64))
    g64 = m64.compute_gradients(X, y)
    g32 = m32.compute_gradients(X, y)
    np.testing.assert_allclose(m32.score(X, y), m64.score(X, y), rtol=1e-5)
    np.testing.assert_allclose(g32, g64, rtol=1e-3, atol=1e-4 * np.abs(g64).max())


def test_weighted_loss_gradient_in_loss_layer(rng):
    spec = en.Loss("xent", weights=WEIGHTS)
    model = en.Sequential(_loss_network("loss_layer", "sigmoid", spec), input_dim=N_IN, dtype="float64", seed=2)
    X, y = sample_safe(model, rng, _loss_data(_binary))
    check_gradients(model, X, y)


# ----------------------------------------------------------------------------- layers, bias, regularisation
@pytest.mark.parametrize("regularize_bias", [False, True])
@pytest.mark.parametrize("l1, l2", [(0.0, 0.0), (0.05, 0.0), (0.0, 0.1), (0.03, 0.07)])
@pytest.mark.parametrize("has_bias", [True, False])
def test_regularized_gradients(l1, l2, regularize_bias, has_bias):
    rng = _rng((l1, l2, regularize_bias, has_bias))
    model = en.Sequential(
        [en.Dense(4, activation="tanh", has_bias=has_bias), en.Dense(3, activation="elu"), en.ActivationLayer("swish"),
         en.Output(N_OUT, activation="softmax", loss="mcxent", has_bias=has_bias)],
        input_dim=N_IN, l1=l1, l2=l2, regularize_bias=regularize_bias, dtype="float64", seed=3,
    )
    expected_params = N_IN * 4 + 4 * 3 + 3 + 3 * N_OUT + (4 + N_OUT if has_bias else 0)
    assert model.num_params == expected_params
    X, y = sample_safe(model, rng, _loss_data(_class_index), l1=l1 > 0)
    check_gradients(model, X, y)


def _bias_mask(model):
    mask = []
    for i, layer in enumerate(model.layers):
        config = layer.get_config()
        if config["type"] not in ("Dense", "Output"):
            continue
        mask += [False] * model.get_param(i, "W").size
        if config["has_bias"]:
            mask += [True] * model.get_param(i, "b").size
    mask = np.array(mask)
    assert mask.size == model.num_params
    return mask


@pytest.mark.parametrize("regularize_bias", [False, True])
def test_penalty_gradient_is_l1_sign_plus_l2_w(regularize_bias, rng):
    layers = [en.Dense(5, activation="sigmoid"), en.Dense(4, has_bias=False), en.Output(N_OUT, "identity", "l2")]
    l1, l2 = 0.03, 0.2
    reg = en.Sequential(layers, input_dim=N_IN, l1=l1, l2=l2, regularize_bias=regularize_bias, dtype="float64", seed=0)
    plain = en.Sequential(layers, input_dim=N_IN, dtype="float64", seed=0)
    theta = rng.normal(size=reg.num_params)
    reg.set_params(theta)
    plain.set_params(theta)
    X, y = rng.normal(size=(6, N_IN)), rng.normal(size=(6, N_OUT))
    extra = reg.compute_gradients(X, y) - plain.compute_gradients(X, y)
    regularized = ~_bias_mask(reg) | regularize_bias
    np.testing.assert_allclose(extra[regularized], l1 * np.sign(theta[regularized]) + l2 * theta[regularized],
                               rtol=1e-10, atol=1e-13)
    np.testing.assert_array_equal(extra[~regularized], 0.0)
    assert regularized.sum() < theta.size or regularize_bias


def test_deep_network_gradient_matches_torch_autograd(rng):
    """Dense(tanh) -> ActivationLayer(gelu) -> Dense(no bias, swish) -> Output(softmax, weighted MCXENT)
    with l1, l2 and regularized biases, against the same computation in PyTorch."""
    l1, l2, w = 0.01, 0.02, [1.0, 0.5, 2.0]
    model = en.Sequential(
        [en.Dense(5, activation="tanh"), en.ActivationLayer("gelu"), en.Dense(4, activation="swish", has_bias=False),
         en.Output(N_OUT, activation="softmax", loss=en.Loss("mcxent", weights=w))],
        input_dim=N_IN, l1=l1, l2=l2, regularize_bias=True, dtype="float64", seed=6,
    )
    model.set_params(rng.normal(size=model.num_params))
    X = rng.normal(size=(12, N_IN))
    labels = rng.integers(0, N_OUT, size=12)
    params = [torch.tensor(model.get_param(i, n), requires_grad=True) for i, n in [(0, "W"), (0, "b"), (2, "W"),
                                                                                 (3, "W"), (3, "b")]]
    W0, b0, W2, W3, b3 = params
    h = F.silu(F.gelu(torch.tanh(torch.from_numpy(X) @ W0 + b0)) @ W2)
    logp = F.log_softmax(h @ W3 + b3, dim=1)
    loss = -(torch.tensor(w)[labels] * logp[torch.arange(12), torch.from_numpy(labels)]).mean()
    loss = loss + sum(l1 * p.abs().sum() + 0.5 * l2 * (p**2).sum() for p in params)
    loss.backward()
    np.testing.assert_allclose(model.score(X, labels), loss.item(), rtol=1e-12)
    expected = np.concatenate([p.grad.numpy().ravel() for p in params])
    np.testing.assert_allclose(model.compute_gradients(X, labels), expected, rtol=1e-10, atol=1e-13)


# ----------------------------------------------------------------------------- custom activations and losses
def _register_custom():
    en.register_activation("test_grad_pysoftplus", lambda z: np.logaddexp(0.0, z),
                           lambda z, a, da: da / (1.0 + np.exp(-z)))
    en.register_activation("test_grad_pytanh", np.tanh, lambda z, a, da: da * (1.0 - a * a))
    en.register_loss("test_grad_logcosh", lambda out, y: np.log(np.cosh(out - y)).sum(axis=1),
                     lambda out, y: np.tanh(out - y))


@pytest.mark.parametrize("arrangement", ["dense", "activation_layer", "output", "loss_layer"])
@pytest.mark.parametrize("act", ["test_grad_pysoftplus", "test_grad_pytanh"])
def test_custom_activation_gradients(act, arrangement):
    _register_custom()
    rng = _rng((act, arrangement))
    model = en.Sequential(_activation_network(arrangement, act), input_dim=N_IN, dtype="float64", seed=1)
    n_out = model.n_outputs
    X, y = sample_safe(model, rng, lambda r: (r.normal(size=(8, N_IN)), r.normal(size=(8, n_out))), param_scale=1.5)
    check_gradients(model, X, y)


@pytest.mark.parametrize("act", ["test_grad_pytanh", "softplus", "identity"])
@pytest.mark.parametrize("arrangement", ["output", "loss_layer"])
def test_custom_loss_gradients(act, arrangement, rng):
    _register_custom()
    model = en.Sequential(_loss_network(arrangement, act, "test_grad_logcosh"), input_dim=N_IN, dtype="float64",
                          seed=2)
    X, y = sample_safe(model, rng, _loss_data(_normal))
    check_gradients(model, X, y)


@pytest.mark.parametrize("custom, builtin", [("test_grad_pytanh", "tanh"), ("test_grad_pysoftplus", "softplus")])
def test_custom_activation_gradient_equals_builtin(custom, builtin, rng):
    _register_custom()
    grads = []
    theta = None
    X, y = rng.normal(size=(9, N_IN)), rng.normal(size=(9, 2))
    for act in (custom, builtin):
        model = en.Sequential(_activation_network("dense", act), input_dim=N_IN, dtype="float64", seed=1)
        theta = rng.normal(size=model.num_params) if theta is None else theta
        model.set_params(theta)
        grads.append(model.compute_gradients(X, y))
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-11, atol=1e-14)


def test_the_check_detects_wrong_derivatives(rng):
    """The checker itself: a derivative off by 0.1 %, or a loss gradient with a small bias, must fail."""
    en.register_activation("test_grad_wrongtanh", np.tanh, lambda z, a, da: 1.001 * da * (1.0 - a * a))
    model = en.Sequential(_activation_network("dense", "test_grad_wrongtanh"), input_dim=N_IN, dtype="float64", seed=1)
    X, y = sample_safe(model, rng, lambda r: (r.normal(size=(8, N_IN)), r.normal(size=(8, 2))))
    with pytest.raises(AssertionError, match="parameters fail"):
        check_gradients(model, X, y)
    en.register_loss("test_grad_wrongloss", lambda out, y: ((out - y) ** 2).sum(axis=1),
                     lambda out, y: 2.0 * (out - y) + 1e-5)
    model = en.Sequential(_loss_network("output", "identity", "test_grad_wrongloss"), input_dim=N_IN,
                          dtype="float64", seed=2)
    X, y = sample_safe(model, rng, _loss_data(_normal))
    with pytest.raises(AssertionError, match="parameters fail"):
        check_gradients(model, X, y)
    # and the same loss with the right gradient passes
    en.register_loss("test_grad_rightloss", lambda out, y: ((out - y) ** 2).sum(axis=1), lambda out, y: 2.0 * (out - y))
    model = en.Sequential(_loss_network("output", "identity", "test_grad_rightloss"), input_dim=N_IN,
                          dtype="float64", seed=2)
    model.set_params(rng.normal(size=model.num_params))
    check_gradients(model, X, y)
