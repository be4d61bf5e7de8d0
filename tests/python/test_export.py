"""Export (issue #5): ONNX graphs run in onnxruntime match predict_output / predict_proba; the
configuration round-trips through JSON and YAML without parameters."""

import json

import numpy as np
import pytest

import eigennet as en
from eigennet import _core
from eigennet.activations import BUILTIN

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
yaml = pytest.importorskip("yaml")

DTYPES = ["float32", "float64"]
TOLERANCE = {"float32": 1e-5, "float64": 1e-10}
# Every registered activation that is built in (custom ones registered by other tests excluded).
ACTIVATIONS = sorted(name for name in _core.activation_names() if name in set(BUILTIN) | {"LINEAR"})


def run_onnx(proto, X, output="output"):
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run([output], {"X": X})[0]


def assert_close(actual, expected, dtype):
    tol = TOLERANCE[dtype]
    assert actual.dtype == expected.dtype
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol)


def inputs(n=40, d=5, scale=2.0, seed=0, dtype="float32"):
    return (np.random.default_rng(seed).normal(size=(n, d)) * scale).astype(dtype)


# ---------------------------------------------------------------------------- activations
def test_every_builtin_activation_is_covered():
    assert set(BUILTIN) <= set(ACTIVATIONS)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_activation_matches_predict_output(activation, dtype, tmp_path):
    model = en.Sequential(
        [en.Dense(7, activation=activation), en.Output(3, activation=activation, loss="mse")],
        input_dim=5, seed=3, dtype=dtype,
    )
    X = inputs(dtype=dtype)
    path = tmp_path / "model.onnx"
    model.to_onnx(path)
    proto = onnx.load(str(path))
    if activation == "GELU" and dtype == "float64":
        # onnxruntime has no float64 Erf kernel; the graph is valid ONNX (Erf takes doubles).
        with pytest.raises(Exception, match="Erf"):
            run_onnx(proto, X)
        return
    if activation == "CUBE" and dtype == "float32":
        # Cubing twice multiplies relative rounding by about nine: the two runtimes' products round
        # differently (without FMA in the SSE build, 1.4e-5 apart), so compare at 1e-4.
        np.testing.assert_allclose(run_onnx(proto, X), model.predict_output(X), rtol=1e-4, atol=1e-4)
        return
    assert_close(run_onnx(proto, X), model.predict_output(X), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "activation",
    [en.LeakyReLU(alpha=0.3), en.RReLU(lower=0.1, upper=0.4), en.ELU(alpha=0.7), en.ThresholdedReLU(theta=0.4),
     en.GELU(approximate="tanh")],
    ids=["leakyrelu", "rrelu", "elu", "thresholdedrelu", "gelu_tanh"],
)
def test_parameterised_activation(activation, dtype):
    model = en.Sequential([en.Dense(6, activation=activation), en.Output(2, activation="identity", loss="mse")],
                          input_dim=5, seed=4, dtype=dtype)
    X = inputs(dtype=dtype)
    assert_close(run_onnx(model.to_onnx(), X), model.predict_output(X), dtype)


def test_softplus_and_mish_do_not_overflow():
    model = en.Sequential([en.ActivationLayer("softplus"), en.LossLayer("mish", loss="mse")], input_dim=3, seed=0)
    X = np.array([[-200.0, 0.0, 200.0], [-30.0, 1e-3, 95.0]], dtype=np.float32)
    assert_close(run_onnx(model.to_onnx(), X), model.predict_output(X), "float32")


