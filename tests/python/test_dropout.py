"""The dropout family: Dropout, GaussianDropout, AlphaDropout, GaussianNoise layers and the Dense
options ``dropout`` (on the layer's input) and ``weight_dropout`` (DropConnect).

How the training-mode behaviour is observed
-------------------------------------------
The noise only exists inside a training step, so the tests read it off one step of
``SGD(learning_rate=1)`` on one full batch (``shuffle=False``), where ``new params = old - gradient``:

* ``training_output``: the layers under test, then ``Output(B, identity, mse)`` with W = 0, b = 0
  and labels ``-I`` (B x B). Its output is 0 whatever the noise, so dL/dz = (2 / B^2) I and the new
  W is ``-(2 / B^2) H^T``, with H the (B, d) output of the layers under test in that training
  step. B is a power of two, so H comes back exactly.
* ``training_jacobian``: ``Dense(d, identity, no bias)`` on X = I (B = d samples), the layers under
  test, then ``Output(1, identity, l1)`` with w = 1, b = 0 and labels -1e6 (so dL/da = 1 / B for
  every sample). The Dense layer's new W is then ``W0 - J / B`` with J the element-wise derivative
  (B, d) that the BACKWARD pass of the layers under test used, and the Output's new w is
  ``1 - colsum(H) / B`` with H their FORWARD output. Checking H against J (e.g. H = J * W0 for
  Dropout) shows that backward used the mask forward drew.

Statistical checks draw N >= 65536 values and allow 5 standard errors (binomial for fractions,
the normal approximation for means and variances): a correct layer fails with probability < 1e-6,
and the draws are seeded, so each check is deterministic.
"""

import json
import math

import numpy as np
import pytest

import eigennet as en
from eigennet.layers import AlphaDropout, Dropout, GaussianDropout, GaussianNoise, Layer

B = 1024  # samples of the observation batch (a power of two)
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_LAMBDA = 1.0507009873554804934193349852946


# ----------------------------------------------------------------------------- observation helpers
def training_output(layers, X, seed=0, dtype="float64", **output_options):
    """The output of `layers` on X (B, d) in one training step (see the module docstring).
    `output_options` go to the observing Output layer (e.g. dropout=0.3 observes its dropped input)."""
    n, d = X.shape
    assert n & (n - 1) == 0, "the batch must be a power of two for an exact read-out"
    model = en.Sequential([*layers, en.Output(n, activation="identity", loss="mse", **output_options)], input_dim=d,
                          updater=en.SGD(learning_rate=1.0), seed=seed, dtype=dtype)
    model.set_params(np.zeros(model.num_params))
    model.fit(X, -np.eye(n), epochs=1, batch_size=n, shuffle=False, verbose=0)
    W = model.get_param(len(layers), "W")  # (d, n)
    return -W.T.astype(np.float64) * (n * n / 2.0)


def training_jacobian(layers, d=256, seed=0, **output_options):
    """(H, J, W0): forward output H of `layers` on the Dense layer's output W0 and the derivative J
    their backward pass used, both (d, d) (see the module docstring)."""
    model = en.Sequential([en.Dense(d, activation="identity", has_bias=False), *layers,
                           en.Output(1, activation="identity", loss="l1", **output_options)],
                          input_dim=d, updater=en.SGD(learning_rate=1.0), seed=seed, dtype="float64")
    W0 = np.random.default_rng(seed).uniform(0.5, 1.5, size=(d, d))
    model.set_param(0, "W", W0)
    last = len(layers) + 1
    model.set_param(last, "W", np.ones((d, 1)))
    model.set_param(last, "b", np.zeros(1))
    model.fit(np.eye(d), np.full(d, -1e6), epochs=1, batch_size=d, shuffle=False, verbose=0)
    J = (W0 - model.get_param(0, "W")) * d
    colsum = (1.0 - model.get_param(last, "W")[:, 0]) * d
    return colsum, J, W0


def assert_fraction(observed, p, n, what):
    """|observed - p| within 5 binomial standard errors of n draws."""
    tolerance = 5 * math.sqrt(p * (1 - p) / n)
    assert abs(observed - p) <= tolerance, f"{what}: {observed:.5f} vs {p} (tolerance {tolerance:.5f})"


def assert_mean(values, expected, what):
    tolerance = 5 * values.std() / math.sqrt(values.size)
    assert abs(values.mean() - expected) <= tolerance, f"{what}: mean {values.mean():.5f} vs {expected}"


