"""Writes the golden model file and its expected outputs, next to this script.

    python tests/data/make_golden.py

golden.enet          a float64 network 4 -> Dense(5, tanh) -> Output(3, softmax, mcxent), Adam updater
                     (its state is all zeros: the model was never trained), saved by eigennet's
                     Sequential.save in model-file format version 1.
golden_expected.csv  header "x0,x1,x2,x3,y0,y1,y2", then 12 samples: the inputs and the network's
                     outputs (class probabilities), computed here with NumPy alone (not with eigennet),
                     each printed as the shortest decimal that reads back as the same double.

The weights are fixed by formula, not drawn at random:

    layers.0.W[i, j] = ((7 i + 3 j) mod 11 - 5) / 8        shape (4, 5), i = input, j = unit
    layers.0.b[j]    = (j - 2) / 10                        shape (5,)
    layers.1.W[i, j] = ((5 i + 2 j) mod 9 - 4) / 6         shape (5, 3)
    layers.1.b       = [0.1, -0.2, 0.05]

and the inputs are x[n, i] = round(2 sin(1.3 n + 0.7 i + 0.2), 4) for n = 0..11.

Both test suites read these files (tests/cpp/test_golden.cpp, tests/python/test_cpp_embedding.py), so
that a change in the file format or in the inference arithmetic shows up as a failed test rather than as
models that quietly stop loading or predict differently. Regenerate only for a deliberate format change
(and then also bump kFormatVersion and keep a reader for version 1).
"""

from __future__ import annotations

import os

import numpy as np


def weights():
    W0 = np.array([[((7 * i + 3 * j) % 11 - 5) / 8 for j in range(5)] for i in range(4)], dtype=np.float64)
    b0 = np.array([(j - 2) / 10 for j in range(5)], dtype=np.float64)
    W1 = np.array([[((5 * i + 2 * j) % 9 - 4) / 6 for j in range(3)] for i in range(5)], dtype=np.float64)
    b1 = np.array([0.1, -0.2, 0.05], dtype=np.float64)
    return W0, b0, W1, b1


def inputs():
    n = np.arange(12)[:, None]
    i = np.arange(4)[None, :]
    return np.round(2 * np.sin(1.3 * n + 0.7 * i + 0.2), 4)


def forward(X, W0, b0, W1, b1):
    h = np.tanh(X @ W0 + b0)
    z = h @ W1 + b1
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def main() -> None:
    import eigennet as en

    here = os.path.dirname(os.path.abspath(__file__))
    W0, b0, W1, b1 = weights()
    X = inputs()
    expected = forward(X, W0, b0, W1, b1)

    model = en.Sequential(
        [en.Dense(5, activation="tanh"), en.Output(3, activation="softmax", loss="mcxent")],
        input_dim=4,
        updater=en.Adam(learning_rate=0.01),
        seed=0,
        dtype="float64",
    )
    model.set_param(0, "W", W0)
    model.set_param(0, "b", b0)
    model.set_param(1, "W", W1)
    model.set_param(1, "b", b1)
    got = model.predict_output(X)
    assert np.max(np.abs(got - expected)) < 1e-14, np.max(np.abs(got - expected))

    model.save(os.path.join(here, "golden.enet"))
    with open(os.path.join(here, "golden_expected.csv"), "w") as f:
        f.write("x0,x1,x2,x3,y0,y1,y2\n")
        for x, y in zip(X, expected):
            f.write(",".join(repr(float(v)) for v in list(x) + list(y)) + "\n")
    # The written text must reproduce the values exactly.
    table = np.loadtxt(os.path.join(here, "golden_expected.csv"), delimiter=",", skiprows=1)
    assert np.array_equal(table[:, :4], X) and np.array_equal(table[:, 4:], expected)


if __name__ == "__main__":
    main()
