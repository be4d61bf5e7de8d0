"""Model files: exact round trips, bit-exact resumed training, atomic saving, safetensors
compatibility, and corrupted files rejected with FormatError (never a crash)."""

import json
import os
import signal
import struct
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

import eigennet as en

DTYPES = ["float32", "float64"]


@pytest.fixture(scope="module")
def digits():
    X, y = en.load_digits()
    X_train, X_test, y_train, y_test = en.train_test_split(X / 16.0, y, test_size=0.25, seed=0)
    return X_train[:600], X_test, y_train[:600], y_test


def digits_model(dtype="float32", updater=None):
    return en.Sequential(
        [
            en.Dense(64, activation="relu"),
            en.Dense(32, activation="tanh", weight_init="xavier"),
            en.Output(10, activation="softmax", loss="mcxent"),
        ],
        input_dim=64, updater=updater or en.Adam(learning_rate=1e-3), l2=1e-4, seed=42, dtype=dtype,
    )


def small_model(dtype="float32", updater="adam", **kwargs):
    return en.Sequential([en.Dense(8, activation="relu"), en.Output(3)], input_dim=4, updater=updater, seed=1,
                         dtype=dtype, **kwargs)


def read_model_file(path):
    with open(path, "rb") as f:
        raw = f.read()
    (length,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8:8 + length]), raw[8 + length:]


def write_model_file(path, header, payload, pad=True):
    text = json.dumps(header).encode()
    if pad:
        text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + payload)


def assert_same_model(a, b, X):
    assert b.dtype == a.dtype
    assert b.get_config() == a.get_config()
    assert (b.iteration, b.epoch, b.num_params, b.input_dim, b.seed) == (a.iteration, a.epoch, a.num_params,
                                                                         a.input_dim, a.seed)
    assert b.params().tobytes() == a.params().tobytes()
    state_a, state_b = a.updater_state(), b.updater_state()
    assert state_a.keys() == state_b.keys()
    for key in state_a:
        assert state_b[key].tobytes() == state_a[key].tobytes(), key
    np.testing.assert_array_equal(b.predict_output(X), a.predict_output(X))
    assert b.updater == a.updater
    assert [type(layer) for layer in b.layers] == [type(layer) for layer in a.layers]
    assert [getattr(layer, "units", None) for layer in b.layers] == [getattr(la, "units", None) for la in a.layers]


# ---------------------------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("dtype", DTYPES)
def test_round_trip_keeps_everything(digits, dtype, tmp_path):
    X, Xv, y, yv = digits
    model = digits_model(dtype)
    model.fit(X, y, epochs=3, verbose=0)
    model.metadata = {"classes": [str(d) for d in range(10)], "note": "ünïcode"}
    path = tmp_path / "digits.enet"
    model.save(path)
    same = en.load(path)
    assert_same_model(model, same, Xv)
    assert same.metadata == model.metadata
    np.testing.assert_array_equal(same.predict_proba(Xv), model.predict_proba(Xv))
    np.testing.assert_array_equal(same.predict(Xv), model.predict(Xv))
    assert same.evaluate(Xv, yv) == model.evaluate(Xv, yv)
    assert same.summary() == model.summary()
    assert model.epoch == 3 and model.iteration == 3 * 19
    assert set(model.updater_state()) == {"m", "v"}
    same.save(str(tmp_path / "again.enet"))  # str paths work too; a loaded model saves the same bytes
    assert (tmp_path / "again.enet").read_bytes() == path.read_bytes()


@pytest.mark.parametrize("dtype", DTYPES)
def test_bytes_and_pickle_round_trip(digits, dtype, tmp_path):
    """to_bytes is the file format in memory: the same bytes save writes; from_bytes and pickle give
    the same model, and training resumes from them exactly as from a file."""
    import pickle

    X, Xv, y, yv = digits
    model = digits_model(dtype)
    model.fit(X, y, epochs=2, verbose=0)
    model.metadata = {"run": 7}
    path = tmp_path / "digits.enet"
    model.save(path)
    data = model.to_bytes()
    assert data == path.read_bytes()
    for same in (en.from_bytes(data), en.from_bytes(bytearray(data)), pickle.loads(pickle.dumps(model))):
        assert_same_model(model, same, Xv)
        assert same.metadata == {"run": 7}
        same.fit(X, y, epochs=1, verbose=0)
    model.fit(X, y, epochs=1, verbose=0)
    assert same.params().tobytes() == model.params().tobytes()
    unbuilt = en.Sequential([en.Dense(4), en.Output(2)], dtype=dtype)  # no input_dim: not built yet
    copy = pickle.loads(pickle.dumps(unbuilt))
    assert not copy.built and copy.get_config() == unbuilt.get_config()