def assert_variance(values, expected, what):
    """Sample variance within 5 standard errors ((m4 - s^4) / n, estimated from the sample)."""
    centered = values - values.mean()
    variance = np.mean(centered**2)
    tolerance = 5 * math.sqrt(max(np.mean(centered**4) - variance**2, 0.0) / values.size)
    assert abs(variance - expected) <= tolerance, f"{what}: variance {variance:.5f} vs {expected} (tol {tolerance:.5f})"


def selu(z):
    return SELU_LAMBDA * np.where(z > 0, z, SELU_ALPHA * np.expm1(np.minimum(z, 0)))


def alpha_dropout_constants(rate):
    """a, b and the value of dropped units, from Klambauer et al. 2017 (section 'New Dropout Technique')."""
    alpha_prime = -SELU_LAMBDA * SELU_ALPHA
    q = 1 - rate
    a = (q + alpha_prime**2 * q * (1 - q)) ** -0.5
    b = -a * (1 - q) * alpha_prime
    return a, b, a * alpha_prime + b


NOISE_LAYERS = {
    "Dropout": lambda: Dropout(0.3),
    "GaussianDropout": lambda: GaussianDropout(0.3),
    "AlphaDropout": lambda: AlphaDropout(0.3),
    "GaussianNoise": lambda: GaussianNoise(0.5),
}


# ----------------------------------------------------------------------------- the helpers themselves
def test_training_output_reads_the_input_back_exactly_without_noise():
    X = np.random.default_rng(0).normal(size=(B, 16))
    np.testing.assert_array_equal(training_output([], X), X)


def test_training_jacobian_of_no_noise_is_one():
    colsum, J, W0 = training_jacobian([], d=64)
    np.testing.assert_allclose(J, 1.0, rtol=1e-12)
    np.testing.assert_allclose(colsum, W0.sum(axis=0), rtol=1e-12)


# ----------------------------------------------------------------------------- Dropout
@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
def test_dropout_drops_the_rate_and_scales_the_rest(rate):
    X = np.random.default_rng(1).uniform(0.5, 1.5, size=(B, 64))
    H = training_output([Dropout(rate)], X)
    dropped = H == 0
    assert_fraction(dropped.mean(), rate, H.size, "dropped fraction")
    np.testing.assert_allclose(H[~dropped], X[~dropped] / (1 - rate), rtol=1e-15)
    assert_mean((H - X).ravel(), 0.0, "inverted dropout keeps the mean")


def test_dropout_masks_differ_between_units_and_samples():
    H = training_output([Dropout(0.5)], np.ones((B, 64)))
    rows = {tuple(r) for r in (H == 0)}
    assert len(rows) > B // 2  # not one mask broadcast over the batch
    assert 0.3 < (H == 0).mean(axis=0).min() and (H == 0).mean(axis=0).max() < 0.7  # every unit is dropped


def test_dense_dropout_option_drops_the_layer_input():
    """Output(dropout=rate) applies inverted dropout to what the Output layer receives."""
    rate = 0.4
    X = np.random.default_rng(2).uniform(0.5, 1.5, size=(B, 64))
    H = training_output([], X, dropout=rate)
    dropped = H == 0
    assert_fraction(dropped.mean(), rate, H.size, "Dense dropout fraction")
    np.testing.assert_allclose(H[~dropped], X[~dropped] / (1 - rate), rtol=1e-15)


def test_dropout_in_float32():
    X = np.ones((B, 64))
    H = training_output([Dropout(0.25)], X, dtype="float32")
    assert_fraction((H == 0).mean(), 0.25, H.size, "float32 dropped fraction")
    np.testing.assert_allclose(H[H != 0], np.float32(1 / 0.75), rtol=1e-7)


# ----------------------------------------------------------------------------- GaussianDropout
@pytest.mark.parametrize("rate", [0.2, 0.5])
def test_gaussian_dropout_noise_is_one_centred_with_variance_rate_over_keep(rate):
    H = training_output([GaussianDropout(rate)], np.ones((B, 64))).ravel()
    assert_mean(H, 1.0, "GaussianDropout noise")
    assert_variance(H, rate / (1 - rate), "GaussianDropout noise")
    assert np.unique(H).size > H.size // 2  # continuous noise, not a mask


