"""Updaters: DL4J defaults and validation, NumPy oracles of DL4J's update formulas (with epsilon,
where PyTorch's forms differ), the step counter and decoupled weight decay."""

import json
import math

import numpy as np
import pytest

import eigennet as en
from eigennet import _core

N, N_IN, N_HIDDEN, N_OUT = 20, 5, 6, 3
BATCH = 5
STEPS = 20
RTOL = 1e-10


# ---------------------------------------------------------------------------------------- helpers
def assert_close(actual, expected, rtol=RTOL, what=""):
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, (what, actual.shape, expected.shape)
    scale = max(float(np.abs(expected).max()), 1e-300)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale, err_msg=what)


def make_data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, N_IN))
    y = rng.integers(0, N_OUT, size=N)
    return X, y


def make_model(updater=None, dtype="float64", seed=3, **kwargs):
    layers = [en.Dense(N_HIDDEN, activation="tanh"), en.Dense(4, activation="sigmoid"),
              en.Output(N_OUT, activation="softmax", loss="mcxent")]
    return en.Sequential(layers, input_dim=N_IN, updater=updater, seed=seed, dtype=dtype, **kwargs)


def weight_mask(model):
    """True where model.params() holds a weight (W), False for biases."""
    parts = []
    for i in range(len(model.layers)):
        parts += [np.ones(model.get_param(i, "W").size, bool), np.zeros(model.get_param(i, "b").size, bool)]
    mask = np.concatenate(parts)
    assert mask.shape == (model.num_params,)
    return mask


class Oracle:
    """DL4J's update rules in NumPy, on the flat parameter vector; t counts steps from 1."""

    def __init__(self, updater, n):
        self.name = updater.name
        self.h = dict(updater.hyperparameters)
        self.t = 0
        eps = self.h.get("epsilon", 0.0)
        zeros = lambda: np.zeros(n)  # noqa: E731
        self.s = {
            "SGD": {}, "NONE": {},
            "NESTEROVS": {"velocity": zeros()},
            "ADAGRAD": {"history": np.full(n, eps)},
            "RMSPROP": {"mean_square": np.full(n, eps)},
            "ADADELTA": {"mean_square_gradient": zeros(), "mean_square_update": zeros()},
            "ADAM": {"m": zeros(), "v": zeros()},
            "NADAM": {"m": zeros(), "v": zeros()},
            "AMSGRAD": {"m": zeros(), "v": zeros(), "v_max": zeros()},
            "ADAMAX": {"m": zeros(), "u": zeros()},
        }[self.name]

    def step(self, p, g):
        self.t += 1
        t, h, s = self.t, self.h, self.s
        lr, eps = h.get("learning_rate"), h.get("epsilon")
        if self.name == "SGD":
            return p - lr * g
        if self.name == "NONE":
            return p.copy()
        if self.name == "NESTEROVS":
            mu, v = h["momentum"], s["velocity"]
            v_new = mu * v - lr * g
            s["velocity"] = v_new
            return p - mu * v + (1 + mu) * v_new
        if self.name == "ADAGRAD":
            s["history"] = s["history"] + g * g
            return p - lr * g / (np.sqrt(s["history"]) + eps)
        if self.name == "RMSPROP":
            d = h["rms_decay"]
            s["mean_square"] = d * s["mean_square"] + (1 - d) * g * g
            return p - lr * g / (np.sqrt(s["mean_square"]) + eps)
        if self.name == "ADADELTA":
            rho = h["rho"]
            s["mean_square_gradient"] = rho * s["mean_square_gradient"] + (1 - rho) * g * g
            dx = g * np.sqrt(s["mean_square_update"] + eps) / np.sqrt(s["mean_square_gradient"] + eps)
            s["mean_square_update"] = rho * s["mean_square_update"] + (1 - rho) * dx * dx
            return p - dx
        b1, b2 = h["beta1"], h["beta2"]
        s["m"] = b1 * s["m"] + (1 - b1) * g
        if self.name == "ADAMAX":
            s["u"] = np.maximum(b2 * s["u"], np.abs(g))
            return p - lr / (1 - b1 ** t) * s["m"] / (s["u"] + eps)
        s["v"] = b2 * s["v"] + (1 - b2) * g * g
        if self.name == "ADAM":
            alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
            return p - alpha * s["m"] / (np.sqrt(s["v"]) + eps)
        if self.name == "AMSGRAD":
            s["v_max"] = np.maximum(s["v_max"], s["v"])
            alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
            return p - alpha * s["m"] / (np.sqrt(s["v_max"]) + eps)
        if self.name == "NADAM":
            return p - lr * (b1 * s["m"] + (1 - b1) * g) / (1 - b1 ** t) / (np.sqrt(s["v"]) + eps)
        raise AssertionError(self.name)