def test_from_bytes_refuses_bad_input(saved):
    raw = saved.read_bytes()
    with pytest.raises(TypeError, match="data must be bytes, got str"):
        en.from_bytes("not bytes")
    for bad, pattern in [(b"", "model bytes: not an eigennet model \\(0 bytes\\)"),
                         (raw[:len(raw) // 2], "model bytes"), (raw[:20], "model bytes: header length"),
                         (b"\xff" * 64, "model bytes")]:
        with pytest.raises(en.FormatError, match=pattern):
            en.from_bytes(bad)


@pytest.mark.parametrize("dtype", DTYPES)
def test_set_updater_state(digits, dtype):
    X, _, y, _ = digits
    source, target = digits_model(dtype), digits_model(dtype, updater=en.Adam(learning_rate=1e-3))
    source.fit(X, y, epochs=1, verbose=0)
    target.build(64)
    target.set_params(source.params())
    target.set_updater_state(source.updater_state())
    for key, value in source.updater_state().items():
        np.testing.assert_array_equal(target.updater_state()[key], value)
    before = {k: v.copy() for k, v in target.updater_state().items()}
    n = source.num_params
    for bad, error, pattern in [
        ([1, 2], TypeError, "state must be a dict"),
        ({"m": np.zeros(n)}, ValueError, r"missing \['v'\]"),
        ({"m": np.zeros(n), "v": np.zeros(n), "u": np.zeros(n)}, ValueError, r"unknown \['u'\]"),
        ({"m": np.zeros(n), "v": np.zeros(n - 1)}, ValueError, rf"state\['v'\] must have shape \({n},\)"),
        ({"m": np.full(n, np.nan), "v": np.zeros(n)}, ValueError, r"state\['m'\] contains NaN"),
        ({"m": np.zeros(n).astype(complex), "v": np.zeros(n)}, TypeError, "real numbers"),
    ]:
        with pytest.raises(error, match=pattern):
            target.set_updater_state(bad)
        for key, value in before.items():  # nothing written when any entry is bad
            np.testing.assert_array_equal(target.updater_state()[key], value)


@pytest.mark.parametrize(
    "updater",
    [en.SGD(learning_rate=0.1), en.Nesterovs(), en.AdaGrad(), en.RMSProp(learning_rate=0.01), en.AdaDelta(),
     en.AdaMax(), en.Nadam(), en.AMSGrad(), en.NoOp()],
    ids=lambda u: type(u).__name__,
)
def test_round_trip_of_every_updater(updater, tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 4)), rng.integers(0, 3, 30)
    model = small_model("float64", updater=updater, l1=1e-4, weight_decay=1e-3)
    model.fit(X, y, epochs=2, batch_size=8, verbose=0)
    model.save(tmp_path / "m.enet")
    same = en.load(tmp_path / "m.enet")
    assert_same_model(model, same, X)
    model.fit(X, y, epochs=1, batch_size=8, verbose=0)
    same.fit(X, y, epochs=1, batch_size=8, verbose=0)
    assert same.params().tobytes() == model.params().tobytes()


def test_round_trip_of_other_layers_and_tasks(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(20, 3))
    models = [
        en.Sequential([en.Dense(5, activation=en.LeakyReLU(0.2), weight_init=en.Normal(0, 0.3), has_bias=False),
                       en.ActivationLayer("elu"), en.Output(1, activation="identity", loss="mse")], input_dim=3),
        en.Sequential([en.Dense(4, activation=en.ELU(0.5)), en.LossLayer("softmax", "mcxent")], input_dim=3),
        en.Sequential([en.Output(1, "sigmoid", "xent", weight_init=en.Uniform(-0.1, 0.1), bias_init=0.5)], input_dim=3),
    ]
    for i, model in enumerate(models):
        model.save(tmp_path / f"{i}.enet")
        assert_same_model(model, en.load(tmp_path / f"{i}.enet"), X)


@pytest.mark.parametrize("dtype", DTYPES)
def test_resumed_training_is_bit_identical(digits, dtype, tmp_path):
    X, Xv, y, yv = digits
    uninterrupted = digits_model(dtype)
    full_history = uninterrupted.fit(X, y, epochs=5, batch_size=32, shuffle=True, verbose=0)

    first = digits_model(dtype)
    first.fit(X, y, epochs=3, batch_size=32, shuffle=True, verbose=0)
    first.save(tmp_path / "checkpoint.enet")
    del first
    resumed = en.load(tmp_path / "checkpoint.enet")
    assert (resumed.epoch, resumed.iteration) == (3, 3 * 19)
    history = resumed.fit(X, y, epochs=2, batch_size=32, shuffle=True, verbose=0)

    assert history.epoch == [4, 5]
    assert history.history["loss"] == full_history.history["loss"][3:]
    assert_same_model(uninterrupted, resumed, Xv)
    # A second save/resume cycle stays in step too.
    resumed.save(tmp_path / "checkpoint.enet")
    again = en.load(tmp_path / "checkpoint.enet")
    again.fit(X, y, epochs=1, verbose=0)
    uninterrupted.fit(X, y, epochs=1, verbose=0)
    assert again.params().tobytes() == uninterrupted.params().tobytes()


def test_resume_without_the_file_state_would_differ(digits, tmp_path):
    """The check above is meaningful: a model restarted from the same weights but a fresh updater
    and random stream does not reproduce the uninterrupted run."""
    X, _, y, _ = digits
    uninterrupted = digits_model()
    uninterrupted.fit(X, y, epochs=5, verbose=0)
    partial = digits_model()
    partial.fit(X, y, epochs=3, verbose=0)
    restarted = digits_model()
    restarted.set_params(partial.params())
    restarted.fit(X, y, epochs=2, verbose=0)
    assert not np.array_equal(restarted.params(), uninterrupted.params())


# ---------------------------------------------------------------------------------------------- atomic saving
def test_save_leaves_no_temporary_files_and_replaces(tmp_path):
    path = tmp_path / "m.enet"
    old = small_model()
    old.save(path)
    assert sorted(os.listdir(tmp_path)) == ["m.enet"]
    new = small_model()
    new.set_params(old.params() + 1)
    new.fit(np.ones((4, 4)), [0, 1, 2, 0], epochs=1, verbose=0)
    new.save(path)
    assert sorted(os.listdir(tmp_path)) == ["m.enet"]
    loaded = en.load(path)
    np.testing.assert_array_equal(loaded.params(), new.params())
    assert not np.array_equal(loaded.params(), old.params())
    assert loaded.epoch == 1


def test_failed_save_raises_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "m.enet"
    small_model().save(path)
    before = path.read_bytes()
    with pytest.raises((OSError, RuntimeError), match="could not create"):
        small_model().save(tmp_path / "missing" / "m.enet")
    (tmp_path / "dir.enet").mkdir()
    with pytest.raises((OSError, RuntimeError), match="dir.enet"):
        small_model().save(tmp_path / "dir.enet")
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["dir.enet", "m.enet"]


def run_python(code, timeout=60):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout)


