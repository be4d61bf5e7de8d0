"""Gradient normalization (DL4J GradientNormalization): with SGD at learning rate 1 and one
full-batch step, the parameter change is minus the normalized gradient, checked against NumPy
per layer and per tensor for each kind; names, thresholds, configuration and saving."""

import numpy as np
import pytest

import eigennet as en

N, N_IN = 24, 5
KINDS = ["None", "RenormalizeL2PerLayer", "RenormalizeL2PerParamType", "ClipElementWiseAbsoluteValue",
         "ClipL2PerLayer", "ClipL2PerParamType"]


# ---------------------------------------------------------------------------------------- helpers
def make_data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, N_IN)) * 2.0
    return X, rng.integers(0, 3, size=N)


def make_model(kind=None, threshold=1.0, seed=5, updater=None, **kwargs):
    """Two hidden layers, float64."""
    layers = [en.Dense(7, activation="tanh"), en.Dense(4, activation="relu"),
              en.Output(3, activation="softmax", loss="mcxent")]
    return en.Sequential(layers, input_dim=N_IN, updater=updater or en.SGD(learning_rate=1.0), seed=seed,
                         dtype="float64", gradient_normalization=kind, gradient_normalization_threshold=threshold,
                         **kwargs)


def tensors(model):
    """(layer, slice) of each parameter tensor in the flat vector: per layer W then b, as
    Sequential.params documents, with sizes from get_param."""
    out, offset = [], 0
    for layer in range(len(model.layers)):
        for name in ("W", "b"):
            size = model.get_param(layer, name).size
            out.append((layer, slice(offset, offset + size)))
            offset += size
    assert offset == model.num_params
    return out


def layer_norms(model, g):
    norms = {}
    for layer, part in tensors(model):
        norms[layer] = norms.get(layer, 0.0) + float(g[part] @ g[part])
    return {layer: np.sqrt(total) for layer, total in norms.items()}


def normalize(model, kind, threshold, g):
    """DL4J's gradient normalization in NumPy."""
    out = g.copy()
    per_layer = layer_norms(model, g)
    for layer, part in tensors(model):
        tensor_norm = np.linalg.norm(g[part])
        if kind == "RenormalizeL2PerLayer":
            out[part] = g[part] / per_layer[layer]
        elif kind == "RenormalizeL2PerParamType":
            out[part] = g[part] / tensor_norm
        elif kind == "ClipElementWiseAbsoluteValue":
            out[part] = np.clip(g[part], -threshold, threshold)
        elif kind == "ClipL2PerLayer" and per_layer[layer] > threshold:
            out[part] = g[part] * threshold / per_layer[layer]
        elif kind == "ClipL2PerParamType" and tensor_norm > threshold:
            out[part] = g[part] * threshold / tensor_norm
    return out


def threshold_between(values):
    """A threshold with some of `values` above it and some below, so both branches run."""
    values = np.sort(np.asarray(values))
    return float(np.sqrt(values[0] * values[-1]))


def step_change(model, X, y):
    before = model.params()
    model.fit(X, y, epochs=1, batch_size=N, shuffle=False, verbose=0)
    return model.params() - before


