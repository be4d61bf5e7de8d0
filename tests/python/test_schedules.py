"""Learning-rate schedules: each formula against NumPy for both counters, the rate each training
step uses (full batch and mini-batch, iteration- and epoch-driven), saving and resuming, and
validation messages that name the field."""

import json
import math

import numpy as np
import pytest

import eigennet as en
from eigennet import _core
from eigennet import schedules as sch

N, N_IN, N_HIDDEN, N_OUT = 20, 5, 6, 3
RTOL = 1e-13

ITERATIONS = np.array([0, 1, 2, 3, 4, 5, 7, 9, 10, 11, 12, 19, 20, 49, 50, 99, 100, 101, 250, 1000, 12345])
EPOCHS = np.array([0, 1, 2, 3, 6, 7, 30])


# ---------------------------------------------------------------------------------------- helpers
def make_data(seed=0, n=N):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, N_IN)), rng.integers(0, N_OUT, size=n)


def make_model(updater, seed=3, **kwargs):
    layers = [en.Dense(N_HIDDEN, activation="tanh"), en.Dense(4, activation="sigmoid"),
              en.Output(N_OUT, activation="softmax", loss="mcxent")]
    return en.Sequential(layers, input_dim=N_IN, updater=updater, seed=seed, dtype="float64", **kwargs)


def assert_close(actual, expected, rtol=RTOL, what=""):
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    scale = max(float(np.abs(expected).max()), 1e-300)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale, err_msg=what)


# Each case: (schedule factory taking schedule_type, NumPy closed form of the counter array i).
def _map_oracle(points):
    keys = np.array(sorted(points))
    values = np.array([points[k] for k in sorted(points)])
    return lambda i: values[np.searchsorted(keys, i, side="right") - 1]


def _sigmoid_oracle(initial, gamma, step_size):
    def value(i):
        with np.errstate(over="ignore"):  # exp overflowing to inf gives the right limit, 0
            return initial / (1 + np.exp(-gamma * (i - step_size)))
    return value


def _cosine_oracle(peak, warmup, total, final):
    def value(i):
        i = np.asarray(i, dtype=np.float64)
        ramp = peak * i / max(warmup, 1)
        progress = (i - warmup) / max(total - warmup, 1)
        decay = final + (peak - final) * 0.5 * (1 + np.cos(np.pi * progress))
        return np.where(i < warmup, ramp, np.where(i < total, decay, final))
    return value


CASES = {
    "fixed": (lambda t: sch.Fixed(0.3, schedule_type=t), lambda i: np.full(np.shape(i), 0.3)),
    "step": (lambda t: sch.Step(0.5, decay_rate=0.1, step=3, schedule_type=t),
             lambda i: 0.5 * 0.1 ** np.floor(i / 3)),
    "step_fractional": (lambda t: sch.Step(0.5, decay_rate=0.9, step=2.5, schedule_type=t),
                        lambda i: 0.5 * 0.9 ** np.floor(i / 2.5)),
    "exponential": (lambda t: sch.Exponential(0.1, gamma=0.99, schedule_type=t), lambda i: 0.1 * 0.99 ** i),
    "inverse": (lambda t: sch.Inverse(0.2, gamma=0.01, power=0.75, schedule_type=t),
                lambda i: 0.2 / (1 + 0.01 * i) ** 0.75),
    "poly": (lambda t: sch.Poly(0.3, power=2.0, max_iter=100, schedule_type=t),
             lambda i: np.where(i < 100, 0.3 * np.clip(1 - i / 100, 0, None) ** 2, 0.0)),
    "poly_short": (lambda t: sch.Poly(0.3, power=0.5, max_iter=5, schedule_type=t),
                   lambda i: np.where(i < 5, 0.3 * np.clip(1 - i / 5, 0, None) ** 0.5, 0.0)),
    "sigmoid_down": (lambda t: sch.Sigmoid(0.4, gamma=-0.1, step_size=50, schedule_type=t),
                     _sigmoid_oracle(0.4, -0.1, 50)),
    "sigmoid_up": (lambda t: sch.Sigmoid(0.4, gamma=2.0, step_size=3, schedule_type=t),
                   _sigmoid_oracle(0.4, 2.0, 3)),
    "map": (lambda t: sch.Map({0: 0.1, 10: 0.05, 3: 0.2, 100: 0.001}, schedule_type=t),
            _map_oracle({0: 0.1, 3: 0.2, 10: 0.05, 100: 0.001})),
    "cosine_warmup": (lambda t: sch.CosineWarmup(1.0, warmup=10, total=100, final_value=0.05, schedule_type=t),
                      _cosine_oracle(1.0, 10, 100, 0.05)),
    "cosine_no_warmup": (lambda t: sch.CosineWarmup(0.5, warmup=0, total=7, schedule_type=t),
                         _cosine_oracle(0.5, 0, 7, 0.0)),
    "cosine_warmup_only": (lambda t: sch.CosineWarmup(0.5, warmup=4, total=4, final_value=0.5, schedule_type=t),
                           _cosine_oracle(0.5, 4, 4, 0.5)),
}