def test_save_failing_mid_write_keeps_the_old_file(tmp_path):
    """A write that fails halfway (file size limit) raises, removes its temporary file and leaves the
    previous model in place."""
    path = tmp_path / "m.enet"
    small_model().save(path)
    before = path.read_bytes()
    result = run_python(f"""
        import resource, signal, sys
        import eigennet as en
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        model = en.Sequential([en.Dense(300), en.Output(10)], input_dim=300, seed=0)
        resource.setrlimit(resource.RLIMIT_FSIZE, (len({before!r}) * 4, resource.RLIM_INFINITY))
        try:
            model.save({str(path)!r})
        except (OSError, RuntimeError) as exc:
            print("FAILED", exc)
            sys.exit(0)
        sys.exit(3)
    """)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAILED could not write" in result.stdout
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.enet"]
    assert en.load(path).num_params == small_model().num_params


def test_sigkill_during_save_keeps_a_loadable_file(tmp_path):
    """A process killed while saving (repeatedly, a 12 MB model) leaves the last complete file."""
    path = tmp_path / "big.enet"
    code = f"""
        import numpy as np, eigennet as en, sys
        model = en.Sequential([en.Dense(1500), en.Output(500)], input_dim=1500, updater="sgd", seed=0)
        n = model.num_params
        version = 0
        while True:
            model.set_params(np.full(n, float(version), dtype=np.float32))
            model.save({str(path)!r})
            print(version, flush=True)
            version += 1
    """
    versions_seen = set()
    killed = []
    for delay in (0.0, 0.037, 0.11):
        proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], stdout=subprocess.PIPE, text=True)
        try:
            completed = int(proc.stdout.readline())  # the first save is complete
            time.sleep(delay)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            proc.stdout.close()
        assert proc.returncode == -signal.SIGKILL
        killed.append(proc.pid)
        model = en.load(path)
        params = model.params()
        assert params.size == 1500 * 1500 + 1500 + 1500 * 500 + 500
        assert (params == params[0]).all()  # one whole version, not a mix
        assert params[0] >= completed
        versions_seen.add(float(params[0]))
        for name in os.listdir(tmp_path):  # at most orphaned temporaries of the killed processes
            assert name == "big.enet" or name in {f"big.enet.tmp-{pid}" for pid in killed}, name
    assert versions_seen


