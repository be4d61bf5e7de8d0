"""Values of every built-in loss against independent oracles, numerical stability of the fused
softmax/sigmoid cross-entropies, loss names, per-output weights, the score's regularisation term
and custom (Python-registered) losses.

The oracle is a NumPy implementation of the DL4J semantic documented in ``eigennet/losses.py``:
``score = mean over samples of sum over outputs of w_i * term(a_i, y_i)``, where MSE,
MEAN_ABSOLUTE_ERROR, MEAN_ABSOLUTE_PERCENTAGE_ERROR and MEAN_SQUARED_LOGARITHMIC_ERROR also divide
the per-sample sum by the number of outputs (L1/L2 do not), plus PyTorch's losses where one exists.
``model.score`` is compared with it for an ``Output`` layer with known W/b and for a ``LossLayer``.

Gradient checks by finite differences live in ``test_gradients.py``.
"""

import numpy as np
import pytest
import scipy.special as sp
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

ACT = {
    "identity": lambda z: z,
    "tanh": np.tanh,
    "sigmoid": sp.expit,
    "softmax": lambda z: sp.softmax(z, axis=1),
    "softplus": lambda z: np.logaddexp(0.0, z),
    "hardsigmoid": lambda z: np.clip(0.2 * z + 0.5, 0.0, 1.0),
    "relu": lambda z: np.maximum(z, 0.0),
}


# Documented clipping of probabilities on the unfused paths (cpp/src/losses_builtin.cpp): a is
# clipped to [eps, 1 - eps] before a log, with eps = 1e-12 in float64 and 1e-7 in float32 (DL4J
# clips at 1e-10 likewise). It matters only for activations that reach exactly 0 or 1 (hardsigmoid).
# (The upper bound is 1 - eps rounded to the working precision: 0.99999988 in float32.)
CLIP = {
    "float64": (1e-12, 1.0 - 1e-12),
    "float32": (float(np.float32(1e-7)), float(np.float32(1.0) - np.float32(1e-7))),
}


def _log_a(act, z, eps):
    """log of the activation: exact log-softmax / log-sigmoid on the fused paths, else log(clip(a))."""
    if act == "softmax":
        return sp.log_softmax(z, axis=1)
    if act == "sigmoid":
        return -np.logaddexp(0.0, -z)
    return np.log(np.clip(ACT[act](z), *eps))


def _log_1ma(act, z, eps):
    """log(1 - a)."""
    if act == "sigmoid":
        return -np.logaddexp(0.0, z)
    return np.log1p(-np.clip(ACT[act](z), *eps))


def oracle_per_sample(loss, act, z, y, weights=None, eps=CLIP["float64"]):
    """Per-sample loss (shape (n,)) of the DL4J definition, from pre-activations z."""
    a = ACT[act](z)
    n_out = z.shape[1]
    w = np.ones(n_out) if weights is None else np.asarray(weights, dtype=np.float64)
    if loss == "MSE":
        return (w * (a - y) ** 2).sum(1) / n_out
    if loss == "L2":
        return (w * (a - y) ** 2).sum(1)
    if loss == "L1":
        return (w * np.abs(a - y)).sum(1)
    if loss == "MEAN_ABSOLUTE_ERROR":
        return (w * np.abs(a - y)).sum(1) / n_out
    if loss in ("MCXENT", "NEGATIVELOGLIKELIHOOD"):
        return -(w * y * _log_a(act, z, eps)).sum(1)
    if loss == "SPARSE_MCXENT":
        c = y.astype(np.int64)
        return -w[c] * _log_a(act, z, eps)[np.arange(len(c)), c]
    if loss == "XENT":
        return -(w * (y * _log_a(act, z, eps) + (1 - y) * _log_1ma(act, z, eps))).sum(1)
    if loss == "HINGE":
        return (w * np.maximum(0.0, 1 - y * a)).sum(1)
    if loss == "SQUARED_HINGE":
        return (w * np.maximum(0.0, 1 - y * a) ** 2).sum(1)
    if loss == "KL_DIVERGENCE":
        safe_y = np.where(y > 0, y, 1.0)
        return (w * np.where(y > 0, y * (np.log(safe_y) - _log_a(act, z, eps)), 0.0)).sum(1)
    if loss == "POISSON":
        return (w * (a - y * np.log(a))).sum(1)
    if loss == "COSINE_PROXIMITY":
        return -(a * y).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(y, axis=1))
    if loss == "MEAN_ABSOLUTE_PERCENTAGE_ERROR":
        return 100.0 * (w * np.abs((y - a) / y)).sum(1) / n_out
    if loss == "MEAN_SQUARED_LOGARITHMIC_ERROR":
        return (w * (np.log1p(a) - np.log1p(y)) ** 2).sum(1) / n_out
    raise AssertionError(loss)


