"""eigennet.plotting: plot_history, plot_roc, plot_confusion_matrix (matplotlib, the plot extra)."""

import numpy as np
import pytest

import eigennet as en

matplotlib = pytest.importorskip("matplotlib", reason="matplotlib is in the test extra; pip install matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from eigennet.evaluation import BinaryEvaluation, ClassificationEvaluation  # noqa: E402
from eigennet.plotting import plot_confusion_matrix, plot_history, plot_roc  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_plot_history_panels_and_curves(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 4)), rng.integers(0, 3, size=40)
    model = en.Sequential([en.Dense(6), en.Output(3, loss="mcxent")], input_dim=4, seed=0)
    model.fit(X, y, epochs=2, verbose=0)
    history = model.fit(X, y, epochs=3, verbose=0, validation_data=(X, y))
    axes = plot_history(history)
    assert [ax.get_title() for ax in axes] == ["loss", "accuracy"]
    loss_lines = {line.get_label(): line for line in axes[0].get_lines()}
    assert sorted(loss_lines) == ["loss", "val_loss"]
    np.testing.assert_array_equal(loss_lines["loss"].get_xdata(), [3, 4, 5])  # the epoch numbers
    np.testing.assert_array_equal(loss_lines["val_loss"].get_ydata(), history.history["val_loss"])
    assert [line.get_label() for line in axes[1].get_lines()] == ["val_accuracy"]
    axes[0].figure.savefig(tmp_path / "history.png")
    assert (tmp_path / "history.png").stat().st_size > 0

    _, ax = plt.subplots()
    (only,) = plot_history(history.history, metrics=["loss"], ax=ax)
    assert only is ax and len(ax.get_lines()) == 2
    with pytest.raises(ValueError, match="no metric 'mse'"):
        plot_history(history, metrics=["mse"])


def test_plot_roc():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, size=200)
    p = np.clip(y * 0.3 + rng.random(200) * 0.7, 0, 1)
    ax = plot_roc(y, p, label="model")
    evaluation = BinaryEvaluation(y, p)
    curve = ax.get_lines()[0]
    fpr, tpr, _ = evaluation.roc_curve()
    np.testing.assert_array_equal(curve.get_xdata(), fpr)
    np.testing.assert_array_equal(curve.get_ydata(), tpr)
    assert curve.get_label() == f"model (AUC = {evaluation.auc():.3f})"
    dot = ax.get_lines()[2]
    assert (dot.get_xdata()[0], dot.get_ydata()[0]) == (evaluation.false_positive_rate(), evaluation.recall())
    assert len(plot_roc(evaluation).get_lines()) == 3
    with pytest.raises(TypeError, match="needs y_true and proba"):
        plot_roc(y)


def test_plot_confusion_matrix():
    y_true = np.array([0, 0, 1, 1, 1, 2, 2, 2, 2])
    y_pred = np.array([0, 1, 1, 1, 0, 2, 2, 2, 1])
    ax = plot_confusion_matrix(y_true, y_pred, labels=[0, 1, 2])
    texts = [t.get_text() for t in ax.texts]
    assert texts == [str(v) for v in ClassificationEvaluation(y_true, y_pred).confusion_matrix().ravel()]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2"]
    ax = plot_confusion_matrix(ClassificationEvaluation(y_true, y_pred), normalize="true")
    assert [t.get_text() for t in ax.texts][:3] == ["0.50", "0.50", "0.00"]
    with pytest.raises(ValueError, match="normalize"):
        plot_confusion_matrix(y_true, y_pred, normalize="rows")
