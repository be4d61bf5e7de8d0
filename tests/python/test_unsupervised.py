"""Unsupervised layers (issue #4): AutoEncoder, RBM, VariationalAutoencoder.

How the gradients are checked
-----------------------------
The layers expose their objective only through pretraining, so the checks use the public API:
a float64 model with ``SGD(learning_rate=1)`` is saved once; every evaluation loads that file (which
restores the random stream too), sets the parameters and runs ``model.pretrain`` for one epoch on
the whole batch (``shuffle=False``). The returned history holds the objective f(theta) at the
parameters before the step and the step changes theta by exactly -grad f(theta) (up to the round-off
of theta - (theta - grad)). Because every
load restarts the same random stream, the masking noise of a denoising autoencoder and the
reparameterization noise eps of a VAE are the same in every evaluation: f is then a deterministic
function of theta and its gradient can be compared with central differences
``(f(theta + h d) - f(theta - h d)) / (2 h)`` along a random direction d restricted to each
parameter tensor in turn. The objective values themselves are compared with NumPy
implementations of the documented formulas (for the VAE with a log-variance head pinned at -60,
so that z = mu up to 1e-13 and no noise enters). CD-k, which follows no gradient, is checked through
its reported objective and its effect.
"""

import numpy as np
import pytest

import eigennet as en
from eigennet.unsupervised import RBM, AutoEncoder, VariationalAutoencoder


# ---------------------------------------------------------------- data and helpers
@pytest.fixture(scope="module")
def digits():
    X, y = en.load_digits()
    return X / 16.0, y


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def softplus(z):
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def bernoulli_nll(logits, x):
    """Per-sample -log p(x | logits), summed over features."""
    return (softplus(logits) - x * logits).sum(axis=1)


def model_with(layer, *, updater=None, dtype="float32", seed=7, below=()):
    model = en.Sequential([*below, layer, en.Output(10)], updater=updater or en.Adam(learning_rate=1e-2),
                          seed=seed, dtype=dtype)
    model.build(64)
    return model


def param_names(model, layer):
    net = model._network()
    return [loc["name"] for loc in net.param_locations() if loc["layer"] == layer]


def objective_and_gradient(path, X, layer, values):
    """f(theta) and grad f(theta) (per parameter name) of `layer`'s objective, with the random
    stream of the saved model (see the module docstring)."""
    model = en.load(path)
    for name, value in values.items():
        model.set_param(layer, name, value)
    before = {name: model.get_param(layer, name) for name in values}
    history = model.pretrain(X, epochs=1, batch_size=len(X), shuffle=False, verbose=0)[layer]
    gradient = {name: before[name] - model.get_param(layer, name) for name in values}
    return history[0], gradient


def check_gradient(path, X, layer, names, seed=0, h=1e-6):
    model = en.load(path)
    theta = {name: model.get_param(layer, name) for name in names}
    f0, grad = objective_and_gradient(path, X, layer, theta)
    assert np.isfinite(f0)
    rng = np.random.default_rng(seed)
    for name in names:
        d = rng.standard_normal(theta[name].shape)
        plus = dict(theta, **{name: theta[name] + h * d})
        minus = dict(theta, **{name: theta[name] - h * d})
        f_plus = objective_and_gradient(path, X, layer, plus)[0]
        f_minus = objective_and_gradient(path, X, layer, minus)[0]
        numeric = (f_plus - f_minus) / (2 * h)
        analytic = float(np.sum(grad[name] * d))
        assert abs(analytic) > 1e-6, f"{name}: gradient is trivially zero"
        # Round-off of the difference quotient is about 1e-16 |f| / h = 1e-10 |f|.
        assert abs(analytic - numeric) <= 1e-6 * (abs(analytic) + abs(numeric)) + 2e-9 * (1 + abs(f0)), \
            (name, analytic, numeric)
    return f0, theta


