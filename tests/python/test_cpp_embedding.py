"""The C++ core on its own: the golden model file, and a pure C++ program built against the installed core.

The embedding tests install the core with CMake into a temporary prefix, build examples/cpp (which
uses ``find_package(eigennet)``) against it, and check that the program predicts what Python does for
models trained and saved here. They need ``cmake`` and a C++ compiler; the first run compiles the core
(about a minute or two on two cores), later runs reuse the build directory kept in pytest's cache
(``.pytest_cache/d/eigennet-cpp-embedding``) and only re-install and rebuild the small example.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import sysconfig
from pathlib import Path

import numpy as np
import pytest

import eigennet as en

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
GOLDEN = DATA / "golden.enet"
GOLDEN_CSV = DATA / "golden_expected.csv"
EXAMPLE = REPO / "examples" / "cpp"


def golden_table():
    table = np.loadtxt(GOLDEN_CSV, delimiter=",", skiprows=1)
    with open(GOLDEN_CSV) as f:
        assert f.readline().strip() == "x0,x1,x2,x3,y0,y1,y2"
    assert table.shape == (12, 7)
    return table[:, :4], table[:, 4:]


def golden_weights():
    """The formulas documented in tests/data/make_golden.py."""
    W0 = np.array([[((7 * i + 3 * j) % 11 - 5) / 8 for j in range(5)] for i in range(4)])
    b0 = np.array([(j - 2) / 10 for j in range(5)])
    W1 = np.array([[((5 * i + 2 * j) % 9 - 4) / 6 for j in range(3)] for i in range(5)])
    b1 = np.array([0.1, -0.2, 0.05])
    return W0, b0, W1, b1


def numpy_forward(X, W0, b0, W1, b1):
    h = np.tanh(X @ W0 + b0)
    z = h @ W1 + b1
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# --------------------------------------------------------------------------- the golden file


def test_golden_model_loads_and_predicts_expected_outputs():
    X, expected = golden_table()
    model = en.load(GOLDEN)
    assert model.dtype == "float64"
    assert model.input_dim == 4 and model.n_outputs == 3
    assert model.iteration == 0 and model.epoch == 0
    W0, b0, W1, b1 = golden_weights()
    np.testing.assert_array_equal(model.get_param(0, "W"), W0)
    np.testing.assert_array_equal(model.get_param(0, "b"), b0)
    np.testing.assert_array_equal(model.get_param(1, "W"), W1)
    np.testing.assert_array_equal(model.get_param(1, "b"), b1)
    np.testing.assert_allclose(model.predict_output(X), expected, rtol=0, atol=1e-12)
    # The expected outputs themselves are NumPy's, independent of eigennet.
    np.testing.assert_allclose(numpy_forward(X, W0, b0, W1, b1), expected, rtol=0, atol=1e-15)


def test_golden_model_is_a_safetensors_file():
    from safetensors import safe_open
    from safetensors.numpy import load_file

    tensors = load_file(str(GOLDEN))
    assert set(tensors) == {"layers.0.W", "layers.0.b", "layers.1.W", "layers.1.b", "updater.m", "updater.v"}
    W0, b0, W1, b1 = golden_weights()
    for name, want in (("layers.0.W", W0), ("layers.0.b", b0), ("layers.1.W", W1), ("layers.1.b", b1)):
        assert tensors[name].dtype == np.float64
        assert tensors[name].shape == want.shape, name
        np.testing.assert_array_equal(tensors[name], want, err_msg=name)
    assert tensors["updater.m"].shape == (4 * 5 + 5 + 5 * 3 + 3,)
    assert not tensors["updater.m"].any() and not tensors["updater.v"].any()
    X, expected = golden_table()
    got = numpy_forward(X, tensors["layers.0.W"], tensors["layers.0.b"], tensors["layers.1.W"], tensors["layers.1.b"])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-15)

    with safe_open(str(GOLDEN), framework="np") as f:
        metadata = f.metadata()
    assert metadata["format"] == "eigennet"
    assert metadata["format_version"] == "1"
    assert metadata["dtype"] == "float64"
    assert metadata["iteration"] == "0"


def test_file_written_by_safetensors_loads(tmp_path):
    """A file written by another safetensors implementation, with eigennet's metadata, loads too."""
    from safetensors import safe_open
    from safetensors.numpy import load_file, save_file

    tensors = load_file(str(GOLDEN))
    with safe_open(str(GOLDEN), framework="np") as f:
        metadata = f.metadata()
    tensors["layers.1.b"] = tensors["layers.1.b"] + 0.5  # a visible change
    path = tmp_path / "rewritten.enet"
    save_file(tensors, str(path), metadata=metadata)
    model = en.load(path)
    X, _ = golden_table()
    W0, b0, W1, b1 = golden_weights()
    np.testing.assert_allclose(model.predict_output(X), numpy_forward(X, W0, b0, W1, b1 + 0.5), rtol=0, atol=1e-12)


