"""The command line: ``python -m eigennet`` and the ``eigennet`` console script."""

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import eigennet as en

SPECIES = ["setosa", "versicolor", "virginica"]
FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def launchers():
    script = shutil.which("eigennet")
    assert script is not None, "the eigennet console script is not installed"
    return {"module": [sys.executable, "-m", "eigennet"], "script": [script]}


def run(args, cwd, launcher="module", timeout=120):
    env = dict(os.environ, PYTHONWARNINGS="error")
    result = subprocess.run(launchers()[launcher] + [str(a) for a in args], cwd=str(cwd), capture_output=True,
                            text=True, timeout=timeout, env=env)
    return result


class InProcess:
    """The outcome of ``eigennet.cli.main`` run in this process, shaped like a CompletedProcess."""

    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def run_main(args, capsys):
    """Run the CLI in-process (fast); an uncaught exception fails the test with its traceback."""
    from eigennet.cli import main

    capsys.readouterr()
    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:  # argparse: --help, usage errors
        code = exc.code
    captured = capsys.readouterr()
    return InProcess(code, captured.out, captured.err)


def assert_clean_error(result, command, pattern):
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"eigennet {command}: error: ")
    assert re.search(pattern, lines[0]), lines[0]


def parse_test_metrics(stdout):
    match = re.search(r"^test: loss ([0-9.]+), accuracy ([0-9.]+)$", stdout, re.MULTILINE)
    assert match, stdout
    return float(match.group(1)), float(match.group(2))


@pytest.fixture(scope="module")
def iris_csv(tmp_path_factory):
    """Iris with a header and the species as strings in the middle column."""
    X, y = en.load_iris()
    path = tmp_path_factory.mktemp("iris") / "iris.csv"
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(FEATURES[:2] + ["species"] + FEATURES[2:])
        for row, label in zip(X, y):
            writer.writerow([f"{v:g}" for v in row[:2]] + [SPECIES[label]] + [f"{v:g}" for v in row[2:]])
    return path


@pytest.fixture(scope="module")
def iris_model(iris_csv):
    directory = iris_csv.parent
    result = run(["train", "--data", iris_csv, "--label-column", "species", "--hidden", "16",
                  "--epochs", "60", "--learning-rate", "0.01", "--quiet", "-o", "iris.enet"], directory)
    assert result.returncode == 0, result.stderr
    return directory / "iris.enet", result


