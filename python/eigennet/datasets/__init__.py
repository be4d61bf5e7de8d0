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
    """Split into (X_train, X_test, y_train, y_test); stratified by the labels unless ``stratify=False``."""
    X = np.asarray(X)
    y = np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} samples but y has {len(y)}")
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be in (0, 1), got {test_size}")
    rng = np.random.default_rng(seed)
    if stratify:
        test_idx = []
        for label in np.unique(y):
            members = np.flatnonzero(y == label)
            rng.shuffle(members)
            test_idx.extend(members[: int(round(len(members) * test_size))])
        test = np.zeros(len(y), dtype=bool)
        test[np.asarray(test_idx, dtype=np.int64)] = True
    else:
        order = rng.permutation(len(y))
        test = np.zeros(len(y), dtype=bool)
        test[order[: int(round(len(y) * test_size))]] = True
    train_idx = rng.permutation(np.flatnonzero(~test))
    test_idx_arr = rng.permutation(np.flatnonzero(test))
    return X[train_idx], X[test_idx_arr], y[train_idx], y[test_idx_arr]
