"""Bundled datasets (Iris and the UCI 8x8 handwritten digits) and a stratified train/test split."""

from __future__ import annotations

import gzip
import os
from typing import Optional, Tuple

import numpy as np

_DATA = os.path.join(os.path.dirname(__file__), "data")

__all__ = ["load_digits", "load_iris", "train_test_split"]


def load_iris() -> Tuple[np.ndarray, np.ndarray]:
    """Iris: X (150, 4) float64 measurements in cm, y (150,) int64 classes 0..2
    (setosa, versicolor, virginica)."""
    with open(os.path.join(_DATA, "iris.csv"), encoding="ascii") as f:
        next(f)
        table = np.loadtxt(f, delimiter=",")
    return table[:, :4], table[:, 4].astype(np.int64)


def load_digits() -> Tuple[np.ndarray, np.ndarray]:
    """UCI optical digits: X (1797, 64) float64 pixel counts in 0..16, y (1797,) int64 digits 0..9."""
    with gzip.open(os.path.join(_DATA, "digits.csv.gz"), "rt", encoding="ascii") as f:
        table = np.loadtxt(f, delimiter=",")
    return table[:, :64], table[:, 64].astype(np.int64)


def train_test_split(
    X: np.ndarray,
    y: np.ndarray,
    test_size: float = 0.25,
    seed: Optional[int] = 0,
    stratify: bool = True,
) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split into (X_train, X_test, y_train, y_test); stratified by the labels unless ``stratify=False``.

    Stratification keeps each class's share (rows of a 2-D ``y``, e.g. one-hot, are the classes);
    continuous targets (non-integer floats) are split without it.
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim == 0 or y.ndim == 0:
        raise ValueError("X and y must be arrays of samples, not scalars")
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} samples but y has {len(y)}")
    if isinstance(test_size, bool) or not isinstance(test_size, (int, float, np.integer, np.floating)):
        raise TypeError(f"test_size must be a number in (0, 1), got {type(test_size).__name__}")
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be in (0, 1), got {test_size}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ValueError(f"seed must be None or an integer >= 0, got {seed!r}")
    rng = np.random.default_rng(seed)
    test = np.zeros(len(y), dtype=bool)
    if stratify and y.dtype.kind == "f" and not (np.isfinite(y).all() and np.all(y == np.round(y))):
        stratify = False  # continuous targets have no classes to keep in proportion
    if stratify:
        if y.ndim == 1:
            _, groups = np.unique(y, return_inverse=True)
        else:
            _, groups = np.unique(y.reshape(len(y), -1), axis=0, return_inverse=True)
        groups = groups.reshape(-1)
        test_idx = []
        for group in range(int(groups.max()) + 1 if len(groups) else 0):
            members = np.flatnonzero(groups == group)
            rng.shuffle(members)
            test_idx.extend(members[: int(round(len(members) * test_size))])
        test[np.asarray(test_idx, dtype=np.int64)] = True
        if not test.any() or test.all():  # e.g. every class a single sample: fall back to a plain split
            stratify = False
            test[:] = False
    if not stratify:
        order = rng.permutation(len(y))
        test[order[: int(round(len(y) * test_size))]] = True
    train_idx = rng.permutation(np.flatnonzero(~test))
    test_idx_arr = rng.permutation(np.flatnonzero(test))
    return X[train_idx], X[test_idx_arr], y[train_idx], y[test_idx_arr]
