"""Label generators shared by the loss and gradient tests: each makes (n, k) labels of the kind a
loss expects."""

import numpy as np


def normal(rng, n, k):
    return rng.normal(size=(n, k))


def one_hot(rng, n, k):
    return np.eye(k)[rng.integers(0, k, size=n)]


def probabilities(rng, n, k):
    return rng.dirichlet(np.ones(k), size=n)


def binary(rng, n, k):
    return rng.integers(0, 2, size=(n, k)).astype(np.float64)


def unit_interval(rng, n, k):
    return rng.uniform(0, 1, size=(n, k))


def plus_minus_one(rng, n, k):
    return rng.choice([-1.0, 1.0], size=(n, k))


def counts(rng, n, k):
    return rng.poisson(2.0, size=(n, k)).astype(np.float64)


def away_from_zero(rng, n, k):
    return rng.choice([-1.0, 1.0], size=(n, k)) * rng.uniform(0.5, 2.0, size=(n, k))


def positive(rng, n, k):
    return rng.uniform(0.0, 3.0, size=(n, k))