# ------------------------------------------------------------------------------- closed forms
@pytest.mark.parametrize("case", sorted(CASES))
def test_iteration_schedule_matches_closed_form(case):
    make, oracle = CASES[case]
    schedule = make("iteration")
    expected = oracle(ITERATIONS.astype(np.float64))
    for epoch in (0, 5):  # the epoch does not matter
        actual = [schedule.value_at(int(i), epoch) for i in ITERATIONS]
        assert_close(actual, expected, what=f"{case} at epoch {epoch}")


@pytest.mark.parametrize("case", sorted(CASES))
def test_epoch_schedule_matches_closed_form(case):
    make, oracle = CASES[case]
    schedule = make("epoch")
    expected = oracle(EPOCHS.astype(np.float64))
    for iteration in (0, 17, 1000):  # the iteration does not matter
        actual = [schedule.value_at(iteration, int(e)) for e in EPOCHS]
        assert_close(actual, expected, what=f"{case} at iteration {iteration}")


def test_value_at_defaults_to_epoch_zero():
    by_epoch = sch.Exponential(1.0, gamma=0.5, schedule_type="epoch")
    assert by_epoch.value_at(10) == 1.0
    assert by_epoch.value_at(10, 2) == 0.25


def test_map_and_cosine_edges():
    m = sch.Map({0: 0.1, 10: 0.05})
    assert [m.value_at(i) for i in (0, 9, 10, 11, 10**15)] == [0.1, 0.1, 0.05, 0.05, 0.05]
    c = sch.CosineWarmup(2.0, warmup=4, total=8)
    assert c.value_at(0) == 0.0  # the warm-up starts from 0
    assert c.value_at(2) == 1.0
    assert c.value_at(4) == 2.0  # the peak, where the decay starts
    assert c.value_at(6) == pytest.approx(1.0, rel=1e-15)
    assert c.value_at(8) == 0.0 and c.value_at(1000) == 0.0


# ------------------------------------------------------------------------------- configuration
@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("schedule_type", ["iteration", "epoch"])
def test_config_round_trip(case, schedule_type):
    schedule = CASES[case][0](schedule_type)
    config = schedule.get_config()
    assert config["name"] == schedule.name
    assert config["schedule_type"] == schedule_type
    assert json.loads(json.dumps(config)) == config  # plain JSON
    rebuilt = sch.from_config(config)
    assert rebuilt == schedule and type(rebuilt) is type(schedule)
    assert rebuilt.get_config() == config
    assert hash(rebuilt) == hash(schedule)
    # The core reads the same configuration back unchanged.
    assert json.loads(_core.canonical_schedule(json.dumps(config))) == config
    assert eval(repr(schedule), {**vars(sch)}) == schedule  # noqa: S307 - repr is valid Python


def test_fields_read_as_attributes():
    s = sch.Sigmoid(0.4, gamma=-0.1, step_size=50, schedule_type="epoch")
    assert (s.initial_value, s.gamma, s.step_size, s.schedule_type) == (0.4, -0.1, 50, "epoch")
    assert sch.Map({10: 0.5, 0: 1.0}).values == {0: 1.0, 10: 0.5}
    assert sch.CosineWarmup(1.0, 2, 5).final_value == 0.0
    with pytest.raises(AttributeError):
        s.power  # noqa: B018


