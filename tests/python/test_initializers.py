"""Weight initializers against their closed forms (DL4J's formulas, docs/reference.md).

A 400 x 300 weight matrix holds 120,000 draws, so sample moments are within a few percent of the
formula's; uniform draws must also respect their bounds exactly.
"""

import math

import numpy as np
import pytest
from scipy import stats

import eigennet as en

N_IN, N_OUT = 400, 300


def weights(init, activation="identity", seed=0, dtype="float64"):
    model = en.Sequential([en.Dense(N_OUT, activation=activation, weight_init=init), en.Output(2, "softmax", "mcxent")],
                          input_dim=N_IN, seed=seed, dtype=dtype)
    return model.get_param(0, "W"), model.get_param(0, "b")


FAN_IN, FAN_SUM = N_IN, N_IN + N_OUT
NORMAL_STD = {
    "normal": math.sqrt(1 / FAN_IN),
    "xavier": math.sqrt(2 / FAN_SUM),
    "xavier_fan_in": math.sqrt(1 / FAN_IN),
    "lecun_normal": math.sqrt(1 / FAN_IN),
    "relu": math.sqrt(2 / FAN_IN),
}
UNIFORM_BOUND = {
    "uniform": 1 / math.sqrt(FAN_IN),
    "xavier_uniform": math.sqrt(6 / FAN_SUM),
    "lecun_uniform": 3 / math.sqrt(FAN_IN),
    "relu_uniform": math.sqrt(6 / FAN_IN),
    "sigmoid_uniform": 4 * math.sqrt(6 / FAN_SUM),
}


@pytest.mark.parametrize("name", sorted(NORMAL_STD))
def test_normal_schemes_have_the_formula_variance(name):
    W, b = weights(name)
    assert W.shape == (N_IN, N_OUT)
    assert abs(W.mean()) < 0.02 * NORMAL_STD[name]
    assert W.std() == pytest.approx(NORMAL_STD[name], rel=0.02)
    # Shape of the distribution, not only its moments: Kolmogorov-Smirnov against N(0, std^2).
    assert stats.kstest(W.ravel() / NORMAL_STD[name], "norm").pvalue > 1e-3
    np.testing.assert_array_equal(b, 0.0)


@pytest.mark.parametrize("name", sorted(UNIFORM_BOUND))
def test_uniform_schemes_fill_their_interval(name):
    W, _ = weights(name)
    bound = UNIFORM_BOUND[name]
    assert W.min() >= -bound and W.max() <= bound
    assert W.min() < -0.99 * bound and W.max() > 0.99 * bound
    assert W.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)
    assert stats.kstest(W.ravel(), "uniform", args=(-bound, 2 * bound)).pvalue > 1e-3


def test_constant_schemes_and_bias_init():
    np.testing.assert_array_equal(weights("zero")[0], 0.0)
    np.testing.assert_array_equal(weights("ones")[0], 1.0)
    np.testing.assert_array_equal(weights(en.Constant(0.25))[0], 0.25)
    model = en.Sequential([en.Dense(3, bias_init=0.5), en.Output(1, "identity", "mse")], input_dim=2, seed=0)
    np.testing.assert_array_equal(model.get_param(0, "b"), 0.5)


def test_user_distributions():
    W, _ = weights(en.Normal(mean=1.5, std=0.2))
    assert W.mean() == pytest.approx(1.5, abs=0.005)
    assert W.std() == pytest.approx(0.2, rel=0.02)
    W, _ = weights(en.Uniform(lower=2.0, upper=3.0))
    assert W.min() >= 2.0 and W.max() <= 3.0
    assert W.mean() == pytest.approx(2.5, abs=0.005)


@pytest.mark.parametrize("activation, expected", [("relu", "relu"), ("leakyrelu", "relu"), ("elu", "relu"),
                                                  ("selu", "lecun_normal"), ("tanh", "xavier"),
                                                  ("sigmoid", "xavier"), ("identity", "xavier")])
def test_default_scheme_follows_the_activation(activation, expected):
    W, _ = weights(None, activation=activation)
    assert W.std() == pytest.approx(NORMAL_STD[expected], rel=0.02)
    model = en.Sequential([en.Dense(4, activation=activation), en.Output(1, "identity", "mse")], input_dim=3)
    assert model.get_config()["layers"][0]["weight_init"]["name"] == expected.upper()


def test_same_seed_same_weights_other_seed_other_weights():
    np.testing.assert_array_equal(weights("xavier", seed=7)[0], weights("xavier", seed=7)[0])
    assert not np.array_equal(weights("xavier", seed=7)[0], weights("xavier", seed=8)[0])
    # float32 models draw the same numbers, rounded.
    np.testing.assert_allclose(weights("relu", seed=3, dtype="float32")[0], weights("relu", seed=3)[0], rtol=1e-6)


def test_bad_initializers_are_refused():
    with pytest.raises(ValueError, match='did you mean "XAVIER"'):
        en.Dense(3, weight_init="xavir")
    with pytest.raises(ValueError, match="std must be >= 0"):
        en.Dense(3, weight_init=en.Normal(std=-1.0))
    with pytest.raises(ValueError, match="lower <= upper"):
        en.Dense(3, weight_init=en.Uniform(lower=1.0, upper=0.0))
    with pytest.raises(TypeError):
        en.Dense(3, weight_init=3.0)