# ---------------------------------------------------------------------------- label generators


def _class_index(rng, n, k):
    return rng.integers(0, k, size=n).astype(np.float64)


def _sparse_probabilities(rng, n, k):
    p = rng.dirichlet(np.ones(k), size=n)
    p[:, 0] = 0.0  # a zero label: its KL term must be 0, not 0 * log 0
    return p / p.sum(1, keepdims=True)


# (loss, output activation, label generator): each loss with the activations it is meant for.
CASES = [
    ("MSE", "identity", _normal), ("MSE", "tanh", _normal),
    ("L2", "identity", _normal), ("L2", "tanh", _normal),
    ("L1", "identity", _normal), ("L1", "tanh", _normal),
    ("MEAN_ABSOLUTE_ERROR", "identity", _normal), ("MEAN_ABSOLUTE_ERROR", "tanh", _normal),
    ("MCXENT", "softmax", _one_hot), ("MCXENT", "softmax", _probabilities), ("MCXENT", "sigmoid", _one_hot),
    ("NEGATIVELOGLIKELIHOOD", "softmax", _one_hot), ("NEGATIVELOGLIKELIHOOD", "sigmoid", _one_hot),
    ("SPARSE_MCXENT", "softmax", _class_index), ("SPARSE_MCXENT", "sigmoid", _class_index),
    ("XENT", "sigmoid", _binary), ("XENT", "sigmoid", _unit_interval), ("XENT", "hardsigmoid", _binary),
    ("HINGE", "identity", _plus_minus_one), ("HINGE", "tanh", _plus_minus_one),
    ("SQUARED_HINGE", "identity", _plus_minus_one), ("SQUARED_HINGE", "tanh", _plus_minus_one),
    ("KL_DIVERGENCE", "softmax", _probabilities), ("KL_DIVERGENCE", "softmax", _sparse_probabilities),
    ("POISSON", "softplus", _counts), ("POISSON", "sigmoid", _counts),
    ("COSINE_PROXIMITY", "identity", _normal), ("COSINE_PROXIMITY", "tanh", _normal),
    ("MEAN_ABSOLUTE_PERCENTAGE_ERROR", "identity", _away_from_zero),
    ("MEAN_SQUARED_LOGARITHMIC_ERROR", "softplus", _positive), ("MEAN_SQUARED_LOGARITHMIC_ERROR", "relu", _positive),
]
CASE_IDS = [f"{loss}-{act}-{gen.__name__.strip('_')}" for loss, act, gen in CASES]

N_IN, N_OUT, BATCH = 4, 3, 25


def _output_model(loss, act, rng, layer="output", n_out=N_OUT, dtype="float64", **kwargs):
    """A model whose last-layer pre-activations are z = X @ W + b with known W, b.

    layer="output": a single Output layer; layer="losslayer": Dense(identity) then LossLayer."""
    W = rng.normal(size=(N_IN, n_out))
    b = rng.normal(size=n_out) * 0.5
    if layer == "output":
        model = en.Sequential([en.Output(n_out, activation=act, loss=loss)], input_dim=N_IN, dtype=dtype, seed=0,
                              **kwargs)
    else:
        model = en.Sequential([en.Dense(n_out), en.LossLayer(activation=act, loss=loss)], input_dim=N_IN,
                              dtype=dtype, seed=0, **kwargs)
    model.set_param(0, "W", W)
    model.set_param(0, "b", b)
    return model, W, b


def test_every_builtin_loss_is_covered():
    assert {loss for loss, _, _ in CASES} == set(en.losses.BUILTIN)