# ----------------------------------------------------------------------------- AlphaDropout
@pytest.mark.parametrize("rate", [0.05, 0.2, 0.5])
def test_alpha_dropout_keeps_selu_mean_and_variance(rate):
    rng = np.random.default_rng(3)
    X = selu(rng.normal(size=(B, 256)))  # mean 0, variance 1: SELU's fixed point
    H = training_output([AlphaDropout(rate)], X)
    a, b, dropped_value = alpha_dropout_constants(rate)
    dropped = np.isclose(H, dropped_value, rtol=1e-13, atol=0)
    assert_fraction(dropped.mean(), rate, H.size, "AlphaDropout fraction")
    np.testing.assert_allclose(H[~dropped], a * X[~dropped] + b, rtol=1e-13, atol=1e-15)
    assert_mean(H.ravel(), 0.0, "AlphaDropout output")
    assert_variance(H.ravel(), 1.0, "AlphaDropout output")


def test_plain_dropout_would_not_keep_selu_variance():
    """The contrast that motivates AlphaDropout: the variance check above can fail."""
    X = selu(np.random.default_rng(3).normal(size=(B, 256)))
    H = training_output([Dropout(0.2)], X).ravel()
    centered = H - H.mean()
    assert np.mean(centered**2) > 1.1


# ----------------------------------------------------------------------------- GaussianNoise
@pytest.mark.parametrize("stddev", [0.1, 2.0])
def test_gaussian_noise_is_additive_with_the_given_stddev(stddev):
    X = np.random.default_rng(4).normal(size=(B, 64))
    noise = (training_output([GaussianNoise(stddev)], X) - X).ravel()
    assert_mean(noise, 0.0, "GaussianNoise")
    assert_variance(noise, stddev**2, "GaussianNoise")


# ----------------------------------------------------------------------------- backward uses forward's noise
def test_dropout_backward_uses_the_forward_mask():
    rate = 0.3
    colsum, J, W0 = training_jacobian([Dropout(rate)])
    dropped = J == 0
    assert_fraction(dropped.mean(), rate, J.size, "dropped fraction")
    np.testing.assert_allclose(J[~dropped], 1 / (1 - rate), rtol=1e-12)
    np.testing.assert_allclose(colsum, (J * W0).sum(axis=0), rtol=1e-12)


def test_dense_dropout_backward_uses_the_forward_mask():
    rate = 0.3
    colsum, J, W0 = training_jacobian([], dropout=rate)
    assert_fraction((J == 0).mean(), rate, J.size, "dropped fraction")
    np.testing.assert_allclose(J[J != 0], 1 / (1 - rate), rtol=1e-12)
    np.testing.assert_allclose(colsum, (J * W0).sum(axis=0), rtol=1e-12)


def test_gaussian_dropout_backward_uses_the_forward_noise():
    colsum, J, W0 = training_jacobian([GaussianDropout(0.3)])
    assert J.std() > 0.3  # it is noise, not ones
    np.testing.assert_allclose(colsum, (J * W0).sum(axis=0), rtol=1e-10)


def test_alpha_dropout_backward_uses_the_forward_mask():
    rate = 0.3
    a, b, dropped_value = alpha_dropout_constants(rate)
    colsum, J, W0 = training_jacobian([AlphaDropout(rate)])
    kept = J != 0
    assert_fraction(1 - kept.mean(), rate, J.size, "dropped fraction")
    np.testing.assert_allclose(J[kept], a, rtol=1e-12)
    expected = np.where(kept, a * W0 + b, dropped_value).sum(axis=0)
    np.testing.assert_allclose(colsum, expected, rtol=1e-10)


def test_gaussian_noise_backward_is_the_identity():
    colsum, J, W0 = training_jacobian([GaussianNoise(0.5)])
    np.testing.assert_allclose(J, 1.0, rtol=1e-12)
    assert np.abs(colsum - W0.sum(axis=0)).max() > 1.0  # the forward pass did add noise


# ----------------------------------------------------------------------------- rate 0, inference, determinism
@pytest.mark.parametrize("layer", [Dropout(0.0), GaussianDropout(0.0), AlphaDropout(0.0), GaussianNoise(0.0)],
                         ids=["Dropout", "GaussianDropout", "AlphaDropout", "GaussianNoise"])