# ---------------------------------------------------------------- structure
def test_parameters_and_supervised_layout(digits):
    tied = model_with(AutoEncoder(12))
    assert param_names(tied, 0) == ["W", "b", "vb"]  # a tied autoencoder has no W_dec
    untied = model_with(AutoEncoder(12, tied=False))
    assert param_names(untied, 0) == ["W", "b", "vb", "W_dec"]
    assert untied.get_param(0, "W").shape == (64, 12) and untied.get_param(0, "W_dec").shape == (12, 64)
    assert untied.get_param(0, "vb").shape == (64,)
    rbm = model_with(RBM(12))
    assert param_names(rbm, 0) == ["W", "b", "vb"]
    assert np.std(rbm.get_param(0, "W")) == pytest.approx(0.01, rel=0.1)  # Hinton's N(0, 0.01^2)
    vae = model_with(VariationalAutoencoder(3, (10, 9), (8,), reconstruction="gaussian"))
    assert param_names(vae, 0) == ["enc0_W", "enc0_b", "enc1_W", "enc1_b", "mu_W", "mu_b", "logvar_W", "logvar_b",
                                   "dec0_W", "dec0_b", "out_W", "out_b", "out_logvar_W", "out_logvar_b"]
    assert vae.get_param(0, "mu_W").shape == (9, 3) and vae.get_param(0, "out_W").shape == (8, 64)
    # The supervised output of each layer is its encoder, computed here in NumPy.
    X = digits[0][:5]
    for model, encode in (
        (tied, lambda m: sigmoid(X @ m.get_param(0, "W") + m.get_param(0, "b"))),
        (rbm, lambda m: sigmoid(X @ m.get_param(0, "W") + m.get_param(0, "b"))),
    ):
        logits = encode(model) @ model.get_param(1, "W") + model.get_param(1, "b")
        proba = np.exp(logits - logits.max(1, keepdims=True))
        np.testing.assert_allclose(model.predict_output(X), proba / proba.sum(1, keepdims=True), rtol=1e-4, atol=1e-6)