# ---------------------------------------------------------------------------------------------- the format
@pytest.mark.parametrize("dtype", DTYPES)
def test_file_is_readable_by_safetensors(dtype, tmp_path):
    model = en.Sequential([en.Dense(7, has_bias=False), en.Dense(5), en.Output(3)], input_dim=4,
                          updater=en.Adam(), seed=0, dtype=dtype)
    model.fit(np.random.default_rng(0).normal(size=(10, 4)), np.arange(10) % 3, epochs=1, verbose=0)
    path = tmp_path / "m.enet"
    model.save(path)
    tensors = load_file(str(path))
    assert set(tensors) == {"layers.0.W", "layers.1.W", "layers.1.b", "layers.2.W", "layers.2.b", "updater.m",
                            "updater.v"}
    assert tensors["layers.0.W"].shape == (4, 7)
    assert tensors["layers.1.W"].shape == (7, 5)
    assert tensors["layers.2.b"].shape == (3,)
    for name, array in tensors.items():
        assert array.dtype == np.dtype(dtype), name
        kind, index, param = (name.split(".") + [None])[:3]
        expected = model.get_param(int(index), param) if kind == "layers" else model.updater_state()[index]
        np.testing.assert_array_equal(array, expected, err_msg=name)
    with safe_open(str(path), framework="numpy") as f:
        metadata = f.metadata()
    assert metadata["format"] == "eigennet" and metadata["format_version"] == "1"
    assert metadata["dtype"] == dtype
    assert json.loads(metadata["config"]) == model.get_config()
    assert (metadata["iteration"], metadata["epoch"]) == ("1", "1")
    assert json.loads(en._core.read_model_header(str(path)))["__metadata__"] == metadata
    header_length = struct.unpack("<Q", path.read_bytes()[:8])[0]
    assert header_length % 8 == 0  # tensors start 8-byte aligned


def test_single_feature_weights_are_two_dimensional_in_the_file(tmp_path):
    model = en.Sequential([en.Dense(4), en.Output(1, activation="identity", loss="mse")], input_dim=1, seed=0)
    model.save(tmp_path / "m.enet")
    tensors = load_file(str(tmp_path / "m.enet"))
    assert tensors["layers.0.W"].shape == (1, 4)
    assert tensors["layers.1.W"].shape == (4, 1)
    assert tensors["layers.1.b"].shape == (1,)
    np.testing.assert_array_equal(tensors["layers.0.W"], model.get_param(0, "W"))
    X = np.linspace(-1, 1, 5).reshape(-1, 1)
    np.testing.assert_array_equal(en.load(tmp_path / "m.enet").predict(X), model.predict(X))