class Probe:
    """A second network of the same architecture, used only to evaluate gradients at the oracle's
    parameters (so the oracle trajectory is independent of the model under test)."""

    def __init__(self):
        self.model = make_model(updater=en.NoOp())

    def gradient(self, p, X, y):
        self.model.set_params(p)
        return self.model.compute_gradients(X, y)


def batches(X, y, batch=BATCH):
    while True:
        for s in range(0, len(X), batch):
            yield X[s:s + batch], y[s:s + batch]


ORACLE_CASES = {
    "sgd": en.SGD(learning_rate=0.3),
    "nesterovs": en.Nesterovs(learning_rate=0.1, momentum=0.8),
    "adagrad": en.AdaGrad(),
    "adagrad_big_eps": en.AdaGrad(learning_rate=0.2, epsilon=0.05),
    "rmsprop": en.RMSProp(learning_rate=0.01),
    "rmsprop_big_eps": en.RMSProp(learning_rate=0.02, rms_decay=0.8, epsilon=0.03),
    "adadelta": en.AdaDelta(),
    "adadelta_big_eps": en.AdaDelta(rho=0.7, epsilon=0.01),
    "adam": en.Adam(learning_rate=0.01),
    "adam_big_eps": en.Adam(learning_rate=0.02, beta1=0.8, beta2=0.95, epsilon=0.02),
    "adamax": en.AdaMax(learning_rate=0.01),
    "adamax_big_eps": en.AdaMax(learning_rate=0.02, beta1=0.85, beta2=0.9, epsilon=0.05),
    "nadam": en.Nadam(learning_rate=0.01),
    "nadam_big_eps": en.Nadam(learning_rate=0.02, beta1=0.8, beta2=0.95, epsilon=0.02),
    "amsgrad": en.AMSGrad(learning_rate=0.01),
    "amsgrad_big_eps": en.AMSGrad(learning_rate=0.02, beta1=0.8, beta2=0.9, epsilon=0.02),
    "noop": en.NoOp(),
}