# ---------------------------------------------------------------------------- layers
@pytest.mark.parametrize("dtype", DTYPES)
def test_batchnorm_and_dropout_model_after_training(dtype):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 6)) * 3 + 1
    y = (X[:, 0] + X[:, 1] > 2).astype(int)
    model = en.Sequential(
        [en.Dense(16, activation="relu", dropout=0.1), en.BatchNormalization(), en.Dropout(0.2),
         en.GaussianDropout(0.1), en.GaussianNoise(0.1), en.Dense(8, activation="selu", has_bias=False),
         en.AlphaDropout(0.1), en.BatchNormalization(lock_gamma_beta=True, gamma=1.5, beta=0.2),
         en.ActivationLayer("tanh"), en.Output(2, activation="softmax")],
        input_dim=6, updater=en.Adam(learning_rate=1e-2), seed=5, dtype=dtype,
    )
    model.fit(X, y, epochs=3, batch_size=32, verbose=0)
    assert not np.allclose(model.get_param(1, "mean"), 0)  # the running statistics moved
    X_test = X[:50].astype(dtype)
    proto = model.to_onnx()
    assert_close(run_onnx(proto, X_test), model.predict_output(X_test), dtype)
    assert_close(run_onnx(proto, X_test, "probabilities"), model.predict_proba(X_test), dtype)
    assert not any(node.op_type == "Dropout" for node in proto.graph.node)


def test_digits_classifier_predict_proba(tmp_path):
    X, y = en.load_digits()
    X = (X / 16.0).astype(np.float32)
    model = en.Sequential(
        [en.Dense(64, activation="relu"), en.Dense(32, activation="tanh"), en.Output(10, activation="softmax")],
        input_dim=64, updater=en.Adam(learning_rate=1e-3), seed=42,
    )
    model.fit(X, y, epochs=3, batch_size=64, verbose=0)
    path = tmp_path / "digits.onnx"
    model.to_onnx(path)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["X"]
    assert session.get_inputs()[0].shape[1] == 64
    assert [o.name for o in session.get_outputs()] == ["output", "probabilities"]
    proba = session.run(["probabilities"], {"X": X})[0]
    np.testing.assert_allclose(proba, model.predict_proba(X), rtol=1e-5, atol=1e-5)
    assert (proba.argmax(axis=1) == model.predict(X)).all()
    single = session.run(["probabilities"], {"X": X[:1]})[0]  # the batch dimension is dynamic
    assert single.shape == (1, 10)


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_probabilities_are_one_minus_p_and_p(dtype):
    model = en.Sequential([en.Dense(4, activation="relu"), en.Output(1, activation="sigmoid", loss="xent")],
                          input_dim=3, seed=2, dtype=dtype)
    X = inputs(d=3, dtype=dtype)
    proto = model.to_onnx()
    assert_close(run_onnx(proto, X), model.predict_output(X), dtype)
    assert_close(run_onnx(proto, X, "probabilities"), model.predict_proba(X), dtype)