@pytest.mark.parametrize("layer", ["output", "losslayer"])
@pytest.mark.parametrize("loss, act, labels", CASES, ids=CASE_IDS)
def test_score_matches_numpy_oracle(loss, act, labels, layer, rng):
    model, W, b = _output_model(loss, act, rng, layer)
    X = rng.normal(size=(BATCH, N_IN))
    y = labels(rng, BATCH, N_OUT)
    z = X @ W + b
    expected = oracle_per_sample(loss, act, z, y).mean()
    assert np.isfinite(expected)
    score = model.score(X, y)
    np.testing.assert_allclose(score, expected, rtol=1e-10, atol=1e-13)
    # the score is the mean over samples: the sum of single-sample scores / n
    singles = [model.score(X[i : i + 1], y[i : i + 1]) for i in range(BATCH)]
    np.testing.assert_allclose(np.mean(singles), score, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(singles, oracle_per_sample(loss, act, z, y), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("loss, act, labels", CASES, ids=CASE_IDS)
def test_score_in_float32_is_close(loss, act, labels, rng):
    model, W, b = _output_model(loss, act, rng, dtype="float32")
    X = rng.normal(size=(BATCH, N_IN))
    y = labels(rng, BATCH, N_OUT)
    z = X.astype(np.float32).astype(np.float64) @ model.get_param(0, "W").astype(np.float64) + model.get_param(
        0, "b"
    ).astype(np.float64)
    expected = oracle_per_sample(loss, act, z, y, eps=CLIP["float32"]).mean()
    np.testing.assert_allclose(model.score(X, y), expected, rtol=2e-5, atol=1e-5)


@pytest.mark.parametrize("loss, act, labels", [c for c in CASES if c[0] not in ("COSINE_PROXIMITY",)],
                         ids=[i for c, i in zip(CASES, CASE_IDS) if c[0] not in ("COSINE_PROXIMITY",)])
def test_weighted_score_matches_numpy_oracle(loss, act, labels, rng):
    weights = [0.5, 2.0, 1.25]
    model, W, b = _output_model(en.Loss(loss, weights=weights), act, rng)
    assert model.get_config()["layers"][0]["loss"] == {"name": loss, "weights": weights}
    X = rng.normal(size=(BATCH, N_IN))
    y = labels(rng, BATCH, N_OUT)
    expected = oracle_per_sample(loss, act, X @ W + b, y, weights).mean()
    unweighted = oracle_per_sample(loss, act, X @ W + b, y).mean()
    assert abs(expected - unweighted) > 1e-6 * abs(unweighted)  # the weights change the value
    np.testing.assert_allclose(model.score(X, y), expected, rtol=1e-10, atol=1e-13)


def test_mean_over_outputs_only_for_mse_mae_mape_msle(rng):
    X = rng.normal(size=(10, N_IN))
    y = rng.normal(size=(10, N_OUT))
    scores = {}
    for loss in ("MSE", "L2", "L1", "MEAN_ABSOLUTE_ERROR"):
        model, _, _ = _output_model(loss, "identity", np.random.default_rng(5))
        scores[loss] = model.score(X, y)
    np.testing.assert_allclose(scores["L2"], N_OUT * scores["MSE"], rtol=1e-13)
    np.testing.assert_allclose(scores["L1"], N_OUT * scores["MEAN_ABSOLUTE_ERROR"], rtol=1e-13)


def test_score_of_many_samples_is_the_mean_over_all(rng):
    """More samples than the core scores in one chunk (1024)."""
    model, W, b = _output_model("MCXENT", "softmax", rng)
    X = rng.normal(size=(2500, N_IN))
    y = rng.integers(0, N_OUT, size=2500)
    expected = oracle_per_sample("MCXENT", "softmax", X @ W + b, np.eye(N_OUT)[y]).mean()
    np.testing.assert_allclose(model.score(X, y), expected, rtol=1e-11)


# ---------------------------------------------------------------------------- PyTorch
def _t(a):
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64))