def test_zero_rate_is_an_exact_identity_in_training(layer):
    X = np.random.default_rng(5).normal(size=(B, 16))
    np.testing.assert_array_equal(training_output([layer], X), X)
    colsum, J, W0 = training_jacobian([layer], d=32)
    np.testing.assert_allclose(J, 1.0, rtol=1e-12)  # (W0 - (W0 - 1/d)) * d: round-off only
    np.testing.assert_allclose(colsum, W0.sum(axis=0), rtol=1e-12)


def _training_network(noisy, seed, shuffle=True):
    extra = dict(dropout=0.2, weight_dropout=0.3) if noisy else {}
    layers = [en.Dense(24, activation="relu", **extra)]
    if noisy:
        layers += [GaussianNoise(0.1), GaussianDropout(0.2)]
    layers += [en.Dense(16, activation="selu")]
    if noisy:
        layers += [AlphaDropout(0.1), Dropout(0.3)]
    layers += [en.Output(3, activation="softmax", loss="mcxent", dropout=0.1 if noisy else 0.0)]
    return en.Sequential(layers, input_dim=10, updater=en.Adam(learning_rate=0.01), seed=seed, dtype="float64")


def _data(n=200):
    rng = np.random.default_rng(6)
    X = rng.normal(size=(n, 10))
    return X, (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)


def test_same_seed_trains_bit_for_bit_the_same():
    X, y = _data()
    runs = []
    for _ in range(2):
        model = _training_network(True, seed=11)
        model.fit(X, y, epochs=3, batch_size=16, verbose=0)
        runs.append(model.params())
    np.testing.assert_array_equal(runs[0], runs[1])


