"""BatchNormalization: parity with torch.nn.BatchNorm1d (float64) in training and evaluation, finite
differences, running statistics, lock_gamma_beta, frozen layers, persistence and learning.

Modes: ``fit`` runs the network in training mode (batch statistics, running statistics updated),
``compute_gradients`` in deterministic mode (batch statistics, running statistics untouched), and
``predict`` / ``score`` in inference mode (running statistics). torch's ``train()`` corresponds to the
first two, ``eval()`` to the last; torch's ``momentum`` is ``1 - decay``.
"""

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import eigennet as en
from eigennet.layers import BatchNormalization, Layer

torch.set_num_threads(1)

RTOL = 1e-10
EPS_FD = 1e-6
MAX_REL_ERROR = 1e-6
MIN_ABS_ERROR = 1e-8


def assert_close(actual, expected, rtol=RTOL, what=""):
    """Relative comparison with an absolute floor scaled to the array's magnitude."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, (what, actual.shape, expected.shape)
    scale = max(float(np.abs(expected).max()), 1e-300)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale, err_msg=what)


# ----------------------------------------------------------------------------- torch twin
N_IN, N_H, N_H2, N_OUT = 5, 6, 4, 3


def make_model(decay=0.9, eps=1e-5, seed=0, updater=None, **bn_options):
    return en.Sequential(
        [en.Dense(N_H, activation="identity"), BatchNormalization(decay=decay, eps=eps, **bn_options),
         en.Dense(N_H2, activation="tanh"), en.Output(N_OUT, activation="identity", loss="mse")],
        input_dim=N_IN, updater=updater, seed=seed, dtype="float64")


def randomize(model, rng):
    """Random weights, gamma around 1, beta around 0 (running statistics keep their initial 0 / 1)."""
    for i, layer in enumerate(model.layers):
        if isinstance(layer, en.Dense):
            model.set_param(i, "W", rng.normal(size=model.get_param(i, "W").shape))
            model.set_param(i, "b", rng.normal(size=model.get_param(i, "b").shape) * 0.5)
        elif isinstance(layer, BatchNormalization) and not layer.lock_gamma_beta:
            model.set_param(i, "gamma", rng.uniform(0.5, 1.5, size=model.get_param(i, "gamma").shape))
            model.set_param(i, "beta", rng.normal(size=model.get_param(i, "beta").shape) * 0.5)


class TorchTwin(torch.nn.Module):
    """Linear -> BatchNorm1d -> Linear -> tanh -> Linear with the eigennet model's parameters."""

    def __init__(self, model, momentum):
        super().__init__()
        self.l0 = torch.nn.Linear(N_IN, N_H, dtype=torch.float64)
        self.bn = torch.nn.BatchNorm1d(N_H, eps=model.layers[1].eps, momentum=momentum, dtype=torch.float64)
        self.l2 = torch.nn.Linear(N_H, N_H2, dtype=torch.float64)
        self.l3 = torch.nn.Linear(N_H2, N_OUT, dtype=torch.float64)
        with torch.no_grad():
            for lin, i in ((self.l0, 0), (self.l2, 2), (self.l3, 3)):
                lin.weight.copy_(torch.from_numpy(model.get_param(i, "W").T.copy()))
                lin.bias.copy_(torch.from_numpy(model.get_param(i, "b")))
            self.bn.weight.copy_(torch.from_numpy(model.get_param(1, "gamma")))
            self.bn.bias.copy_(torch.from_numpy(model.get_param(1, "beta")))
            self.bn.running_mean.copy_(torch.from_numpy(model.get_param(1, "mean")))
            self.bn.running_var.copy_(torch.from_numpy(model.get_param(1, "var")))

    def forward(self, x):
        return self.l3(torch.tanh(self.l2(self.bn(self.l0(x)))))

    def flat(self, grad=False):
        """Laid out as eigennet's params(): W (n_in, n_out) then b per Dense; gamma, beta, mean, var."""
        def value(p):
            t = p.grad if grad else p.detach()
            return t.numpy()

        bn_state = [np.zeros(N_H), np.zeros(N_H)] if grad else [self.bn.running_mean.numpy(), self.bn.running_var.numpy()]
        parts = [value(self.l0.weight).T.ravel(), value(self.l0.bias), value(self.bn.weight), value(self.bn.bias),
                 *bn_state]
        for lin in (self.l2, self.l3):
            parts += [value(lin.weight).T.ravel(), value(lin.bias)]
        return np.concatenate(parts)