def _torch_cases(rng):
    """(loss, act, y, weights, torch function of (z, y) giving the expected score)."""
    n, k = BATCH, N_OUT
    w = np.array([0.5, 2.0, 1.25])
    idx = rng.integers(0, k, size=n)
    soft = rng.dirichlet(np.ones(k), size=n)
    binary = rng.integers(0, 2, size=(n, k)).astype(np.float64)
    counts = rng.poisson(2.0, size=(n, k)).astype(np.float64)
    normal = rng.normal(size=(n, k))
    return [
        ("MCXENT", "softmax", idx, None, lambda z: F.cross_entropy(z, torch.from_numpy(idx))),
        ("MCXENT", "softmax", soft, None, lambda z: F.cross_entropy(z, _t(soft))),
        ("MCXENT", "softmax", soft, w, lambda z: (-(F.log_softmax(z, 1) * _t(soft) * _t(w)).sum(1)).mean()),
        ("NEGATIVELOGLIKELIHOOD", "softmax", idx, None, lambda z: F.nll_loss(F.log_softmax(z, 1), torch.from_numpy(idx))),
        ("SPARSE_MCXENT", "softmax", idx, None, lambda z: F.cross_entropy(z, torch.from_numpy(idx))),
        ("SPARSE_MCXENT", "softmax", idx, w,
         lambda z: F.cross_entropy(z, torch.from_numpy(idx), weight=_t(w), reduction="sum") / n),
        ("XENT", "sigmoid", binary, None,
         lambda z: F.binary_cross_entropy_with_logits(z, _t(binary), reduction="sum") / n),
        ("XENT", "sigmoid", binary, w,
         lambda z: F.binary_cross_entropy_with_logits(z, _t(binary), weight=_t(w), reduction="sum") / n),
        ("XENT", "hardsigmoid", binary, None,
         lambda z: F.binary_cross_entropy(torch.clamp(0.2 * z + 0.5, 1e-12, 1 - 1e-12), _t(binary), reduction="sum")
         / n),
        ("KL_DIVERGENCE", "softmax", soft, None, lambda z: F.kl_div(F.log_softmax(z, 1), _t(soft), reduction="sum") / n),
        ("POISSON", "softplus", counts, None,
         lambda z: F.poisson_nll_loss(F.softplus(z), _t(counts), log_input=False, eps=0.0, reduction="sum") / n),
        ("COSINE_PROXIMITY", "identity", normal, None, lambda z: -F.cosine_similarity(z, _t(normal), dim=1).mean()),
        ("COSINE_PROXIMITY", "tanh", normal, None, lambda z: -F.cosine_similarity(torch.tanh(z), _t(normal), dim=1).mean()),
        ("MSE", "identity", normal, None, lambda z: F.mse_loss(z, _t(normal))),
        ("MSE", "tanh", normal, None, lambda z: F.mse_loss(torch.tanh(z), _t(normal))),
        ("L2", "identity", normal, None, lambda z: F.mse_loss(z, _t(normal), reduction="sum") / n),
        ("MEAN_ABSOLUTE_ERROR", "identity", normal, None, lambda z: F.l1_loss(z, _t(normal))),
        ("L1", "tanh", normal, None, lambda z: F.l1_loss(torch.tanh(z), _t(normal), reduction="sum") / n),
        ("HINGE", "identity", np.sign(normal), None, lambda z: F.relu(1 - _t(np.sign(normal)) * z).sum() / n),
    ]


def test_scores_and_gradients_match_pytorch(rng):
    """Values (and, through autograd, d score / d W and d score / d b) against PyTorch's losses."""
    X = rng.normal(size=(BATCH, N_IN))
    for loss, act, y, w, torch_score in _torch_cases(rng):
        spec = en.Loss(loss, weights=None if w is None else list(w))
        model, W, b = _output_model(spec, act, np.random.default_rng(3))
        Wt = _t(W).requires_grad_(True)
        bt = _t(b).requires_grad_(True)
        expected = torch_score(_t(X) @ Wt + bt)
        expected.backward()
        np.testing.assert_allclose(model.score(X, y), expected.item(), rtol=1e-10, atol=1e-13, err_msg=f"{loss}/{act}")
        grad = model.compute_gradients(X, y)
        np.testing.assert_allclose(grad[: W.size], Wt.grad.numpy().ravel(), rtol=1e-9, atol=1e-12,
                                   err_msg=f"{loss}/{act} dW")
        np.testing.assert_allclose(grad[W.size :], bt.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=f"{loss}/{act} db")


