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


def _read_csv(path: str, label_column: Optional[str]) -> Tuple[np.ndarray, np.ndarray, List[str], List[str]]:
    """Features, labels, feature names and class names (empty for regression) from a CSV with a header."""
    if not os.path.isfile(path):
        raise CliError(f"no such file: {path}")
    with open(path, newline="", encoding="utf-8") as f:
        rows = [row for row in csv.reader(f) if row and any(cell.strip() for cell in row)]
    if len(rows) < 2:
        raise CliError(f"{path}: needs a header line and at least one data row")
    header = [h.strip() for h in rows[0]]
    if label_column is None:
        index = len(header) - 1
    elif label_column in header:
        index = header.index(label_column)
    elif label_column.lstrip("-").isdigit() and -len(header) <= int(label_column) < len(header):
        index = int(label_column) % len(header)
    else:
        raise CliError(f"{path}: no column {label_column!r}; columns are {', '.join(header)}")
    body = rows[1:]
    for number, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise CliError(f"{path}, line {number}: {len(row)} fields, the header has {len(header)}")
    names = [h for i, h in enumerate(header) if i != index]
    try:
        X = np.array([[float(cell) for i, cell in enumerate(row) if i != index] for row in body], dtype=np.float64)
    except ValueError as exc:
        raise CliError(f"{path}: feature columns must be numeric ({exc})") from None
    raw = [row[index].strip() for row in body]
    try:
        values = np.array([float(v) for v in raw])
        is_class = bool(np.all(values == np.round(values))) and len(np.unique(values)) <= max(2, len(values) // 5)
        if is_class:
            classes = [str(int(v)) for v in np.unique(values)]
            y = np.searchsorted(np.unique(values), values).astype(np.int64)
        else:
            classes, y = [], values
    except ValueError:
        classes = sorted(set(raw))
        y = np.array([classes.index(v) for v in raw], dtype=np.int64)
    if not np.isfinite(X).all():
        raise CliError(f"{path}: features contain NaN or infinity")
    return X, y, names, classes


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
    return parser


def _train(args: argparse.Namespace) -> int:
    import eigennet as en

    if args.data is None:
        X, y = en.load_digits()
        X = X / 16.0  # pixel counts 0..16 to [0, 1]
        source, classes = "bundled UCI digits", [str(d) for d in range(10)]
    else:
        X, y, _, classes = _read_csv(args.data, args.label_column)
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
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    import eigennet as en

    model = en.load(args.model)
    X, y, _, _ = _read_csv(args.data, args.label_column)
    print(json.dumps(model.evaluate(X, y), indent=2))
    return 0


def _predict(args: argparse.Namespace) -> int:
    import eigennet as en

    model = en.load(args.model)
    if not os.path.isfile(args.data):
        raise CliError(f"no such file: {args.data}")
    try:
        X = np.loadtxt(args.data, delimiter=",", skiprows=1, ndmin=2)
    except ValueError as exc:
        raise CliError(f"{args.data}: features must be numeric ({exc})") from None
    predictions = model.predict(X)
    out = open(args.output, "w", newline="", encoding="utf-8") if args.output else sys.stdout
    try:
        writer = csv.writer(out)
        if predictions.ndim == 1:
            writer.writerow(["prediction"])
            writer.writerows([[p] for p in predictions.tolist()])
        else:
            writer.writerow([f"output_{i}" for i in range(predictions.shape[1])])
            writer.writerows(predictions.tolist())
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    handlers = {"train": _train, "info": _info, "evaluate": _evaluate, "predict": _predict}
    try:
        return handlers[args.command](args)
    except (CliError, ValueError, TypeError, OSError, RuntimeError) as exc:
        print(f"eigennet {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"eigennet {args.command}: interrupted", file=sys.stderr)
        return 130