def data(n=20, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, N_IN)) * 2 + 1, rng.normal(size=(n, N_OUT))


# ----------------------------------------------------------------------------- torch parity
def test_training_mode_score_and_gradients_match_torch():
    """compute_gradients (batch statistics) against torch in train() mode: the loss, gamma/beta
    gradients, and the first layer's gradient, which flows through BatchNorm's input gradient."""
    model = make_model()
    randomize(model, np.random.default_rng(1))
    twin = TorchTwin(model, momentum=0.1)
    assert_close(model.params(), twin.flat(), rtol=0, what="copied parameters")
    X, y = data()
    twin.train()
    loss = F.mse_loss(twin(torch.from_numpy(X)), torch.from_numpy(y))
    loss.backward()
    score, grad = model._network().compute_gradients(X, y)
    assert score == pytest.approx(loss.item(), rel=RTOL, abs=0)
    assert_close(grad, twin.flat(grad=True), what="gradient")
    locations = {loc["name"]: loc for loc in model._network().param_locations() if loc["layer"] == 1}
    for name in ("gamma", "beta"):
        segment = grad[locations[name]["offset"]:locations[name]["offset"] + N_H]
        assert np.abs(segment).max() > 1e-3, name  # not trivially zero
    for name in ("mean", "var"):
        np.testing.assert_array_equal(grad[locations[name]["offset"]:locations[name]["offset"] + N_H], 0.0)
    # compute_gradients did not touch the running statistics
    np.testing.assert_array_equal(model.get_param(1, "mean"), 0.0)
    np.testing.assert_array_equal(model.get_param(1, "var"), 1.0)


def test_training_step_output_and_running_statistics_match_torch():
    """One training step of BatchNormalization -> Output(B, identity, mse) with W = 0, b = 0 and labels
    -I: SGD(learning_rate=1) writes -(2 / B^2) * (BatchNorm's training output)^T into W (see
    test_dropout.py), and the running statistics have moved once."""
    B, d, decay = 64, 5, 0.7
    rng = np.random.default_rng(2)
    model = en.Sequential([BatchNormalization(decay=decay), en.Output(B, activation="identity", loss="mse")],
                          input_dim=d, updater=en.SGD(learning_rate=1.0), seed=0, dtype="float64")
    model.set_params(np.zeros(model.num_params))
    gamma, beta = rng.uniform(0.5, 1.5, size=d), rng.normal(size=d)
    model.set_param(0, "gamma", gamma)
    model.set_param(0, "beta", beta)
    model.set_param(0, "var", np.ones(d))
    X = rng.normal(size=(B, d)) * 3 + 2
    model.fit(X, -np.eye(B), epochs=1, batch_size=B, shuffle=False, verbose=0)
    H = -model.get_param(1, "W").T * (B * B / 2.0)

    bn = torch.nn.BatchNorm1d(d, momentum=1 - decay, dtype=torch.float64)
    with torch.no_grad():
        bn.weight.copy_(torch.from_numpy(gamma))
        bn.bias.copy_(torch.from_numpy(beta))
    bn.train()
    expected = bn(torch.from_numpy(X)).detach().numpy()
    assert_close(H, expected, what="training output")
    assert_close(model.get_param(0, "mean"), bn.running_mean.numpy(), what="running mean")
    assert_close(model.get_param(0, "var"), bn.running_var.numpy(), what="running var")
    # spelled out: the running variance follows the UNBIASED batch variance (as torch)
    assert_close(model.get_param(0, "var"), decay + (1 - decay) * X.var(axis=0, ddof=1), what="unbiased")
    assert_close(model.get_param(0, "mean"), (1 - decay) * X.mean(axis=0), what="mean formula")
    np.testing.assert_array_equal(model.get_param(0, "gamma"), gamma)  # gamma's gradient was 0 here (W = 0)