# ---------------------------------------------------------------------------------------------- corrupted files
@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "good.enet"
    small_model().save(path)
    return path


def expect_format_error(path, pattern=None):
    with pytest.raises(en.FormatError, match=pattern) as info:
        en.load(path)
    assert isinstance(info.value, ValueError)
    return str(info.value)


def test_format_error_is_a_value_error():
    assert issubclass(en.FormatError, ValueError)


def test_missing_paths(tmp_path):
    with pytest.raises(FileNotFoundError, match="no model file"):
        en.load(tmp_path / "nope.enet")
    with pytest.raises(FileNotFoundError, match="no model file"):
        en.load(tmp_path)


def test_empty_and_tiny_files(tmp_path):
    for size in (0, 1, 7):
        path = tmp_path / f"{size}.enet"
        path.write_bytes(b"\x00" * size)
        expect_format_error(path, f"not an eigennet model \\(file is {size} bytes\\)")


def test_random_bytes(tmp_path):
    rng = np.random.default_rng(7)
    path = tmp_path / "random.enet"
    for size in (8, 9, 100, 5000):
        for _ in range(5):
            path.write_bytes(rng.bytes(size))
            expect_format_error(path)
    # A plausible header length followed by garbage.
    path.write_bytes(struct.pack("<Q", 64) + rng.bytes(200))
    expect_format_error(path)


def test_truncated_files(saved, tmp_path):
    raw = saved.read_bytes()
    header_length = struct.unpack("<Q", raw[:8])[0]
    path = tmp_path / "cut.enet"
    cuts = sorted({4, 8, 9, 8 + header_length // 2, 8 + header_length - 1, 8 + header_length,
                   8 + header_length + 1, len(raw) - 4, len(raw) - 1})
    for cut in cuts:
        path.write_bytes(raw[:cut])
        expect_format_error(path)
    path.write_bytes(raw + b"\x00" * 3)  # trailing bytes are not an error
    assert en.load(path).num_params == en.load(saved).num_params


def test_header_length_field(saved, tmp_path):
    raw = saved.read_bytes()
    path = tmp_path / "len.enet"
    for length in (2**63, 2**64 - 1, 2**32, len(raw) - 7, 0, 1):
        path.write_bytes(struct.pack("<Q", length) + raw[8:])
        message = expect_format_error(path)
        if length > len(raw):
            assert "header length" in message and "does not fit" in message


def test_bit_flipped_header(saved, tmp_path):
    raw = saved.read_bytes()
    path = tmp_path / "flip.enet"
    flipped = bytearray(raw)
    flipped[8] ^= 0x01  # "{" becomes "z"
    path.write_bytes(bytes(flipped))
    expect_format_error(path, "not valid JSON")
    flipped = bytearray(raw)
    flipped[raw.index(b'"format"') + 2] ^= 0x80  # invalid UTF-8
    path.write_bytes(bytes(flipped))
    expect_format_error(path, "UTF-8")
    flipped = bytearray(raw)
    flipped[raw.index(b'"eigennet"') + 1] ^= 0x20  # "Eigennet"
    path.write_bytes(bytes(flipped))
    expect_format_error(path, "not an eigennet model")


