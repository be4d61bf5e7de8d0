"""Evaluation of predictions (DL4J ``Evaluation``, ``ROC``, ``RegressionEvaluation``, ``EvaluationCalibration``).

* :class:`ClassificationEvaluation`: accuracy, per-class and averaged precision/recall/F1, the
  confusion matrix, top-k accuracy and a readable :meth:`~ClassificationEvaluation.stats` text,
  from predicted labels or from class probabilities.
* :class:`BinaryEvaluation`: one probability per sample compared with a decision threshold; ROC
  curve and AUC, precision-recall curve and average precision (AUPRC), and helpers that choose the
  threshold for a target false positive rate, a target recall or the lowest expected cost.
* :class:`RegressionEvaluation`: MSE, RMSE, MAE and R² per output column and averaged.
* :func:`calibration`: reliability-diagram data and the expected calibration error.

Everything is computed with NumPy; the definitions follow scikit-learn's ``sklearn.metrics`` (the
test suite checks that the values are the same), with ``zero_division=0``: a ratio whose
denominator is zero (the precision of a class never predicted, the recall of a class absent from
``y_true``) is 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional, Sequence, Tuple, Union

import numpy as np

__all__ = [
    "ClassificationEvaluation",
    "BinaryEvaluation",
    "RegressionEvaluation",
    "Calibration",
    "calibration",
    "expected_calibration_error",
]

ArrayLike = Any
_AVERAGES = (None, "macro", "micro", "weighted")


# ---------------------------------------------------------------------------- input checks
def _array(values: ArrayLike, name: str) -> np.ndarray:
    try:
        array = np.asarray(values)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name} could not be converted to an array: {exc}") from None
    if array.ndim == 0:
        raise ValueError(f"{name} must be an array, got a scalar")
    if array.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinity")
    return array


def _real(array: np.ndarray, name: str) -> np.ndarray:
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold real numbers, got dtype {array.dtype}")
    return array.astype(np.float64)


def _probabilities(array: np.ndarray, name: str) -> np.ndarray:
    array = _real(array, name)
    if (array < 0).any() or (array > 1).any():
        raise ValueError(f"{name} must hold probabilities in [0, 1], got values in "
                         f"[{array.min():g}, {array.max():g}]")
    return array


def _same_length(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"{name_a} has {a.shape[0]} samples but {name_b} has {b.shape[0]}")


def _integral(array: np.ndarray, name: str) -> np.ndarray:
    """Float arrays holding whole numbers become int64 (labels 0.0/1.0 from a model are common)."""
    if array.dtype.kind == "f":
        if not np.all(array == np.round(array)):
            raise ValueError(f"{name} must hold class labels, got non-integer values "
                             "(pass probabilities as a 2-D array, one column per class)")
        return array.astype(np.int64)
    if array.dtype.kind == "b":
        return array.astype(np.int64)
    return array


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator with 0 where the denominator is 0 (scikit-learn's zero_division=0)."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    out = np.zeros(np.broadcast(numerator, denominator).shape)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


# ---------------------------------------------------------------------------- classification
class ClassificationEvaluation:
    """Multi-class (or binary) classification metrics (DL4J ``Evaluation``).

    Parameters
    ----------
    y_true: true classes, shape (n,), or one-hot rows (n, k).
    y_pred: either predicted classes, shape (n,), or probabilities (n, k) (one column per class, in
        ``labels`` order; the prediction is the most probable column, the first on ties), or one
        probability of class 1 per sample as an (n, 1) column (class 1 when ``>= threshold``).
    labels: the classes, in the order used by the per-class results and the confusion matrix. With
        probabilities, ``labels[j]`` is the class of column j (default ``0..k-1``); with predicted
        classes, the default is the sorted union of the classes in ``y_true`` and ``y_pred``. Any
        class in ``y_true`` or ``y_pred`` outside ``labels`` is a ValueError.
    threshold: decision threshold for an (n, 1) probability column.

    Ratios with a zero denominator are 0 (scikit-learn's ``zero_division=0``): the precision of a
    class that is never predicted, the recall of a class absent from ``y_true``.
    """

    def __init__(self, y_true: ArrayLike, y_pred: ArrayLike, labels: Optional[Sequence[Any]] = None,
                 threshold: float = 0.5) -> None:
        truth = _array(y_true, "y_true")
        pred = _array(y_pred, "y_pred")
        _same_length(truth, pred, "y_true", "y_pred")
        if truth.ndim == 2:
            if truth.shape[1] == 1:
                truth = truth[:, 0]
            else:  # one-hot rows
                truth = _real(truth, "y_true").argmax(axis=1)
        if truth.ndim != 1:
            raise ValueError(f"y_true must be 1-D labels or 2-D one-hot rows, got shape {truth.shape}")
        truth = _integral(truth, "y_true")
        self.proba: Optional[np.ndarray] = None
        if pred.ndim == 2 and pred.shape[1] == 1:
            threshold = _check_threshold(threshold, "threshold")
            p = _probabilities(pred, "y_pred")[:, 0]
            pred = np.column_stack([1.0 - p, p])
            self.proba = pred
            indices = (p >= threshold).astype(np.int64)
        elif pred.ndim == 2:
            self.proba = _probabilities(pred, "y_pred")
            indices = self.proba.argmax(axis=1)
        elif pred.ndim == 1:
            pred = _integral(pred, "y_pred")
            indices = None
        else:
            raise ValueError(f"y_pred must be 1-D labels or 2-D probabilities, got shape {pred.shape}")

        if labels is not None:
            classes = np.asarray(labels)
            if classes.ndim != 1 or classes.size == 0:
                raise ValueError("labels must be a non-empty 1-D sequence of classes")
            if np.unique(classes).size != classes.size:
                raise ValueError("labels must not repeat a class")
        elif self.proba is not None:
            classes = np.arange(self.proba.shape[1])
        else:
            numeric = (truth.dtype.kind in "iu", pred.dtype.kind in "iu")
            if numeric[0] != numeric[1]:
                raise ValueError(f"y_true holds {truth.dtype} classes but y_pred holds {pred.dtype} ones")
            classes = np.unique(np.concatenate([truth, pred]))
        if self.proba is not None and classes.size != self.proba.shape[1]:
            raise ValueError(f"labels names {classes.size} classes but y_pred has {self.proba.shape[1]} columns")
        self.labels = classes
        self.n_classes = int(classes.size)
        self._true_idx = self._encode(truth, "y_true")
        self._pred_idx = indices if indices is not None else self._encode(pred, "y_pred")
        self.n_samples = int(truth.shape[0])
        k = self.n_classes
        self._cm = np.bincount(self._true_idx * k + self._pred_idx, minlength=k * k).reshape(k, k)

    def _encode(self, values: np.ndarray, name: str) -> np.ndarray:
        order = np.argsort(self.labels, kind="stable")
        sorted_labels = self.labels[order]
        try:
            pos = np.searchsorted(sorted_labels, values)
        except TypeError:
            raise ValueError(f"{name} holds classes of another type than labels") from None
        pos = np.clip(pos, 0, sorted_labels.size - 1)
        bad = sorted_labels[pos] != values
        if np.any(bad):
            raise ValueError(f"{name} contains class {values[np.argmax(bad)]!r}, which is not in labels "
                             f"{self.labels.tolist()}")
        return order[pos].astype(np.int64)

    # -------------------------------------------------------------- counts
    def confusion_matrix(self) -> np.ndarray:
        """(k, k) counts: row = true class, column = predicted class, in ``labels`` order."""
        return self._cm.copy()

    @property
    def support(self) -> np.ndarray:
        """Number of samples of each true class."""
        return self._cm.sum(axis=1)

    def accuracy(self) -> float:
        """Fraction of samples whose predicted class is the true class."""
        return float(np.mean(self._true_idx == self._pred_idx))

    def _counts(self) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        tp = np.diag(self._cm).astype(np.float64)
        return tp, self._cm.sum(axis=0).astype(np.float64), self._cm.sum(axis=1).astype(np.float64)

    def _score(self, kind: str, average: Optional[str]) -> Union[float, np.ndarray]:
        if average not in _AVERAGES:
            raise ValueError(f"average must be None, 'macro', 'micro' or 'weighted', got {average!r}")
        tp, predicted, actual = self._counts()
        if average == "micro":
            tp, predicted, actual = tp.sum(), predicted.sum(), actual.sum()
        if kind == "precision":
            value = _divide(tp, predicted)
        elif kind == "recall":
            value = _divide(tp, actual)
        else:  # F1 = 2 tp / (2 tp + fp + fn), as scikit-learn computes it
            value = _divide(2 * tp, actual + predicted)
        if average is None:
            return value
        if average == "micro":
            return float(value)
        if average == "macro":
            return float(np.mean(value))
        weights = actual
        return float(np.average(value, weights=weights)) if weights.sum() > 0 else 0.0

    def precision(self, average: Optional[str] = None) -> Union[float, np.ndarray]:
        """Per-class precision tp / (tp + fp) (``average=None``, an array in ``labels`` order) or its
        "macro" (unweighted mean over classes), "micro" (from the summed counts) or "weighted" (mean
        weighted by each class's support) average."""
        return self._score("precision", average)

    def recall(self, average: Optional[str] = None) -> Union[float, np.ndarray]:
        """Per-class recall tp / (tp + fn) or its average (see :meth:`precision`)."""
        return self._score("recall", average)

    def f1(self, average: Optional[str] = None) -> Union[float, np.ndarray]:
        """Per-class F1 = 2 tp / (2 tp + fp + fn) (the harmonic mean of precision and recall) or its
        average (see :meth:`precision`)."""
        return self._score("f1", average)

    def top_k_accuracy(self, k: int = 1) -> float:
        """Fraction of samples whose true class is among the ``k`` most probable ones (needs
        probabilities). Among equal probabilities, the later column counts as the more probable one
        (as scikit-learn's ``top_k_accuracy_score``)."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        if self.proba is None:
            raise ValueError("top_k_accuracy needs probabilities: pass y_pred as an (n, k) array")
        ranked = np.argsort(self.proba, axis=1, kind="mergesort")[:, ::-1][:, :k]
        return float(np.mean((ranked == self._true_idx[:, None]).any(axis=1)))

    # -------------------------------------------------------------- text
    def stats(self, top_k: Optional[int] = None) -> str:
        """A readable summary: accuracy, averaged precision/recall/F1, a per-class table and the
        confusion matrix (DL4J ``Evaluation.stats()``)."""
        names = [str(c) for c in self.labels.tolist()]
        lines = ["======================== Evaluation Metrics ========================",
                 f" # of classes:    {self.n_classes}",
                 f" # of samples:    {self.n_samples}",
                 f" Accuracy:        {self.accuracy():.4f}"]
        if top_k is not None:
            lines.append(f" Top-{top_k} accuracy: {self.top_k_accuracy(top_k):.4f}")
        for average in ("macro", "weighted", "micro"):
            lines.append(f" {average + ':':<10}      precision {self.precision(average):.4f}  "
                         f"recall {self.recall(average):.4f}  F1 {self.f1(average):.4f}")
        never = [names[i] for i in np.flatnonzero(self._cm.sum(axis=0) == 0)]
        if never:
            lines.append(f" Warning: class(es) {', '.join(never)} never predicted (precision counted as 0)")
        width = max(5, *(len(n) for n in names))
        lines += ["", f" {'class':<{width}}  precision  recall     F1         support"]
        p, r, f = self.precision(), self.recall(), self.f1()
        for i, name in enumerate(names):
            lines.append(f" {name:<{width}}  {p[i]:<9.4f}  {r[i]:<9.4f}  {f[i]:<9.4f}  {int(self.support[i])}")
        lines += ["", "========================= Confusion Matrix =========================",
                  " rows: true class, columns: predicted class"]
        cell = max(width, *(len(str(v)) for v in self._cm.ravel().tolist()))
        lines.append(" " + " " * width + "  " + " ".join(f"{n:>{cell}}" for n in names))
        for i, name in enumerate(names):
            lines.append(f" {name:<{width}}  " + " ".join(f"{v:>{cell}}" for v in self._cm[i].tolist()))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.stats()

    def __repr__(self) -> str:
        return (f"ClassificationEvaluation(n_samples={self.n_samples}, n_classes={self.n_classes}, "
                f"accuracy={self.accuracy():.4f})")


# ---------------------------------------------------------------------------- binary decisions
def _check_threshold(value: Any, name: str = "threshold") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    value = float(value)
    if not 0.0 < value < 1.0:  # also rejects NaN
        raise ValueError(f"{name} must be strictly between 0 and 1, got {value}")
    return value


def _fraction(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value}")
    return value


class BinaryEvaluation:
    """Binary decisions from one probability per sample (DL4J ``ROC`` and ``EvaluationBinary``).

    Parameters
    ----------
    y_true: 0/1 (or False/True) labels, shape (n,) or (n, 1).
    proba: probability of class 1, shape (n,) or (n, 1), or (n, 2) as returned by
        ``Sequential.predict_proba`` (column 1 is used).
    threshold: a sample is predicted positive when ``proba >= threshold`` (the rule of
        ``Sequential.predict``); must be strictly between 0 and 1.

    The curve methods return the same arrays as scikit-learn's ``roc_curve`` and
    ``precision_recall_curve``; :meth:`auc` is the trapezoidal area under the ROC curve and
    :meth:`auprc` the *average precision* ``sum_n (R_n - R_{n-1}) P_n`` (the step-function area
    under the precision-recall curve, not a trapezoid, which would be optimistic), scikit-learn's
    ``average_precision_score``.
    """

    def __init__(self, y_true: ArrayLike, proba: ArrayLike, threshold: float = 0.5) -> None:
        truth = _array(y_true, "y_true")
        scores = _array(proba, "proba")
        _same_length(truth, scores, "y_true", "proba")
        if truth.ndim == 2 and truth.shape[1] == 1:
            truth = truth[:, 0]
        if truth.ndim != 1:
            raise ValueError(f"y_true must have shape (n,) or (n, 1), got {truth.shape}")
        truth = _integral(_real(truth, "y_true") if truth.dtype.kind != "b" else truth, "y_true")
        if not np.isin(truth, (0, 1)).all():
            raise ValueError("y_true must hold only 0 and 1 (negative and positive class)")
        if scores.ndim == 2 and scores.shape[1] in (1, 2):
            scores = scores[:, -1]
        if scores.ndim != 1:
            raise ValueError(f"proba must have shape (n,), (n, 1) or (n, 2), got {scores.shape}")
        self.y_true = truth.astype(np.int64)
        self.proba = _probabilities(scores, "proba")
        self.threshold = _check_threshold(threshold)
        self.n_positive = int(self.y_true.sum())
        self.n_negative = int(self.y_true.size - self.n_positive)
        # Sorted scores of each class, for counting the samples at or above any threshold.
        self._pos_sorted = np.sort(self.proba[self.y_true == 1])
        self._neg_sorted = np.sort(self.proba[self.y_true == 0])

    # -------------------------------------------------------------- at a threshold
    def _at(self, threshold: Optional[float]) -> float:
        return self.threshold if threshold is None else _check_threshold(threshold)

    def _tp_fp(self, thresholds: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        tp = self.n_positive - np.searchsorted(self._pos_sorted, thresholds, side="left")
        fp = self.n_negative - np.searchsorted(self._neg_sorted, thresholds, side="left")
        return tp, fp

    def predict(self, threshold: Optional[float] = None) -> np.ndarray:
        """0/1 decisions ``proba >= threshold`` (default: this evaluation's threshold)."""
        return (self.proba >= self._at(threshold)).astype(np.int64)

    def confusion_matrix(self, threshold: Optional[float] = None) -> np.ndarray:
        """[[tn, fp], [fn, tp]] at ``threshold`` (default: this evaluation's threshold)."""
        tp, fp = self._tp_fp(np.array([self._at(threshold)]))
        tp, fp = int(tp[0]), int(fp[0])
        return np.array([[self.n_negative - fp, fp], [self.n_positive - tp, tp]], dtype=np.int64)

    def evaluation(self, threshold: Optional[float] = None) -> ClassificationEvaluation:
        """The :class:`ClassificationEvaluation` of the decisions at ``threshold`` (classes 0 and 1)."""
        return ClassificationEvaluation(self.y_true, self.predict(threshold), labels=[0, 1])

    def accuracy(self, threshold: Optional[float] = None) -> float:
        """Fraction of correct decisions at ``threshold`` (default: this evaluation's)."""
        (tn, _), (_, tp) = self.confusion_matrix(threshold)
        return float((tn + tp) / self.y_true.size)

    def precision(self, threshold: Optional[float] = None) -> float:
        """tp / (tp + fp) at the threshold, 0 when nothing is predicted positive."""
        (_, fp), (_, tp) = self.confusion_matrix(threshold)
        return float(_divide(tp, tp + fp))

    def recall(self, threshold: Optional[float] = None) -> float:
        """tp / (tp + fn) at the threshold (the true positive rate), 0 without positives."""
        (_, _), (fn, tp) = self.confusion_matrix(threshold)
        return float(_divide(tp, tp + fn))

    def f1(self, threshold: Optional[float] = None) -> float:
        """F1 score of the positive class at ``threshold`` (default: this evaluation's)."""
        (_, fp), (fn, tp) = self.confusion_matrix(threshold)
        return float(_divide(2 * tp, 2 * tp + fp + fn))

    def false_positive_rate(self, threshold: Optional[float] = None) -> float:
        """fp / (fp + tn) at the threshold, 0 without negatives."""
        (tn, fp), _ = self.confusion_matrix(threshold)
        return float(_divide(fp, fp + tn))

    # -------------------------------------------------------------- curves
    def _curve_counts(self) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cumulative (fps, tps, thresholds) at each distinct score, from the highest score down."""
        order = np.argsort(self.proba, kind="stable")[::-1]
        scores = self.proba[order]
        truth = self.y_true[order].astype(np.float64)
        idx = np.r_[np.flatnonzero(np.diff(scores)), scores.size - 1]
        tps = np.cumsum(truth)[idx]
        fps = 1 + idx - tps
        return fps, tps, scores[idx]

    def _need_both(self, what: str) -> None:
        if self.n_positive == 0 or self.n_negative == 0:
            missing = "positive" if self.n_positive == 0 else "negative"
            raise ValueError(f"{what} needs both classes in y_true, but it has no {missing} sample")

    def roc_curve(self, drop_intermediate: bool = True) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(fpr, tpr, thresholds), thresholds decreasing from ``inf`` (nothing positive) to the lowest
        score; ``drop_intermediate`` drops points collinear with their neighbours (as scikit-learn's
        ``roc_curve``). ValueError when ``y_true`` lacks one of the classes."""
        self._need_both("the ROC curve")
        fps, tps, thresholds = self._curve_counts()
        if drop_intermediate and fps.size > 2:
            keep = np.flatnonzero(np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True])
            fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
        fps = np.r_[0.0, fps]
        tps = np.r_[0.0, tps]
        return fps / fps[-1], tps / tps[-1], np.r_[np.inf, thresholds]

    def auc(self) -> float:
        """Area under the ROC curve (trapezoidal; ties in the scores count half), scikit-learn's
        ``roc_auc_score``. ValueError when ``y_true`` lacks one of the classes."""
        fpr, tpr, _ = self.roc_curve()
        return float(np.trapezoid(tpr, fpr))

    def pr_curve(self) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(precision, recall, thresholds) as scikit-learn's ``precision_recall_curve``: thresholds
        increasing over the distinct scores, the last (precision 1, recall 0) point has no
        threshold. ValueError when ``y_true`` has no positive sample."""
        if self.n_positive == 0:
            raise ValueError("the precision-recall curve needs a positive sample in y_true")
        fps, tps, thresholds = self._curve_counts()
        precision = _divide(tps, tps + fps)
        recall = tps / tps[-1]
        return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], thresholds[::-1]

    def auprc(self) -> float:
        """Average precision ``sum_n (R_n - R_{n-1}) P_n`` over the thresholds (scikit-learn's
        ``average_precision_score``). ValueError when ``y_true`` has no positive sample."""
        precision, recall, _ = self.pr_curve()
        return float(max(0.0, -np.sum(np.diff(recall) * precision[:-1])))

    average_precision = auprc

    # -------------------------------------------------------------- choosing the threshold
    def _candidates(self) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Thresholds strictly inside (0, 1), one between each pair of neighbouring distinct scores
        and one beyond each end, with the true and false positives each gives (ascending)."""
        u = np.unique(self.proba)
        candidates = np.r_[u[0] / 2, (u[:-1] + u[1:]) / 2, (u[-1] + 1) / 2]
        candidates = np.unique(candidates[(candidates > 0) & (candidates < 1)])
        if candidates.size == 0:
            raise ValueError("no threshold strictly between 0 and 1 separates these probabilities")
        tp, fp = self._tp_fp(candidates)
        return candidates, tp, fp

    def threshold_for_fpr(self, target: float) -> float:
        """The threshold with the highest recall among those whose false positive rate on these
        samples is at most ``target`` (then the fewest false positives). Returned thresholds lie
        half-way between neighbouring distinct scores, so they are strictly inside (0, 1) and can be
        assigned to ``model.threshold``. ValueError without negative samples, or when no
        threshold reaches the target (possible only for probabilities exactly 1)."""
        target = _fraction(target, "target")
        if self.n_negative == 0:
            raise ValueError("threshold_for_fpr needs negative samples in y_true")
        candidates, tp, fp = self._candidates()
        ok = fp <= target * self.n_negative
        if not ok.any():
            raise ValueError(f"no threshold in (0, 1) reaches a false positive rate <= {target}")
        # Lexicographic: most true positives, then fewest false positives, then the highest threshold.
        best = max(np.flatnonzero(ok), key=lambda i: (tp[i], -fp[i], candidates[i]))
        return float(candidates[best])

    def threshold_for_recall(self, target: float) -> float:
        """The threshold with the fewest false positives (highest precision) among those whose recall
        on these samples is at least ``target`` (then the highest threshold). ValueError without
        positive samples, or when no threshold reaches the target."""
        target = _fraction(target, "target")
        if self.n_positive == 0:
            raise ValueError("threshold_for_recall needs positive samples in y_true")
        candidates, tp, fp = self._candidates()
        ok = tp >= target * self.n_positive
        if not ok.any():
            raise ValueError(f"no threshold in (0, 1) reaches a recall >= {target}")
        best = max(np.flatnonzero(ok), key=lambda i: (-fp[i], tp[i], candidates[i]))
        return float(candidates[best])

    def threshold_for_cost(self, cost_fp: float, cost_fn: float) -> float:
        """The threshold minimising ``cost_fp * false positives + cost_fn * false negatives`` on these
        samples (ties: the lowest such threshold). With calibrated probabilities this approaches
        the Bayes decision threshold ``cost_fp / (cost_fp + cost_fn)``."""
        for value, name in ((cost_fp, "cost_fp"), (cost_fn, "cost_fn")):
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
                    or not math.isfinite(float(value)) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if cost_fp == 0 and cost_fn == 0:
            raise ValueError("cost_fp and cost_fn cannot both be 0")
        candidates, tp, fp = self._candidates()
        cost = float(cost_fp) * fp + float(cost_fn) * (self.n_positive - tp)
        return float(candidates[int(np.argmin(cost))])

    def expected_cost(self, cost_fp: float, cost_fn: float, threshold: Optional[float] = None) -> float:
        """Mean cost per sample at the threshold: (cost_fp * fp + cost_fn * fn) / n."""
        (_, fp), (fn, _) = self.confusion_matrix(threshold)
        return float((cost_fp * fp + cost_fn * fn) / self.y_true.size)

    def stats(self) -> str:
        """A readable summary at the current threshold, with AUC and AUPRC when defined."""
        (tn, fp), (fn, tp) = self.confusion_matrix()
        lines = ["===================== Binary Evaluation =====================",
                 f" samples: {self.y_true.size} ({self.n_positive} positive, {self.n_negative} negative)",
                 f" threshold:  {self.threshold:.6g}",
                 f" accuracy:   {self.accuracy():.4f}",
                 f" precision:  {self.precision():.4f}",
                 f" recall:     {self.recall():.4f}",
                 f" F1:         {self.f1():.4f}",
                 f" FPR:        {self.false_positive_rate():.4f}"]
        if self.n_positive and self.n_negative:
            lines += [f" ROC AUC:    {self.auc():.4f}", f" AUPRC (average precision): {self.auprc():.4f}"]
        lines += ["", f" confusion: tn={tn} fp={fp} fn={fn} tp={tp}"]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"BinaryEvaluation(n_samples={self.y_true.size}, n_positive={self.n_positive}, "
                f"threshold={self.threshold:g})")


# ---------------------------------------------------------------------------- regression
class RegressionEvaluation:
    """Regression metrics per output column (DL4J ``RegressionEvaluation``).

    ``y_true`` and ``y_pred`` have the same shape, (n,) or (n, k). Each metric returns an array with
    one value per column (shape (k,), (1,) for 1-D input), or with ``average=True`` the unweighted
    mean over the columns (scikit-learn's ``multioutput="raw_values"`` and ``"uniform_average"``).
    """

    def __init__(self, y_true: ArrayLike, y_pred: ArrayLike) -> None:
        truth = _real(_array(y_true, "y_true"), "y_true")
        pred = _real(_array(y_pred, "y_pred"), "y_pred")
        _same_length(truth, pred, "y_true", "y_pred")
        if truth.ndim == 1:
            truth = truth.reshape(-1, 1)
        if pred.ndim == 1:
            pred = pred.reshape(-1, 1)
        if truth.ndim != 2 or truth.shape != pred.shape:
            raise ValueError(f"y_true and y_pred must have the same shape, got {truth.shape} and {pred.shape}")
        self.y_true, self.y_pred = truth, pred
        self.n_columns = truth.shape[1]

    @staticmethod
    def _out(values: np.ndarray, average: bool) -> Union[float, np.ndarray]:
        return float(np.mean(values)) if average else values

    def mse(self, average: bool = False) -> Union[float, np.ndarray]:
        """Mean squared error."""
        return self._out(np.mean((self.y_true - self.y_pred) ** 2, axis=0), average)

    def rmse(self, average: bool = False) -> Union[float, np.ndarray]:
        """Root mean squared error (the average is the mean of the per-column RMSEs)."""
        return self._out(np.sqrt(np.mean((self.y_true - self.y_pred) ** 2, axis=0)), average)

    def mae(self, average: bool = False) -> Union[float, np.ndarray]:
        """Mean absolute error."""
        return self._out(np.mean(np.abs(self.y_true - self.y_pred), axis=0), average)

    def r2(self, average: bool = False) -> Union[float, np.ndarray]:
        """Coefficient of determination 1 - SS_res / SS_tot. For a constant column of ``y_true``
        (SS_tot = 0) it is 1 for a perfect prediction and 0 otherwise (scikit-learn's
        ``force_finite=True``)."""
        ss_res = np.sum((self.y_true - self.y_pred) ** 2, axis=0)
        ss_tot = np.sum((self.y_true - np.mean(self.y_true, axis=0)) ** 2, axis=0)
        r2 = np.ones(self.n_columns)
        valid = (ss_tot != 0) & (ss_res != 0)
        r2[valid] = 1 - ss_res[valid] / ss_tot[valid]
        r2[(ss_res != 0) & (ss_tot == 0)] = 0.0
        return self._out(r2, average)

    def stats(self) -> str:
        """A readable table of the metrics per column, with the column average."""
        rows = [("column", "MSE", "RMSE", "MAE", "R2")]
        metrics = [self.mse(), self.rmse(), self.mae(), self.r2()]
        for j in range(self.n_columns):
            rows.append((str(j), *(f"{m[j]:.6g}" for m in metrics)))
        rows.append(("average", *(f"{float(np.mean(m)):.6g}" for m in metrics)))
        widths = [max(len(r[c]) for r in rows) for c in range(5)]
        return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in rows)

    def __repr__(self) -> str:
        return f"RegressionEvaluation(n_samples={self.y_true.shape[0]}, n_columns={self.n_columns})"