# ------------------------------------------------------------------------------------ DL4J defaults
DEFAULTS = {
    en.SGD: {"learning_rate": 1e-3},
    en.Nesterovs: {"learning_rate": 0.1, "momentum": 0.9},
    en.AdaGrad: {"learning_rate": 0.1, "epsilon": 1e-6},
    en.RMSProp: {"learning_rate": 0.1, "rms_decay": 0.95, "epsilon": 1e-8},
    en.AdaDelta: {"rho": 0.95, "epsilon": 1e-6},
    en.Adam: {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
    en.AdaMax: {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
    en.Nadam: {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
    en.AMSGrad: {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
    en.NoOp: {},
}


@pytest.mark.parametrize("cls", list(DEFAULTS), ids=lambda c: c.__name__)
def test_dl4j_defaults_in_python_and_core(cls):
    expected = DEFAULTS[cls]
    updater = cls()
    assert updater.hyperparameters == expected
    for key, value in expected.items():
        assert getattr(updater, key) == value
    assert updater.get_config() == {"name": cls.name, **expected}
    # The core's own defaults (used when a config omits a field) are the same.
    assert json.loads(_core.canonical_updater(json.dumps({"name": cls.name}))) == {"name": cls.name, **expected}


def test_default_updater_of_a_model_is_sgd_1e_3():
    model = make_model()
    assert model.get_config()["updater"] == {"name": "SGD", "learning_rate": 1e-3}


def test_adadelta_has_no_learning_rate():
    with pytest.raises(TypeError, match="learning_rate"):
        en.AdaDelta(learning_rate=0.1)
    with pytest.raises(AttributeError):
        en.AdaDelta().learning_rate  # noqa: B018
    with pytest.raises(TypeError, match="learning_rate"):
        make_model(updater={"name": "adadelta", "learning_rate": 1.0})


INVALID = [
    (en.SGD, "learning_rate", -0.1),
    (en.SGD, "learning_rate", math.inf),
    (en.Nesterovs, "learning_rate", math.nan),
    (en.Nesterovs, "momentum", 1.5),
    (en.AdaGrad, "epsilon", -1.0),
    (en.AdaGrad, "learning_rate", math.nan),
    (en.RMSProp, "rms_decay", 1.01),
    (en.RMSProp, "epsilon", math.inf),
    (en.AdaDelta, "rho", -0.1),
    (en.AdaDelta, "epsilon", 0.0),
    (en.AdaDelta, "rho", math.nan),
    (en.Adam, "beta1", 1.5),
    (en.Adam, "beta2", -0.5),
    (en.Adam, "learning_rate", -1e-3),
    (en.Adam, "epsilon", math.nan),
    (en.AdaMax, "beta1", math.nan),
    (en.Nadam, "beta2", math.inf),
    (en.Nadam, "epsilon", -1e-9),
    (en.AMSGrad, "learning_rate", -math.inf),
    (en.AMSGrad, "beta1", 1.5),
    (en.SGD, "learning_rate", 10**400),
]


@pytest.mark.parametrize("cls,field,value", INVALID, ids=[f"{c.__name__}-{f}={v}" for c, f, v in INVALID])
def test_invalid_hyperparameter_raises_value_error_naming_the_field(cls, field, value):
    with pytest.raises(ValueError, match=field) as info:
        cls(**{field: value})
    message = str(info.value)
    assert len(message) < 200, message
    # The same through a model's config dict.
    with pytest.raises(ValueError, match=field):
        make_model(updater={"name": cls.name, field: value})


def test_invalid_value_is_shown_readably():
    with pytest.raises(ValueError) as info:
        en.Nadam(epsilon=-1e-9)
    assert "-1e-09" in str(info.value)
    with pytest.raises(ValueError) as info:
        en.SGD(learning_rate=-2.5)
    assert "-2.5" in str(info.value)
    with pytest.raises(ValueError) as info:
        en.Adam(beta2=1.0000001)
    assert "beta2=1.0000001" in str(info.value) and "[0, 1]" in str(info.value)


def test_boundary_values_are_accepted():
    assert en.SGD(learning_rate=0.0).learning_rate == 0.0
    assert en.Adam(beta1=0.0, beta2=1.0, epsilon=0.0).get_config()["beta2"] == 1.0
    assert en.Nesterovs(momentum=0.0).momentum == 0.0
    assert en.RMSProp(rms_decay=1.0, epsilon=0.0).epsilon == 0.0
    assert en.AdaDelta(rho=1.0, epsilon=1e-300).get_config()["epsilon"] == 1e-300
    assert en.SGD(learning_rate=1e300).learning_rate == 1e300


@pytest.mark.parametrize("make", [
    lambda: en.Adam(lr=0.1),
    lambda: en.SGD(momentum=0.9),
    lambda: en.Nesterovs(nesterov=True),
    lambda: en.RMSProp(alpha=0.9),
    lambda: en.NoOp(learning_rate=0.1),
    lambda: en.updaters.from_config({"name": "sgd", "lr": 0.1}),
    lambda: make_model(updater={"name": "adam", "betas": 0.9}),
], ids=["adam-lr", "sgd-momentum", "nesterovs-nesterov", "rmsprop-alpha", "noop-lr", "from_config", "model-dict"])
def test_unknown_keyword_raises_type_error(make):
    with pytest.raises(TypeError, match="unexpected"):
        make()


def test_numpy_scalars_are_accepted():
    assert en.Adam(learning_rate=np.float32(0.5), beta1=np.float64(0.8)).hyperparameters["learning_rate"] == 0.5
    assert en.Nesterovs(momentum=np.int64(0)).momentum == 0.0
    assert en.AdaDelta(rho=np.float16(0.5)).get_config()["rho"] == 0.5


def test_non_numeric_hyperparameter_raises_type_error():
    with pytest.raises(TypeError, match="beta1"):
        en.Adam(beta1="0.9")
    with pytest.raises(TypeError, match="learning_rate"):
        en.SGD(learning_rate=True)
    with pytest.raises(TypeError, match="epsilon"):
        en.AdaGrad(epsilon=None)


# ----------------------------------------------------------------------------------- NumPy oracles
@pytest.mark.parametrize("case", sorted(ORACLE_CASES))
def test_update_rule_matches_numpy_oracle(case):
    updater = ORACLE_CASES[case]
    X, y = make_data(seed=1)
    model = make_model(updater=updater)
    probe = Probe()
    oracle = Oracle(updater, model.num_params)
    p = model.params()
    start = p.copy()
    assert set(model.updater_state()) == set(oracle.s)
    for step, (xb, yb) in zip(range(1, STEPS + 1), batches(X, y)):
        p = oracle.step(p, probe.gradient(p, xb, yb))
        model.fit(xb, yb, epochs=1, batch_size=len(xb), shuffle=False, verbose=0)
        assert model.iteration == step
        assert_close(model.params(), p, what=f"parameters after step {step}")
    state = model.updater_state()
    for name, expected in oracle.s.items():
        assert_close(state[name], expected, what=f"state {name}")
    if case == "noop":
        np.testing.assert_array_equal(model.params(), start)
    else:
        assert np.abs(model.params() - start).max() > 1e-3


@pytest.mark.parametrize("case", ["adam_big_eps", "nadam_big_eps", "amsgrad_big_eps", "adamax_big_eps", "rmsprop"])
def test_minibatch_epochs_match_oracle(case):
    """Several steps inside one fit call: the counter (and the bias correction) advance per mini-batch."""
    updater = ORACLE_CASES[case]
    X, y = make_data(seed=2)
    model = make_model(updater=updater)
    probe = Probe()
    oracle = Oracle(updater, model.num_params)
    p = model.params()
    feed = batches(X, y)
    for epoch in range(1, STEPS // (N // BATCH) + 1):
        model.fit(X, y, epochs=1, batch_size=BATCH, shuffle=False, verbose=0)
        for _ in range(N // BATCH):
            p = oracle.step(p, probe.gradient(p, *next(feed)))
        assert model.iteration == oracle.t == epoch * (N // BATCH)
        assert_close(model.params(), p, what=f"parameters after epoch {epoch}")


def test_initial_state_is_dl4j_start():
    n = make_model().num_params
    assert_close(make_model(updater=en.RMSProp(epsilon=1e-4)).updater_state()["mean_square"], np.full(n, 1e-4), 0)
    assert_close(make_model(updater=en.AdaGrad(epsilon=1e-3)).updater_state()["history"], np.full(n, 1e-3), 0)
    for state in make_model(updater=en.AMSGrad()).updater_state().values():
        np.testing.assert_array_equal(state, np.zeros(n))


# ---------------------------------------------------------------------------------- step counter
def test_iteration_counts_updater_steps():
    X, y = make_data(seed=3)
    model = make_model(updater=en.Adam())
    assert model.iteration == 0
    model.fit(X, y, epochs=1, batch_size=N, shuffle=False, verbose=0)
    assert model.iteration == 1
    model.fit(X, y, epochs=2, batch_size=BATCH, shuffle=True, verbose=0)
    assert model.iteration == 1 + 2 * (N // BATCH)
    model.fit(X, y, epochs=1, batch_size=7, shuffle=False, verbose=0)  # 7 + 7 + 6
    assert model.iteration == 1 + 2 * (N // BATCH) + 3
    model.fit(X, y, epochs=1, batch_size=1000, shuffle=False, verbose=0)  # one step with all samples
    assert model.iteration == 1 + 2 * (N // BATCH) + 4
    before = model.params()
    model.compute_gradients(X, y)
    model.score(X, y)
    model.predict(X)
    assert model.iteration == 1 + 2 * (N // BATCH) + 4
    np.testing.assert_array_equal(model.params(), before)


@pytest.mark.parametrize("cls", [en.Adam, en.AMSGrad, en.AdaMax, en.Nadam])
def test_first_step_moves_every_parameter_by_the_learning_rate(cls):
    """With eps=0 the bias-corrected first step (t=1) is exactly lr*sign(g) for Adam, AMSGrad and
    AdaMax, and lr*sign(g)*(1+b1)/sqrt(1-b2) for DL4J's Nadam. A counter advanced per parameter
    tensor (six here), or starting at 0, would give some tensors a different step."""
    lr, b1, b2 = 0.01, 0.9, 0.999
    X, y = make_data(seed=4)
    model = make_model(updater=cls(learning_rate=lr, beta1=b1, beta2=b2, epsilon=0.0))
    g = model.compute_gradients(X, y)
    assert (np.abs(g) > 1e-12).all()
    start = model.params()
    model.fit(X, y, epochs=1, batch_size=N, shuffle=False, verbose=0)
    step = model.params() - start
    if cls is en.Nadam:
        expected = lr * np.sign(g) * (1 + b1) / math.sqrt(1 - b2)
    else:
        expected = lr * np.sign(g)
    assert_close(-step, expected, rtol=1e-9)


def test_training_resumes_with_the_same_counter_across_fit_calls_and_save(tmp_path):
    X, y = make_data(seed=5)
    updater = en.Adam(learning_rate=0.02, beta1=0.8, beta2=0.9, epsilon=0.02)
    whole = make_model(updater=updater)
    whole.fit(X, y, epochs=6, batch_size=BATCH, shuffle=False, verbose=0)

    split = make_model(updater=updater)
    split.fit(X, y, epochs=2, batch_size=BATCH, shuffle=False, verbose=0)
    split.fit(X, y, epochs=1, batch_size=BATCH, shuffle=False, verbose=0)
    path = tmp_path / "adam.enet"
    split.save(path)
    restored = en.load(path)
    assert restored.iteration == 3 * (N // BATCH)
    for name, value in split.updater_state().items():
        np.testing.assert_array_equal(restored.updater_state()[name], value)
    restored.fit(X, y, epochs=3, batch_size=BATCH, shuffle=False, verbose=0)
    assert restored.iteration == whole.iteration == 6 * (N // BATCH)
    np.testing.assert_array_equal(restored.params(), whole.params())


def test_float32_updater_follows_the_float64_oracle():
    updater = en.Nadam(learning_rate=0.02, epsilon=1e-3)
    X, y = make_data(seed=6)
    model = make_model(updater=updater, dtype="float32")
    probe = Probe()
    oracle = Oracle(updater, model.num_params)
    p = model.params().astype(np.float64)
    for _, (xb, yb) in zip(range(STEPS), batches(X, y)):
        p = oracle.step(p, probe.gradient(p, xb, yb))
        model.fit(xb, yb, epochs=1, batch_size=len(xb), shuffle=False, verbose=0)
    assert model.params().dtype == np.float32
    assert_close(model.params(), p, rtol=2e-4)


# ------------------------------------------------------------------------- decoupled weight decay
@pytest.mark.parametrize("updater,lr_for_decay", [
    (en.SGD(learning_rate=0.2), 0.2),
    (en.Adam(learning_rate=0.01, epsilon=1e-3), 0.01),
    (en.Nesterovs(learning_rate=0.05, momentum=0.9), 0.05),
    (en.AdaDelta(rho=0.9), 1.0),  # no learning rate: the decay is not scaled
], ids=["sgd", "adam", "nesterovs", "adadelta"])
@pytest.mark.parametrize("regularize_bias", [False, True])
def test_decoupled_weight_decay_applies_after_the_update(updater, lr_for_decay, regularize_bias):
    wd = 0.1
    X, y = make_data(seed=7)
    model = make_model(updater=updater, weight_decay=wd, regularize_bias=regularize_bias)
    probe = Probe()  # weight decay is not part of the gradient
    oracle = Oracle(updater, model.num_params)
    decayed = np.ones(model.num_params, bool) if regularize_bias else weight_mask(model)
    p = model.params()
    for step, (xb, yb) in zip(range(1, STEPS + 1), batches(X, y)):
        p = oracle.step(p, probe.gradient(p, xb, yb))
        p = np.where(decayed, p - lr_for_decay * wd * p, p)
        model.fit(xb, yb, epochs=1, batch_size=len(xb), shuffle=False, verbose=0)
        assert_close(model.params(), p, what=f"step {step}")
    no_decay = make_model(updater=updater, regularize_bias=regularize_bias)
    for _, (xb, yb) in zip(range(STEPS), batches(X, y)):
        no_decay.fit(xb, yb, epochs=1, batch_size=len(xb), shuffle=False, verbose=0)
    shrink = np.abs(model.params()) < np.abs(no_decay.params())
    assert shrink[weight_mask(model)].mean() > 0.8
    if not regularize_bias:
        assert not np.allclose(model.params()[~weight_mask(model)], no_decay.params()[~weight_mask(model)], rtol=1e-12)


@pytest.mark.parametrize("regularize_bias", [False, True])
def test_l2_is_added_to_the_gradient_before_the_updater(regularize_bias):
    """Adam with l2: the penalty gradient l2*w goes through the moment estimates."""
    l2 = 0.05
    updater = en.Adam(learning_rate=0.02, epsilon=1e-3)
    X, y = make_data(seed=8)
    model = make_model(updater=updater, l2=l2, regularize_bias=regularize_bias)
    plain_probe = Probe()
    oracle = Oracle(updater, model.num_params)
    mask = np.ones(model.num_params, bool) if regularize_bias else weight_mask(model)
    p = model.params()
    for step, (xb, yb) in zip(range(1, STEPS + 1), batches(X, y)):
        g = plain_probe.gradient(p, xb, yb) + np.where(mask, l2 * p, 0.0)
        p = oracle.step(p, g)
        model.fit(xb, yb, epochs=1, batch_size=len(xb), shuffle=False, verbose=0)
        assert_close(model.params(), p, what=f"step {step}")


# ------------------------------------------------------- segmented and threaded updates
def make_wide_model(updater):
    """77,803 parameters: more than one update segment (4,096) and enough to be split across threads."""
    layers = [en.Dense(300, activation="tanh"), en.Dense(250, activation="tanh"),
              en.Output(N_OUT, activation="softmax", loss="mcxent")]
    return en.Sequential(layers, input_dim=N_IN, updater=updater, seed=3, dtype="float64")


@pytest.mark.parametrize("case", sorted(ORACLE_CASES))
def test_updates_split_across_threads_match_the_oracle_on_every_thread_count(case):
    updater = ORACLE_CASES[case]
    X, y = make_data(seed=4)
    probe = make_wide_model(en.NoOp())
    assert probe.num_params > _core.PARALLEL_UPDATE_ELEMENTS > 4096
    results = {}
    before = en.get_num_threads()
    try:
        for threads in (1, 2, 3):
            en.set_num_threads(threads)
            model = make_wide_model(updater)
            oracle = Oracle(updater, model.num_params)
            p = model.params()
            for step, (xb, yb) in zip(range(1, 4), batches(X, y)):
                probe.set_params(p)
                p = oracle.step(p, probe.compute_gradients(xb, yb))
                model.fit(xb, yb, epochs=1, batch_size=len(xb), shuffle=False, verbose=0)
            assert_close(model.params(), p, what=f"{threads} threads")
            for name, expected in oracle.s.items():
                assert_close(model.updater_state()[name], expected, what=f"state {name}, {threads} threads")
            results[threads] = (model.params(), model.updater_state())
    finally:
        en.set_num_threads(before)
    for threads in (2, 3):
        np.testing.assert_array_equal(results[threads][0], results[1][0])
        for name, value in results[1][1].items():
            np.testing.assert_array_equal(results[threads][1][name], value)