def test_every_single_bit_flip_in_the_header_is_handled(saved):
    """Flipping one bit (and the top bit) of every header byte loads or raises FormatError; it never
    crashes the process or raises anything else. Run in a subprocess so a crash shows as a failure."""
    result = run_python(f"""
        import collections, struct
        import eigennet as en
        raw = open({str(saved)!r}, "rb").read()
        end = 8 + struct.unpack("<Q", raw[:8])[0]
        path = {str(saved)!r} + ".flip"
        counts = collections.Counter()
        for position in range(end):
            for mask in set((1 << (position % 8), 0x80)):
                data = bytearray(raw)
                data[position] ^= mask
                with open(path, "wb") as f:
                    f.write(data)
                try:
                    en.load(path)
                    counts["loaded"] += 1
                except en.FormatError:
                    counts["format_error"] += 1
                except Exception as exc:
                    print("UNEXPECTED", position, mask, type(exc).__name__, exc)
                    counts["other"] += 1
        print("COUNTS", dict(counts))
    """, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "UNEXPECTED" not in result.stdout, result.stdout[:2000]
    counts = eval(result.stdout.split("COUNTS", 1)[1])
    assert counts.get("other", 0) == 0
    assert counts["format_error"] > counts.get("loaded", 0) > 0


def test_rewritten_headers(saved, tmp_path):
    header, payload = read_model_file(saved)
    path = tmp_path / "edit.enet"

    def check(edit, pattern):
        h = json.loads(json.dumps(header))
        edit(h)
        write_model_file(path, h, payload)
        expect_format_error(path, pattern)

    check(lambda h: h["__metadata__"].update(format_version="2"), 'unsupported format version "2"')
    check(lambda h: h["__metadata__"].update(format_version="0"), "unsupported format version")
    check(lambda h: h["__metadata__"].pop("format_version"), "unsupported format version")
    check(lambda h: h["__metadata__"].update(format="pytorch"), "not an eigennet model")
    check(lambda h: h.pop("__metadata__"), "no __metadata__")
    check(lambda h: h["__metadata__"].update(dtype="float16"), 'unknown dtype "float16"')
    check(lambda h: h["__metadata__"].update(iteration="-3"), "bad iteration")
    check(lambda h: h["__metadata__"].update(epoch="two"), "bad epoch")
    check(lambda h: h["__metadata__"].update(rng="0 0 0 0 0 0"), "bad random state")
    check(lambda h: h["__metadata__"].update(config="{"), "bad model configuration")
    check(lambda h: h["__metadata__"].update(config=json.dumps({"input_dim": 4, "layers": []})),
          "the stored configuration is invalid")
    check(lambda h: h.pop("layers.1.b"), 'missing tensor "layers.1.b"')
    check(lambda h: h.pop("updater.v"), 'missing tensor "updater.v"')
    check(lambda h: h["layers.0.W"].update(shape=[8, 4]), r"has shape \[8,4\], expected \[4, 8\]")
    check(lambda h: h["layers.0.W"].update(dtype="F16"), "unsupported dtype F16")
    check(lambda h: h["layers.0.W"].update(data_offsets=[0, 10**9]), "outside the data section")
    check(lambda h: h["layers.0.b"].update(data_offsets=h["layers.0.W"]["data_offsets"]),
          "byte range does not match")
    check(lambda h: h["layers.0.W"].update(shape="big"), "shape")
    check(lambda h: h["__metadata__"].update(iteration=5), "__metadata__.iteration")

    def huge_config(h):
        config = json.loads(h["__metadata__"]["config"])
        config["input_dim"] = 2**17
        config["layers"][0]["n_in"] = 2**17
        config["layers"][0]["n_out"] = 2**17
        config["layers"][1]["n_in"] = 2**17
        h["__metadata__"]["config"] = json.dumps(config)

    start = time.perf_counter()
    check(huge_config, "declares a 131072 x 131072 Dense layer")  # refused before allocating 64 GiB
    assert time.perf_counter() - start < 5

    h = json.loads(json.dumps(header))
    h["__metadata__"]["format_version"] = "1"  # unchanged values still load
    write_model_file(path, h, payload)
    assert en.load(path).num_params == en.load(saved).num_params


def test_plain_safetensors_file_is_not_a_model(tmp_path):
    path = tmp_path / "plain.safetensors"
    save_file({"layers.0.W": np.zeros((4, 8), dtype=np.float32)}, str(path))
    expect_format_error(path, "no __metadata__")
    save_file({"layers.0.W": np.zeros((4, 8), dtype=np.float32)}, str(path), metadata={"format": "pt"})
    expect_format_error(path, "not an eigennet model")


def test_corrupt_file_does_not_disturb_a_later_load(saved, tmp_path):
    bad = tmp_path / "bad.enet"
    bad.write_bytes(b"\xff" * 64)
    expect_format_error(bad)
    assert en.load(saved).num_params == 4 * 8 + 8 + 8 * 3 + 3