@pytest.mark.parametrize("decay", [0.9, 0.5])
def test_eval_mode_after_training_steps_matches_torch(decay):
    """SGD steps on mini-batches (the last one partial) in both libraries; then the running
    statistics, every parameter and the inference output agree."""
    model = make_model(decay=decay, updater=en.SGD(learning_rate=0.05))
    randomize(model, np.random.default_rng(3))
    twin = TorchTwin(model, momentum=1 - decay)
    optimizer = torch.optim.SGD(twin.parameters(), lr=0.05)
    X, y = data(n=84, seed=4)
    batch = 16
    epochs = 3
    model.fit(X, y, epochs=epochs, batch_size=batch, shuffle=False, verbose=0)
    twin.train()
    for _ in range(epochs):
        for start in range(0, len(X), batch):
            optimizer.zero_grad()
            xb = torch.from_numpy(X[start:start + batch])
            F.mse_loss(twin(xb), torch.from_numpy(y[start:start + batch])).backward()
            optimizer.step()
    assert_close(model.get_param(1, "mean"), twin.bn.running_mean.numpy(), rtol=1e-9, what="running mean")
    assert_close(model.get_param(1, "var"), twin.bn.running_var.numpy(), rtol=1e-9, what="running var")
    assert_close(model.params(), twin.flat(), rtol=1e-9, what="parameters")
    assert np.abs(model.get_param(1, "var") - 1).max() > 0.1  # the statistics did move
    twin.eval()
    X_test, y_test = data(n=30, seed=5)
    with torch.no_grad():
        expected = twin(torch.from_numpy(X_test))
    assert_close(model.predict_output(X_test), expected.numpy(), rtol=1e-9, what="inference output")
    assert model.score(X_test, y_test) == pytest.approx(F.mse_loss(expected, torch.from_numpy(y_test)).item(),
                                                        rel=1e-9)


# ----------------------------------------------------------------------------- finite differences
def check_gradients(model, X, Y, constant=None):
    """compute_gradients against central differences of the same (batch-statistics) score, as in
    test_gradients.py: relative error < 1e-6 or absolute error < 1e-8 per parameter. `constant`
    (a boolean mask) marks frozen parameters: the score depends on them but their gradient is 0."""
    net = model._network()
    X = np.ascontiguousarray(X, dtype=np.float64)
    Y = np.ascontiguousarray(Y, dtype=np.float64)
    theta = model.params()
    _, analytic = net.compute_gradients(X, Y)
    np.testing.assert_array_equal(model.params(), theta)  # nothing moved, running statistics included
    numeric = np.empty_like(theta)
    for i in range(theta.size):
        shifted = theta.copy()
        shifted[i] += EPS_FD
        model.set_params(shifted)
        plus = net.compute_gradients(X, Y)[0]
        shifted[i] = theta[i] - EPS_FD
        model.set_params(shifted)
        minus = net.compute_gradients(X, Y)[0]
        numeric[i] = (plus - minus) / (2 * EPS_FD)
    model.set_params(theta)
    diff = np.abs(analytic - numeric)
    total = np.abs(analytic) + np.abs(numeric)
    rel = np.divide(diff, total, out=np.zeros_like(diff), where=total > 0)
    bad = (rel > MAX_REL_ERROR) & (diff > MIN_ABS_ERROR)
    if constant is not None:
        bad &= ~constant
        np.testing.assert_array_equal(analytic[constant], 0.0)
    assert not bad.any(), (f"{bad.sum()} of {theta.size} parameters fail: index {np.flatnonzero(bad)[:8]}, "
                           f"analytic {analytic[bad][:4]}, numeric {numeric[bad][:4]}")
    assert np.abs(analytic).max() > 1e-3, "trivial (all-zero) gradient"
    return analytic


