"""End-to-end learning on XOR and the bundled digits."""

import numpy as np

import eigennet as en


def test_xor_reaches_full_accuracy():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    y = np.array([0, 1, 1, 0])
    model = en.Sequential(
        [en.Dense(8, activation="tanh"), en.Output(2, activation="softmax", loss="mcxent")],
        input_dim=2,
        updater=en.Adam(learning_rate=0.05),
        seed=3,
    )
    model.fit(X, y, epochs=300, batch_size=4, verbose=0)
    assert (model.predict(X) == y).all()


def test_digits_reach_96_percent_and_round_trip(tmp_path):
    X, y = en.load_digits()
    X_train, X_test, y_train, y_test = en.train_test_split(X / 16.0, y, test_size=0.25, seed=0)
    model = en.Sequential(
        [
            en.Dense(64, activation="relu"),
            en.Dense(32, activation="tanh", weight_init="xavier"),
            en.Output(10, activation="softmax", loss="mcxent"),
        ],
        input_dim=64,
        updater=en.Adam(learning_rate=1e-3),
        l2=1e-4,
        seed=42,
        dtype="float32",
    )
    history = model.fit(X_train, y_train, epochs=30, batch_size=32, validation_data=(X_test, y_test), verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    metrics = model.evaluate(X_test, y_test)
    assert metrics["accuracy"] >= 0.96, metrics
    proba = model.predict_proba(X_test)
    assert proba.shape == (len(X_test), 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    path = tmp_path / "digits.enet"
    model.save(path)
    same = en.load(path)
    np.testing.assert_array_equal(same.predict_proba(X_test), proba)