# --------------------------------------------------------------------------- embedding the C++ core


def _run(command, **kwargs):
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=1800, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(
            f"command failed with exit code {result.returncode}: {' '.join(map(str, command))}\n"
            f"--- stdout (end) ---\n{result.stdout[-6000:]}\n--- stderr (end) ---\n{result.stderr[-6000:]}"
        )
    return result


def _generator():
    return ["-G", "Ninja"] if shutil.which("ninja") else []


def _eigen_prefixes():
    """Where Eigen from PyPI's cmeel-eigen lives (the README's CMAKE_PREFIX_PATH)."""
    purelib = sysconfig.get_paths()["purelib"]
    return [purelib, os.path.join(purelib, "cmeel.prefix")]


@contextlib.contextmanager
def _locked(directory: Path):
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _build_directory(request, tmp_path_factory) -> Path:
    """A core build directory that survives between runs (pytest's cache) when the cache is available."""
    cache = getattr(request.config, "cache", None)
    if cache is not None:
        try:
            return Path(cache.mkdir("eigennet-cpp-embedding"))
        except Exception:  # read-only checkout and the like
            pass
    return tmp_path_factory.mktemp("eigennet-cpp-embedding")


def _install_core(work: Path, prefix: Path) -> None:
    build = work / "core-build"
    configure = [
        "cmake", "-S", REPO, "-B", build, *_generator(),
        "-DCMAKE_BUILD_TYPE=Release",
        "-DEIGENNET_BUILD_TESTS=OFF",
        "-DEIGENNET_BUILD_PYTHON=OFF",
        f"-DCMAKE_PREFIX_PATH={';'.join(_eigen_prefixes())}",
    ]
    try:
        _run(configure)
    except RuntimeError:
        # A cached build directory from another checkout, compiler or generator: start afresh.
        shutil.rmtree(build, ignore_errors=True)
        _run(configure)
    _run(["cmake", "--build", build, "--parallel", "2"])
    shutil.rmtree(prefix, ignore_errors=True)
    _run(["cmake", "--install", build, "--prefix", prefix])


@pytest.fixture(scope="module")
def predict_program(request, tmp_path_factory) -> Path:
    """examples/cpp/predict, built against a freshly installed copy of the core."""
    if shutil.which("cmake") is None:
        pytest.skip("cmake is not installed")
    if not (REPO / "CMakeLists.txt").is_file() or not (EXAMPLE / "CMakeLists.txt").is_file():
        pytest.skip("needs the source tree (CMakeLists.txt, examples/cpp)")
    work = _build_directory(request, tmp_path_factory)
    prefix = tmp_path_factory.mktemp("eigennet-prefix")
    with _locked(work):
        _install_core(work, prefix)
    config_dirs = list(prefix.glob("lib*/cmake/eigennet/eigennetConfig.cmake"))
    assert config_dirs, f"no eigennetConfig.cmake under {prefix}"
    assert (prefix / "include" / "eigennet" / "eigennet.hpp").is_file()

    example_build = tmp_path_factory.mktemp("eigennet-example-build")
    # Only the installed prefix and Eigen: nothing from the source tree or the core's build directory.
    _run([
        "cmake", "-S", EXAMPLE, "-B", example_build, *_generator(),
        "-DCMAKE_BUILD_TYPE=Release",
        f"-DCMAKE_PREFIX_PATH={';'.join([str(prefix), _eigen_prefixes()[1]])}",
    ])
    _run(["cmake", "--build", example_build, "--parallel", "2"])
    program = example_build / "predict"
    assert program.is_file()
    return program