def test_schedule_type_is_case_insensitive_and_canonical():
    assert sch.Fixed(1.0, schedule_type="EPOCH").get_config()["schedule_type"] == "epoch"
    assert sch.Fixed(1.0).get_config() == {"name": "FIXED", "value": 1.0, "schedule_type": "iteration"}


def test_from_config_accepts_any_spelling_and_default_type():
    s = sch.from_config({"name": "cosine-warmup", "peak_value": 1, "warmup": 2, "total": 5})
    assert isinstance(s, sch.CosineWarmup)
    assert s.get_config() == {"name": "COSINE_WARMUP", "peak_value": 1.0, "warmup": 2, "total": 5,
                              "final_value": 0.0, "schedule_type": "iteration"}
    assert sch.from_config({"name": "map", "values": {"0": 1.0, "5": 0.5}}) == sch.Map({0: 1.0, 5: 0.5})
    assert sorted(sch.names()) == sorted(c.name for c in (sch.Fixed, sch.Step, sch.Exponential, sch.Inverse,
                                                          sch.Poly, sch.Sigmoid, sch.Map, sch.CosineWarmup))


# ------------------------------------------------------------------------------- validation
INVALID_VALUES = [
    (lambda: sch.Fixed(-0.1), "value"),
    (lambda: sch.Step(0.1, decay_rate=-0.5, step=2), "decay_rate"),
    (lambda: sch.Step(0.1, decay_rate=0.5, step=0), "step"),
    (lambda: sch.Exponential(-1.0, gamma=0.9), "initial_value"),
    (lambda: sch.Exponential(0.1, gamma=-0.9), "gamma"),
    (lambda: sch.Exponential(0.1, gamma=math.inf), "gamma"),
    (lambda: sch.Exponential(0.1, gamma=math.nan), "gamma"),
    (lambda: sch.Inverse(0.1, gamma=0.1, power=-1), "power"),
    (lambda: sch.Poly(0.1, power=1.0, max_iter=0), "max_iter"),
    (lambda: sch.Poly(0.1, power=-2.0, max_iter=10), "power"),
    (lambda: sch.Sigmoid(0.1, gamma=1.0, step_size=-3), "step_size"),
    (lambda: sch.Map({5: 0.1}), "key 0"),
    (lambda: sch.Map({0: 0.1, -2: 0.3}), "-2"),
    (lambda: sch.Map({0: 0.1, 4: -0.3}), "values[4]"),
    (lambda: sch.Map({}), "key 0"),
    (lambda: sch.CosineWarmup(1.0, warmup=10, total=5), "warmup"),
    (lambda: sch.CosineWarmup(1.0, warmup=-1, total=5), "warmup"),
    (lambda: sch.CosineWarmup(1.0, warmup=0, total=0), "total"),
    (lambda: sch.CosineWarmup(1.0, warmup=1, total=5, final_value=-1.0), "final_value"),
    (lambda: sch.Exponential(0.1, 0.9, schedule_type="epochs"), 'did you mean "epoch"'),
    (lambda: sch.Poly(0.1, power=1.0, max_iter=2**60), "max_iter"),
]


@pytest.mark.parametrize("make,field", INVALID_VALUES, ids=[f"{i}-{f}" for i, (_, f) in enumerate(INVALID_VALUES)])
def test_invalid_value_raises_value_error_naming_the_field(make, field):
    with pytest.raises(ValueError, match=field.replace("[", r"\[").replace("]", r"\]")) as info:
        make()
    assert len(str(info.value)) < 200, str(info.value)