def _fd_network(frozen=False, **bn_options):
    bn = BatchNormalization(**bn_options)
    bn.frozen = frozen
    return en.Sequential([en.Dense(4, activation="identity"), bn, en.Dense(4, activation="tanh"),
                          en.Output(3, activation="softmax", loss="mcxent")], input_dim=3, dtype="float64", seed=5)


def _fd_data(rng, n=8):
    return rng.normal(size=(n, 3)), np.eye(3)[rng.integers(0, 3, size=n)]


@pytest.mark.parametrize("n", [3, 8, 16])
def test_finite_differences(n):
    rng = np.random.default_rng(n)
    model = _fd_network()
    randomize(model, rng)
    X, Y = _fd_data(rng, n)
    grad = check_gradients(model, X, Y)
    bn = [loc for loc in model._network().param_locations() if loc["layer"] == 1]
    assert [loc["name"] for loc in bn] == ["gamma", "beta", "mean", "var"]
    for loc in bn:
        segment = grad[loc["offset"]:loc["offset"] + 4]
        if loc["trainable"]:
            assert np.abs(segment).max() > 1e-4, loc["name"]
        else:
            np.testing.assert_array_equal(segment, 0.0)


def test_finite_differences_with_locked_gamma_beta_and_regularization():
    rng = np.random.default_rng(9)
    model = en.Sequential([en.Dense(4, activation="identity"), BatchNormalization(lock_gamma_beta=True, gamma=1.5,
                                                                                  beta=-0.5),
                           en.Dense(4, activation="tanh"), en.Output(3, activation="softmax", loss="mcxent")],
                          input_dim=3, dtype="float64", seed=5, l2=0.1, regularize_bias=True)
    randomize(model, rng)
    X, Y = _fd_data(rng)
    check_gradients(model, X, Y)


def test_frozen_batchnorm_uses_running_statistics_and_passes_the_gradient_on():
    rng = np.random.default_rng(10)
    model = _fd_network(frozen=True)
    assert model.get_config()["layers"][1]["frozen"] is True
    randomize(model, rng)
    model.set_param(1, "mean", rng.normal(size=4))
    model.set_param(1, "var", rng.uniform(0.5, 2.0, size=4))
    X, Y = _fd_data(rng)
    bn_slice = slice(4 * 3 + 4, 4 * 3 + 4 + 16)
    frozen = np.zeros(model.num_params, dtype=bool)
    frozen[bn_slice] = True
    grad = check_gradients(model, X, Y, constant=frozen)  # gamma, beta, mean, var: gradient exactly 0
    assert np.abs(grad[:16]).max() > 1e-3  # the layer below still learns through it
    before = model.params()
    model.updater = en.SGD(learning_rate=0.1)
    model.fit(X, Y.argmax(axis=1), epochs=2, batch_size=4, verbose=0)
    np.testing.assert_array_equal(model.params()[bn_slice], before[bn_slice])
    # and it normalizes with its running statistics, in training as at inference
    h = X @ model.get_param(0, "W") + model.get_param(0, "b")
    bn = (model.get_param(1, "gamma") * (h - model.get_param(1, "mean")) / np.sqrt(model.get_param(1, "var") + 1e-5)
          + model.get_param(1, "beta"))
    logits = np.tanh(bn @ model.get_param(2, "W") + model.get_param(2, "b")) @ model.get_param(3, "W") + \
        model.get_param(3, "b")
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    assert_close(model.predict_output(X), expected / expected.sum(axis=1, keepdims=True), rtol=1e-12)