# ---------------------------------------------------------------- training lowers the reconstruction error
STANDARDIZED = "standardized"
CASES = {
    "autoencoder-mse": (lambda: AutoEncoder(32), 1e-2, None, 0.25),
    "autoencoder-xent-untied": (lambda: AutoEncoder(32, tied=False, loss="xent"), 1e-2, None, 0.5),
    "rbm-binary": (lambda: RBM(32), 1e-2, None, 0.6),
    "rbm-gaussian": (lambda: RBM(32, visible="gaussian", k=2), 1e-3, STANDARDIZED, 0.85),
    "vae-bernoulli": (lambda: VariationalAutoencoder(4, (64,), (64,)), 1e-2, None, 0.6),
    "vae-gaussian": (lambda: VariationalAutoencoder(4, (64,), (64,), reconstruction="gaussian"), 1e-3, None, 0.25),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_reconstruction_error_falls_during_pretraining(digits, case):
    make, learning_rate, scaling, ratio = CASES[case]
    X = digits[0]
    if scaling == STANDARDIZED:
        std = X.std(axis=0)
        X = (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)
    model = model_with(make(), updater=en.Adam(learning_rate=learning_rate))
    before = model.reconstruction_error(X)
    history = model.pretrain(X, epochs=5, batch_size=32, verbose=0)[0]
    after = model.reconstruction_error(X)
    assert len(history) == 5 and all(np.isfinite(history))
    assert history[-1] < history[0]
    assert after < ratio * before, (case, before, after)


def test_denoising_autoencoder_removes_masking_noise(digits):
    X, y = digits
    X_train, X_test, _, _ = en.train_test_split(X, y, seed=0)
    corrupted = X_test * (np.random.default_rng(0).random(X_test.shape) >= 0.3)
    errors = {}
    for level in (0.0, 0.3):
        model = model_with(AutoEncoder(48, corruption_level=level), seed=3)
        model.pretrain(X_train, epochs=20, batch_size=32, verbose=0)
        errors[level] = np.mean((model.reconstruct(corrupted) - X_test) ** 2)
    identity = np.mean((corrupted - X_test) ** 2)
    assert errors[0.3] < 0.6 * identity  # better than returning the corrupted input
    assert errors[0.3] < errors[0.0]  # and better than an autoencoder trained without noise


def test_sparse_autoencoder_moves_mean_activation_to_target(digits):
    X = digits[0]
    means = {}
    for weight in (0.0, 3.0):
        model = model_with(AutoEncoder(32, sparsity=0.05, sparsity_weight=weight), seed=3)
        model.pretrain(X, epochs=10, batch_size=32, verbose=0)
        means[weight] = sigmoid(X @ model.get_param(0, "W") + model.get_param(0, "b")).mean()
    assert means[0.0] > 0.3
    assert abs(means[3.0] - 0.05) < 0.02


# ---------------------------------------------------------------- exact objectives and gradients (float64)
def autoencoder_objective(X, p, tied, loss, rho, beta):
    h = sigmoid(X @ p["W"] + p["b"])
    z = h @ (p["W"].T if tied else p["W_dec"]) + p["vb"]
    if loss == "xent":
        per_sample = bernoulli_nll(z, X)
    else:
        per_sample = ((sigmoid(z) - X) ** 2).mean(axis=1)
    q = h.mean(axis=0)
    penalty = beta * np.sum(rho * np.log(rho / q) + (1 - rho) * np.log((1 - rho) / (1 - q))) if beta else 0.0
    return per_sample.mean() + penalty


@pytest.mark.parametrize("tied,loss,corruption", [(True, "mse", 0.3), (False, "xent", 0.0), (True, "xent", 0.2)])
def test_autoencoder_gradient_and_objective(digits, tmp_path, tied, loss, corruption):
    X = digits[0][:20]
    layer = AutoEncoder(7, tied=tied, loss=loss, corruption_level=corruption, sparsity=0.1, sparsity_weight=0.5)
    model = model_with(layer, updater=en.SGD(learning_rate=1.0), dtype="float64")
    path = str(tmp_path / "ae.enet")
    model.save(path)
    names = param_names(model, 0)
    f0, theta = check_gradient(path, X, 0, names)
    if corruption == 0.0:
        assert f0 == pytest.approx(autoencoder_objective(X, theta, tied, loss, 0.1, 0.5), rel=1e-10)
        error = autoencoder_objective(X, theta, tied, loss, 0.1, 0.0)  # no penalty
        assert model.reconstruction_error(X) == pytest.approx(error, rel=1e-10)
    else:
        # The objective sees the corrupted input: different from the clean one, same penalty form.
        assert f0 != pytest.approx(autoencoder_objective(X, theta, tied, loss, 0.1, 0.5), rel=1e-6)


def vae_forward(X, p, enc, dec, activation):
    h = X
    for i in range(enc):
        h = activation(h @ p[f"enc{i}_W"] + p[f"enc{i}_b"])
    mu = h @ p["mu_W"] + p["mu_b"]
    lv = h @ p["logvar_W"] + p["logvar_b"]
    d = mu
    for i in range(dec):
        d = activation(d @ p[f"dec{i}_W"] + p[f"dec{i}_b"])
    out = d @ p["out_W"] + p["out_b"]
    out_lv = d @ p["out_logvar_W"] + p["out_logvar_b"] if "out_logvar_W" in p else None
    return mu, lv, out, out_lv


@pytest.mark.parametrize("reconstruction,activation", [("bernoulli", "tanh"), ("gaussian", "relu")])
def test_vae_gradient_and_objective(digits, tmp_path, reconstruction, activation):
    X = digits[0][:20]
    layer = VariationalAutoencoder(3, (12, 8), (9,), activation=activation, reconstruction=reconstruction,
                                   num_samples=2)
    model = model_with(layer, updater=en.SGD(learning_rate=1.0), dtype="float64")
    if reconstruction == "gaussian":  # moderate output variances keep the objective O(100)
        model.set_param(0, "out_logvar_b", np.full(64, -1.0))
    path = str(tmp_path / "vae.enet")
    model.save(path)
    names = param_names(model, 0)
    check_gradient(path, X, 0, names)

    # Objective against NumPy with a sharp posterior (sigma = e^-30: z = mu, no noise enters).
    pinned = en.load(path)
    theta = {name: pinned.get_param(0, name) for name in names}
    theta["logvar_W"] = np.zeros_like(theta["logvar_W"])
    theta["logvar_b"] = np.full(3, -60.0)
    f0, _ = objective_and_gradient(path, X, 0, theta)
    act = np.tanh if activation == "tanh" else (lambda z: np.maximum(z, 0))
    mu, lv, out, out_lv = vae_forward(X, theta, 2, 1, act)
    kl = 0.5 * (mu**2 + np.exp(lv) - lv - 1).sum(axis=1)
    if reconstruction == "bernoulli":
        nll = bernoulli_nll(out, X)
    else:
        nll = 0.5 * (np.log(2 * np.pi) + out_lv + (X - out) ** 2 * np.exp(-out_lv)).sum(axis=1)
    assert f0 == pytest.approx(np.mean(kl + nll), rel=1e-9)
    # reconstruct() is the decoder mean at z = mu.
    pinned = en.load(path)
    for name, value in theta.items():
        pinned.set_param(0, name, value)
    mean = sigmoid(out) if reconstruction == "bernoulli" else out
    np.testing.assert_allclose(pinned.reconstruct(X), mean, rtol=1e-10, atol=1e-12)
    # The supervised output is mu.
    hidden = pinned.predict_output(X)
    logits = mu @ pinned.get_param(1, "W") + pinned.get_param(1, "b")
    expected = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(hidden, expected / expected.sum(1, keepdims=True), rtol=1e-10)


@pytest.mark.parametrize("visible", ["binary", "gaussian"])
def test_rbm_objective_is_mean_field_reconstruction_error(digits, tmp_path, visible):
    X = digits[0][:40]
    if visible == "gaussian":
        X = X - 0.5
    model = model_with(RBM(9, visible=visible, k=3, sparsity=0.2, sparsity_weight=0.3),
                       updater=en.SGD(learning_rate=1.0), dtype="float64")
    model.set_param(0, "W", np.random.default_rng(1).normal(0, 0.3, (64, 9)))
    path = str(tmp_path / "rbm.enet")
    model.save(path)
    p = {name: model.get_param(0, name) for name in ("W", "b", "vb")}
    q = sigmoid(X @ p["W"] + p["b"])
    z = q @ p["W"].T + p["vb"]
    error = bernoulli_nll(z, X).mean() if visible == "binary" else ((z - X) ** 2).mean()
    penalty = 0.3 * np.sum(0.2 * np.log(0.2 / q.mean(0)) + 0.8 * np.log(0.8 / (1 - q.mean(0))))
    f0, grad = objective_and_gradient(path, X, 0, p)
    assert f0 == pytest.approx(error + penalty, rel=1e-10)
    assert model.reconstruction_error(X) == pytest.approx(error, rel=1e-10)
    np.testing.assert_allclose(model.reconstruct(X), sigmoid(z) if visible == "binary" else z, rtol=1e-10)
    # CD-k moves every parameter; the visible-bias update is mean(v_k - x) with v_k a mean-field
    # visible state: for binary units v_k is in (0, 1).
    assert all(np.abs(g).max() > 0 for g in grad.values())
    if visible == "binary":
        v_k_mean = grad["vb"] + X.mean(axis=0)
        assert np.all((v_k_mean > 0) & (v_k_mean < 1))


def test_rbm_contrastive_divergence_learns_data_statistics(digits):
    # After CD training the mean-field reconstructions reflect the data: the pixels that are blank in
    # every digit are reconstructed near 0 and the mean image matches the data's.
    X = digits[0]
    model = model_with(RBM(32, k=1), updater=en.Adam(learning_rate=1e-2), seed=5)
    model.pretrain(X, epochs=5, batch_size=32, verbose=0)
    reconstruction = model.reconstruct(X)
    blank = X.max(axis=0) == 0
    assert blank.any()
    assert reconstruction[:, blank].mean() < 0.05
    assert np.corrcoef(reconstruction.mean(0), X.mean(0))[0, 1] > 0.95


# ---------------------------------------------------------------- VAE probabilities and sampling
@pytest.fixture(scope="module")
def trained_vae(digits):
    X = digits[0]
    model = model_with(VariationalAutoencoder(4, (64,), (64,)), seed=11)
    model.pretrain(X, epochs=10, batch_size=32, verbose=0)
    return model


def test_vae_reconstruction_log_probability(digits, trained_vae):
    X = digits[0][:300]
    log_p = trained_vae.reconstruction_log_probability(X, num_samples=16)
    assert log_p.shape == (300,) and np.all(np.isfinite(log_p))
    noise = np.random.default_rng(0).random((300, 64))
    log_p_noise = trained_vae.reconstruction_log_probability(noise, num_samples=16)
    assert np.all(np.isfinite(log_p_noise))
    assert np.median(log_p) > np.median(log_p_noise) + 10
    # Importance sampling: more samples give a tighter (higher on average) lower bound.
    one = trained_vae.reconstruction_log_probability(X, num_samples=1)
    assert log_p.mean() > one.mean()


def test_vae_one_sample_log_weight_averages_to_the_elbo(digits, trained_vae):
    # E[log w] with one draw is the ELBO, i.e. minus the pretraining objective; the objective is
    # evaluated here with 64 draws per input in a copy of the model (NoOp updater: nothing moves).
    X = digits[0]
    copy = en.Sequential([VariationalAutoencoder(4, (64,), (64,), num_samples=64), en.Output(10)],
                         updater=en.NoOp(), seed=1, input_dim=64)
    copy.set_params(trained_vae.params())
    objective = copy.pretrain(X, epochs=1, batch_size=len(X), verbose=0)[0][0]
    np.testing.assert_array_equal(copy.params(), trained_vae.params())
    elbo = trained_vae.reconstruction_log_probability(X, num_samples=1).mean()
    assert elbo == pytest.approx(-objective, abs=0.3)  # |objective| ~ 25, Monte Carlo error ~ 0.05


def test_vae_generate(trained_vae):
    Z = np.random.default_rng(0).standard_normal((50, 4))
    samples = trained_vae.generate(Z)
    assert samples.shape == (50, 64)
    assert np.all((samples >= 0) & (samples <= 1))
    assert samples.std(axis=0).max() > 0.05  # different z give different digits
    with pytest.raises(ValueError, match="latent"):
        trained_vae.generate(np.zeros((2, 5)))


def test_gaussian_vae_generate_is_the_output_mean(digits):
    model = model_with(VariationalAutoencoder(2, (16,), (16,), reconstruction="gaussian"), dtype="float64")
    Z = np.random.default_rng(0).standard_normal((5, 2))
    d = np.maximum(Z @ model.get_param(0, "dec0_W") + model.get_param(0, "dec0_b"), 0)
    mean = d @ model.get_param(0, "out_W") + model.get_param(0, "out_b")
    np.testing.assert_allclose(model.generate(Z), mean, rtol=1e-10)


# ---------------------------------------------------------------- supervised use
DECODER = {
    "AutoEncoder": ["vb", "W_dec"],
    "RBM": ["vb"],
    "VariationalAutoencoder": ["logvar_W", "logvar_b", "dec0_W", "dec0_b", "out_W", "out_b"],
}


@pytest.mark.parametrize("make", [lambda: AutoEncoder(32, tied=False), lambda: RBM(32),
                                  lambda: VariationalAutoencoder(16, (64,), (32,))], ids=["ae", "rbm", "vae"])
def test_supervised_fit_leaves_decoder_unchanged(digits, make):
    X, y = digits
    X_train, X_test, y_train, y_test = en.train_test_split(X, y, seed=0)
    layer = make()
    model = model_with(layer, seed=2)
    model.pretrain(X_train, epochs=2, verbose=0)
    decoder = {name: model.get_param(0, name) for name in DECODER[type(layer).__name__]}
    encoder_name = "enc0_W" if isinstance(layer, VariationalAutoencoder) else "W"
    encoder = model.get_param(0, encoder_name)
    model.fit(X_train, y_train, epochs=15, batch_size=32, verbose=0)
    for name, value in decoder.items():
        np.testing.assert_array_equal(model.get_param(0, name), value, err_msg=name)
    assert not np.array_equal(model.get_param(0, encoder_name), encoder)
    assert model.evaluate(X_test, y_test)["accuracy"] > 0.85


@pytest.mark.parametrize("make", [lambda: AutoEncoder(6, tied=False), lambda: AutoEncoder(6, activation="tanh"),
                                  lambda: RBM(6), lambda: VariationalAutoencoder(4, (7, 5), (6,), activation="tanh")],
                         ids=["ae-untied", "ae-tanh", "rbm", "vae"])
def test_supervised_gradient_through_unsupervised_layer(digits, make):
    # Dense below the layer checks dL/d(input) too; decoder-only parameters get exactly zero.
    X, y = digits[0][:15], digits[1][:15]
    layer = make()
    model = en.Sequential([en.Dense(8, activation="tanh"), layer, en.Output(10)], seed=4, dtype="float64",
                          input_dim=64)
    grad = model.compute_gradients(X, y)
    net = model._network()
    theta = model.params()
    h = 1e-6
    rng = np.random.default_rng(0)
    decoder = set(DECODER[type(layer).__name__])
    for loc in net.param_locations():
        size = int(np.prod(loc["shape"]))
        block = slice(loc["offset"], loc["offset"] + size)
        if loc["layer"] == 1 and loc["name"] in decoder:
            assert np.all(grad[block] == 0), loc["name"]
            continue
        d = np.zeros_like(theta)
        d[block] = rng.standard_normal(size)
        model.set_params(theta + h * d)
        plus = model.score(X, y)
        model.set_params(theta - h * d)
        minus = model.score(X, y)
        numeric = (plus - minus) / (2 * h)
        analytic = grad @ d
        assert abs(analytic) > 1e-8, (loc["layer"], loc["name"])
        assert abs(analytic - numeric) <= 1e-6 * (abs(analytic) + abs(numeric)) + 1e-9, (loc["layer"], loc["name"])
    model.set_params(theta)


# ---------------------------------------------------------------- persistence
@pytest.mark.parametrize("make", [lambda: AutoEncoder(10, tied=False, loss="xent", corruption_level=0.2),
                                  lambda: RBM(10, visible="gaussian", k=2),
                                  lambda: VariationalAutoencoder(3, (20,), (20,), reconstruction="gaussian",
                                                                 num_samples=2)],
                         ids=["ae", "rbm", "vae"])
def test_save_load_round_trip(digits, tmp_path, make):
    X = digits[0][:200]
    model = model_with(make())
    model.pretrain(X, epochs=2, verbose=0)
    path = tmp_path / "model.enet"
    model.save(path)
    loaded = en.load(path)
    assert type(loaded.layers[0]) is type(model.layers[0])
    assert loaded.get_config()["layers"][0] == model.get_config()["layers"][0]
    np.testing.assert_array_equal(loaded.reconstruct(X), model.reconstruct(X))
    np.testing.assert_array_equal(loaded.predict_output(X), model.predict_output(X))
    if isinstance(model.layers[0], VariationalAutoencoder):
        Z = np.random.default_rng(0).standard_normal((4, 3))
        np.testing.assert_array_equal(loaded.generate(Z), model.generate(Z))
    # The Python layer rebuilt from the stored configuration equals the original.
    assert loaded.layers[0].get_config() == en.Layer.from_config(model.get_config()["layers"][0]).get_config()


# ---------------------------------------------------------------- bad arguments
@pytest.mark.parametrize("build,error,match", [
    (lambda: AutoEncoder(8, corruption_level=1.5), ValueError, "corruption_level"),
    (lambda: AutoEncoder(8, corruption_level="0.1"), TypeError, "corruption_level"),
    (lambda: AutoEncoder(8, activation="relu", sparsity=0.05, sparsity_weight=1.0), ValueError, "sigmoid"),
    (lambda: AutoEncoder(8, sparsity=0.0, sparsity_weight=1.0), ValueError, "sparsity target"),
    (lambda: AutoEncoder(8, sparsity=1.0), ValueError, "sparsity"),
    (lambda: AutoEncoder(8, loss="xent", activation="tanh"), ValueError, "sigmoid"),
    (lambda: AutoEncoder(8, loss="poisson"), ValueError, "loss"),
    (lambda: AutoEncoder(8, tied="yes"), TypeError, "tied"),
    (lambda: AutoEncoder("8"), TypeError, "units"),
    (lambda: RBM(8, k=0), ValueError, "k"),
    (lambda: RBM(8, k=1.5), TypeError, "k"),
    (lambda: RBM(8, visible="softmax"), ValueError, "visible"),
    (lambda: RBM(8, hidden="gaussian"), ValueError, "hidden"),
    (lambda: VariationalAutoencoder(2, reconstruction="poisson"), ValueError, "reconstruction"),
    (lambda: VariationalAutoencoder(2, encoder_layer_sizes=[]), ValueError, "encoder_layer_sizes"),
    (lambda: VariationalAutoencoder(2, decoder_layer_sizes=[8, 0]), ValueError, "decoder_layer_sizes"),
    (lambda: VariationalAutoencoder(2, num_samples=0), ValueError, "num_samples"),
    (lambda: VariationalAutoencoder(0), ValueError, "units"),
])
def test_bad_arguments(build, error, match):
    with pytest.raises(error, match=match):
        build()


@pytest.mark.parametrize("field,value,match", [
    ("corruption_level", 1.5, "corruption_level"),
    ("sparsity_weight", -1.0, "sparsity_weight"),
    ("loss", "L1", "reconstruction_loss"),
])
def test_core_validates_configurations_too(field, value, match):
    # Bypass the Python checks: the C++ core refuses the configuration on its own.
    layer = AutoEncoder(8)
    setattr(layer, field, value)
    with pytest.raises(ValueError, match=match):
        en.Sequential([layer, en.Output(10)], input_dim=64)


def test_inputs_outside_unit_interval_are_refused_where_probabilities_are_modelled(digits):
    X = digits[0][:50] * 16  # pixel counts 0..16
    for layer in (AutoEncoder(8, loss="xent"), RBM(8), VariationalAutoencoder(2, (8,), (8,))):
        model = model_with(layer)
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            model.pretrain(X, verbose=0)
    # Real-valued variants accept them (centred here: negative values too).
    for layer in (AutoEncoder(8, activation="identity"), RBM(8, visible="gaussian"),
                  VariationalAutoencoder(2, (8,), (8,), reconstruction="gaussian")):
        model = model_with(layer, updater=en.Adam(learning_rate=1e-4))
        assert np.isfinite(model.pretrain(digits[0][:50] - 0.5, verbose=0)[0][0])


def test_reconstruction_log_probability_needs_a_vae(digits):
    model = model_with(AutoEncoder(8))
    with pytest.raises(ValueError, match="VariationalAutoencoder"):
        model.reconstruction_log_probability(digits[0][:5], layer=0)
    with pytest.raises(ValueError, match="VariationalAutoencoder"):
        model.generate(np.zeros((2, 8)), layer=0)