INVALID_TYPES = [
    (lambda: sch.Fixed("0.1"), "value"),
    (lambda: sch.Exponential(0.1, gamma=True), "gamma"),
    (lambda: sch.Exponential(0.1, gamma=None), "gamma"),
    (lambda: sch.Poly(0.1, power=1.0, max_iter=10.0), "max_iter"),
    (lambda: sch.Sigmoid(0.1, gamma=1.0, step_size=2.5), "step_size"),
    (lambda: sch.CosineWarmup(1.0, warmup=1.5, total=5), "warmup"),
    (lambda: sch.Map([(0, 0.1)]), "values"),
    (lambda: sch.Map({"0": 0.1}), "values key"),
    (lambda: sch.Map({0: "fast"}), "values"),
    (lambda: sch.Fixed(0.1, schedule_type=1), "schedule_type"),
    (lambda: sch.Fixed(0.1).value_at(1.5), "iteration"),
    (lambda: sch.Fixed(0.1).value_at(1, epoch=None), "epoch"),
]


@pytest.mark.parametrize("make,field", INVALID_TYPES, ids=[f"{i}-{f}" for i, (_, f) in enumerate(INVALID_TYPES)])
def test_invalid_type_raises_type_error_naming_the_field(make, field):
    with pytest.raises(TypeError, match=field):
        make()


def test_negative_counter_is_rejected():
    with pytest.raises(ValueError, match="iteration"):
        sch.Fixed(0.1).value_at(-1)
    with pytest.raises(ValueError, match="epoch"):
        sch.Fixed(0.1).value_at(0, -1)


def test_numpy_numbers_are_accepted():
    s = sch.Poly(np.float32(0.5), power=np.float64(2), max_iter=np.int64(10))
    assert s.get_config()["max_iter"] == 10 and s.value_at(np.int64(5)) == pytest.approx(0.125)


def test_unknown_schedule_name_suggests_the_closest():
    with pytest.raises(ValueError, match='did you mean "EXPONENTIAL"'):
        sch.from_config({"name": "exponentail", "initial_value": 0.1, "gamma": 0.9})
    with pytest.raises(ValueError, match='did you mean "COSINE_WARMUP"'):
        _core.canonical_schedule(json.dumps({"name": "cosine_warmpu", "peak_value": 1, "warmup": 1, "total": 2}))
    # Inside an updater config, as a saved model would hold it.
    with pytest.raises(ValueError, match='did you mean "EXPONENTIAL"'):
        make_model(updater={"name": "sgd", "learning_rate": {"name": "exponentail", "initial_value": 0.1, "gamma": 0.9}})


def test_unknown_or_missing_field_in_config():
    with pytest.raises(TypeError, match='did you mean "gamma"'):
        sch.from_config({"name": "exponential", "initial_value": 0.1, "gama": 0.9})
    with pytest.raises(ValueError, match="gamma"):
        sch.from_config({"name": "exponential", "initial_value": 0.1})
    with pytest.raises(ValueError, match='unknown field "gama"; did you mean "gamma"'):
        _core.canonical_schedule(json.dumps({"name": "exponential", "initial_value": 0.1, "gama": 0.9}))
    with pytest.raises(ValueError, match="name"):
        sch.from_config({"initial_value": 0.1})


# ------------------------------------------------------------------------------- updaters
LR_UPDATERS = [en.SGD, en.Nesterovs, en.AdaGrad, en.RMSProp, en.Adam, en.AdaMax, en.Nadam, en.AMSGrad]


@pytest.mark.parametrize("cls", LR_UPDATERS, ids=lambda c: c.__name__)
def test_every_updater_with_a_learning_rate_takes_a_schedule(cls):
    schedule = sch.Exponential(0.1, gamma=0.99)
    updater = cls(learning_rate=schedule)
    assert updater.learning_rate is schedule
    config = updater.get_config()
    assert config["learning_rate"] == schedule.get_config()
    assert json.loads(_core.canonical_updater(json.dumps(config))) == config
    rebuilt = en.updaters.from_config(config)
    assert rebuilt == updater and rebuilt.learning_rate == schedule
    assert "Exponential(initial_value=0.1" in repr(updater)
    # A schedule config dict is accepted too (that is how a saved model passes it).
    assert cls(learning_rate=schedule.get_config()) == updater


