"""Data helpers: normalizers stored inside the model, and CSV loading.

A normalizer is fitted on training data only and saved in the model file, so ``predict`` on raw
features gives the same result after :func:`eigennet.load`::

    model = en.Sequential([...], normalizer=en.data.Standardize())
    model.fit(X_train, y_train)         # fits the normalizer on X_train, then trains
    model.predict(X_test)               # X_test is normalized with the training statistics
"""

from __future__ import annotations

import csv
import math
import os
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np

__all__ = ["Normalizer", "Standardize", "MinMax", "load_csv", "normalizer_from_config"]


class Normalizer:
    """Base class: per-feature affine map ``x' = (x - shift) * scale`` learnt by :meth:`fit`."""

    name = "Normalizer"

    def __init__(self) -> None:
        self.shift: Optional[np.ndarray] = None
        self.scale: Optional[np.ndarray] = None

    @property
    def fitted(self) -> bool:
        """Whether :meth:`fit` has set the statistics."""
        return self.shift is not None

    def fit(self, X: np.ndarray) -> "Normalizer":
        """Learn the per-feature statistics from training data X (n_samples, n_features)."""
        X = _as_matrix(X, "X")
        if X.shape[0] == 0:
            raise ValueError("cannot fit a normalizer on zero samples")
        if not np.isfinite(X).all():
            raise ValueError("X contains NaN or infinity")
        self.shift, self.scale = self._statistics(np.asarray(X, dtype=np.float64))
        return self

    def transform(self, X: np.ndarray, dtype: Any = None) -> np.ndarray:
        """X normalized with the fitted statistics (a new C-contiguous array)."""
        if not self.fitted:
            raise RuntimeError(f"{type(self).__name__} is not fitted: call fit (or model.fit) first")
        X = _as_matrix(X, "X")
        assert self.shift is not None and self.scale is not None
        if X.shape[1] != self.shift.size:
            raise ValueError(f"X has {X.shape[1]} features, but the normalizer was fitted on {self.shift.size}")
        out = (np.asarray(X, dtype=np.float64) - self.shift) * self.scale
        return np.ascontiguousarray(out, dtype=dtype or X.dtype if X.dtype.kind == "f" else np.float64)

    def fit_transform(self, X: np.ndarray) -> np.ndarray:
        """:meth:`fit` then :meth:`transform` on the same data."""
        return self.fit(X).transform(X)

    def inverse_transform(self, X: np.ndarray) -> np.ndarray:
        """Undo :meth:`transform` (float64)."""
        if not self.fitted:
            raise RuntimeError(f"{type(self).__name__} is not fitted")
        assert self.shift is not None and self.scale is not None
        array = np.asarray(X)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"X must hold real numbers, got dtype {array.dtype}")
        if array.ndim == 0 or array.shape[-1] != self.shift.size:
            raise ValueError(f"X has shape {array.shape}, but the normalizer was fitted on {self.shift.size} features")
        return np.asarray(array, dtype=np.float64) / self.scale + self.shift

    def _statistics(self, X: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _options(self) -> Dict[str, Any]:
        return {}

    def get_config(self) -> Dict[str, Any]:
        """Kind, options and (when fitted) statistics, as saved in a model file."""
        config: Dict[str, Any] = {"name": self.name, **self._options()}
        if self.fitted:
            assert self.shift is not None and self.scale is not None
            config["shift"] = [float(v) for v in self.shift]
            config["scale"] = [float(v) for v in self.scale]
        return config

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={v!r}" for k, v in self._options().items())
        return f"{type(self).__name__}({options}){'' if self.fitted else ' (not fitted)'}"


class Standardize(Normalizer):
    """Zero mean and unit variance per feature (population standard deviation; DL4J
    NormalizerStandardize). Constant features are only centred."""

    name = "Standardize"

    def _statistics(self, X: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        mean = X.mean(axis=0)
        std = X.std(axis=0)
        return mean, np.where(std > 0, 1.0 / np.where(std > 0, std, 1.0), 1.0)


class MinMax(Normalizer):
    """Map each feature's training range onto ``feature_range`` (DL4J NormalizerMinMaxScaler).
    Constant features map to the lower end."""

    name = "MinMax"

    def __init__(self, feature_range: Tuple[float, float] = (0.0, 1.0)) -> None:
        super().__init__()
        try:
            low, high = (float(v) for v in feature_range)
        except (TypeError, ValueError):
            raise ValueError(f"feature_range must be two finite numbers (low, high) with low < high, "
                             f"got {feature_range!r}") from None
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ValueError(f"feature_range must be two finite numbers (low, high) with low < high, got {feature_range!r}")
        self.feature_range = (low, high)

    def _options(self) -> Dict[str, Any]:
        return {"feature_range": list(self.feature_range)}

    def _statistics(self, X: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        low, high = self.feature_range
        data_min, data_max = X.min(axis=0), X.max(axis=0)
        span = data_max - data_min
        scale = np.where(span > 0, (high - low) / np.where(span > 0, span, 1.0), 1.0)
        # (x - shift) * scale = low + (x - data_min) * scale
        return data_min - low / scale, scale


def normalizer_from_config(config: Optional[Dict[str, Any]]) -> Optional[Normalizer]:
    """Rebuild a normalizer (fitted or not) from :meth:`Normalizer.get_config`."""
    if config is None:
        return None
    if not isinstance(config, dict) or "name" not in config:
        raise ValueError(f"a normalizer configuration must be a dict with a name, got {config!r}")
    kinds = {"Standardize": Standardize, "MinMax": MinMax}
    kind = kinds.get(config["name"])
    if kind is None:
        raise ValueError(f"unknown normalizer {config['name']!r}; known: {sorted(kinds)}")
    normalizer = MinMax(tuple(config["feature_range"])) if kind is MinMax else Standardize()
    if "shift" in config:
        shift = np.asarray(config["shift"], dtype=np.float64)
        scale = np.asarray(config["scale"], dtype=np.float64)
        if shift.ndim != 1 or shift.shape != scale.shape or not np.isfinite(shift).all() or not np.isfinite(scale).all():
            raise ValueError("the stored normalizer statistics are inconsistent")
        normalizer.shift, normalizer.scale = shift, scale
    return normalizer


def as_normalizer(value: Union[None, str, Normalizer]) -> Optional[Normalizer]:
    if value is None or isinstance(value, Normalizer):
        return value
    if isinstance(value, str):
        key = value.replace("_", "").replace("-", "").lower()
        if key in ("standardize", "standard", "zscore"):
            return Standardize()
        if key in ("minmax",):
            return MinMax()
        raise ValueError(f'unknown normalizer "{value}"; use "standardize" or "minmax"')
    raise TypeError(f"normalizer must be None, a name or an eigennet.data.Normalizer, got {type(value).__name__}")


def _as_matrix(X: Any, name: str) -> np.ndarray:
    array = np.asarray(X)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {array.dtype}")
    if array.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features), got shape {array.shape}")
    return array


def load_csv(
    path: Union[str, "os.PathLike[str]"],
    label_column: Union[int, str, None] = -1,
    header: Optional[bool] = None,
    delimiter: str = ",",
    dtype: Any = np.float64,
) -> Tuple[np.ndarray, Optional[np.ndarray], List[str]]:
    """Read a numeric CSV file into ``(X, y, feature_names)``.

    ``label_column`` is the column holding the labels (an index, negative from the end, or a header
    name); ``None`` returns ``y = None`` (for prediction). ``header=None`` detects a header row (a
    first row that is not all numbers). Labels that are not numbers (e.g. "setosa") are returned as
    strings. pandas is used when installed (faster on large files), the csv module otherwise; both
    give the same result.
    """
    path = os.fspath(path)
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise ValueError(f"delimiter must be a single character, got {delimiter!r}")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no CSV file at {path}")
    rows = _read_rows(path, delimiter)
    if not rows:
        raise ValueError(f"{path} is empty")
    has_header = header if header is not None else not all(_is_number(cell) for cell in rows[0])
    names = [c.strip() for c in rows[0]] if has_header else [f"x{i}" for i in range(len(rows[0]))]
    body = rows[1:] if has_header else rows
    if not body:
        raise ValueError(f"{path} has a header but no data rows")
    width = len(names)
    for number, row in enumerate(body, start=2 if has_header else 1):
        if len(row) != width:
            raise ValueError(f"{path}: line {number} has {len(row)} fields, expected {width}")
    label_index: Optional[int] = None
    if label_column is not None and not isinstance(label_column, str) and (
            isinstance(label_column, bool) or not isinstance(label_column, (int, np.integer))):
        raise TypeError(f"label_column must be a column index, a column name or None, got {label_column!r}")
    if label_column is not None:
        if isinstance(label_column, str):
            if label_column not in names:
                raise ValueError(f"{path}: no column named {label_column!r}; columns: {names}")
            label_index = names.index(label_column)
        else:
            if not -width <= int(label_column) < width:
                raise ValueError(f"{path}: label_column {label_column} out of range for {width} columns")
            label_index = int(label_column) % width
    feature_indices = [i for i in range(width) if i != label_index]
    try:
        X = np.array([[float(row[i]) for i in feature_indices] for row in body], dtype=dtype)
    except ValueError as exc:
        raise ValueError(f"{path}: a feature value is not a number ({exc})") from None
    y: Optional[np.ndarray] = None
    if label_index is not None:
        labels = [row[label_index].strip() for row in body]
        y = np.array([float(v) for v in labels]) if all(_is_number(v) for v in labels) else np.array(labels)
        if y.dtype.kind == "f" and np.all(y == np.round(y)):
            y = y.astype(np.int64)
    return X, y, [names[i] for i in feature_indices]


def _read_rows(path: str, delimiter: str) -> List[List[str]]:
    try:
        import pandas
    except ImportError:
        pandas = None
    if pandas is not None:
        # Every field as text; pandas marks empty and missing fields (a short row) as NaN.
        try:
            frame = pandas.read_csv(path, sep=delimiter, header=None, dtype=str, skip_blank_lines=True)
        except pandas.errors.ParserError as exc:
            raise ValueError(f"{path}: {exc}") from None
        except pandas.errors.EmptyDataError:
            return []
        rows = []
        for number, row in enumerate(frame.itertuples(index=False, name=None), start=1):
            if not all(isinstance(cell, str) for cell in row):
                raise ValueError(f"{path}: line {number} has an empty or missing field")
            rows.append(list(row))
        return rows
    with open(path, newline="", encoding="utf-8") as f:
        return [row for row in csv.reader(f, delimiter=delimiter) if row]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