def _write_features(path: Path, X: np.ndarray, header: bool = False) -> None:
    with open(path, "w") as f:
        if header:
            f.write(",".join(f"f{i}" for i in range(X.shape[1])) + "\n\n# a comment line\n")
        for row in X:
            f.write(",".join(repr(float(v)) for v in row) + "\n")


def _predict_cpp(program: Path, model: Path, csv: Path | None = None, stdin: str | None = None) -> np.ndarray:
    command = [program, model] + ([csv] if csv is not None else [])
    result = _run(command, input=stdin)
    lines = result.stdout.splitlines()
    return np.array([[float(v) for v in line.split(",")] for line in lines])


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_cpp_program_predicts_like_python(predict_program, tmp_path, dtype):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(80, 5))
    y = ((X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int) + (X[:, 3] > 0.8)).astype(int)
    model = en.Sequential(
        [
            en.Dense(8, activation="relu"),
            en.Dense(6, activation=en.LeakyReLU(0.1)),
            en.Output(3, activation="softmax", loss="mcxent"),
        ],
        input_dim=5,
        updater=en.Adam(learning_rate=0.01),
        seed=11,
        dtype=dtype,
    )
    model.fit(X, y, epochs=8, batch_size=16, verbose=0)
    path = tmp_path / f"model-{dtype}.enet"
    model.save(path)
    expected = model.predict_output(X)

    features = tmp_path / "features.csv"
    _write_features(features, X)
    got = _predict_cpp(predict_program, path, features)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
    if dtype == "float32":
        # 9 significant digits identify a float exactly.
        np.testing.assert_array_equal(got.astype(np.float32), expected)

    # Standard input, with a header, a blank line and a comment.
    _write_features(features, X[:7], header=True)
    got_stdin = _predict_cpp(predict_program, path, stdin=features.read_text())
    np.testing.assert_allclose(got_stdin, expected[:7], rtol=0, atol=1e-6)


@pytest.mark.slow
def test_cpp_program_regression_model(predict_program, tmp_path):
    rng = np.random.default_rng(6)
    X = rng.uniform(-2, 2, size=(50, 3))
    Y = np.column_stack([np.sin(X[:, 0]) + X[:, 1], X[:, 2] ** 2])
    model = en.Sequential(
        [en.Dense(10, activation="tanh"), en.Output(2, activation="identity", loss="mse")],
        input_dim=3, updater=en.Adam(learning_rate=0.02), seed=3, dtype="float64",
    )
    model.fit(X, Y, epochs=10, batch_size=10, verbose=0)
    path = tmp_path / "regressor.enet"
    model.save(path)
    features = tmp_path / "features.csv"
    _write_features(features, X)
    np.testing.assert_allclose(_predict_cpp(predict_program, path, features), model.predict_output(X), rtol=0, atol=1e-6)


@pytest.mark.slow
def test_cpp_program_on_golden_model(predict_program, tmp_path):
    X, expected = golden_table()
    features = tmp_path / "golden-features.csv"
    _write_features(features, X)
    np.testing.assert_allclose(_predict_cpp(predict_program, GOLDEN, features), expected, rtol=0, atol=1e-12)


@pytest.mark.slow
def test_cpp_program_reports_errors(predict_program, tmp_path):
    features = tmp_path / "bad.csv"
    features.write_text("1,2,3,4\n1,2,3\n")
    result = subprocess.run([str(predict_program), str(GOLDEN), str(features)], capture_output=True, text=True)
    assert result.returncode != 0
    assert "3 features, but the model expects 4" in result.stderr
    damaged = tmp_path / "damaged.enet"
    damaged.write_bytes(GOLDEN.read_bytes()[:100])
    result = subprocess.run([str(predict_program), str(damaged), str(features)], capture_output=True, text=True)
    assert result.returncode != 0
    assert "cannot load model" in result.stderr