@pytest.mark.parametrize("normalizer", ["standardize", "minmax"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_input_normalizer_is_part_of_the_graph(normalizer, dtype):
    rng = np.random.default_rng(3)
    X = (rng.normal(size=(80, 4)) * [1, 10, 100, 0.1] + [0, 5, -50, 1]).astype(dtype)
    y = rng.integers(0, 3, size=80)
    model = en.Sequential([en.Dense(6, activation="tanh"), en.Output(3)], normalizer=normalizer, seed=1, dtype=dtype)
    with pytest.raises(RuntimeError):
        model.to_onnx()  # not built (nor fitted) yet
    model.fit(X, y, epochs=2, verbose=0)
    assert_close(run_onnx(model.to_onnx(), X), model.predict_output(X), dtype)
    clone = en.Sequential.from_json(model.to_json())
    assert type(clone.normalizer) is type(model.normalizer) and not clone.normalizer.fitted
    assert "shift" not in json.loads(model.to_json())["normalizer"]


def test_regressor_has_only_the_output():
    model = en.Sequential([en.Dense(4, activation="tanh"), en.Output(2, activation="identity", loss="mse")],
                          input_dim=3, seed=2)
    assert [o.name for o in model.to_onnx().graph.output] == ["output"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_unsupervised_encoders(dtype):
    model = en.Sequential(
        [en.AutoEncoder(6, activation="sigmoid"), en.RBM(5),
         en.VariationalAutoencoder(4, encoder_layer_sizes=(7, 6), decoder_layer_sizes=(5,), activation="elu"),
         en.Output(3, activation="softmax")],
        input_dim=5, seed=6, dtype=dtype,
    )
    X = np.random.default_rng(0).uniform(size=(30, 5)).astype(dtype)
    assert_close(run_onnx(model.to_onnx(), X), model.predict_output(X), dtype)


def test_custom_layer_is_not_exportable():
    class Doubler(en.CustomLayer):
        def forward(self, x, params, training):
            return 2.0 * x

        def backward(self, x, y, dy, params):
            return 2.0 * dy, {}

    model = en.Sequential([en.Dense(3), Doubler(), en.Output(2)], input_dim=4, seed=0)
    with pytest.raises(NotImplementedError, match=r"layer 1 \(Doubler\)"):
        model.to_onnx()


def test_custom_activation_is_not_exportable():
    en.register_activation("EXPORT_TEST_SQUARE", lambda z: z * z, lambda z, a, da: 2 * z * da)
    model = en.Sequential([en.Dense(3, activation="EXPORT_TEST_SQUARE"), en.Output(2)], input_dim=4, seed=0)
    with pytest.raises(NotImplementedError, match="EXPORT_TEST_SQUARE"):
        model.to_onnx()


def test_onnx_export_bad_arguments(tmp_path):
    unbuilt = en.Sequential([en.Dense(3), en.Output(2)])
    with pytest.raises(RuntimeError, match="not built"):
        unbuilt.to_onnx(tmp_path / "m.onnx")
    model = en.Sequential([en.Dense(3), en.Output(2)], input_dim=4, seed=0)
    with pytest.raises(ValueError, match="opset"):
        model.to_onnx(opset=9)
    with pytest.raises(TypeError, match="opset"):
        model.to_onnx(opset="17")
    assert not (tmp_path / "m.onnx").exists()


def test_newer_opset_and_metadata():
    model = en.Sequential([en.Dense(3, activation="gelu"), en.Output(2)], input_dim=4, seed=0)
    proto = model.to_onnx(opset=20)
    assert proto.opset_import[0].version == 20
    assert proto.producer_name == "eigennet"
    props = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(props["eigennet_config"])["input_dim"] == 4
    X = inputs(d=4)
    assert_close(run_onnx(proto, X), model.predict_output(X), "float32")


# ---------------------------------------------------------------------------- JSON / YAML
def configured_model(dtype="float64", input_dim=5):
    return en.Sequential(
        [en.Dense(8, activation=en.LeakyReLU(0.2), weight_init="xavier", dropout=0.1), en.BatchNormalization(eps=1e-3),
         en.Dropout(0.2), en.Dense(6, activation="gelu", has_bias=False), en.Output(3, activation="softmax")],
        input_dim=input_dim, updater=en.Adam(learning_rate=3e-3), l2=1e-4, weight_decay=1e-5, seed=11, dtype=dtype,
        gradient_normalization="clip_l2_per_layer", gradient_normalization_threshold=2.0,
    )


def _without_params(text):
    return "W" not in json.loads(text) and len(text) < 5000


@pytest.mark.parametrize("fmt", ["json", "yaml"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_config_round_trip(fmt, dtype):
    model = configured_model(dtype)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 5)), rng.integers(0, 3, size=60)
    model.fit(X, y, epochs=2, batch_size=16, verbose=0)  # trained: its parameters must not travel
    text = model.to_json() if fmt == "json" else model.to_yaml()
    if fmt == "json":
        assert _without_params(text)
    clone = en.Sequential.from_json(text) if fmt == "json" else en.Sequential.from_yaml(text)
    assert clone.dtype == dtype
    assert clone.get_config() == model.get_config()
    assert (clone.to_json() if fmt == "json" else clone.to_yaml()) == text
    # A fresh model: the seed's initial weights, not the trained ones.
    fresh = configured_model(dtype)
    np.testing.assert_array_equal(clone.params(), fresh.params())
    assert not np.array_equal(clone.params(), model.params())
    clone.fit(X, y, epochs=2, batch_size=16, verbose=0)
    fresh.fit(X, y, epochs=2, batch_size=16, verbose=0)
    np.testing.assert_array_equal(clone.params(), fresh.params())


def test_unbuilt_model_round_trip():
    model = configured_model(input_dim=None)
    clone = en.Sequential.from_yaml(model.to_yaml())
    assert not clone.built
    assert json.loads(clone.to_json()) == json.loads(model.to_json())
    clone.fit(np.random.default_rng(0).normal(size=(20, 5)), np.arange(20) % 3, epochs=1, verbose=0)
    assert clone.built and clone.input_dim == 5


def test_json_and_yaml_describe_the_same_configuration():
    model = configured_model()
    assert yaml.safe_load(model.to_yaml()) == json.loads(model.to_json())
    config = json.loads(model.to_json())
    assert config["format"] == "eigennet-config" and config["dtype"] == "float64"
    assert [layer["type"] for layer in config["layers"]] == ["Dense", "BatchNormalization", "Dropout", "Dense", "Output"]


@pytest.mark.parametrize(
    "text, match",
    [
        ("{not json", "invalid JSON"),
        ("[1, 2]", "mapping"),
        ('{"layers": [{"type": "NoSuchLayer"}]}', "unknown layer type"),
        ('{"layers": [{"type": "Dense"}]}', "invalid model configuration"),
        ('{"layers": "Dense"}', "list"),
        ('{"input_dim": 4, "layers": [{"type": "Dense", "n_out": 3, "activation": "NOPE"}, '
         '{"type": "Output", "n_out": 2, "loss": "mse"}]}', "NOPE"),
        ('{"format": "keras", "layers": []}', "not an eigennet"),
        ('{"version": 99, "layers": []}', "version"),
        ('{"layers": [{"type": "Output", "n_out": 2}], "dtype": "float16"}', "dtype"),
    ],
)
def test_bad_json_raises_value_error(text, match):
    with pytest.raises(ValueError, match=match):
        en.Sequential.from_json(text)


@pytest.mark.parametrize(
    "text, match",
    [("layers: [unclosed", "invalid YAML"), ("just a string", "mapping"),
     ("layers:\n  - type: Mystery\n", "unknown layer type"), ("layers:\n  - {type: Output}\n", "invalid")],
)
def test_bad_yaml_raises_value_error(text, match):
    with pytest.raises(ValueError, match=match):
        en.Sequential.from_yaml(text)


# ---------------------------------------------------------------------------- command line
def test_cli_export_onnx(tmp_path, capsys):
    from eigennet.cli import main

    X, y = en.load_digits()
    X = (X / 16.0).astype(np.float32)
    model = en.Sequential([en.Dense(16, activation="relu"), en.Output(10)], input_dim=64, seed=0)
    model.fit(X[:200], y[:200], epochs=1, verbose=0)
    model.save(tmp_path / "m.enet")
    assert main(["export-onnx", str(tmp_path / "m.enet")]) == 0
    assert "m.onnx" in capsys.readouterr().out
    proto = onnx.load(str(tmp_path / "m.onnx"))
    np.testing.assert_allclose(run_onnx(proto, X, "probabilities"), model.predict_proba(X), rtol=1e-5, atol=1e-5)
    assert main(["export-onnx", str(tmp_path / "m.enet"), "-o", str(tmp_path / "x.onnx"), "--opset", "20"]) == 0
    assert onnx.load(str(tmp_path / "x.onnx")).opset_import[0].version == 20
    assert main(["export-onnx", str(tmp_path / "m.enet"), "--opset", "5"]) == 1
    assert "opset" in capsys.readouterr().err
    assert main(["export-onnx", str(tmp_path / "missing.enet")]) == 1
