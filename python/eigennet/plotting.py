"""Plots of training histories and evaluations, with matplotlib (``pip install eigennet[plot]``).

Each function draws on ``ax`` when given, otherwise on a new figure (``matplotlib.pyplot``), and
returns the Axes it drew on, for further styling or ``ax.figure.savefig(...)``.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np

__all__ = ["plot_history", "plot_roc", "plot_confusion_matrix"]


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install matplotlib (or eigennet[plot])") from None
    return plt


def _metric_groups(history: Dict[str, List[float]], metrics: Optional[Sequence[str]]) -> Dict[str, List[str]]:
    groups: Dict[str, List[str]] = {}
    for key in history:
        base = key[4:] if key.startswith("val_") else key
        groups.setdefault(base, []).append(key)
    if metrics is not None:
        missing = [m for m in metrics if m not in groups]
        if missing:
            raise ValueError(f"the history has no metric {missing[0]!r}; it has {', '.join(groups)}")
        groups = {m: groups[m] for m in metrics}
    for base in groups:  # training curve first, then validation
        groups[base].sort(key=lambda k: k.startswith("val_"))
    return groups


def plot_history(history: Any, metrics: Optional[Sequence[str]] = None, ax: Any = None) -> np.ndarray:
    """Per-epoch curves of a :class:`~eigennet.History` (or a dict of lists such as
    ``history.history``): one panel per metric (``loss``, ``accuracy``, ...) with its training and
    ``val_`` curves, against the epoch number. ``metrics`` chooses the panels. With ``ax``, every
    curve goes on that one Axes. Returns an array of the Axes used."""
    values = history.history if hasattr(history, "history") else dict(history)
    epochs = list(getattr(history, "epoch", [])) or None
    groups = _metric_groups(values, metrics)
    if not groups:
        raise ValueError("the history is empty: nothing to plot")
    plt = _pyplot()
    if ax is None:
        _, axes = plt.subplots(1, len(groups), figsize=(5 * len(groups), 3.8), squeeze=False)
        axes = axes[0]
    else:
        axes = np.array([ax] * len(groups), dtype=object)
    for panel, (base, keys) in zip(axes, groups.items()):
        for key in keys:
            ys = values[key]
            xs = epochs if epochs is not None and len(epochs) == len(ys) else range(1, len(ys) + 1)
            panel.plot(list(xs), ys, marker="o" if len(ys) < 30 else None, label=key)
        panel.set_xlabel("epoch")
        panel.set_ylabel(base if ax is None else "value")
        panel.set_title(base if ax is None else "training history")
        panel.legend()
        panel.grid(True, alpha=0.3)
    return np.array(list(dict.fromkeys(axes)), dtype=object)


def plot_roc(y_true: Any, proba: Any = None, ax: Any = None, label: Optional[str] = None,
             threshold: Optional[float] = None) -> Any:
    """The ROC curve of binary probabilities (or of a :class:`~eigennet.evaluation.BinaryEvaluation`
    passed as ``y_true``), with its AUC in the legend, the chance diagonal, and a dot at the
    decision threshold (``threshold``, default the evaluation's, 0.5)."""
    from .evaluation import BinaryEvaluation

    if isinstance(y_true, BinaryEvaluation):
        evaluation = y_true
    else:
        if proba is None:
            raise TypeError("plot_roc needs y_true and proba, or a BinaryEvaluation")
        evaluation = BinaryEvaluation(y_true, proba)
    fpr, tpr, _ = evaluation.roc_curve()
    auc = evaluation.auc()
    point = evaluation.threshold if threshold is None else threshold
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(4.8, 4.5))
    line, = ax.plot(fpr, tpr, label=f"{label or 'ROC'} (AUC = {auc:.3f})")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="chance")
    ax.plot([evaluation.false_positive_rate(point)], [evaluation.recall(point)], "o", color=line.get_color(),
            label=f"threshold {point:g}")
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate (recall)")
    ax.set_title("ROC curve")
    ax.legend(loc="lower right")
    return ax


def plot_confusion_matrix(y_true: Any, y_pred: Any = None, labels: Optional[Sequence[Any]] = None,
                          normalize: Optional[str] = None, ax: Any = None, cmap: Union[str, Any] = "Blues") -> Any:
    """The confusion matrix (rows = true class, columns = predicted) of ``y_true`` and ``y_pred`` (as
    :class:`~eigennet.evaluation.ClassificationEvaluation` takes them) or of a ClassificationEvaluation
    passed as ``y_true``, annotated with its counts, or with fractions for ``normalize="true"``
    (each row sums to 1), ``"pred"`` (each column) or ``"all"``."""
    from .evaluation import ClassificationEvaluation

    if isinstance(y_true, ClassificationEvaluation):
        evaluation = y_true
    else:
        if y_pred is None:
            raise TypeError("plot_confusion_matrix needs y_true and y_pred, or a ClassificationEvaluation")
        evaluation = ClassificationEvaluation(y_true, y_pred, labels=labels)
    if normalize not in (None, "true", "pred", "all"):
        raise ValueError(f'normalize must be None, "true", "pred" or "all", got {normalize!r}')
    counts = evaluation.confusion_matrix().astype(float)
    if normalize is None:
        shown = counts
    else:
        axis = {"true": 1, "pred": 0, "all": None}[normalize]
        total = counts.sum(axis=axis, keepdims=axis is not None)
        with np.errstate(invalid="ignore", divide="ignore"):
            shown = np.where(total > 0, counts / np.where(total > 0, total, 1), 0.0)
    names = [str(c) for c in evaluation.labels]
    k = len(names)
    plt = _pyplot()
    if ax is None:
        size = max(3.5, 0.6 * k + 2)
        _, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(shown, cmap=cmap, vmin=0, vmax=1 if normalize else max(shown.max(), 1))
    ax.figure.colorbar(image, ax=ax)
    cut = (1 if normalize else shown.max()) / 2
    for i in range(k):
        for j in range(k):
            text = f"{shown[i, j]:.2f}" if normalize else f"{int(shown[i, j])}"
            ax.text(j, i, text, ha="center", va="center", color="white" if shown[i, j] > cut else "black")
    ax.set_xticks(range(k))
    ax.set_xticklabels(names)
    ax.set_yticks(range(k))
    ax.set_yticklabels(names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title("confusion matrix" + (f" (normalized over {normalize})" if normalize else ""))
    return ax
