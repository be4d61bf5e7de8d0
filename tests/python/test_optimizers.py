"""Full-batch optimization algorithms (DL4J OptimizationAlgorithm) through Sequential.fit.

Oracles: scipy.optimize.minimize on L2-regularized logistic regression (convex, one optimum), a
Gauss-Newton matrix assembled from a finite-difference Jacobian, and plain gradient descent with
the same number of gradient evaluations on a small MLP.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.optimize

import eigennet as en
from eigennet.datasets import load_digits

ALGORITHMS = ["lbfgs", "conjugate_gradient", "line_gradient_descent", "hessian_free"]


# ---------------------------------------------------------------- logistic regression vs scipy


def _logistic_problem(n=500, d=10, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    w = rng.normal(size=d)
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ w + 0.5)))).astype(float)
    return X, y


def _logistic_objective(X, y, l2):
    n, d = X.shape

    def f(theta):
        W, b = theta[:d], theta[d]
        z = X @ W + b
        loss = np.mean(np.logaddexp(0, z) - y * z) + 0.5 * l2 * W @ W
        p = 1 / (1 + np.exp(-z))
        grad = np.concatenate([X.T @ (p - y) / n + l2 * W, [np.mean(p - y)]])
        return loss, grad

    return f


@pytest.fixture(scope="module")
def logistic():
    X, y = _logistic_problem()
    l2 = 0.05
    reference = scipy.optimize.minimize(
        _logistic_objective(X, y, l2), np.zeros(X.shape[1] + 1), jac=True, method="BFGS",
        options={"gtol": 1e-12, "maxiter": 10_000},
    )
    return X, y, l2, reference.x


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_logistic_regression_reaches_the_scipy_optimum(logistic, algorithm):
    X, y, l2, optimum = logistic
    model = en.Sequential([en.Output(1, activation="sigmoid", loss="xent")], l2=l2, dtype="float64", seed=1)
    budget = 20_000 if algorithm == "line_gradient_descent" else 500
    history = model.fit(X, y, algorithm=algorithm, max_iterations=budget, tolerance=1e-9, verbose=0,
                        optimizer_options={"function_tolerance": 0.0})
    np.testing.assert_allclose(model.params(), optimum, rtol=0, atol=1e-6)
    summary = history.optimizer[-1]
    assert summary["converged"], summary
    assert summary["stop_reason"] == "gradient tolerance reached"
    # The score the model reports is the objective scipy minimized.
    assert model.score(X, y) == pytest.approx(_logistic_objective(X, y, l2)(optimum)[0], abs=1e-12)


def test_line_search_methods_decrease_the_loss_every_iteration(logistic):
    X, y, l2, _ = logistic
    for algorithm in ("lbfgs", "conjugate_gradient", "line_gradient_descent"):
        model = en.Sequential([en.Output(1, activation="sigmoid", loss="xent")], l2=l2, dtype="float64", seed=1)
        history = model.fit(X, y, algorithm=algorithm, max_iterations=30, tolerance=0, verbose=0)
        losses = [step["loss"] for step in history.iterations]
        assert len(losses) >= 5
        assert all(b <= a for a, b in zip(losses, losses[1:])), algorithm
        assert history.history["loss"][-1] == pytest.approx(losses[-1])


def test_float32_models_optimize_too(logistic):
    X, y, l2, optimum = logistic
    model = en.Sequential([en.Output(1, activation="sigmoid", loss="xent")], l2=l2, seed=1)
    model.fit(X, y, algorithm="lbfgs", max_iterations=200, tolerance=1e-6, verbose=0)
    np.testing.assert_allclose(model.params(), optimum, atol=1e-3)


# ---------------------------------------------------------------- Gauss-Newton products


def _jacobian(fn, theta, eps=1e-6):
    """d fn(theta) / d theta by central differences; fn returns an (n, k) array."""
    columns = []
    for i in range(theta.size):
        step = np.zeros_like(theta)
        step[i] = eps
        columns.append(((fn(theta + step) - fn(theta - step)) / (2 * eps)).ravel())
    return np.stack(columns, axis=1)  # (n * k, p), sample-major


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _output_of(model, theta, X):
    model.set_params(theta)
    return model.predict_output(X)


def _gauss_newton_oracle(model, pre_activation_model, X, Y, loss_hessian, at_pre_activation):
    """(1/n) sum_j J_j^T H_j J_j, with J the Jacobian of the output (or pre-activation) by theta."""
    theta = model.params()
    source = pre_activation_model if at_pre_activation else model
    J = _jacobian(lambda t: _output_of(source, t, X), theta)
    model.set_params(theta)
    source.set_params(theta)
    n, k = X.shape[0], Y.shape[1]
    outputs = source.predict_output(X)
    G = np.zeros((theta.size, theta.size))
    for j in range(n):
        Jj = J[j * k : (j + 1) * k]
        G += Jj.T @ loss_hessian(outputs[j], Y[j]) @ Jj
    return G / n


def _pair(layers_fn, X, Y, seed=5, l2=0.0):
    model = en.Sequential(layers_fn(False), dtype="float64", seed=seed, l2=l2, input_dim=X.shape[1])
    raw = en.Sequential(layers_fn(True), dtype="float64", seed=seed, input_dim=X.shape[1])
    raw.set_params(model.params())
    return model, raw


def _check_product(model, X, Y, G, l2=0.0):
    rng = np.random.default_rng(11)
    net = model._network()
    labels = model._targets(Y, X.shape[0])
    for _ in range(3):
        v = rng.normal(size=model.num_params)
        expected = G @ v
        if l2:
            expected = expected + l2 * v * _weight_mask(model)
        got = net.gauss_newton_product(np.ascontiguousarray(X), labels, v)
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8)


def _weight_mask(model):
    mask = np.zeros(model.num_params)
    for loc in model._network().param_locations():
        if not loc["is_bias"]:
            mask[loc["offset"] : loc["offset"] + int(np.prod(loc["shape"]))] = 1
    return mask


@pytest.fixture(scope="module")
def small_data():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(7, 4))
    labels = rng.integers(0, 3, size=7)
    return X, labels, np.eye(3)[labels]


def test_gauss_newton_softmax_mcxent_matches_the_jacobian_oracle(small_data):
    X, labels, Y = small_data

    def layers(raw):
        return [en.Dense(5, activation="tanh"), en.Dense(4, activation="relu"),
                en.Output(3, activation="identity" if raw else "softmax", loss="mcxent")]

    model, raw = _pair(layers, X, Y)

    def hessian(z, y):
        p = _softmax(z[None])[0]
        return y.sum() * (np.diag(p) - np.outer(p, p))

    G = _gauss_newton_oracle(model, raw, X, Y, hessian, at_pre_activation=True)
    _check_product(model, X, Y, G)


def test_gauss_newton_with_l2_adds_l2_on_weights(small_data):
    X, labels, Y = small_data

    def layers(raw):
        return [en.Dense(5, activation="sigmoid"), en.Output(3, activation="identity" if raw else "softmax", loss="mcxent")]

    model, raw = _pair(layers, X, Y, l2=0.3)

    def hessian(z, y):
        p = _softmax(z[None])[0]
        return y.sum() * (np.diag(p) - np.outer(p, p))

    G = _gauss_newton_oracle(model, raw, X, Y, hessian, at_pre_activation=True)
    _check_product(model, X, Y, G, l2=0.3)


def test_gauss_newton_sigmoid_xent_multilabel(small_data):
    X, _, _ = small_data
    Y = (np.random.default_rng(4).random((X.shape[0], 3)) < 0.5).astype(float)

    def layers(raw):
        return [en.Dense(6, activation="elu"), en.ActivationLayer("softplus"),
                en.Output(3, activation="identity" if raw else "sigmoid", loss="xent")]

    model, raw = _pair(layers, X, Y)

    def hessian(z, y):
        p = 1 / (1 + np.exp(-z))
        return np.diag(p * (1 - p))

    G = _gauss_newton_oracle(model, raw, X, Y, hessian, at_pre_activation=True)
    _check_product(model, X, Y, G)


def test_gauss_newton_mse_uses_the_output_hessian_through_the_activation(small_data):
    X, _, _ = small_data
    Y = np.random.default_rng(6).normal(size=(X.shape[0], 2))

    def layers(raw):
        return [en.Dense(5, activation="tanh"), en.Output(2, activation="tanh", loss="mse")]

    model, raw = _pair(layers, X, Y)
    # DL4J MSE averages over outputs: d^2/da^2 of mean_k (a_k - y_k)^2 is 2/k on the diagonal.
    G = _gauss_newton_oracle(model, raw, X, Y, lambda a, y: np.eye(2) * 2 / 2, at_pre_activation=False)
    _check_product(model, X, Y, G)


def test_gauss_newton_through_a_loss_layer(small_data):
    X, labels, Y = small_data

    def layers(raw):
        return [en.Dense(3, activation="identity"),
                en.LossLayer(activation="identity" if raw else "softmax", loss="mcxent")]

    model, raw = _pair(layers, X, Y)

    def hessian(z, y):
        p = _softmax(z[None])[0]
        return y.sum() * (np.diag(p) - np.outer(p, p))

    G = _gauss_newton_oracle(model, raw, X, Y, hessian, at_pre_activation=True)
    _check_product(model, X, Y, G)


def test_objective_gradient_is_the_score_gradient(small_data):
    X, labels, _ = small_data
    model = en.Sequential([en.Dense(5, activation="tanh"), en.Output(3)], dtype="float64", seed=2, l2=0.1, l1=0.01,
                          input_dim=4)
    value, grad = model._network().objective_gradient(X, model._targets(labels, X.shape[0]))
    assert value == pytest.approx(model.score(X, labels), rel=1e-12)
    np.testing.assert_allclose(grad, model.compute_gradients(X, labels), rtol=1e-12, atol=1e-15)


def test_hessian_free_refuses_a_loss_without_gauss_newton_form():
    X = np.random.default_rng(0).normal(size=(20, 3))
    y = np.sign(X[:, 0])
    model = en.Sequential([en.Output(1, activation="identity", loss="hinge")], dtype="float64", seed=0)
    with pytest.raises(ValueError, match="HESSIAN_FREE cannot run.*HINGE.*Gauss-Newton"):
        model.fit(X, y, algorithm="hessian_free", verbose=0)
    # The other algorithms only need gradients.
    model.fit(X, y, algorithm="lbfgs", max_iterations=5, verbose=0)


# ---------------------------------------------------------------- small MLP vs gradient descent


@pytest.fixture(scope="module")
def digits_subset():
    X, y = load_digits()
    return X[:400] / 16.0, y[:400]


def _mlp(updater=None):
    return en.Sequential([en.Dense(24, activation="tanh"), en.Output(10)], dtype="float64", seed=3, updater=updater,
                         input_dim=64)


def test_each_algorithm_beats_gradient_descent_at_the_same_number_of_gradient_evaluations(digits_subset):
    X, y = digits_subset
    budget = 60
    # Plain full-batch gradient descent (SGD updater) at its best learning rate on a grid.
    descent = []
    for rate in (0.3, 1.0, 3.0):
        model = _mlp(en.SGD(learning_rate=rate))
        history = model.fit(X, y, epochs=budget, batch_size=len(X), shuffle=False, verbose=0)
        descent.append(history.history["loss"][-1])
    best_descent = min(v for v in descent if np.isfinite(v))
    report = {"gradient descent": best_descent}
    for algorithm in ALGORITHMS:
        model = _mlp()
        history = model.fit(X, y, algorithm=algorithm, max_iterations=10_000, tolerance=0, verbose=0,
                            optimizer_options={"function_tolerance": 0.0})
        # Gradient evaluations as the issue counts them. Hessian-free also spends one Gauss-Newton
        # product (about the cost of a gradient) per linear-CG iteration: reported, not counted.
        within = [s for s in history.iterations if s["function_evaluations"] <= budget]
        assert within, algorithm
        report[algorithm] = within[-1]["loss"]
        if algorithm == "hessian_free":
            report["hessian_free curvature products"] = sum(s["cg_iterations"] for s in within)
        assert report[algorithm] < best_descent, report
    print("loss after", budget, "gradient evaluations:", report)


def test_mini_batch_lbfgs_runs_per_batch_and_lowers_the_loss(digits_subset):
    X, y = digits_subset
    model = _mlp()
    before = model.score(X, y)
    history = model.fit(X, y, epochs=2, batch_size=100, algorithm="lbfgs", max_iterations=5, verbose=0)
    assert model.score(X, y) < 0.5 * before
    assert {step["epoch"] for step in history.iterations} == {1, 2}
    # 4 batches x at most 5 iterations per epoch.
    assert all(summary["iterations"] <= 20 for summary in history.optimizer)
    assert sum(summary["iterations"] for summary in history.optimizer) == len(history.iterations)
    assert model.epoch == 2


def test_max_iterations_is_respected_and_training_continues_from_a_saved_model(digits_subset, tmp_path):
    X, y = digits_subset
    model = _mlp()
    history = model.fit(X, y, algorithm="conjugate_gradient", max_iterations=7, tolerance=0, verbose=0)
    assert history.optimizer[0]["iterations"] == 7
    assert history.optimizer[0]["stop_reason"] == "max iterations reached"
    path = tmp_path / "cg.enet"
    model.save(path)
    restored = en.load(path)
    a = model.fit(X, y, algorithm="lbfgs", max_iterations=5, verbose=0).history["loss"]
    b = restored.fit(X, y, algorithm="lbfgs", max_iterations=5, verbose=0).history["loss"]
    assert a == b
    np.testing.assert_array_equal(model.params(), restored.params())


def test_frozen_layers_do_not_move_under_a_full_batch_optimizer(digits_subset):
    X, y = digits_subset
    frozen = en.Dense(24, activation="tanh")
    frozen.frozen = True
    model = en.Sequential([frozen, en.Output(10)], dtype="float64", seed=3)
    model.build(X.shape[1])
    W0 = model.get_param(0, "W")
    before = model.get_param(1, "W")
    model.fit(X, y, algorithm="hessian_free", max_iterations=5, verbose=0)
    np.testing.assert_array_equal(model.get_param(0, "W"), W0)
    assert not np.array_equal(model.get_param(1, "W"), before)


# ---------------------------------------------------------------- arguments


def test_unknown_algorithm_suggests_the_closest_name():
    model = _mlp()
    with pytest.raises(ValueError, match='did you mean "LBFGS"'):
        model.fit(np.zeros((4, 64)), np.zeros(4, dtype=int), algorithm="lbgfs", verbose=0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"max_iterations": -1}, "max_iterations"),
        ({"optimizer_options": {"lbfgs_memory": 0}}, "lbfgs_memory"),
        ({"optimizer_options": {"wolfe_c1": 0.95}}, "wolfe_c1"),
        ({"optimizer_options": {"lbfgs_memroy": 5}}, 'unknown key "lbfgs_memroy"; did you mean "lbfgs_memory"'),
        ({"tolerance": -1.0}, "gradient_tolerance"),
    ],
)
def test_bad_optimizer_options_name_the_field(kwargs, message):
    X = np.random.default_rng(0).normal(size=(10, 3))
    y = np.arange(10) % 2
    model = en.Sequential([en.Output(2)], seed=0)
    with pytest.raises(ValueError, match=message):
        model.fit(X, y, algorithm="lbfgs", verbose=0, **kwargs)
    assert not model.built  # options are checked before anything happens


def test_optimizer_options_are_rejected_for_sgd():
    model = _mlp()
    with pytest.raises(ValueError, match="full-batch"):
        model.fit(np.zeros((4, 64)), np.zeros(4, dtype=int), optimizer_options={"lbfgs_memory": 3}, verbose=0)


def test_algorithm_spellings():
    X = np.random.default_rng(0).normal(size=(10, 3))
    y = np.arange(10) % 2
    for spelling in ("LBFGS", "Conjugate_Gradient", "line-gradient-descent", "HESSIAN_FREE", "sgd",
                     "stochastic_gradient_descent"):
        model = en.Sequential([en.Output(2)], seed=0)
        model.fit(X, y, algorithm=spelling, max_iterations=2, verbose=0)
        assert model.epoch == 1