@pytest.mark.parametrize("cls", [en.AdaDelta, en.NoOp], ids=lambda c: c.__name__)
def test_updaters_without_a_learning_rate_reject_a_schedule(cls):
    with pytest.raises(TypeError, match="no learning rate"):
        cls(learning_rate=sch.Fixed(0.1))
    with pytest.raises(ValueError, match="no learning rate"):
        _core.canonical_updater(json.dumps({"name": cls.name, "learning_rate": sch.Fixed(0.1).get_config()}))


def test_learning_rate_of_another_type_is_a_type_error():
    with pytest.raises(TypeError, match="learning_rate must be a number or a schedule"):
        en.Adam(learning_rate="0.1")


def test_schedule_error_inside_updater_config_names_the_field():
    bad = {"name": "EXPONENTIAL", "initial_value": 0.1, "gamma": -2.0, "schedule_type": "iteration"}
    with pytest.raises(ValueError, match="learning_rate.*gamma=-2"):
        _core.canonical_updater(json.dumps({"name": "adam", "learning_rate": bad}))
    with pytest.raises(ValueError, match="gamma"):
        en.Adam(learning_rate=bad)


# ------------------------------------------------------------------------------- training
class Probe:
    """A second network of the same architecture that evaluates gradients at given parameters."""

    def __init__(self):
        self.model = make_model(updater=en.NoOp())

    def gradient(self, p, X, y):
        self.model.set_params(p)
        return self.model.compute_gradients(X, y)


def sgd_oracle(schedule, p, X, y, epochs, batch_size, probe, first_iteration=0, first_epoch=0):
    """Plain SGD with the scheduled rate, mini-batches in order: p -= lr(t, e) * g(p)."""
    t = first_iteration
    for epoch in range(first_epoch, first_epoch + epochs):
        for start in range(0, len(X), batch_size):
            xb, yb = X[start:start + batch_size], y[start:start + batch_size]
            p = p - schedule.value_at(t, epoch) * probe.gradient(p, xb, yb)
            t += 1
    return p


TRAINING_SCHEDULES = {
    "exponential": sch.Exponential(0.5, gamma=0.8),
    "step": sch.Step(0.4, decay_rate=0.5, step=2),
    "map": sch.Map({0: 0.3, 2: 0.05, 5: 0.6}),
    "cosine_warmup": sch.CosineWarmup(0.8, warmup=2, total=6, final_value=0.1),
    "poly": sch.Poly(0.5, power=1.5, max_iter=5),
}


@pytest.mark.parametrize("name", sorted(TRAINING_SCHEDULES))
def test_full_batch_step_uses_the_rate_of_its_iteration(name):
    """One full-batch step per fit call: the change is exactly -lr(t) times the gradient before it."""
    schedule = TRAINING_SCHEDULES[name]
    X, y = make_data(seed=1)
    model = make_model(en.SGD(learning_rate=schedule))
    for t in range(8):
        gradient = model.compute_gradients(X, y)
        before = model.params()
        model.fit(X, y, epochs=1, batch_size=N, shuffle=False, verbose=0)
        assert model.iteration == t + 1
        assert_close(model.params() - before, -schedule.value_at(t, t) * gradient, rtol=1e-11,
                     what=f"step {t}, rate {schedule.value_at(t, t)}")


@pytest.mark.parametrize("schedule_type", ["iteration", "epoch"])
def test_minibatch_training_follows_the_right_counter(schedule_type):
    """Four steps per epoch: an iteration schedule changes the rate every step, an epoch schedule only
    between epochs; both within one fit call of several epochs."""
    schedule = sch.Exponential(0.5, gamma=0.7, schedule_type=schedule_type)
    X, y = make_data(seed=2)
    model = make_model(en.SGD(learning_rate=schedule))
    probe = Probe()
    expected = sgd_oracle(schedule, model.params(), X, y, epochs=3, batch_size=5, probe=probe)
    model.fit(X, y, epochs=3, batch_size=5, shuffle=False, verbose=0)
    assert (model.iteration, model.epoch) == (12, 3)
    assert_close(model.params(), expected, rtol=1e-11)
    # The two counters really do give different trajectories here.
    other = sch.Exponential(0.5, gamma=0.7, schedule_type="epoch" if schedule_type == "iteration" else "iteration")
    assert np.abs(sgd_oracle(other, make_model(en.SGD()).params(), X, y, 3, 5, probe) - expected).max() > 1e-3


