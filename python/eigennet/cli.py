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
    train.add_argument("--hidden", default="64,32", help="hidden layer widths, comma-separated (default: 64,32)")
    train.add_argument("--activation", default="relu", help="hidden activation (default: relu)")
    train.add_argument("--epochs", type=int, default=30, help="training epochs (default: 30)")
    train.add_argument("--batch-size", type=int, default=32, help="mini-batch size (default: 32)")
    train.add_argument("--learning-rate", type=float, default=1e-3, help="Adam learning rate (default: 1e-3)")
    train.add_argument("--l2", type=float, default=1e-4, help="L2 penalty on weights (default: 1e-4)")
    train.add_argument("--test-size", type=float, default=0.25, help="held-out fraction (default: 0.25)")
    train.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    train.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    train.add_argument("--output", "-o", default="model.enet", help="where to save the model (default: model.enet)")
    train.add_argument("--quiet", "-q", action="store_true", help="print only the final metrics")

    info = commands.add_parser("info", help="describe a model file", description="Print a model file's summary.")
    info.add_argument("model", help="model file")

    evaluate = commands.add_parser("evaluate", help="evaluate a model on a CSV", description="Print metrics on a CSV.")
    evaluate.add_argument("model", help="model file")
    evaluate.add_argument("--data", required=True, help="CSV file with a header line")
    evaluate.add_argument("--label-column", help="name or index of the label column (default: the last)")

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


def _train(args: argparse.Namespace) -> int:
    import eigennet as en

    if args.data is None:
        X, y = en.load_digits()
        X = X / 16.0  # pixel counts 0..16 to [0, 1]
        source, classes = "bundled UCI digits", [str(d) for d in range(10)]
        feature_names = [f"pixel_{i}" for i in range(X.shape[1])]
    else:
        X, y, feature_names, classes = _read_csv(args.data, args.label_column)
        source = args.data
    try:
        hidden = [int(w) for w in args.hidden.split(",") if w.strip()]
    except ValueError:
        raise CliError(f"--hidden must be comma-separated integers, got {args.hidden!r}") from None
    if args.epochs < 1 or args.batch_size < 1:
        raise CliError("--epochs and --batch-size must be positive")
    X_train, X_test, y_train, y_test = en.train_test_split(
        X, y, test_size=args.test_size, seed=args.seed, stratify=bool(classes)
    )
    if classes:
        output = en.Output(len(classes), activation="softmax", loss="mcxent")
    else:
        output = en.Output(1, activation="identity", loss="mse")
    model = en.Sequential(
        [en.Dense(w, activation=args.activation) for w in hidden] + [output],
        input_dim=X.shape[1],
        updater=en.Adam(learning_rate=args.learning_rate),
        l2=args.l2,
        seed=args.seed,
        dtype=args.dtype,
    )
    model.metadata = {"feature_names": feature_names, "class_names": classes}
    if not args.quiet:
        print(f"data: {source}: {len(X_train)} training and {len(X_test)} test samples, {X.shape[1]} features")
        model.summary()
    start = time.perf_counter()
    model.fit(X_train, y_train, epochs=args.epochs, batch_size=args.batch_size, verbose=0 if args.quiet else 1)
    elapsed = time.perf_counter() - start
    metrics = model.evaluate(X_test, y_test)
    model.save(args.output)
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
    print(json.dumps(model.evaluate(X, y), indent=2))
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