# ------------------------------------------------------------------------------- NumPy oracles
@pytest.mark.parametrize("kind", KINDS)
def test_one_step_moves_by_the_normalized_gradient(kind):
    X, y = make_data()
    probe = make_model()
    g = probe.compute_gradients(X, y)
    if kind == "ClipElementWiseAbsoluteValue":
        threshold = float(np.median(np.abs(g)))
    elif kind == "ClipL2PerLayer":
        threshold = threshold_between(list(layer_norms(probe, g).values()))
    else:
        threshold = threshold_between([np.linalg.norm(g[part]) for _, part in tensors(probe)])
    model = make_model(kind, threshold)
    np.testing.assert_array_equal(model.params(), probe.params())
    expected = normalize(model, kind, threshold, model.compute_gradients(X, y))
    if kind.startswith("Clip"):
        assert not np.allclose(expected, g), "the threshold should clip something"
    if kind in ("ClipL2PerLayer", "ClipL2PerParamType"):
        assert np.any(np.isclose(expected, g) & (g != 0)), "the threshold should leave something unclipped"
    np.testing.assert_allclose(step_change(model, X, y), -expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kind", ["RenormalizeL2PerLayer", "RenormalizeL2PerParamType"])
def test_renormalized_step_has_unit_norm(kind):
    X, y = make_data(seed=1)
    model = make_model(kind)
    change = step_change(model, X, y)
    if kind == "RenormalizeL2PerLayer":
        for norm in layer_norms(model, change).values():
            assert norm == pytest.approx(1.0, rel=1e-12)
    else:
        for _, part in tensors(model):
            assert np.linalg.norm(change[part]) == pytest.approx(1.0, rel=1e-12)


def test_large_threshold_clips_nothing():
    X, y = make_data(seed=2)
    for kind in ("ClipElementWiseAbsoluteValue", "ClipL2PerLayer", "ClipL2PerParamType"):
        model = make_model(kind, threshold=1e6)
        g = model.compute_gradients(X, y)
        np.testing.assert_allclose(step_change(model, X, y), -g, rtol=1e-12, atol=1e-15)


def test_applied_to_the_raw_gradient_before_l2_and_the_updater():
    """As in DL4J: normalization sees the loss gradient only; the L2 term is added afterwards."""
    X, y = make_data(seed=3)
    model = make_model("ClipL2PerParamType", threshold=0.05, l2=0.5)
    unregularized = make_model()
    unregularized.set_params(model.params())
    expected = normalize(model, "ClipL2PerParamType", 0.05, unregularized.compute_gradients(X, y))
    for loc in model._network().param_locations():
        if not loc["is_bias"]:
            window = slice(loc["offset"], loc["offset"] + int(np.prod(loc["shape"])))
            expected[window] += 0.5 * model.params()[window]
    np.testing.assert_allclose(step_change(model, X, y), -expected, rtol=1e-12, atol=1e-15)


def test_several_steps_with_mini_batches():
    X, y = make_data(seed=4)
    model = make_model("RenormalizeL2PerLayer", updater=en.SGD(learning_rate=0.1))
    probe = make_model()
    p = model.params()
    for start in range(0, N, 8):
        probe.set_params(p)
        p = p - 0.1 * normalize(probe, "RenormalizeL2PerLayer", 1.0, probe.compute_gradients(X[start:start + 8],
                                                                                            y[start:start + 8]))
    model.fit(X, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    np.testing.assert_allclose(model.params(), p, rtol=1e-11, atol=1e-14)


def test_float32_model_normalizes_too():
    X, y = make_data(seed=5)
    layers = [en.Dense(7, activation="tanh"), en.Dense(4, activation="relu"),
              en.Output(3, activation="softmax", loss="mcxent")]
    model = en.Sequential(layers, input_dim=N_IN, updater=en.SGD(learning_rate=1.0), seed=5, dtype="float32",
                          gradient_normalization="RenormalizeL2PerLayer")
    before = model.params()
    model.fit(X, y, epochs=1, batch_size=N, shuffle=False, verbose=0)
    for norm in layer_norms(model, (model.params() - before).astype(np.float64)).values():
        assert norm == pytest.approx(1.0, rel=1e-5)


# ------------------------------------------------------------------------------- configuration
@pytest.mark.parametrize("spelling", ["clip_l2_per_layer", "ClipL2PerLayer", "CLIPL2PERLAYER", "clip-l2-per-layer"])
def test_names_are_case_and_underscore_insensitive(spelling):
    config = make_model(spelling, threshold=0.5).get_config()
    assert config["gradient_normalization"] == {"name": "ClipL2PerLayer", "threshold": 0.5}


def test_default_is_none():
    model = make_model()
    stored = model.get_config().get("gradient_normalization")
    assert stored is None or stored["name"] == "None"
    X, y = make_data(seed=6)
    g = model.compute_gradients(X, y)
    np.testing.assert_allclose(step_change(model, X, y), -g, rtol=1e-12, atol=1e-15)


def test_unknown_name_suggests_the_closest():
    with pytest.raises(ValueError, match='did you mean "ClipL2PerLayer"'):
        make_model("ClipL2PerLayr")


@pytest.mark.parametrize("threshold", [0.0, -1.0, float("inf"), float("nan")])
def test_bad_threshold_raises_value_error_naming_it(threshold):
    with pytest.raises(ValueError, match="threshold"):
        make_model("ClipL2PerLayer", threshold=threshold)


def test_save_and_load_keeps_it(tmp_path):
    X, y = make_data(seed=7)
    model = make_model("ClipElementWiseAbsoluteValue", threshold=0.01, updater=en.SGD(learning_rate=0.5))
    model.fit(X, y, epochs=1, batch_size=N, shuffle=False, verbose=0)
    model.save(tmp_path / "clipped.eigennet")
    loaded = en.load(tmp_path / "clipped.eigennet")
    assert loaded.get_config()["gradient_normalization"] == {"name": "ClipElementWiseAbsoluteValue", "threshold": 0.01}
    before = loaded.params()
    model.fit(X, y, epochs=1, batch_size=N, shuffle=False, verbose=0)
    loaded.fit(X, y, epochs=1, batch_size=N, shuffle=False, verbose=0)
    np.testing.assert_array_equal(loaded.params(), model.params())
    # The loaded model still clips: no element moved by more than lr * threshold.
    assert np.abs(loaded.params() - before).max() <= 0.5 * 0.01 * (1 + 1e-12)