# ---------------------------------------------------------------------------- numerical stability
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("loss", ["MCXENT", "NEGATIVELOGLIKELIHOOD", "SPARSE_MCXENT"])
@pytest.mark.parametrize("layer", ["output", "losslayer"])
def test_softmax_cross_entropy_with_huge_logits_is_exact(loss, layer, dtype):
    """Logits (1000, -1000): the wrong class costs exactly 2000, the right one 0; gradients are a - y."""
    if layer == "output":
        model = en.Sequential([en.Output(2, activation="softmax", loss=loss)], input_dim=2, dtype=dtype, seed=0)
        model.set_param(0, "b", np.zeros(2))
    else:
        model = en.Sequential([en.Dense(2, has_bias=False), en.LossLayer("softmax", loss)], input_dim=2, dtype=dtype,
                              seed=0)
    model.set_param(0, "W", np.eye(2))
    X = np.array([[1000.0, -1000.0]])
    wrong, right = np.array([1]), np.array([0])
    assert model.score(X, wrong) == pytest.approx(2000.0, rel=1e-6)
    assert model.score(X, right) == pytest.approx(0.0, abs=1e-6)
    # exp(-2000) is 0; the SSE build's vectorized exp does not underflow all the way and gives
    # 5.6e-309, which is 0 to any purpose, hence atol.
    np.testing.assert_allclose(model.predict_output(X), [[1.0, 0.0]], atol=1e-300)
    g = model.compute_gradients(X, wrong)
    assert np.all(np.isfinite(g))
    # dz = a - y = (1, -1); dW[i, j] = x_i dz_j
    np.testing.assert_allclose(g[:4], np.outer([1000.0, -1000.0], [1.0, -1.0]).ravel(), rtol=1e-6)
    if layer == "output":
        np.testing.assert_allclose(g[4:], [1.0, -1.0], rtol=1e-6)
    np.testing.assert_allclose(model.compute_gradients(X, right), 0.0, atol=1e-6)
    # a batch mixing both: the mean, 1000
    assert model.score(np.vstack([X, X]), np.array([1, 0])) == pytest.approx(1000.0, rel=1e-6)
    # training steps on it stay finite (fit raises FloatingPointError otherwise)
    history = model.fit(np.vstack([X, -X]), np.array([1, 1]), epochs=2, batch_size=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert np.all(np.isfinite(model.params()))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("layer", ["output", "losslayer"])
def test_sigmoid_xent_with_huge_logits_is_exact(layer, dtype):
    if layer == "output":
        model = en.Sequential([en.Output(2, activation="sigmoid", loss="xent")], input_dim=2, dtype=dtype, seed=0)
        model.set_param(0, "b", np.zeros(2))
    else:
        model = en.Sequential([en.Dense(2, has_bias=False), en.LossLayer("sigmoid", "xent")], input_dim=2,
                              dtype=dtype, seed=0)
    model.set_param(0, "W", np.eye(2))
    X = np.array([[1000.0, -1000.0]])
    assert model.score(X, np.array([[0.0, 1.0]])) == pytest.approx(2000.0, rel=1e-6)  # both wrong: 1000 each
    assert model.score(X, np.array([[1.0, 0.0]])) == pytest.approx(0.0, abs=1e-6)
    assert model.score(X, np.array([[0.5, 0.5]])) == pytest.approx(1000.0, rel=1e-6)
    g = model.compute_gradients(X, np.array([[0.0, 1.0]]))
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g[:4], np.outer([1000.0, -1000.0], [1.0, -1.0]).ravel(), rtol=1e-6)
    history = model.fit(np.vstack([X, -X]), np.array([[0.0, 1.0], [1.0, 0.0]]), epochs=2, batch_size=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("loss, act, labels", CASES, ids=CASE_IDS)
def test_all_losses_stay_finite_at_extreme_preactivations(loss, act, labels, dtype, rng):
    model = en.Sequential([en.Dense(N_OUT, has_bias=False), en.LossLayer(act, loss)], input_dim=N_OUT, dtype=dtype,
                          seed=0)
    model.set_param(0, "W", np.eye(N_OUT))
    X = np.array([[1000.0, -1000.0, 0.5], [-1000.0, 1000.0, -1000.0], [-80.0, 80.0, 1000.0]])
    y = labels(rng, 3, N_OUT)
    assert np.isfinite(model.score(X, y))
    assert np.all(np.isfinite(model.compute_gradients(X, y)))


def test_fused_and_unfused_cross_entropy_agree_where_both_are_accurate(rng):
    """A Python softmax/sigmoid (same formula, different name) takes the generic, unfused path."""
    en.register_activation("test_loss_pysoftmax", lambda z: sp.softmax(z, axis=1),
                           lambda z, a, da: a * (da - (a * da).sum(axis=1, keepdims=True)))
    en.register_activation("test_loss_pysigmoid", sp.expit, lambda z, a, da: da * a * (1 - a))
    X = rng.normal(size=(20, N_IN))
    for fused, plain, loss, y in [
        ("softmax", "test_loss_pysoftmax", "mcxent", rng.integers(0, N_OUT, size=20)),
        ("softmax", "test_loss_pysoftmax", en.Loss("sparse_mcxent", weights=[1.0, 3.0, 0.5]),
         rng.integers(0, N_OUT, size=20)),
        ("sigmoid", "test_loss_pysigmoid", en.Loss("xent", weights=[1.0, 3.0, 0.5]),
         rng.integers(0, 2, size=(20, N_OUT)).astype(float)),
    ]:
        a, _, _ = _output_model(loss, fused, np.random.default_rng(9))
        b, _, _ = _output_model(loss, plain, np.random.default_rng(9))
        np.testing.assert_allclose(a.score(X, y), b.score(X, y), rtol=1e-12)
        np.testing.assert_allclose(a.compute_gradients(X, y), b.compute_gradients(X, y), rtol=1e-9, atol=1e-13)


# ---------------------------------------------------------------------------- names and configuration
@pytest.mark.parametrize(
    "spelling, canonical",
    [("mse", "MSE"), ("Mse", "MSE"), ("mcxent", "MCXENT"), ("McXent", "MCXENT"),
     ("negative_log_likelihood", "NEGATIVELOGLIKELIHOOD"), ("sparse-mcxent", "SPARSE_MCXENT"),
     ("Sparse_MCXent", "SPARSE_MCXENT"), ("kl_divergence", "KL_DIVERGENCE"), ("KLDivergence", "KL_DIVERGENCE"),
     ("mean_squared_logarithmic_error", "MEAN_SQUARED_LOGARITHMIC_ERROR"), ("squared hinge", "SQUARED_HINGE"),
     ("cosine_proximity", "COSINE_PROXIMITY"), ("Poisson", "POISSON"), ("xent", "XENT")],
)
def test_loss_names_are_case_and_separator_insensitive(spelling, canonical):
    assert en.Output(2, loss=spelling).loss == {"name": canonical}
    assert en.LossLayer(loss=spelling).loss == {"name": canonical}
    assert en.Loss(spelling).get_config() == {"name": canonical}
    assert en.Output(2, loss={"name": spelling}).loss == {"name": canonical}


@pytest.mark.parametrize("bad, suggestion", [("msee", "MSE"), ("mcxnet", "MCXENT"), ("hinje", "HINGE"),
                                             ("poison", "POISSON"), ("sparse_mcent", "SPARSE_MCXENT")])
def test_unknown_loss_names_suggest_the_closest(bad, suggestion):
    with pytest.raises(ValueError, match="did you mean") as info:
        en.Output(2, loss=bad)
    assert suggestion in str(info.value)
    with pytest.raises(ValueError, match="did you mean") as info:
        en.LossLayer(loss=bad)
    assert suggestion in str(info.value)
    with pytest.raises(ValueError, match="did you mean") as info:
        en.Output(2, loss={"name": bad})  # the core's lookup
    assert suggestion in str(info.value)


def test_loss_weights_config_and_validation(rng):
    assert en.Loss("mse", weights=[1, 2]).get_config() == {"name": "MSE", "weights": [1.0, 2.0]}
    with pytest.raises(ValueError):
        en.Loss("mse", weights=[1.0, -2.0]).get_config()
    with pytest.raises(ValueError):
        en.Loss("mse", weights=[1.0, float("nan")]).get_config()
    X = rng.normal(size=(4, N_IN))
    model, _, _ = _output_model(en.Loss("mse", weights=[1.0, 2.0]), "identity", rng)  # 2 weights, 3 outputs
    with pytest.raises(ValueError, match="weights"):
        model.score(X, rng.normal(size=(4, N_OUT)))
    with pytest.raises(ValueError, match="weights"):
        model.compute_gradients(X, rng.normal(size=(4, N_OUT)))
    # Losses that are not a weighted sum over outputs refuse weights when the layer is made.
    with pytest.raises(ValueError, match="COSINE_PROXIMITY does not take per-output weights"):
        en.Output(N_OUT, activation="identity", loss=en.Loss("cosine_proximity", weights=[1.0, 2.0, 3.0]))
    en.register_loss("weightless_custom", lambda out, y: ((out - y) ** 2).sum(axis=1), lambda out, y: 2 * (out - y))
    with pytest.raises(ValueError, match="weightless_custom does not take per-output weights"):
        en.Output(N_OUT, activation="identity", loss=en.Loss("weightless_custom", weights=[1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="built-in loss"):
        en.register_loss("mse", lambda out, y: out.sum(axis=1), lambda out, y: out * 0 + 1)


def test_zero_weight_removes_an_output(rng):
    X = rng.normal(size=(8, N_IN))
    y = rng.normal(size=(8, N_OUT))
    model, _, _ = _output_model(en.Loss("l2", weights=[1.0, 0.0, 1.0]), "identity", np.random.default_rng(1))
    y2 = y.copy()
    y2[:, 1] += 100.0
    assert model.score(X, y) == pytest.approx(model.score(X, y2), rel=1e-14)
    g = model.compute_gradients(X, y)
    W_grad = g[: N_IN * N_OUT].reshape(N_IN, N_OUT)
    np.testing.assert_array_equal(W_grad[:, 1], 0.0)
    assert np.all(W_grad[:, [0, 2]] != 0.0)


def test_label_validation(rng):
    X = rng.normal(size=(3, N_IN))
    model, _, _ = _output_model("sparse_mcxent", "softmax", rng)
    with pytest.raises(ValueError):
        model.score(X, np.array([0, 1, 3]))
    with pytest.raises(ValueError):
        model.score(X, np.array([0, 1, -1]))
    with pytest.raises(ValueError):
        model.score(X, np.array([0, 1, 1.5]))
    model, _, _ = _output_model("xent", "sigmoid", rng)
    with pytest.raises(ValueError):
        model.score(X, np.full((3, N_OUT), 1.5))
    model, _, _ = _output_model("mcxent", "softmax", rng)
    with pytest.raises(ValueError):
        model.score(X, np.array([0, 1, 3]))


# ---------------------------------------------------------------------------- score = loss + penalty
@pytest.mark.parametrize("regularize_bias", [False, True])
@pytest.mark.parametrize("l1, l2", [(0.0, 0.0), (0.01, 0.0), (0.0, 0.03), (0.02, 0.05)])
def test_score_adds_l1_l2_penalty(l1, l2, regularize_bias, rng):
    model = en.Sequential(
        [en.Dense(5, activation="tanh"), en.Dense(4, activation="sigmoid", has_bias=False),
         en.Output(N_OUT, activation="softmax", loss="mcxent")],
        input_dim=N_IN, l1=l1, l2=l2, regularize_bias=regularize_bias, dtype="float64", seed=4,
    )
    plain = en.Sequential(
        [en.Dense(5, activation="tanh"), en.Dense(4, activation="sigmoid", has_bias=False),
         en.Output(N_OUT, activation="softmax", loss="mcxent")],
        input_dim=N_IN, dtype="float64", seed=4,
    )
    theta = rng.normal(size=model.num_params)
    model.set_params(theta)
    plain.set_params(theta)
    X = rng.normal(size=(12, N_IN))
    y = rng.integers(0, N_OUT, size=12)
    Ws = [model.get_param(i, "W") for i in range(3)]
    bs = [model.get_param(i, "b") for i in (0, 2)]
    regularized = Ws + (bs if regularize_bias else [])
    penalty = sum(l1 * np.abs(p).sum() + 0.5 * l2 * (p**2).sum() for p in regularized)
    np.testing.assert_allclose(model.score(X, y), plain.score(X, y) + penalty, rtol=1e-12)


# ---------------------------------------------------------------------------- custom losses
def _register_mymse(name):
    en.register_loss(name, lambda out, y: ((out - y) ** 2).mean(axis=1), lambda out, y: 2.0 * (out - y) / out.shape[1])


def test_custom_loss_equals_builtin_mse(rng):
    _register_mymse("test_loss_mymse")
    assert "test_loss_mymse" in en.losses.available()
    X = rng.normal(size=(40, N_IN))
    y = rng.normal(size=(40, 2))

    def build(loss):
        return en.Sequential([en.Dense(6, activation="tanh"), en.Output(2, activation="tanh", loss=loss)],
                             input_dim=N_IN, updater=en.Adam(learning_rate=0.02), dtype="float64", seed=17)

    mine, builtin = build("test_loss_mymse"), build("mse")
    assert mine.get_config()["layers"][1]["loss"]["name"] == "test_loss_mymse"
    np.testing.assert_allclose(mine.score(X, y), builtin.score(X, y), rtol=1e-13)
    np.testing.assert_allclose(mine.compute_gradients(X, y), builtin.compute_gradients(X, y), rtol=1e-11, atol=1e-15)
    h1 = mine.fit(X, y, epochs=4, batch_size=8, verbose=0)
    h2 = builtin.fit(X, y, epochs=4, batch_size=8, verbose=0)
    np.testing.assert_allclose(h1.history["loss"], h2.history["loss"], rtol=1e-10)
    np.testing.assert_allclose(mine.params(), builtin.params(), rtol=1e-9, atol=1e-12)
    assert h1.history["loss"][-1] < h1.history["loss"][0]
    # case-insensitive lookup for custom names too
    assert en.Output(2, loss="TEST_LOSS_MYMSE").loss == {"name": "test_loss_mymse"}


def test_custom_cross_entropy_with_softmax_equals_mcxent(rng):
    en.register_loss("test_loss_myxent", lambda out, y: -(y * np.log(out)).sum(axis=1), lambda out, y: -y / out)
    X = rng.normal(size=(30, N_IN))
    y = rng.integers(0, N_OUT, size=30)
    Y = np.eye(N_OUT)[y]

    def build(loss):
        return en.Sequential([en.Dense(5, activation="relu"), en.Output(N_OUT, activation="softmax", loss=loss)],
                             input_dim=N_IN, updater=en.SGD(learning_rate=0.1), dtype="float64", seed=8)

    mine, builtin = build("test_loss_myxent"), build("mcxent")
    np.testing.assert_allclose(mine.score(X, Y), builtin.score(X, y), rtol=1e-12)
    mine.fit(X, Y, epochs=3, batch_size=10, shuffle=False, verbose=0)
    builtin.fit(X, y, epochs=3, batch_size=10, shuffle=False, verbose=0)
    np.testing.assert_allclose(mine.params(), builtin.params(), rtol=1e-9, atol=1e-12)


def test_custom_loss_in_float32(rng):
    _register_mymse("test_loss_mymse32")
    X = rng.normal(size=(10, N_IN)).astype(np.float32)
    y = rng.normal(size=(10, N_OUT)).astype(np.float32)
    mine, _, _ = _output_model("test_loss_mymse32", "identity", np.random.default_rng(2), dtype="float32")
    builtin, _, _ = _output_model("mse", "identity", np.random.default_rng(2), dtype="float32")
    np.testing.assert_allclose(mine.score(X, y), builtin.score(X, y), rtol=1e-5)
    np.testing.assert_allclose(mine.compute_gradients(X, y), builtin.compute_gradients(X, y), rtol=1e-4, atol=1e-6)


def test_custom_loss_errors_surface_as_python_exceptions(rng):
    en.register_loss("test_loss_badshape", lambda out, y: out.sum(), lambda out, y: out - y)
    model, _, _ = _output_model("test_loss_badshape", "identity", rng)
    with pytest.raises(ValueError, match="one value per sample"):
        model.score(rng.normal(size=(4, N_IN)), rng.normal(size=(4, N_OUT)))
    with pytest.raises(TypeError):
        en.register_loss("test_loss_notcallable", "mse", None)