# ----------------------------------------------------------------------------- running statistics, lock, edge cases
def test_lock_gamma_beta_fixes_them_and_they_are_not_parameters():
    model = make_model(lock_gamma_beta=True, gamma=2.0, beta=0.5, updater=en.Adam(learning_rate=0.05))
    names = [loc["name"] for loc in model._network().param_locations() if loc["layer"] == 1]
    assert names == ["mean", "var"]
    assert model.num_params == N_IN * N_H + N_H + 2 * N_H + N_H * N_H2 + N_H2 + N_H2 * N_OUT + N_OUT
    with pytest.raises(ValueError, match='has no parameter "gamma"; it has mean, var'):
        model.get_param(1, "gamma")
    X, y = data(n=64, seed=6)
    model.fit(X, y, epochs=5, batch_size=16, verbose=0)
    h = X @ model.get_param(0, "W") + model.get_param(0, "b")
    bn = 2.0 * (h - model.get_param(1, "mean")) / np.sqrt(model.get_param(1, "var") + 1e-5) + 0.5
    out = np.tanh(bn @ model.get_param(2, "W") + model.get_param(2, "b")) @ model.get_param(3, "W") + \
        model.get_param(3, "b")
    assert_close(model.predict_output(X), out, rtol=1e-12)
    stored = model.get_config()["layers"][1]
    assert stored["lock_gamma_beta"] is True and stored["gamma"] == 2.0 and stored["beta"] == 0.5


def test_gamma_and_beta_start_at_the_configured_values_when_learnable():
    model = en.Sequential([BatchNormalization(gamma=0.5, beta=2.0), en.Output(2)], input_dim=3)
    np.testing.assert_array_equal(model.get_param(0, "gamma"), 0.5)
    np.testing.assert_array_equal(model.get_param(0, "beta"), 2.0)
    np.testing.assert_array_equal(model.get_param(0, "mean"), 0.0)
    np.testing.assert_array_equal(model.get_param(0, "var"), 1.0)
    assert model.get_param(0, "mean").shape == (3,)


def test_a_batch_of_one_normalizes_to_beta_and_keeps_the_running_variance():
    rng = np.random.default_rng(7)
    model = en.Sequential([BatchNormalization(decay=0.5), en.Output(1, activation="identity", loss="mse")],
                          input_dim=4, updater=en.SGD(learning_rate=1.0), dtype="float64", seed=1)
    model.set_params(np.zeros(model.num_params))
    beta = rng.normal(size=4)
    model.set_param(0, "gamma", np.ones(4))
    model.set_param(0, "beta", beta)
    model.set_param(0, "var", np.full(4, 3.0))
    x = rng.normal(size=(1, 4))
    model.fit(x, -np.ones(1), epochs=1, batch_size=1, shuffle=False, verbose=0)
    # Output(1) with W = 0, label -1: dL/dz = 2, so W moves by -2 * (BN output) = -2 * beta
    assert_close(model.get_param(1, "W")[:, 0], -2 * beta, rtol=1e-15)
    assert_close(model.get_param(0, "mean"), 0.5 * x[0], rtol=1e-15)
    np.testing.assert_array_equal(model.get_param(0, "var"), 3.0)  # unbiased variance of one sample: undefined
    X, y = data(n=7, seed=8)
    model = make_model(updater=en.Adam(learning_rate=0.01))
    model.fit(X, y, epochs=2, batch_size=1, verbose=0)  # online learning through BatchNorm
    assert np.isfinite(model.params()).all()
    np.testing.assert_array_equal(model.get_param(1, "var"), 1.0)
    assert np.abs(model.get_param(1, "mean")).max() > 1e-3