# ---------------------------------------------------------------------------- calibration
@dataclass(frozen=True)
class Calibration:
    """Reliability-diagram data. ``prob_true`` (observed frequency of the positive class, or of a
    correct prediction), ``prob_pred`` (mean predicted probability) and ``counts`` have one entry
    per non-empty bin (as scikit-learn's ``calibration_curve``); ``bin_edges`` has ``n_bins + 1``
    entries and ``bin_index`` gives the bin of each non-empty entry."""

    prob_true: np.ndarray
    prob_pred: np.ndarray
    counts: np.ndarray
    bin_edges: np.ndarray
    bin_index: np.ndarray
    expected_calibration_error: float
    maximum_calibration_error: float


def calibration(y_true: ArrayLike, proba: ArrayLike, n_bins: int = 10, strategy: str = "uniform") -> Calibration:
    """Reliability-diagram data and calibration errors (DL4J ``EvaluationCalibration``).

    Binary: ``y_true`` 0/1 and ``proba`` the probability of class 1 ((n,), (n, 1) or (n, 2) whose
    column 1 is used). Multi-class: ``proba`` of shape (n, k > 2) and ``y_true`` class indices; the
    top-label confidence (the largest probability) is compared with whether that prediction is
    right. Bins: ``"uniform"`` splits [0, 1] into ``n_bins`` equal intervals, ``"quantile"`` puts
    about as many samples in each; a value on an inner edge goes to the lower bin (scikit-learn's
    rule). The expected calibration error is ``sum_b (n_b / n) |prob_true_b - prob_pred_b|``, the
    maximum one ``max_b |prob_true_b - prob_pred_b|``.
    """
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")
    if strategy not in ("uniform", "quantile"):
        raise ValueError(f'strategy must be "uniform" or "quantile", got {strategy!r}')
    truth = _array(y_true, "y_true")
    scores = _array(proba, "proba")
    _same_length(truth, scores, "y_true", "proba")
    if truth.ndim == 2 and truth.shape[1] == 1:
        truth = truth[:, 0]
    if truth.ndim != 1:
        raise ValueError(f"y_true must have shape (n,) or (n, 1), got {truth.shape}")
    truth = _integral(_real(truth, "y_true") if truth.dtype.kind != "b" else truth, "y_true")
    scores = _probabilities(scores, "proba")
    if scores.ndim == 2 and scores.shape[1] > 2:
        if truth.min() < 0 or truth.max() >= scores.shape[1]:
            raise ValueError(f"y_true must hold class indices 0..{scores.shape[1] - 1}")
        outcome = (scores.argmax(axis=1) == truth).astype(np.float64)
        scores = scores.max(axis=1)
    else:
        if scores.ndim == 2:
            scores = scores[:, -1]
        if scores.ndim != 1:
            raise ValueError(f"proba must have shape (n,), (n, 1), (n, 2) or (n, k), got {scores.shape}")
        if not np.isin(truth, (0, 1)).all():
            raise ValueError("y_true must hold only 0 and 1 for binary probabilities")
        outcome = truth.astype(np.float64)
    if strategy == "quantile":
        edges = np.percentile(scores, np.linspace(0, 1, n_bins + 1) * 100)
    else:
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.searchsorted(edges[1:-1], scores)
    sums = np.bincount(bins, weights=scores, minlength=n_bins)
    hits = np.bincount(bins, weights=outcome, minlength=n_bins)
    totals = np.bincount(bins, minlength=n_bins)
    nonzero = totals != 0
    prob_true = hits[nonzero] / totals[nonzero]
    prob_pred = sums[nonzero] / totals[nonzero]
    counts = totals[nonzero]
    gaps = np.abs(prob_true - prob_pred)
    return Calibration(prob_true=prob_true, prob_pred=prob_pred, counts=counts, bin_edges=edges,
                       bin_index=np.flatnonzero(nonzero),
                       expected_calibration_error=float(np.sum(counts / scores.size * gaps)),
                       maximum_calibration_error=float(gaps.max()))


def expected_calibration_error(y_true: ArrayLike, proba: ArrayLike, n_bins: int = 10,
                               strategy: str = "uniform") -> float:
    """``calibration(y_true, proba, n_bins, strategy).expected_calibration_error``."""
    return calibration(y_true, proba, n_bins, strategy).expected_calibration_error