def test_epoch_schedule_keeps_the_rate_within_an_epoch():
    schedule = sch.Map({0: 0.2, 1: 0.0}, schedule_type="epoch")  # learns in epoch 0 only
    X, y = make_data(seed=3)
    model = make_model(en.SGD(learning_rate=schedule))
    start = model.params()
    model.fit(X, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    after_first = model.params()
    assert np.abs(after_first - start).max() > 1e-3  # all five steps of epoch 0 moved
    model.fit(X, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    np.testing.assert_array_equal(model.params(), after_first)


def test_scheduled_adam_matches_its_formula():
    """The schedule sets Adam's lr for each step; the bias corrections still count steps from 1."""
    schedule = sch.Step(0.05, decay_rate=0.5, step=2)
    X, y = make_data(seed=4)
    model = make_model(en.Adam(learning_rate=schedule, epsilon=1e-3))
    probe = Probe()
    p, m, v = model.params(), 0.0, 0.0
    b1, b2, eps = 0.9, 0.999, 1e-3
    for t in range(6):
        g = probe.gradient(p, X, y)
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        alpha = schedule.value_at(t) * math.sqrt(1 - b2 ** (t + 1)) / (1 - b1 ** (t + 1))
        p = p - alpha * m / (np.sqrt(v) + eps)
        model.fit(X, y, epochs=1, batch_size=N, shuffle=False, verbose=0)
        assert_close(model.params(), p, rtol=1e-11, what=f"step {t}")


def test_weight_decay_uses_the_scheduled_rate():
    schedule = sch.Map({0: 0.1, 1: 0.4})
    X, y = make_data(seed=5)
    model = make_model(en.SGD(learning_rate=schedule), weight_decay=0.3, regularize_bias=True)
    for t in range(3):
        lr = schedule.value_at(t)
        stepped = model.params() - lr * model.compute_gradients(X, y)
        model.fit(X, y, epochs=1, batch_size=N, shuffle=False, verbose=0)
        assert_close(model.params(), stepped - lr * 0.3 * stepped, rtol=1e-11, what=f"step {t}")


@pytest.mark.parametrize("updater", [
    en.Adam(learning_rate=sch.Exponential(0.05, gamma=0.9)),
    en.SGD(learning_rate=sch.Step(0.3, decay_rate=0.5, step=1, schedule_type="epoch")),
    en.Nesterovs(learning_rate=sch.CosineWarmup(0.2, warmup=3, total=10, final_value=0.01)),
], ids=["adam-exponential", "sgd-step-by-epoch", "nesterovs-cosine"])
def test_save_and_load_keeps_the_schedule_and_resumes_identically(updater, tmp_path):
    X, y = make_data(seed=6)
    uninterrupted = make_model(updater)
    uninterrupted.fit(X, y, epochs=5, batch_size=6, shuffle=False, verbose=0)

    first = make_model(updater)
    first.fit(X, y, epochs=2, batch_size=6, shuffle=False, verbose=0)
    path = tmp_path / "scheduled.eigennet"
    first.save(path)
    resumed = en.load(path)
    assert resumed.get_config()["updater"] == updater.get_config()
    assert resumed.updater == updater
    assert isinstance(resumed.updater.learning_rate, type(updater.learning_rate))
    assert (resumed.iteration, resumed.epoch) == (first.iteration, first.epoch) == (8, 2)
    resumed.fit(X, y, epochs=3, batch_size=6, shuffle=False, verbose=0)
    np.testing.assert_array_equal(resumed.params(), uninterrupted.params())


def test_overflowing_schedule_stops_training_with_a_clear_error():
    X, y = make_data(seed=7)
    model = make_model(en.SGD(learning_rate=sch.Exponential(1e-3, gamma=1e200)))
    model.fit(X, y, epochs=2, batch_size=N, shuffle=False, verbose=0)  # rates 1e-3 and 1e197
    with pytest.raises((ValueError, FloatingPointError), match="schedule gave inf|loss became"):
        model.fit(X, y, epochs=1, batch_size=N, shuffle=False, verbose=0)