def test_running_statistics_are_not_regularized_or_decayed():
    """decay=1 freezes the running statistics at 0 / 1; l1, l2, weight decay and regularize_bias must not
    move them either (they are state, not parameters)."""
    model = en.Sequential([en.Dense(4), BatchNormalization(decay=1.0), en.Output(2)], input_dim=3, l1=0.01, l2=0.1,
                          weight_decay=0.1, regularize_bias=True, updater=en.Adam(learning_rate=0.01), seed=2,
                          dtype="float64")
    X, y = data(n=40, seed=9)
    labels = (y[:, 0] > 0).astype(int)
    gamma_before = model.get_param(1, "gamma")
    model.fit(X[:, :3], labels, epochs=3, batch_size=8, verbose=0)
    np.testing.assert_array_equal(model.get_param(1, "mean"), 0.0)
    np.testing.assert_array_equal(model.get_param(1, "var"), 1.0)
    assert np.abs(model.get_param(1, "gamma") - gamma_before).max() > 1e-4  # while gamma trains
    locations = {loc["name"]: loc for loc in model._network().param_locations() if loc["layer"] == 1}
    assert not locations["mean"]["trainable"] and not locations["var"]["trainable"]
    assert locations["gamma"]["trainable"] and locations["gamma"]["is_bias"]
    grad = model.compute_gradients(X[:, :3], labels)
    for name in ("mean", "var"):
        np.testing.assert_array_equal(grad[locations[name]["offset"]:locations[name]["offset"] + 4], 0.0)


def test_deterministic_mode_does_not_update_running_statistics():
    model = make_model()
    X, y = data(n=32, seed=10)
    model.fit(X, y, epochs=1, batch_size=8, verbose=0)
    mean, var = model.get_param(1, "mean"), model.get_param(1, "var")
    model.compute_gradients(X, y)
    model.score(X, y)
    model.predict_output(X)
    np.testing.assert_array_equal(model.get_param(1, "mean"), mean)
    np.testing.assert_array_equal(model.get_param(1, "var"), var)