def test_different_seeds_draw_different_noise():
    """Same initial parameters and data order; only the seed of the noise differs."""
    X, y = _data()
    for noisy in (True, False):
        first = _training_network(noisy, seed=11)
        second = _training_network(noisy, seed=12)
        second.set_params(first.params())
        for model in (first, second):
            model.fit(X, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
        if noisy:
            assert np.abs(first.params() - second.params()).max() > 1e-6
        else:  # control: without noise the seed plays no part here
            np.testing.assert_array_equal(first.params(), second.params())


def test_zero_rates_draw_nothing():
    """Rate-0 layers and options leave the random stream alone: training is bit-identical to the
    network without them (shuffling and all)."""
    X, y = _data()
    plain = en.Sequential([en.Dense(12, activation="tanh"), en.Output(3)], input_dim=10, seed=4, dtype="float64",
                          updater=en.Adam(learning_rate=0.01))
    zero = en.Sequential([en.Dense(12, activation="tanh", dropout=0.0, weight_dropout=0.0), Dropout(0.0),
                          GaussianDropout(0.0), AlphaDropout(0.0), GaussianNoise(0.0), en.Output(3)],
                         input_dim=10, seed=4, dtype="float64", updater=en.Adam(learning_rate=0.01))
    for model in (plain, zero):
        model.fit(X, y, epochs=3, batch_size=20, verbose=0)
    np.testing.assert_array_equal(plain.params(), zero.params())


def test_noise_is_off_in_predict_score_and_compute_gradients():
    X, y = _data(64)
    noisy = _training_network(True, seed=3)
    plain = _training_network(False, seed=3)
    plain.set_params(noisy.params())
    noisy.fit(X, y, epochs=1, batch_size=16, verbose=0)  # the noisy one has trained: buffers hold masks
    plain.set_params(noisy.params())
    np.testing.assert_array_equal(noisy.predict_output(X), plain.predict_output(X))
    assert noisy.score(X, y) == plain.score(X, y)
    np.testing.assert_array_equal(noisy.compute_gradients(X, y), plain.compute_gradients(X, y))
    first = noisy.predict_output(X)
    np.testing.assert_array_equal(noisy.predict_output(X), first)  # and repeatable


def test_frozen_noise_layer_is_the_identity_in_training():
    layer = Dropout(0.5)
    layer.frozen = True
    X = np.random.default_rng(7).normal(size=(B, 8))
    np.testing.assert_array_equal(training_output([layer], X), X)


# ----------------------------------------------------------------------------- DropConnect
def test_dropconnect_gradient_reaches_kept_weights_only():
    """One SGD step on Dense(identity, no bias) -> Output(weight_dropout=p): which weights moved gives
    the mask M; the step must then equal the numpy gradient of the network with W * M / (1 - p)."""
    rate, n, d, h, k = 0.4, 64, 32, 128, 64
    rng = np.random.default_rng(8)
    model = en.Sequential([en.Dense(h, activation="identity", has_bias=False),
                           en.Output(k, activation="identity", loss="mse", weight_dropout=rate)],
                          input_dim=d, updater=en.SGD(learning_rate=1.0), seed=2, dtype="float64")
    theta = rng.normal(size=model.num_params) * 0.3
    model.set_params(theta)
    W0, W1, b1 = model.get_param(0, "W"), model.get_param(1, "W"), model.get_param(1, "b")
    X, Y = rng.normal(size=(n, d)), rng.normal(size=(n, k))
    model.fit(X, Y, epochs=1, batch_size=n, shuffle=False, verbose=0)
    kept = model.get_param(1, "W") != W1
    assert_fraction(1 - kept.mean(), rate, kept.size, "dropped weights")
    M = kept / (1 - rate)
    Hid = X @ W0
    A = Hid @ (W1 * M) + b1
    dA = 2 * (A - Y) / (k * n)
    np.testing.assert_allclose(W1 - model.get_param(1, "W"), (Hid.T @ dA) * M, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(b1 - model.get_param(1, "b"), dA.sum(axis=0), rtol=1e-9, atol=1e-15)
    # the input gradient went through the same masked weights
    np.testing.assert_allclose(W0 - model.get_param(0, "W"), X.T @ (dA @ (W1 * M).T), rtol=1e-9, atol=1e-15)


def test_dropconnect_draws_a_new_mask_every_step():
    rate, d, k = 0.5, 64, 64
    rng = np.random.default_rng(9)
    model = en.Sequential([en.Output(k, activation="identity", loss="mse", weight_dropout=rate)], input_dim=d,
                          updater=en.SGD(learning_rate=1e-3), seed=1, dtype="float64")
    X, Y = rng.normal(size=(8, d)), rng.normal(size=(8, k))
    masks = []
    for _ in range(2):
        before = model.get_param(0, "W")
        model.fit(X, Y, epochs=1, batch_size=8, shuffle=False, verbose=0)
        masks.append(model.get_param(0, "W") != before)
    assert 0.3 < np.mean(masks[0] != masks[1]) < 0.7  # independent masks agree on about half


def test_dropconnect_is_off_at_inference():
    rng = np.random.default_rng(10)
    layers = lambda wd: [en.Dense(8, activation="tanh", weight_dropout=wd), en.Output(2, weight_dropout=wd)]
    noisy = en.Sequential(layers(0.5), input_dim=5, seed=1, dtype="float64")
    plain = en.Sequential(layers(0.0), input_dim=5, seed=1, dtype="float64")
    X, y = rng.normal(size=(30, 5)), rng.integers(0, 2, size=30)
    noisy.fit(X, y, epochs=1, batch_size=10, verbose=0)
    plain.set_params(noisy.params())
    np.testing.assert_array_equal(noisy.predict_output(X), plain.predict_output(X))
    np.testing.assert_array_equal(noisy.compute_gradients(X, y), plain.compute_gradients(X, y))


# ----------------------------------------------------------------------------- configuration and validation
def test_configs_round_trip_and_default_dense_config_is_unchanged(tmp_path):
    assert "dropout" not in en.Dense(3).get_config() and "weight_dropout" not in en.Dense(3).get_config()
    assert en.Output(3, dropout=0.25, weight_dropout=0.5).get_config()["dropout"] == 0.25
    model = _training_network(True, seed=2)
    X, y = _data(50)
    model.fit(X, y, epochs=1, batch_size=10, verbose=0)
    stored = model.get_config()["layers"]
    assert [c["type"] for c in stored] == ["Dense", "GaussianNoise", "GaussianDropout", "Dense", "AlphaDropout",
                                           "Dropout", "Output"]
    assert stored[0]["dropout"] == 0.2 and stored[0]["weight_dropout"] == 0.3 and stored[5]["rate"] == 0.3
    assert "dropout" not in stored[3]
    for config in stored:
        rebuilt = Layer.from_config(config)
        assert rebuilt.get_config() == {k: v for k, v in config.items() if k in rebuilt.get_config()}
    path = tmp_path / "noisy.eignet"
    model.save(path)
    loaded = en.load(path)
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    np.testing.assert_array_equal(loaded.predict_output(X), model.predict_output(X))
    loaded.fit(X, y, epochs=1, batch_size=10, verbose=0)  # and keeps training
    assert np.isfinite(loaded.params()).all()


@pytest.mark.parametrize("cls", [Dropout, GaussianDropout, AlphaDropout])
@pytest.mark.parametrize("rate", [1.0, 1.5, -0.1, float("nan"), float("inf")])
def test_rate_out_of_range_is_a_value_error_naming_rate(cls, rate):
    with pytest.raises(ValueError, match=r"rate must be in \[0, 1\)"):
        cls(rate)


@pytest.mark.parametrize("cls", [Dropout, GaussianDropout, AlphaDropout])
@pytest.mark.parametrize("rate", ["0.5", None, True, [0.5]])
def test_rate_must_be_a_number(cls, rate):
    with pytest.raises(TypeError, match="rate must be a number"):
        cls(rate)


@pytest.mark.parametrize("option", ["dropout", "weight_dropout"])
def test_dense_options_are_validated(option):
    with pytest.raises(ValueError, match=f"Dense: {option} must be in"):
        en.Dense(4, **{option: 1.0})
    with pytest.raises(ValueError, match=f"Output: {option} must be in"):
        en.Output(4, **{option: -0.5})
    with pytest.raises(TypeError, match=f"{option} must be a number"):
        en.Dense(4, **{option: "0.1"})


def test_gaussian_noise_stddev_is_validated():
    with pytest.raises(ValueError, match="stddev must be >= 0"):
        GaussianNoise(-1.0)
    with pytest.raises(ValueError, match="stddev must be finite"):
        GaussianNoise(float("inf"))
    with pytest.raises(TypeError, match="stddev must be a number"):
        GaussianNoise("1")


def _raw_network(layer):
    return en._core.NetworkF64(json.dumps({"input_dim": 3, "layers": [layer, {"type": "Output", "n_out": 2,
                                                                             "loss": "mcxent"}]}))


@pytest.mark.parametrize("layer, message", [
    ({"type": "Dropout", "rate": 1.0}, r"Dropout\(0\): rate must be in \[0, 1\)"),
    ({"type": "AlphaDropout", "rate": -0.5}, r"AlphaDropout\(0\): rate must be in \[0, 1\)"),
    ({"type": "GaussianNoise"}, r"GaussianNoise\(0\): GaussianNoise needs stddev"),
    ({"type": "GaussianNoise", "stddev": -1}, r"stddev must be finite and >= 0"),
    ({"type": "Dense", "n_out": 3, "dropout": 2}, r"Dense\(0\): dropout must be in \[0, 1\)"),
    ({"type": "Dense", "n_out": 3, "weight_dropout": 1}, r"Dense\(0\): weight_dropout must be in \[0, 1\)"),
    ({"type": "Dropout", "rate": 0.5, "n_out": 7}, r"n_out must equal n_in \(3\)"),
    ({"type": "Dropout", "rate": 0.5, "activation": "relu"}, r"has no activation"),
    ({"type": "Dropuot", "rate": 0.5}, r'did you mean "Dropout"'),
])
def test_core_validates_stored_configurations(layer, message):
    with pytest.raises(ValueError, match=message):
        _raw_network(layer)


def test_dropout_layers_keep_the_width_and_have_no_parameters():
    model = en.Sequential([en.Dense(6), Dropout(0.5), GaussianDropout(0.5), AlphaDropout(0.5), GaussianNoise(1.0),
                           en.Output(2)], input_dim=4)
    assert model.num_params == 4 * 6 + 6 + 6 * 2 + 2
    assert all(json.loads(model._network().layer_config(i))["n_out"] == 6 for i in range(1, 5))
    assert "Dropout" in model.summary()


def test_hessian_free_sees_noise_layers_as_identities():
    """Gauss-Newton products (Hessian-free) run deterministically: with noise layers and options they
    equal those of the same network without them."""
    X, y = _data(40)
    noisy = _training_network(True, seed=3)
    plain = _training_network(False, seed=3)
    noisy.fit(X, y, epochs=1, batch_size=8, verbose=0)  # last forward pass drew noise
    plain.set_params(noisy.params())
    assert noisy._network().supports_gauss_newton() == (True, "")
    Y = np.ascontiguousarray(np.eye(3)[y])
    v = np.random.default_rng(12).normal(size=noisy.num_params)
    np.testing.assert_array_equal(noisy._network().gauss_newton_product(X, Y, v),
                                  plain._network().gauss_newton_product(X, Y, v))
