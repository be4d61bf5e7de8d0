"""The ``eigennet`` command line (also ``python -m eigennet``).

Exit codes: 0 success, 1 bad data, model file or option values, 2 bad command-line usage.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from typing import List, Optional, Sequence, Tuple

import numpy as np


class CliError(Exception):
    """An error reported as one line on stderr with exit code 1."""


def _read_table(path: str) -> Tuple[List[str], List[List[str]]]:
    """Header and data rows of a CSV file (blank lines skipped, field counts checked)."""
    if not os.path.isfile(path):
        raise CliError(f"no such file: {path}")
    with open(path, newline="", encoding="utf-8") as f:
        rows = [row for row in csv.reader(f) if row and any(cell.strip() for cell in row)]
    if len(rows) < 2:
        raise CliError(f"{path}: needs a header line and at least one data row")
    header = [h.strip() for h in rows[0]]
    body = rows[1:]
    for number, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise CliError(f"{path}, line {number}: {len(row)} fields, the header has {len(header)}")
    return header, body


def _column_index(path: str, header: List[str], label_column: Optional[str]) -> int:
    if label_column is None:
        return len(header) - 1
    if label_column in header:
        return header.index(label_column)
    if label_column.lstrip("-").isdigit() and -len(header) <= int(label_column) < len(header):
        return int(label_column) % len(header)
    raise CliError(f"{path}: no column {label_column!r}; columns are {', '.join(header)}")


def _features(path: str, body: List[List[str]], columns: List[int]) -> np.ndarray:
    try:
        X = np.array([[float(row[i]) for i in columns] for row in body], dtype=np.float64)
        X = X.reshape(len(body), len(columns))
    except ValueError as exc:
        raise CliError(f"{path}: feature columns must be numeric ({exc})") from None
    if not np.isfinite(X).all():
        raise CliError(f"{path}: features contain NaN or infinity")
    return X


def _label_name(raw: str) -> str:
    """The class name of a label cell: integers in any spelling ("3", "3.0") are the same class."""
    try:
        value = float(raw)
    except ValueError:
        return raw
    return str(int(value)) if np.isfinite(value) and value == round(value) else raw


def _read_csv(
    path: str, label_column: Optional[str], classes: Optional[List[str]] = None
) -> Tuple[np.ndarray, np.ndarray, List[str], List[str]]:
    """Features, labels, feature names and class names (empty for regression) from a CSV with a header.

    With ``classes`` (those a model was trained on) the labels are encoded as indices into it;
    otherwise integer or string labels with few distinct values are classes (sorted) and other
    numeric labels are regression targets.
    """
    header, body = _read_table(path)
    index = _column_index(path, header, label_column)
    columns = [i for i in range(len(header)) if i != index]
    names = [header[i] for i in columns]
    X = _features(path, body, columns)
    raw = [row[index].strip() for row in body]
    if classes:
        lookup = {name: i for i, name in enumerate(classes)}
        unknown = sorted({_label_name(v) for v in raw} - set(lookup))
        if unknown:
            raise CliError(
                f"{path}: label(s) {', '.join(map(repr, unknown[:5]))} in column {header[index]!r} are not among "
                f"the model's classes {', '.join(classes)}"
            )
        return X, np.array([lookup[_label_name(v)] for v in raw], dtype=np.int64), names, list(classes)
    try:
        values = np.array([float(v) for v in raw])
    except ValueError:
        classes = sorted(set(raw))
        return X, np.array([classes.index(v) for v in raw], dtype=np.int64), names, classes
    is_class = (
        bool(np.all(np.isfinite(values)))
        and bool(np.all(values == np.round(values)))
        and len(np.unique(values)) <= max(2, len(values) // 5)
    )
    if not is_class:
        return X, values, names, []
    unique = np.unique(values)
    return X, np.searchsorted(unique, values).astype(np.int64), names, [str(int(v)) for v in unique]


def _build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(prog="eigennet", description="Train and use eigennet models.")
    parser.add_argument("--version", action="version", version=f"eigennet {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    train = commands.add_parser(
        "train",
        help="train a network (default: the bundled handwritten digits) and save it",
        description="Train a network and print test metrics. With no --data, uses the bundled UCI digits.",
    )
    train.add_argument("--data", help="CSV file with a header line (default: bundled digits)")
    train.add_argument("--label-column", help="name or index of the label column (default: the last)")
    train.add_argument("--config", metavar="FILE",
                       help="model configuration (.json, .yaml or .yml, as written by Sequential.to_json/to_yaml): "
                            "its layers, updater, regularization, seed, dtype and normalizer replace the network "
                            "that --hidden, --activation, --learning-rate, --l2 and --dtype would build (those "
                            "cannot be combined with it); the output layer must fit the data's classes")
    train.add_argument("--hidden", help="hidden layer widths, comma-separated (default: 64,32)")
    train.add_argument("--activation", help="hidden activation (default: relu)")
    train.add_argument("--epochs", type=int, default=30, help="training epochs (default: 30)")
    train.add_argument("--batch-size", type=int,
                       help="mini-batch size (default: 32 for sgd; the full-batch algorithms use all the training "
                            "data unless it is given)")
    train.add_argument("--algorithm", default="sgd", metavar="NAME",
                       help="fit algorithm: sgd (mini-batch steps of the updater), lbfgs, conjugate_gradient, "
                            "line_gradient_descent or hessian_free (default: sgd)")
    train.add_argument("--learning-rate", type=float, help="Adam learning rate (default: 1e-3)")
    train.add_argument("--l2", type=float, help="L2 penalty on weights (default: 1e-4)")
    train.add_argument("--normalize", choices=["none", "standardize", "minmax"],
                       help="input normalizer fitted on the training data and saved with the model "
                            "(default: none, or the --config file's)")
    train.add_argument("--test-size", type=float, default=0.25, help="held-out test fraction (default: 0.25)")
    train.add_argument("--validation-split", type=float, metavar="FRACTION",
                       help="fraction of the training data (after the test split) held out as validation data, "
                            "stratified for classifiers; adds val_ metrics to every epoch")
    train.add_argument("--early-stopping", type=int, metavar="PATIENCE",
                       help="stop when val_loss has not improved for more than PATIENCE epochs and keep the best "
                            "epoch's weights (needs --validation-split; the test split is never used for this)")
    train.add_argument("--checkpoint", metavar="PATTERN",
                       help='save the model after every epoch, e.g. "ckpt/model-{epoch:03d}.enet" (formatted with '
                            "epoch and the epoch's metrics; missing directories are created)")
    train.add_argument("--keep-last", type=int, metavar="K", help="with --checkpoint: keep only the last K files")
    train.add_argument("--csv-log", metavar="PATH", help="write one CSV row of metrics per epoch to PATH")
    train.add_argument("--seed", type=int, default=42,
                       help="random seed of the splits and, without --config, of the model (default: 42)")
    train.add_argument("--dtype", choices=["float32", "float64"], help="parameter precision (default: float32)")
    train.add_argument("--output", "-o", default="model.enet", help="where to save the model (default: model.enet)")
    train.add_argument("--quiet", "-q", action="store_true", help="print only the final metrics")

    info = commands.add_parser("info", help="describe a model file", description="Print a model file's summary.")
    info.add_argument("model", help="model file")

    evaluate = commands.add_parser("evaluate", help="evaluate a model on a CSV",
                                   description="Print a model's metrics on a labelled CSV as JSON (or --stats).")
    evaluate.add_argument("model", help="model file")
    evaluate.add_argument("--data", required=True, help="CSV file with a header line")
    evaluate.add_argument("--label-column", help="name or index of the label column (default: the last)")
    evaluate.add_argument("--stats", action="store_true",
                          help="print eigennet.evaluation's report (per-class precision/recall/F1 and confusion "
                               "matrix, or MSE/RMSE/MAE/R2 per output) instead of the JSON metrics")

    predict = commands.add_parser("predict", help="predict a CSV, write a CSV", description="Write predictions as CSV.")
    predict.add_argument("model", help="model file")
    predict.add_argument("--data", required=True, help="CSV of features with a header line (no label column)")
    predict.add_argument("--output", "-o", help="output CSV (default: standard output)")

    export = commands.add_parser("export-onnx", help="write a model file as an ONNX graph (needs onnx)",
                                 description="Write a model's inference graph as ONNX: input X, output \"output\" "
                                             "and, for classifiers, \"probabilities\".")
    export.add_argument("model", help="model file")
    export.add_argument("--output", "-o", help="ONNX file to write (default: the model file with .onnx)")
    export.add_argument("--opset", type=int, default=17, help="ONNX opset (default: 17)")
    parser.subcommand_parsers = {"train": train, "info": info, "evaluate": evaluate, "predict": predict,
                                 "export-onnx": export}
    return parser


def _export_onnx(args: argparse.Namespace) -> int:
    import eigennet as en

    model = en.load(args.model)
    output = args.output or os.path.splitext(args.model)[0] + ".onnx"
    try:
        model.to_onnx(output, opset=args.opset)
    except ImportError as exc:
        raise CliError(str(exc)) from None
    print(f"wrote {output}")
    return 0


_FLAG_NETWORK_OPTIONS = (("hidden", "--hidden"), ("activation", "--activation"),
                         ("learning_rate", "--learning-rate"), ("l2", "--l2"), ("dtype", "--dtype"))


def _check_train_usage(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """Option combinations that cannot work: usage errors (exit code 2)."""
    if args.config is not None:
        given = [flag for name, flag in _FLAG_NETWORK_OPTIONS if getattr(args, name) is not None]
        if given:
            parser.error(f"{', '.join(given)} cannot be combined with --config (the configuration file defines "
                         "the network)")
    if args.early_stopping is not None and args.validation_split is None:
        parser.error("--early-stopping needs --validation-split (it monitors val_loss; the test split stays unseen)")
    if args.keep_last is not None and args.checkpoint is None:
        parser.error("--keep-last needs --checkpoint")


def _read_config(path: str):
    import eigennet as en

    extension = os.path.splitext(path)[1].lower()
    if extension not in (".json", ".yaml", ".yml"):
        raise CliError(f"{path}: a model configuration must be a .json, .yaml or .yml file")
    if not os.path.isfile(path):
        raise CliError(f"no such file: {path}")
    with open(path, "rb") as f:
        text = f.read()
    try:
        if extension == ".json":
            return en.Sequential.from_json(text)
        return en.Sequential.from_yaml(text)
    except ImportError as exc:
        raise CliError(str(exc)) from None
    except ValueError as exc:
        message = str(exc)
        for prefix in ("JSON: ", "YAML: "):  # from_json/from_yaml name the format; the path says more
            message = message[len(prefix):] if message.startswith(prefix) else message
        raise CliError(f"{path}: {message}") from None


def _check_config_output(path: str, model, classes: List[str]) -> None:
    """The configured output layer must suit the data: one output per class (or one sigmoid output
    for two classes), one identity-like output for a regression target."""
    if classes:
        if model.task == "multiclass" and model.n_outputs == len(classes):
            return
        if model.task == "binary" and len(classes) == 2:
            return
        if model.is_classifier:
            raise CliError(f"{path}: the output layer has {model.n_outputs} output(s) ({model.loss_name}), but the "
                           f"data has {len(classes)} classes ({', '.join(classes)})")
        raise CliError(f"{path}: the output layer is a regression output ({model.loss_name}), but the data's label "
                       f"column holds {len(classes)} classes ({', '.join(classes)})")
    if model.is_classifier:
        raise CliError(f"{path}: the output layer is a classifier ({model.loss_name}), but the data's label column "
                       "holds continuous values (a regression target)")
    if model.n_outputs != 1:
        raise CliError(f"{path}: the output layer has {model.n_outputs} outputs, but the data has one regression target")


def _train(args: argparse.Namespace) -> int:
    import eigennet as en
    from . import _core
    from .callbacks import CSVLogger, EarlyStopping, ModelCheckpoint
    from .data import as_normalizer

    if args.data is None:
        X, y = en.load_digits()
        X = X / 16.0  # pixel counts 0..16 to [0, 1]
        source, classes = "bundled UCI digits", [str(d) for d in range(10)]
        feature_names = [f"pixel_{i}" for i in range(X.shape[1])]
    else:
        X, y, feature_names, classes = _read_csv(args.data, args.label_column)
        source = args.data
    if args.epochs < 1 or (args.batch_size is not None and args.batch_size < 1):
        raise CliError("--epochs and --batch-size must be positive")
    if args.validation_split is not None and not 0 < args.validation_split < 1:
        raise CliError(f"--validation-split must be a fraction in (0, 1), got {args.validation_split:g}")
    if args.early_stopping is not None and args.early_stopping < 0:
        raise CliError(f"--early-stopping takes a patience >= 0 epochs, got {args.early_stopping}")
    if args.keep_last is not None and args.keep_last < 1:
        raise CliError(f"--keep-last must be at least 1, got {args.keep_last}")
    try:
        algorithm = _core.canonical_algorithm(args.algorithm)
    except ValueError:
        known = ", ".join(name.lower() for name in _core.algorithm_names())
        raise CliError(f"--algorithm: unknown algorithm {args.algorithm!r}; known: sgd, {known}") from None
    full_batch = algorithm != "STOCHASTIC_GRADIENT_DESCENT"
    batch_size = args.batch_size if args.batch_size is not None or full_batch else 32

    if args.config is not None:
        model = _read_config(args.config)
        if model.built and model.input_dim != X.shape[1]:
            raise CliError(f"{args.config}: the configuration's input_dim is {model.input_dim}, but the data has "
                           f"{X.shape[1]} feature columns")
        if not model.built:
            model.build(X.shape[1])
        _check_config_output(args.config, model, classes)
    else:
        try:
            hidden = [int(w) for w in (args.hidden or "64,32").split(",") if w.strip()]
        except ValueError:
            raise CliError(f"--hidden must be comma-separated integers, got {args.hidden!r}") from None
        if classes:
            output = en.Output(len(classes), activation="softmax", loss="mcxent")
        else:
            output = en.Output(1, activation="identity", loss="mse")
        model = en.Sequential(
            [en.Dense(w, activation=args.activation or "relu") for w in hidden] + [output],
            input_dim=X.shape[1],
            updater=en.Adam(learning_rate=1e-3 if args.learning_rate is None else args.learning_rate),
            l2=1e-4 if args.l2 is None else args.l2,
            seed=args.seed,
            dtype=args.dtype or "float32",
        )
    if args.normalize is not None:
        model.normalizer = as_normalizer(None if args.normalize == "none" else args.normalize)

    X_train, X_test, y_train, y_test = en.train_test_split(
        X, y, test_size=args.test_size, seed=args.seed, stratify=bool(classes)
    )
    validation_data = None
    if args.validation_split is not None:
        if len(X_train) < 2:
            raise CliError("--validation-split needs at least 2 training samples")
        X_train, X_val, y_train, y_val = en.train_test_split(
            X_train, y_train, test_size=args.validation_split, seed=args.seed, stratify=bool(classes)
        )
        validation_data = (X_val, y_val)
    callbacks = []
    stopper = None
    if args.early_stopping is not None:
        stopper = EarlyStopping(monitor="val_loss", patience=args.early_stopping, restore_best_weights=True)
        callbacks.append(stopper)
    if args.checkpoint is not None:
        callbacks.append(ModelCheckpoint(args.checkpoint, keep_last=args.keep_last))
    if args.csv_log is not None:
        callbacks.append(CSVLogger(args.csv_log))

    model.metadata = {"feature_names": feature_names, "class_names": classes}
    if not args.quiet:
        split = f"{len(X_train)} training"
        if validation_data is not None:
            split += f", {len(validation_data[0])} validation"
        print(f"data: {source}: {split} and {len(X_test)} test samples, {X.shape[1]} features")
        model.summary()
    start = time.perf_counter()
    model.fit(X_train, y_train, epochs=args.epochs, batch_size=batch_size, validation_data=validation_data,
              algorithm=algorithm, callbacks=callbacks, verbose=0 if args.quiet else 1)
    elapsed = time.perf_counter() - start
    metrics = model.evaluate(X_test, y_test)
    model.save(args.output)
    if stopper is not None and not args.quiet:
        stopped = f"stopped after epoch {stopper.stopped_epoch}" if stopper.stopped_epoch else "did not stop early"
        print(f"early stopping: {stopped}; kept epoch {stopper.best_epoch} (val_loss {stopper.best:.4f})")
    shown = ", ".join(f"{k} {v:.4f}" for k, v in metrics.items())
    print(f"test: {shown}")
    print(f"trained in {elapsed:.2f} s; model saved to {args.output}")
    return 0


def _info(args: argparse.Namespace) -> int:
    import eigennet as en

    model = en.load(args.model)
    model.summary()
    print(f"epochs trained: {model.epoch}, updater steps: {model.iteration}")
    classes = _class_names(model)
    if classes:
        print(f"classes: {', '.join(classes)}")
    return 0


def _class_names(model) -> List[str]:
    names = model.metadata.get("class_names") if isinstance(model.metadata, dict) else None
    if isinstance(names, list) and all(isinstance(n, str) for n in names):
        return names
    return []


def _evaluate(args: argparse.Namespace) -> int:
    import eigennet as en

    model = en.load(args.model)
    classes = _class_names(model) if model.is_classifier else []
    if classes:
        X, y, _, _ = _read_csv(args.data, args.label_column, classes=classes)
    else:
        # Regression targets, or class indices of a model trained through the Python API: as they are.
        header, body = _read_table(args.data)
        index = _column_index(args.data, header, args.label_column)
        X = _features(args.data, body, [i for i in range(len(header)) if i != index])
        try:
            y = np.array([float(row[index]) for row in body])
        except ValueError:
            what = "class indices (this model stores no class names)" if model.is_classifier else "numbers"
            raise CliError(f"{args.data}: column {header[index]!r} must hold {what}") from None
    if not args.stats:
        print(json.dumps(model.evaluate(X, y), indent=2))
    elif model.is_classifier:
        evaluation = model.evaluate_classification(X, y)
        if classes and len(classes) == max(2, model.n_outputs):  # the report in the model's class names
            from .evaluation import ClassificationEvaluation

            names = np.array(classes, dtype=object)
            evaluation = ClassificationEvaluation(names[y], names[model.predict(X).astype(np.int64)],
                                                  labels=classes)
        print(evaluation.stats().rstrip("\n"))
    else:
        print(model.evaluate_regression(X, y).stats().rstrip("\n"))
    return 0


def _predict(args: argparse.Namespace) -> int:
    import eigennet as en

    model = en.load(args.model)
    header, body = _read_table(args.data)
    stored = model.metadata.get("feature_names") if isinstance(model.metadata, dict) else None
    if isinstance(stored, list) and len(header) != model.input_dim and all(name in header for name in stored):
        columns = [header.index(name) for name in stored]  # e.g. the training CSV, label column included
    else:
        columns = list(range(len(header)))
    predictions = model.predict(_features(args.data, body, columns))
    classes = _class_names(model) if model.is_classifier else []
    if predictions.ndim == 1 and classes and len(classes) == model.n_outputs:
        rows = [[classes[int(p)]] for p in predictions]
    elif predictions.ndim == 1:
        rows = [[p] for p in predictions.tolist()]
    else:
        rows = predictions.tolist()
    out = open(args.output, "w", newline="", encoding="utf-8") if args.output else sys.stdout
    try:
        writer = csv.writer(out)
        if predictions.ndim == 1:
            writer.writerow(["prediction"])
        else:
            writer.writerow([f"output_{i}" for i in range(predictions.shape[1])])
        writer.writerows(rows)
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command == "train":
        _check_train_usage(args, parser.subcommand_parsers["train"])
    handlers = {"train": _train, "info": _info, "evaluate": _evaluate, "predict": _predict,
                "export-onnx": _export_onnx}
    try:
        return handlers[args.command](args)
    except (CliError, ValueError, TypeError, OSError, RuntimeError, ArithmeticError, MemoryError) as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"eigennet {args.command}: error: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"eigennet {args.command}: interrupted", file=sys.stderr)
        return 130