def test_float32_agrees_with_float64():
    layers = [en.Dense(N_H, activation="identity"), BatchNormalization(), en.Dense(N_H2, activation="tanh"),
              en.Output(N_OUT, activation="identity", loss="mse")]
    m64 = en.Sequential(layers, input_dim=N_IN, dtype="float64", seed=3)
    m32 = en.Sequential(layers, input_dim=N_IN, dtype="float32", seed=3)
    randomize(m64, np.random.default_rng(11))
    m32.set_params(m64.params().astype(np.float32))
    m64.set_params(m32.params().astype(np.float64))
    X, y = data(n=32, seed=11)
    X = X.astype(np.float32).astype(np.float64)
    g64, g32 = m64.compute_gradients(X, y), m32.compute_gradients(X, y)
    np.testing.assert_allclose(g32, g64, rtol=1e-3, atol=1e-4 * np.abs(g64).max())
    for model in (m32, m64):
        model.fit(X, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    np.testing.assert_allclose(m32.get_param(1, "var"), m64.get_param(1, "var"), rtol=1e-4)
    np.testing.assert_allclose(m32.predict_output(X), m64.predict_output(X), rtol=1e-3, atol=1e-4)


# ----------------------------------------------------------------------------- persistence and learning
def test_save_load_round_trip_keeps_running_statistics(tmp_path):
    model = make_model(decay=0.8, eps=1e-3, updater=en.Adam(learning_rate=0.01))
    X, y = data(n=48, seed=12)
    model.fit(X, y, epochs=3, batch_size=16, verbose=0)
    assert np.abs(model.get_param(1, "mean")).max() > 1e-3
    path = tmp_path / "bn.eignet"
    model.save(path)
    loaded = en.load(path)
    assert isinstance(loaded.layers[1], BatchNormalization)
    assert loaded.layers[1].get_config() == model.layers[1].get_config()
    np.testing.assert_array_equal(loaded.params(), model.params())
    np.testing.assert_array_equal(loaded.get_param(1, "mean"), model.get_param(1, "mean"))
    np.testing.assert_array_equal(loaded.get_param(1, "var"), model.get_param(1, "var"))
    np.testing.assert_array_equal(loaded.predict_output(X), model.predict_output(X))
    # and both continue identically (running statistics, updater state and random stream restored)
    for m in (model, loaded):
        m.fit(X, y, epochs=1, batch_size=16, verbose=0)
    np.testing.assert_array_equal(loaded.params(), model.params())


def test_transferring_parameters_carries_the_running_statistics():
    trained = make_model()
    X, y = data(n=40, seed=13)
    trained.fit(X, y, epochs=2, batch_size=8, verbose=0)
    fresh = make_model(seed=99)
    fresh.set_params(trained.params())
    np.testing.assert_array_equal(fresh.predict_output(X), trained.predict_output(X))


def test_batchnorm_trains_the_digits():
    X, y = en.load_digits()
    X_train, X_test, y_train, y_test = en.train_test_split(X, y, test_size=0.25, seed=0)  # raw 0..16 pixels
    model = en.Sequential(
        [en.Dense(64, activation="identity"), BatchNormalization(), en.ActivationLayer("relu"),
         en.Dense(32, activation="identity"), BatchNormalization(), en.ActivationLayer("relu"),
         en.Output(10, activation="softmax", loss="mcxent")],
        input_dim=64, updater=en.Adam(learning_rate=1e-2), seed=1)
    model.fit(X_train, y_train, epochs=10, batch_size=32, verbose=0)
    accuracy = model.evaluate(X_test, y_test)["accuracy"]
    assert accuracy >= 0.95, accuracy
    var = model.get_param(1, "var")
    assert var.max() > 10  # the running variance learned the scale of the unscaled pixels


# ----------------------------------------------------------------------------- configuration
def test_config_round_trip():
    layer = BatchNormalization(decay=0.8, eps=1e-3, lock_gamma_beta=True, gamma=2.0, beta=-1.0)
    model = en.Sequential([en.Dense(4), layer, en.Output(2)], input_dim=3)
    stored = model.get_config()["layers"][1]
    assert stored["type"] == "BatchNormalization" and stored["n_out"] == 4
    rebuilt = Layer.from_config(stored)
    assert isinstance(rebuilt, BatchNormalization)
    assert rebuilt.get_config() == layer.get_config()
    assert "BatchNormalization" in repr(rebuilt)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(decay=1.5), ValueError, r"decay must be in \[0, 1\]"),
    (dict(decay=-0.1), ValueError, r"decay must be in \[0, 1\]"),
    (dict(decay="0.9"), TypeError, "decay must be a number"),
    (dict(eps=0.0), ValueError, "eps must be > 0"),
    (dict(eps=float("nan")), ValueError, "eps must be finite"),
    (dict(lock_gamma_beta=1), TypeError, "lock_gamma_beta must be True or False"),
    (dict(gamma=float("inf")), ValueError, "gamma must be finite"),
    (dict(beta=None), TypeError, "beta must be a number"),
])
def test_arguments_are_validated(kwargs, error, message):
    with pytest.raises(error, match=f"BatchNormalization: {message}"):
        BatchNormalization(**kwargs)


@pytest.mark.parametrize("changes, message", [
    ({"decay": 2}, r"BatchNormalization\(0\): decay must be in \[0, 1\]"),
    ({"eps": 0}, r"BatchNormalization\(0\): eps must be finite and > 0"),
    ({"n_out": 5}, r"BatchNormalization\(0\): n_out must equal n_in \(3\)"),
    ({"activation": "relu"}, "BatchNormalization has no activation"),
])
def test_core_validates_stored_configurations(changes, message):
    layer = {"type": "BatchNormalization", **changes}
    config = {"input_dim": 3, "layers": [layer, {"type": "Output", "n_out": 2, "loss": "mcxent"}]}
    with pytest.raises(ValueError, match=message):
        en._core.NetworkF64(json.dumps(config))


def test_hessian_free_refuses_batchnorm():
    ok, why = make_model()._network().supports_gauss_newton()
    assert not ok and "layer 1 (BatchNormalization)" in why