def test_train_quiet_on_digits(tmp_path):
    result = run(["train", "--epochs", "3", "--quiet", "-o", tmp_path / "m.enet"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    loss, accuracy = parse_test_metrics(result.stdout)
    assert 0.5 < accuracy <= 1.0 and loss > 0
    assert "epoch" not in result.stdout  # --quiet: final metrics only
    assert f"model saved to {tmp_path / 'm.enet'}" in result.stdout
    model = en.load(tmp_path / "m.enet")
    assert model.epoch == 3 and model.input_dim == 64 and model.n_outputs == 10
    X, y = en.load_digits()
    _, X_test, _, y_test = en.train_test_split(X / 16.0, y, test_size=0.25, seed=42)
    assert model.evaluate(X_test, y_test)["accuracy"] == pytest.approx(accuracy, abs=5e-5)


def test_default_train_reaches_96_percent(tmp_path):
    result = run(["train"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(re.findall(r"^epoch \d+/30 ", result.stdout, re.MULTILINE)) == 30
    assert "total parameters: 6,570" in result.stdout  # the summary is shown
    assert "data: bundled UCI digits: 1347 training and 450 test samples, 64 features" in result.stdout
    _, accuracy = parse_test_metrics(result.stdout)
    assert accuracy >= 0.96, result.stdout
    assert en.load(tmp_path / "model.enet").epoch == 30


def test_train_on_a_csv_with_string_labels(iris_model, iris_csv):
    path, result = iris_model
    _, accuracy = parse_test_metrics(result.stdout)
    assert accuracy >= 0.85
    model = en.load(path)
    assert model.input_dim == 4 and model.n_outputs == 3
    assert model.metadata["class_names"] == SPECIES
    assert model.metadata["feature_names"] == FEATURES


def test_train_label_column_by_index(iris_csv, tmp_path):
    result = run(["train", "--data", iris_csv, "--label-column", "2", "--epochs", "2", "-q", "-o", "m.enet"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert en.load(tmp_path / "m.enet").metadata["class_names"] == SPECIES


def test_train_regression_csv(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    target = X @ [1.0, -0.5, 2.0]
    data = tmp_path / "reg.csv"
    with open(data, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["a", "b", "c", "target"])
        writer.writerows(np.column_stack([X, target]).tolist())
    result = run(["train", "--data", data, "--epochs", "20", "-q", "-o", "reg.enet"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert re.search(r"^test: loss [0-9.]+, mse [0-9.]+, mae [0-9.]+$", result.stdout, re.MULTILINE), result.stdout
    assert en.load(tmp_path / "reg.enet").task == "regression"
    predicted = run(["predict", "reg.enet", "--data", data], tmp_path)
    assert predicted.returncode == 0, predicted.stderr
    rows = list(csv.reader(io.StringIO(predicted.stdout)))
    assert rows[0] == ["prediction"] and len(rows) == 121
    assert all(np.isfinite(float(r[0])) for r in rows[1:])


@pytest.mark.parametrize("launcher", ["module", "script"])
def test_info(iris_model, launcher):
    path, _ = iris_model
    result = run(["info", path.name], path.parent, launcher)
    assert result.returncode == 0, result.stderr
    for text in ("Dense", "Output (MCXENT)", "SOFTMAX", "total parameters: 131", "epochs trained: 60",
                 "classes: setosa, versicolor, virginica"):
        assert text in result.stdout, text


@pytest.mark.parametrize("launcher", ["module", "script"])
def test_evaluate(iris_model, iris_csv, launcher):
    path, _ = iris_model
    result = run(["evaluate", path, "--data", iris_csv, "--label-column", "species"], path.parent, launcher)
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert set(metrics) == {"loss", "accuracy"}
    assert metrics["accuracy"] >= 0.85


def test_evaluate_uses_the_models_classes(iris_model, iris_csv, tmp_path):
    """A CSV holding only some of the classes is still labelled as at training time."""
    path, _ = iris_model
    lines = iris_csv.read_text().splitlines()
    subset = tmp_path / "virginica.csv"
    subset.write_text("\n".join([lines[0]] + [line for line in lines[1:] if "virginica" in line]) + "\n")
    result = run(["evaluate", path, "--data", subset, "--label-column", "species"], tmp_path)
    assert result.returncode == 0, result.stderr
    model = en.load(path)
    X, y = en.load_iris()
    expected = np.mean(model.predict(X[y == 2]) == 2)
    assert json.loads(result.stdout)["accuracy"] == pytest.approx(expected)
    assert expected > 0.7  # would be near 0 if virginica were taken as class 0

    unknown = tmp_path / "unknown.csv"
    unknown.write_text(lines[0] + "\n" + lines[1].replace("setosa", "daisy") + "\n")
    assert_clean_error(run(["evaluate", path, "--data", unknown, "--label-column", "species"], tmp_path),
                       "evaluate", "'daisy'.*not among the model's classes setosa, versicolor, virginica")


@pytest.mark.parametrize("launcher", ["module", "script"])
def test_predict(iris_model, iris_csv, tmp_path, launcher, capsys):
    path, _ = iris_model
    X, y = en.load_iris()
    features = tmp_path / "features.csv"
    with open(features, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(FEATURES)
        writer.writerows(X.tolist())
    model = en.load(path)
    expected = [SPECIES[i] for i in model.predict(X)]

    result = run(["predict", path, "--data", features], tmp_path, launcher)
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["prediction"]
    assert [r[0] for r in rows[1:]] == expected

    out = tmp_path / f"predictions-{launcher}.csv"
    result = run_main(["predict", path, "--data", features, "-o", out], capsys)
    assert result.returncode == 0 and result.stdout == ""
    with open(out, newline="") as f:
        assert [r[0] for r in list(csv.reader(f))[1:]] == expected

    # The training CSV itself works too: the model's feature columns are picked by name.
    result = run_main(["predict", path, "--data", iris_csv], capsys)
    assert result.returncode == 0, result.stderr
    assert [r[0] for r in list(csv.reader(io.StringIO(result.stdout)))[1:]] == expected


@pytest.mark.parametrize("launcher", ["module", "script"])
def test_errors_are_one_line_without_traceback(iris_model, iris_csv, tmp_path, launcher):
    path, _ = iris_model
    assert_clean_error(run(["info", "missing.enet"], tmp_path, launcher), "info", "no model file at missing.enet")
    assert_clean_error(run(["evaluate", path, "--data", "missing.csv"], tmp_path, launcher), "evaluate",
                       "no such file: missing.csv")
    assert_clean_error(run(["train", "--data", iris_csv, "--label-column", "colour", "-o", "x.enet"], tmp_path,
                           launcher),
                       "train", "no column 'colour'; columns are sepal_length, sepal_width, species")
    assert not (tmp_path / "x.enet").exists()


def test_more_errors(iris_model, iris_csv, tmp_path, capsys):
    path, _ = iris_model
    out = tmp_path / "x.enet"

    def check(args, command, pattern):
        assert_clean_error(run_main(args, capsys), command, pattern)

    check(["evaluate", tmp_path / "missing.enet", "--data", iris_csv], "evaluate", "no model file")
    check(["predict", path, "--data", tmp_path / "missing.csv"], "predict", "no such file: .*missing.csv")
    check(["train", "--data", tmp_path / "missing.csv"], "train", "no such file: .*missing.csv")
    check(["evaluate", path, "--data", iris_csv, "--label-column", "9"], "evaluate", "no column '9'")
    corrupt = tmp_path / "corrupt.enet"
    corrupt.write_bytes(b"\x00" * 100)
    check(["info", corrupt], "info", "corrupt.enet: header")
    check(["train", "--epochs", "0", "-o", out], "train", "--epochs and --batch-size must be positive")
    check(["train", "--hidden", "16,x", "-o", out], "train", "--hidden must be comma-separated integers")
    check(["train", "--hidden", "0", "-o", out], "train", "units must be between 1")
    check(["train", "--activation", "rleu", "-o", out], "train", 'did you mean "RELU"')
    check(["train", "--test-size", "1.5", "-o", out], "train", r"test_size must be in \(0, 1\)")
    check(["train", "--data", iris_csv, "--label-column", "species", "--learning-rate", "1e30", "--epochs", "3",
           "-o", out], "train", "loss became")
    check(["train", "--epochs", "1", "-q", "-o", tmp_path / "no" / "dir" / "m.enet"], "train", "could not create")
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b,label\n1,2,0\n3,4\n")
    check(["train", "--data", ragged, "-o", out], "train", "line 3: 2 fields, the header has 3")
    words = tmp_path / "words.csv"
    words.write_text("a,b,label\n1,x,0\n3,4,1\n")
    check(["train", "--data", words, "-o", out], "train", "feature columns must be numeric")
    header_only = tmp_path / "header.csv"
    header_only.write_text("a,b,label\n")
    check(["predict", path, "--data", header_only], "predict", "needs a header line and at least one data row")
    wrong_width = tmp_path / "wide.csv"
    wrong_width.write_text("a,b\n1,2\n")
    check(["predict", path, "--data", wrong_width], "predict", "X has 2 features, but the model expects 4")
    check(["evaluate", path, "--data", wrong_width], "evaluate", "label.*'2' in column 'b' are not among")
    assert not out.exists()


@pytest.mark.parametrize("command", [None, "train", "info", "evaluate", "predict"])
def test_help(command, capsys):
    result = run_main(([command] if command else []) + ["--help"], capsys)
    assert result.returncode == 0
    assert result.stdout.startswith("usage: eigennet" + (f" {command}" if command else ""))
    assert result.stderr == ""
    if command == "train":
        assert "--label-column" in result.stdout and "--epochs" in result.stdout


def test_usage_errors_exit_2(capsys):
    for args in ([], ["frobnicate"], ["train", "--epochs", "many"], ["evaluate", "m.enet"], ["--dtype", "x"]):
        result = run_main(args, capsys)
        assert result.returncode == 2, args
        assert result.stderr.startswith("usage: eigennet"), args


def test_module_and_console_script_behave_the_same(iris_model, tmp_path):
    path, _ = iris_model
    cases = [(["--version"], 0), (["info", path], 0), (["info", "missing.enet"], 1), (["evaluate", "--help"], 0),
             ([], 2)]
    for args, code in cases:
        module, script = run(args, tmp_path, "module"), run(args, tmp_path, "script")
        assert (module.returncode, module.stdout, module.stderr) == (script.returncode, script.stdout, script.stderr)
        assert module.returncode == code, args
    assert run(["--version"], tmp_path).stdout.strip() == f"eigennet {en.__version__}"


def test_main_in_process(iris_model, capsys):
    from eigennet.cli import main

    path, _ = iris_model
    assert main(["info", str(path)]) == 0
    assert "total parameters: 131" in capsys.readouterr().out
    assert main(["info", str(path) + ".missing"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("eigennet info: error: no model file")


def test_evaluate_regression_with_integer_targets(tmp_path, capsys):
    """Integer-valued regression targets are values, not classes to renumber."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(50, 2))
    target = np.rint(3 * X[:, 0] + 10)
    model = en.Sequential([en.Dense(4), en.Output(1, activation="identity", loss="mse")], input_dim=2, seed=0,
                          dtype="float64")
    model.fit(X, target, epochs=5, verbose=0)
    model.save(tmp_path / "reg.enet")
    data = tmp_path / "reg.csv"
    with open(data, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["x0", "x1", "y"])
        writer.writerows([[a, b, int(t)] for (a, b), t in zip(X.tolist(), target)])
    result = run_main(["evaluate", tmp_path / "reg.enet", "--data", data], capsys)
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)
    expected = model.evaluate(X, target)
    assert metrics.keys() == expected.keys() == {"loss", "mse", "mae"}
    for key in expected:
        assert metrics[key] == pytest.approx(expected[key], rel=1e-9)


def test_evaluate_model_without_class_names(tmp_path, capsys):
    """A classifier saved from Python has no class names: the CSV's labels are class indices."""
    X, y = en.load_iris()
    model = en.Sequential([en.Output(3)], input_dim=4, seed=0)
    model.fit(X, y, epochs=3, verbose=0)
    model.save(tmp_path / "api.enet")
    data = tmp_path / "indices.csv"
    with open(data, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(FEATURES + ["label"])
        writer.writerows([row + [int(label)] for row, label in zip(X[100:].tolist(), y[100:])])
    result = run_main(["evaluate", tmp_path / "api.enet", "--data", data], capsys)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["accuracy"] == pytest.approx(model.evaluate(X[100:], y[100:])["accuracy"])
    predicted = run_main(["predict", tmp_path / "api.enet", "--data", data], capsys)
    assert predicted.returncode == 1 and "X has 5 features, but the model expects 4" in predicted.stderr


def test_train_float64(tmp_path, capsys, iris_csv):
    result = run_main(["train", "--data", iris_csv, "--label-column", "species", "--dtype", "float64",
                       "--epochs", "2", "--batch-size", "16", "--seed", "3", "-o", tmp_path / "m.enet"], capsys)
    assert result.returncode == 0, result.stderr
    assert len(re.findall(r"^epoch \d/2 ", result.stdout, re.MULTILINE)) == 2
    model = en.load(tmp_path / "m.enet")
    assert model.dtype == "float64" and model.seed == 3 and model.iteration == 2 * 8


def write_config(model, path):
    path.write_text(model.to_yaml() if path.suffix in (".yaml", ".yml") else model.to_json())
    return path


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_train_from_a_config_file(iris_csv, tmp_path, suffix, capsys):
    config = write_config(en.Sequential([en.Dense(12, activation="tanh"), en.Output(3)], seed=7, dtype="float64",
                                        updater=en.Adam(learning_rate=0.02)), tmp_path / f"net{suffix}")
    result = run(["train", "--data", iris_csv, "--label-column", "species", "--config", config, "--epochs", "40",
                  "-q", "-o", "c.enet"], tmp_path)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    _, accuracy = parse_test_metrics(result.stdout)
    assert accuracy >= 0.8
    model = en.load(tmp_path / "c.enet")
    assert [type(layer).__name__ for layer in model.layers] == ["Dense", "Output"]
    assert model.layers[0].get_config()["n_out"] == 12 and model.dtype == "float64" and model.seed == 7
    assert model.metadata["class_names"] == SPECIES and model.epoch == 40

    # The configuration's own normalizer is kept; --normalize replaces it.
    normalized = write_config(en.Sequential([en.Output(3)], input_dim=4, normalizer="minmax"), tmp_path / "n.json")
    assert run_main(["train", "--data", iris_csv, "--label-column", "species", "--config", normalized,
                     "--epochs", "1", "-q", "-o", tmp_path / "n.enet"], capsys).returncode == 0
    assert type(en.load(tmp_path / "n.enet").normalizer).__name__ == "MinMax"
    assert run_main(["train", "--data", iris_csv, "--label-column", "species", "--config", normalized,
                     "--normalize", "none", "--epochs", "1", "-q", "-o", tmp_path / "n.enet"], capsys).returncode == 0
    assert en.load(tmp_path / "n.enet").normalizer is None


def test_train_config_errors(iris_csv, tmp_path, capsys):
    out = tmp_path / "x.enet"
    base = ["train", "--data", iris_csv, "--label-column", "species", "-o", out, "--config"]

    def check(config, pattern):
        assert_clean_error(run_main(base + [config], capsys), "train", pattern)

    check(write_config(en.Sequential([en.Dense(4), en.Output(2)]), tmp_path / "two.json"),
          r"two.json: the output layer has 2 output\(s\) \(MCXENT\), but the data has 3 classes "
          r"\(setosa, versicolor, virginica\)")
    check(write_config(en.Sequential([en.Output(1, activation="identity", loss="mse")]), tmp_path / "reg.yaml"),
          "reg.yaml: the output layer is a regression output .* holds 3 classes")
    check(write_config(en.Sequential([en.Output(3)], input_dim=5), tmp_path / "wide.yml"),
          "wide.yml: the configuration's input_dim is 5, but the data has 4 feature columns")
    broken = tmp_path / "broken.json"
    broken.write_text('{"layers": [')
    check(broken, "broken.json: invalid JSON model configuration")
    broken_yaml = tmp_path / "broken.yaml"
    broken_yaml.write_text("layers: [\n")
    check(broken_yaml, "broken.yaml: invalid YAML model configuration")
    not_a_model = tmp_path / "other.json"
    not_a_model.write_text('{"layers": [{"type": "Nope"}]}')
    check(not_a_model, "other.json: invalid model configuration")
    text = tmp_path / "net.txt"
    text.write_text("{}")
    check(text, r"net.txt: a model configuration must be a .json, .yaml or .yml file")
    check(tmp_path / "missing.json", "no such file: .*missing.json")
    # Regression data with a classifier configuration.
    data = tmp_path / "reg.csv"
    rng = np.random.default_rng(1)
    data.write_text("a,y\n" + "".join(f"{v:.6f},{2 * v + 0.1:.6f}\n" for v in rng.normal(size=40)))
    assert_clean_error(run_main(["train", "--data", data, "-o", out, "--config",
                                 write_config(en.Sequential([en.Output(3)]), tmp_path / "cls.json")], capsys),
                       "train", "cls.json: the output layer is a classifier .* continuous values")
    assert not out.exists()


def test_train_validation_split_callbacks_and_normalizer(iris_csv, tmp_path):
    result = run(["train", "--data", iris_csv, "--label-column", "species", "--hidden", "16", "--epochs", "12",
                  "--learning-rate", "0.01", "--validation-split", "0.2", "--checkpoint", "ckpt/m-{epoch:03d}.enet",
                  "--keep-last", "3", "--csv-log", "log.csv", "--normalize", "standardize", "-o", "v.enet"], tmp_path)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    # 150 samples, 50 per class: 12 per class to test, then 8 per class of the rest to validation (stratified).
    assert "90 training, 24 validation and 36 test samples" in result.stdout
    assert re.search(r"^epoch 12/12 - loss [0-9.]+ - val_loss [0-9.]+ - val_accuracy [0-9.]+", result.stdout,
                     re.MULTILINE), result.stdout
    assert sorted(os.listdir(tmp_path / "ckpt")) == ["m-010.enet", "m-011.enet", "m-012.enet"]
    assert en.load(tmp_path / "ckpt" / "m-012.enet").epoch == 12
    with open(tmp_path / "log.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == list(range(1, 13))
    assert set(rows[0]) == {"epoch", "loss", "val_loss", "val_accuracy"}
    model = en.load(tmp_path / "v.enet")
    assert type(model.normalizer).__name__ == "Standardize" and model.normalizer.fitted
    # The saved normalizer is applied to raw CSV features at prediction time.
    predicted = run(["predict", "v.enet", "--data", iris_csv, "-o", "p.csv"], tmp_path)
    assert predicted.returncode == 0, predicted.stderr
    with open(tmp_path / "p.csv", newline="") as f:
        labels = [r[0] for r in list(csv.reader(f))[1:]]
    X, y = en.load_iris()
    assert np.mean(np.array(labels) == np.array(SPECIES)[y]) >= 0.8


def test_train_early_stopping(iris_csv, tmp_path, capsys):
    # A learning rate that makes val_loss worsen soon: patience 2 stops well before 200 epochs.
    result = run_main(["train", "--data", iris_csv, "--label-column", "species", "--hidden", "16", "--epochs", "200",
                       "--learning-rate", "0.05", "--batch-size", "8", "--validation-split", "0.3",
                       "--early-stopping", "2", "--csv-log", tmp_path / "log.csv", "-o", tmp_path / "e.enet"], capsys)
    assert result.returncode == 0, result.stderr
    match = re.search(r"^early stopping: stopped after epoch (\d+); kept epoch (\d+) \(val_loss ([0-9.]+)\)$",
                      result.stdout, re.MULTILINE)
    assert match, result.stdout
    stopped, best = int(match.group(1)), int(match.group(2))
    assert stopped < 200 and stopped == best + 3
    with open(tmp_path / "log.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == stopped
    val_losses = [float(r["val_loss"]) for r in rows]
    assert min(val_losses) == pytest.approx(val_losses[best - 1])
    assert float(match.group(3)) == pytest.approx(val_losses[best - 1], abs=5e-5)
    # The best epoch's weights were restored before saving (the epoch counter is not rewound).
    model = en.load(tmp_path / "e.enet")
    assert model.epoch == stopped
    X, y = en.load_iris()
    X_train, _, y_train, _ = en.train_test_split(X, y, test_size=0.25, seed=42)
    _, X_val, _, y_val = en.train_test_split(X_train, y_train, test_size=0.3, seed=42)
    assert model.evaluate(X_val, y_val)["loss"] == pytest.approx(val_losses[best - 1], rel=1e-4)


def test_train_full_batch_algorithm(iris_csv, tmp_path, capsys, monkeypatch):
    calls = []
    fit = en.Sequential.fit

    def recording_fit(self, *args, **kwargs):
        calls.append((kwargs["algorithm"], kwargs["batch_size"]))
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(en.Sequential, "fit", recording_fit)
    result = run_main(["train", "--data", iris_csv, "--label-column", "species", "--hidden", "8",
                       "--algorithm", "lbfgs", "--epochs", "2", "--seed", "1", "-q", "-o", tmp_path / "l.enet"],
                      capsys)
    assert result.returncode == 0, result.stderr
    _, accuracy = parse_test_metrics(result.stdout)
    assert accuracy >= 0.85
    assert en.load(tmp_path / "l.enet").epoch == 2
    result = run_main(["train", "--data", iris_csv, "--label-column", "species", "--hidden", "8",
                       "--algorithm", "conjugate_gradient", "--batch-size", "56", "--epochs", "1", "-q",
                       "-o", tmp_path / "c.enet"], capsys)
    assert result.returncode == 0, result.stderr
    assert run_main(["train", "--data", iris_csv, "--label-column", "species", "--epochs", "1", "-q",
                     "-o", tmp_path / "s.enet"], capsys).returncode == 0
    # Full batch unless --batch-size is given; sgd keeps its default of 32.
    assert calls == [("LBFGS", None), ("CONJUGATE_GRADIENT", 56), ("STOCHASTIC_GRADIENT_DESCENT", 32)]


def test_new_train_option_errors(iris_csv, tmp_path, capsys):
    out = tmp_path / "x.enet"
    base = ["train", "--data", iris_csv, "--label-column", "species", "--epochs", "2", "-o", out]

    def check(extra, pattern):
        assert_clean_error(run_main(base + extra, capsys), "train", pattern)

    check(["--validation-split", "1.5"], r"--validation-split must be a fraction in \(0, 1\), got 1.5")
    check(["--validation-split", "0"], r"--validation-split must be a fraction in \(0, 1\), got 0")
    check(["--validation-split", "0.2", "--early-stopping", "-1"], "--early-stopping takes a patience >= 0")
    check(["--checkpoint", "m.enet", "--keep-last", "0"], "--keep-last must be at least 1")
    check(["--algorithm", "adamw"], "--algorithm: unknown algorithm 'adamw'; known: sgd, .*lbfgs")
    check(["--checkpoint", str(tmp_path / "m-{step}.enet")], "ModelCheckpoint cannot format")
    check(["--csv-log", str(tmp_path / "no" / "dir" / "log.csv")], "No such file or directory")
    assert not out.exists()
    for extra, pattern in ((["--early-stopping", "3"], "--early-stopping needs --validation-split"),
                           (["--keep-last", "2"], "--keep-last needs --checkpoint"),
                           (["--config", "net.json", "--hidden", "8", "--l2", "0"],
                            "--hidden, --l2 cannot be combined with --config"),
                           (["--normalize", "zscore"], "argument --normalize: invalid choice"),
                           (["--validation-split", "half"], "argument --validation-split: invalid float value")):
        result = run_main(base + extra, capsys)
        assert result.returncode == 2, extra
        assert "Traceback" not in result.stderr
        assert result.stderr.startswith("usage: eigennet train")
        assert re.search(f"^eigennet train: error: {pattern}", result.stderr, re.MULTILINE), result.stderr
    assert not out.exists()


def test_new_train_options_in_help(capsys):
    result = run_main(["train", "--help"], capsys)
    for option in ("--config", "--validation-split", "--early-stopping", "--checkpoint", "--keep-last", "--csv-log",
                   "--normalize", "--algorithm"):
        assert option in result.stdout, option


def test_evaluate_stats(iris_model, iris_csv, tmp_path, capsys):
    path, _ = iris_model
    result = run(["evaluate", path, "--data", iris_csv, "--label-column", "species", "--stats"], tmp_path)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert "Evaluation Metrics" in result.stdout and "Confusion Matrix" in result.stdout
    assert re.search(r"^ versicolor +[0-9.]+ +[0-9.]+ +[0-9.]+ +50$", result.stdout, re.MULTILINE), result.stdout
    accuracy = json.loads(run_main(["evaluate", path, "--data", iris_csv, "--label-column", "species"],
                                   capsys).stdout)["accuracy"]
    assert f"Accuracy:        {accuracy:.4f}" in result.stdout
