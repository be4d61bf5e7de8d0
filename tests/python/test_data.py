"""Normalizers (fitted on training data, saved in the model) and CSV loading."""

from __future__ import annotations

import builtins

import numpy as np
import pytest
from sklearn.preprocessing import MinMaxScaler, StandardScaler

import eigennet as en
from eigennet.data import MinMax, Standardize, load_csv, normalizer_from_config


@pytest.fixture(scope="module")
def digits():
    X, y = en.load_digits()
    return en.train_test_split(X, y, test_size=0.3, seed=0)


def test_standardize_matches_scikit_learn(digits):
    X_train, X_test, _, _ = digits
    ours = Standardize().fit(X_train)
    theirs = StandardScaler().fit(X_train)
    np.testing.assert_allclose(ours.transform(X_test), theirs.transform(X_test), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.inverse_transform(ours.transform(X_test)), X_test, atol=1e-12)


def test_min_max_matches_scikit_learn(digits):
    X_train, X_test, _, _ = digits
    ours = MinMax((-1, 1)).fit(X_train)
    theirs = MinMaxScaler((-1, 1)).fit(X_train)
    np.testing.assert_allclose(ours.transform(X_test), theirs.transform(X_test), rtol=1e-12, atol=1e-12)


def test_normalizer_config_round_trip(digits):
    X_train, X_test, _, _ = digits
    for normalizer in (Standardize(), MinMax((0, 2))):
        normalizer.fit(X_train)
        again = normalizer_from_config(normalizer.get_config())
        np.testing.assert_array_equal(again.transform(X_test), normalizer.transform(X_test))
    assert not normalizer_from_config(Standardize().get_config()).fitted


def test_model_fits_the_normalizer_on_training_data_only_and_saves_it(tmp_path, digits):
    X_train, X_test, y_train, y_test = digits
    model = en.Sequential([en.Dense(32, activation="relu"), en.Output(10)], seed=1, normalizer="standardize",
                          updater=en.Adam(learning_rate=1e-2))
    model.fit(X_train, y_train, epochs=10, validation_data=(X_test, y_test), verbose=0)
    expected = StandardScaler().fit(X_train)
    np.testing.assert_allclose(model.normalizer.shift, expected.mean_, rtol=1e-12)
    # The same network fed pre-normalized data gives the same predictions.
    plain = en.Sequential([en.Dense(32, activation="relu"), en.Output(10)], seed=1, input_dim=64)
    plain.set_params(model.params())
    np.testing.assert_allclose(model.predict_output(X_test), plain.predict_output(expected.transform(X_test)),
                               rtol=1e-5, atol=1e-6)
    assert model.evaluate(X_test, y_test)["accuracy"] > 0.9
    path = tmp_path / "normalized.enet"
    model.save(path)
    loaded = en.load(path)
    np.testing.assert_array_equal(loaded.predict_output(X_test), model.predict_output(X_test))
    # A second fit keeps the statistics of the first.
    shift = model.normalizer.shift.copy()
    model.fit(X_test, y_test, epochs=1, verbose=0)
    np.testing.assert_array_equal(model.normalizer.shift, shift)


def test_bad_normalizer_arguments():
    with pytest.raises(ValueError, match="unknown normalizer"):
        en.Sequential([en.Output(2)], normalizer="zscores")
    with pytest.raises(TypeError, match="normalizer"):
        en.Sequential([en.Output(2)], normalizer=3)
    with pytest.raises(ValueError, match="feature_range"):
        MinMax((1, 0))
    with pytest.raises(RuntimeError, match="not fitted"):
        Standardize().transform(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="features"):
        Standardize().fit(np.zeros((3, 2))).transform(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="NaN"):
        Standardize().fit(np.array([[np.nan, 1.0]]))


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(params=["pandas", "csv module"])
def reader(request, monkeypatch):
    if request.param == "csv module":
        real_import = builtins.__import__

        def no_pandas(name, *args, **kwargs):
            if name == "pandas":
                raise ImportError("pandas hidden for this test")
            return real_import(name, *args, **kwargs)

        monkeypatch.setattr(builtins, "__import__", no_pandas)
    return request.param


def test_load_csv_with_header_and_string_labels(tmp_path, reader):
    path = _write(tmp_path / "iris.csv", "sepal,petal,species\n5.1,1.4,setosa\n6.2,4.5,versicolor\n")
    X, y, names = load_csv(path, label_column="species")
    np.testing.assert_array_equal(X, [[5.1, 1.4], [6.2, 4.5]])
    assert list(y) == ["setosa", "versicolor"]
    assert names == ["sepal", "petal"]


def test_load_csv_without_header_integer_labels_first_column(tmp_path, reader):
    path = _write(tmp_path / "d.csv", "1,0.5,0.25\n0,1.5,2.5\n")
    X, y, names = load_csv(path, label_column=0)
    np.testing.assert_array_equal(X, [[0.5, 0.25], [1.5, 2.5]])
    assert y.dtype == np.int64 and list(y) == [1, 0]
    assert names == ["x1", "x2"]
    X, y, _ = load_csv(path, label_column=None)
    assert X.shape == (2, 3) and y is None


def test_load_csv_errors(tmp_path, reader):
    with pytest.raises(FileNotFoundError):
        load_csv(tmp_path / "missing.csv")
    with pytest.raises(ValueError, match="line 3 has"):
        load_csv(_write(tmp_path / "ragged.csv", "a,b,c\n1,2,3\n4,5\n"))
    with pytest.raises(ValueError, match="not a number"):
        load_csv(_write(tmp_path / "text.csv", "a,b,c\n1,x,3\n"))
    with pytest.raises(ValueError, match="no column named"):
        load_csv(_write(tmp_path / "named.csv", "a,b\n1,2\n"), label_column="label")
