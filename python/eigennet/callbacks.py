"""Callbacks for :meth:`Sequential.fit <eigennet.Sequential.fit>`: progress display, early stopping,
checkpoints, logging, CSV and TensorBoard logs (DL4J's TrainingListener / EarlyStoppingConfiguration).

A callback's hooks run between epochs (each epoch's training runs whole in the C++ core with the
GIL released). ``epoch`` arguments are the model's 1-based epoch counter, as in ``History.epoch``:
a second ``fit`` call continues from where the first stopped. ``logs`` in ``on_epoch_end`` holds the
epoch's metrics (``loss``, and ``val_loss``, ``val_accuracy``... with ``validation_data``); a
callback may add keys, which later callbacks in the list see (the History records the metrics
before any callback runs). Setting ``model.stop_training = True`` in any hook ends training after
the current epoch.
"""

from __future__ import annotations

import csv
import logging
import math
import os
import sys
import time
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, Union

import numpy as np

from ._arguments import check_flag, check_path

if TYPE_CHECKING:  # pragma: no cover
    from .model import History, Sequential

__all__ = [
    "Callback", "LambdaCallback", "EarlyStopping", "ModelCheckpoint", "LoggingCallback", "CSVLogger",
    "TerminateOnNaN", "TensorBoard", "ProgressBar", "IterationHistory",
]

Logs = Dict[str, float]
PathLike = Union[str, "os.PathLike[str]"]


class Callback:
    """Base class: override the hooks you need.

    Attributes set by ``fit`` before ``on_train_begin``: ``model`` (the :class:`Sequential`),
    ``history`` (the :class:`History` being filled, including ``history.iterations`` for the
    full-batch algorithms) and ``params`` (``epochs``, ``first_epoch``, ``batch_size``,
    ``n_samples``, ``algorithm``, ``verbose``, ``validation``). ``epoch_seconds`` is the training
    time of the epoch that just ended (without the validation metrics), set before ``on_epoch_end``.
    """

    model: "Sequential"
    history: "History"
    params: Dict[str, Any]
    epoch_seconds: float = 0.0
    # Set to n to have on_iteration_end called after every n-th mini-batch step of SGD training
    # (the updater's iteration count). None: no per-iteration calls, so epochs run without
    # taking the GIL.
    every_n_iterations: Optional[int] = None

    def on_train_begin(self, logs: Optional[Logs] = None) -> None:
        """Before the first epoch."""

    def on_epoch_begin(self, epoch: int, logs: Optional[Logs] = None) -> None:
        """Before epoch ``epoch`` trains."""

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        """After epoch ``epoch``, with its metrics in ``logs``."""

    def on_train_end(self, logs: Optional[Logs] = None) -> None:
        """After the last epoch, also when a callback stopped training (not when an exception ends fit)."""

    def on_iteration_end(self, iteration: int, logs: Logs) -> None:
        """After SGD step ``iteration`` (counted by the updater, from 1) when ``every_n_iterations``
        divides it; ``logs["loss"]`` is the step's score and ``logs["epoch"]`` the epoch in progress.
        Setting ``self.model.stop_training = True`` ends the epoch after this step and then training."""

    def on_nan(self, epoch: int, logs: Logs) -> bool:
        """The training loss of epoch ``epoch`` is NaN or infinite (``logs["loss"]``). Return True to
        end training gracefully (``fit`` returns the History, the NaN epoch included, after calling
        ``on_train_end``); if no callback returns True, ``fit`` raises FloatingPointError."""
        return False


def _monitor_mode(monitor: str, mode: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f'mode must be "auto", "min" or "max", got {mode!r}')
    if mode != "auto":
        return mode
    name = monitor.lower()
    higher_is_better = ("acc", "auc", "f1", "precision", "recall", "r2")
    return "max" if any(word in name for word in higher_is_better) else "min"


def _monitored(logs: Logs, monitor: str, owner: str) -> float:
    if monitor not in logs:
        hint = " (pass validation_data to fit)" if monitor.startswith("val_") else ""
        raise ValueError(f"{owner} monitors {monitor!r}, but the epoch logs only have "
                         f"{', '.join(sorted(logs))}{hint}")
    return float(logs[monitor])


def _check_monitor_known(callback: Callback, monitor: str, owner: str) -> None:
    """At the start of training: the monitored metric must be one the epoch logs will have, so that a
    misspelt name fails before any training step rather than after the first epoch."""
    known = getattr(callback, "_epoch_metrics", None)
    params = getattr(callback, "params", {})
    if known is None or monitor in known:
        return
    from ._names import closest

    hint = closest(monitor, known) or next((name for name in known if name.startswith(monitor)), None)
    suggestion = f'; did you mean "{hint}"?' if hint else ""
    missing_validation = " (pass validation_data to fit)" if monitor.startswith("val_") and \
        not params.get("validation") else ""
    raise ValueError(f"{owner} monitors {monitor!r}, which is not an epoch metric{suggestion} (the epoch logs will have "
                     f"{', '.join(known)}){missing_validation}")


def _check_positive_int(value: Any, name: str, allow_none: bool = False) -> Optional[int]:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


class _Improvement:
    """Tracks the best value of a monitored metric."""

    def __init__(self, monitor: str, mode: str, min_delta: float) -> None:
        if not isinstance(monitor, str):
            raise TypeError(f"monitor must be a metric name such as \"val_loss\", got {type(monitor).__name__}")
        if isinstance(min_delta, bool) or not isinstance(min_delta, (int, float, np.integer, np.floating)) \
                or not math.isfinite(min_delta) or min_delta < 0:
            raise ValueError(f"min_delta must be a finite number >= 0, got {min_delta!r}")
        self.monitor = monitor
        self.mode = _monitor_mode(monitor, mode)
        self.min_delta = float(min_delta)
        self.best = math.inf if self.mode == "min" else -math.inf

    def reset(self) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf

    def improved(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta


class EarlyStopping(Callback):
    """Stop training when a monitored metric stops improving (DL4J EarlyStoppingConfiguration).

    Parameters
    ----------
    monitor: the metric in the epoch logs, e.g. "val_loss" (default), "val_accuracy", "loss".
    patience: epochs without improvement before stopping (DL4J ScoreImprovementEpochTerminationCondition);
        0 stops at the first epoch that does not improve.
    min_delta: the smallest change that counts as an improvement.
    mode: "min", "max", or "auto" (max for names containing acc/auc/f1/precision/recall/r2, else min).
    max_epochs: stop after this many epochs of this fit call (MaxEpochsTerminationCondition).
    max_time_seconds: stop at the first epoch end after this much wall time since training began
        (MaxTimeIterationTerminationCondition; an epoch in progress is not interrupted).
    restore_best_weights: when training ends, for whatever reason, put back the parameters
        (including batch-normalization running statistics) of the best epoch (DL4J's
        InMemoryModelSaver + ``getBestModel``). Updater state and counters are not rewound.
    save_best_to: also save the best model to this file (atomically) at each improvement
        (DL4J LocalFileModelSaver).

    After ``fit``: ``best`` (the best value), ``best_epoch``, ``stopped_epoch`` (0 if it did not
    stop training) and ``stop_reason`` ("patience", "max_epochs", "max_time" or None).
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 0,
        min_delta: float = 0.0,
        mode: str = "auto",
        max_epochs: Optional[int] = None,
        max_time_seconds: Optional[float] = None,
        restore_best_weights: bool = True,
        save_best_to: Optional[PathLike] = None,
    ) -> None:
        self._tracker = _Improvement(monitor, mode, min_delta)
        self.monitor = monitor
        self.mode = self._tracker.mode
        self.min_delta = self._tracker.min_delta
        if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) or patience < 0:
            raise ValueError(f"patience must be an integer >= 0, got {patience!r}")
        self.patience = int(patience)
        self.max_epochs = _check_positive_int(max_epochs, "max_epochs", allow_none=True)
        if max_time_seconds is not None:
            if isinstance(max_time_seconds, bool) or not isinstance(max_time_seconds, (int, float)) \
                    or not max_time_seconds > 0:
                raise ValueError(f"max_time_seconds must be a number > 0, got {max_time_seconds!r}")
            max_time_seconds = float(max_time_seconds)
        self.max_time_seconds = max_time_seconds
        if not isinstance(restore_best_weights, bool):
            raise TypeError("restore_best_weights must be True or False")
        self.restore_best_weights = restore_best_weights
        self.save_best_to = None if save_best_to is None else check_path(save_best_to, "save_best_to")
        self._reset()

    def _reset(self) -> None:
        self._tracker.reset()
        self.best = self._tracker.best
        self.best_epoch = 0
        self.stopped_epoch = 0
        self.stop_reason: Optional[str] = None
        self.wait = 0
        self._epochs_run = 0
        self._best_params: Optional[np.ndarray] = None
        self._start = time.monotonic()

    def on_train_begin(self, logs: Optional[Logs] = None) -> None:
        _check_monitor_known(self, self.monitor, "EarlyStopping")
        self._reset()

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        self._epochs_run += 1
        value = _monitored(logs, self.monitor, "EarlyStopping")
        if self._tracker.improved(value):
            self._tracker.best = self.best = value
            self.best_epoch = epoch
            self.wait = 0
            if self.restore_best_weights:
                self._best_params = self.model.params()
            if self.save_best_to is not None:
                self.model.save(self.save_best_to)
        else:
            self.wait += 1
        reason = None
        if self.wait > self.patience:
            reason = "patience"
        elif self.max_epochs is not None and self._epochs_run >= self.max_epochs:
            reason = "max_epochs"
        elif self.max_time_seconds is not None and time.monotonic() - self._start >= self.max_time_seconds:
            reason = "max_time"
        if reason is not None:
            self.stop_reason = reason
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: Optional[Logs] = None) -> None:
        if self.restore_best_weights and self._best_params is not None:
            self.model.set_params(self._best_params)
        self._best_params = None  # do not keep a copy of the parameters alive after fit


class ModelCheckpoint(Callback):
    """Save the model during training (atomically: a temporary file renamed over the target, so a
    crash never leaves a half-written checkpoint).

    Parameters
    ----------
    filepath: file name, formatted with ``epoch`` and the epoch's logs, e.g.
        ``"ckpt/model-{epoch:03d}.enet"`` or ``"best-{val_loss:.4f}.enet"``; missing directories are
        created. Without a placeholder, the same file is overwritten.
    every_n_epochs: save at every n-th epoch (by the model's epoch counter).
    every_n_iterations: save after every n-th SGD step instead (the pattern may use ``{iteration}``
        and ``{loss}``, the step's score; ``{epoch}`` is the epoch in progress).
    keep_last: keep only the last K files this callback wrote (older ones are deleted); None keeps all.
    save_best_only: save only when ``monitor`` improved (by more than ``min_delta``, in ``mode``).

    ``saved`` lists the files written and still kept, oldest first.
    """

    def __init__(
        self,
        filepath: PathLike,
        every_n_epochs: int = 1,
        keep_last: Optional[int] = None,
        save_best_only: bool = False,
        monitor: str = "val_loss",
        mode: str = "auto",
        min_delta: float = 0.0,
        every_n_iterations: Optional[int] = None,
    ) -> None:
        self.filepath = check_path(filepath, "filepath")
        self.every_n_epochs = _check_positive_int(every_n_epochs, "every_n_epochs")
        self.every_n_iterations = _check_positive_int(every_n_iterations, "every_n_iterations", allow_none=True)
        if self.every_n_iterations is not None and save_best_only:
            raise ValueError("save_best_only needs epoch metrics; it cannot be combined with every_n_iterations")
        self.keep_last = _check_positive_int(keep_last, "keep_last", allow_none=True)
        if not isinstance(save_best_only, bool):
            raise TypeError("save_best_only must be True or False")
        self.save_best_only = save_best_only
        self.monitor = monitor
        self._tracker = _Improvement(monitor, mode, min_delta)
        self.saved: List[str] = []

    def on_train_begin(self, logs: Optional[Logs] = None) -> None:
        if self.save_best_only:
            _check_monitor_known(self, self.monitor, "ModelCheckpoint")
        self._tracker.reset()

    def on_iteration_end(self, iteration: int, logs: Logs) -> None:
        self._save({"iteration": iteration, **logs}, int(logs["epoch"]))

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        if self.every_n_iterations is not None or epoch % self.every_n_epochs != 0:
            return
        if self.save_best_only:
            value = _monitored(logs, self.monitor, "ModelCheckpoint")
            if not self._tracker.improved(value):
                return
            self._tracker.best = value
        self._save(logs, epoch)

    def _save(self, logs: Logs, epoch: int) -> None:
        logs = {k: v for k, v in logs.items() if k != "epoch"}
        try:
            path = self.filepath.format(epoch=epoch, **logs)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"ModelCheckpoint cannot format {self.filepath!r} with epoch and "
                             f"{', '.join(sorted(logs))}: {exc!r}") from None
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        self.model.save(path)
        if path in self.saved:
            self.saved.remove(path)
        self.saved.append(path)
        if self.keep_last is not None:
            while len(self.saved) > self.keep_last:
                old = self.saved.pop(0)
                try:
                    os.remove(old)
                except FileNotFoundError:
                    pass


class LoggingCallback(Callback):
    """Log the epoch's metrics through the ``logging`` module every ``every_n_epochs`` epochs (DL4J
    ScoreIterationListener, per epoch): ``"epoch 3 (iteration 96): loss 0.4210, val_loss 0.4522"``
    on the logger ``"eigennet"`` (or ``logger``) at ``level`` (default INFO)."""

    def __init__(self, every_n_epochs: int = 1, logger: Union[logging.Logger, str, None] = None,
                 level: int = logging.INFO) -> None:
        self.every_n_epochs = _check_positive_int(every_n_epochs, "every_n_epochs")
        if logger is None or isinstance(logger, str):
            logger = logging.getLogger(logger or "eigennet")
        if not isinstance(logger, logging.Logger):
            raise TypeError(f"logger must be a logging.Logger, a logger name or None, got {type(logger).__name__}")
        if isinstance(level, bool) or not isinstance(level, int):
            raise TypeError(f"level must be a logging level such as logging.INFO, got {level!r}")
        self.logger = logger
        self.level = level

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        if epoch % self.every_n_epochs == 0:
            shown = ", ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in logs.items())
            self.logger.log(self.level, "epoch %d (iteration %d): %s", epoch, self.model.iteration, shown)

    def on_nan(self, epoch: int, logs: Logs) -> bool:
        self.logger.error("epoch %d: the training loss is %s", epoch, logs.get("loss"))
        return False


class CSVLogger(Callback):
    """Write one CSV row per epoch (``epoch`` then the logs' keys, as of the first epoch) to ``path``.
    ``append=True`` adds to an existing file (its header is kept); otherwise the file is replaced
    when training begins. Each row is flushed as it is written."""

    def __init__(self, path: PathLike, append: bool = False, separator: str = ",") -> None:
        self.path = check_path(path, "path")
        self.append = check_flag(append, "append")
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError(f"separator must be a single character, got {separator!r}")
        self.separator = separator
        self._fields: Optional[List[str]] = None

    def on_train_begin(self, logs: Optional[Logs] = None) -> None:
        self._fields = None
        if self.append and os.path.isfile(self.path) and os.path.getsize(self.path) > 0:
            with open(self.path, newline="") as f:
                header = next(csv.reader(f, delimiter=self.separator), None)
            self._fields = header or None
        else:
            open(self.path, "w").close()

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        new_file = self._fields is None
        if new_file:
            self._fields = ["epoch", *logs.keys()]
        with open(self.path, "a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=self._fields, delimiter=self.separator,
                                    restval="", extrasaction="ignore")
            if new_file:
                writer.writeheader()
            writer.writerow({"epoch": epoch, **{k: repr(float(v)) if isinstance(v, float) else v
                                                for k, v in logs.items()}})


class IterationHistory(Callback):
    """Record SGD's per-iteration score in ``history.iterations`` (``{"epoch", "iteration", "loss"}``,
    the entries the full-batch algorithms write) every ``every_n_iterations`` steps."""

    def __init__(self, every_n_iterations: int = 1) -> None:
        self.every_n_iterations = _check_positive_int(every_n_iterations, "every_n_iterations")

    def on_iteration_end(self, iteration: int, logs: Logs) -> None:
        self.history.iterations.append({"epoch": int(logs["epoch"]), "iteration": iteration, "loss": logs["loss"]})


class LambdaCallback(Callback):
    """A callback from functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``. Each hook
    takes the same arguments as the :class:`Callback` method; ``on_nan``'s return value is used."""

    def __init__(
        self,
        on_train_begin: Optional[Callable[..., Any]] = None,
        on_epoch_begin: Optional[Callable[..., Any]] = None,
        on_epoch_end: Optional[Callable[..., Any]] = None,
        on_train_end: Optional[Callable[..., Any]] = None,
        on_nan: Optional[Callable[..., Any]] = None,
        on_iteration_end: Optional[Callable[..., Any]] = None,
        every_n_iterations: Optional[int] = None,
    ) -> None:
        hooks = {"on_train_begin": on_train_begin, "on_epoch_begin": on_epoch_begin,
                 "on_epoch_end": on_epoch_end, "on_train_end": on_train_end, "on_nan": on_nan,
                 "on_iteration_end": on_iteration_end}
        if on_iteration_end is not None:
            self.every_n_iterations = _check_positive_int(1 if every_n_iterations is None else every_n_iterations,
                                                          "every_n_iterations")
        for name, hook in hooks.items():
            if hook is not None and not callable(hook):
                raise TypeError(f"{name} must be callable, got {type(hook).__name__}")
        self._hooks = hooks

    def on_train_begin(self, logs: Optional[Logs] = None) -> None:
        if self._hooks["on_train_begin"]:
            self._hooks["on_train_begin"](logs)

    def on_epoch_begin(self, epoch: int, logs: Optional[Logs] = None) -> None:
        if self._hooks["on_epoch_begin"]:
            self._hooks["on_epoch_begin"](epoch, logs)

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        if self._hooks["on_epoch_end"]:
            self._hooks["on_epoch_end"](epoch, logs)

    def on_iteration_end(self, iteration: int, logs: Logs) -> None:
        if self._hooks["on_iteration_end"]:
            self._hooks["on_iteration_end"](iteration, logs)

    def on_train_end(self, logs: Optional[Logs] = None) -> None:
        if self._hooks["on_train_end"]:
            self._hooks["on_train_end"](logs)

    def on_nan(self, epoch: int, logs: Logs) -> bool:
        return bool(self._hooks["on_nan"](epoch, logs)) if self._hooks["on_nan"] else False


class TerminateOnNaN(Callback):
    """End training gracefully instead of raising FloatingPointError when the loss becomes NaN or
    infinite; a warning goes to the ``"eigennet"`` logger. The model's parameters are then not
    finite: combine with ``EarlyStopping(restore_best_weights=True)`` to get the best ones back."""

    def __init__(self) -> None:
        self.nan_epoch: Optional[int] = None

    def on_train_begin(self, logs: Optional[Logs] = None) -> None:
        self.nan_epoch = None

    def on_nan(self, epoch: int, logs: Logs) -> bool:
        self.nan_epoch = epoch
        logging.getLogger("eigennet").warning("epoch %d: the training loss is %s; training stopped", epoch,
                                              logs.get("loss"))
        return True


class TensorBoard(Callback):
    """Write TensorBoard event files with tensorboardX (``pip install eigennet[tensorboard]``): each
    epoch's logs as scalars ``epoch/<name>`` at step ``epoch``, and for the full-batch algorithms
    each optimizer iteration's loss and gradient norm as ``iteration/<name>``."""

    def __init__(self, log_dir: PathLike = "runs", flush_every_epoch: bool = True) -> None:
        try:
            import tensorboardX  # noqa: F401
        except ImportError:
            raise ImportError("TensorBoard needs tensorboardX: pip install tensorboardX "
                              "(or eigennet[tensorboard])") from None
        self.log_dir = check_path(log_dir, "log_dir")
        self.flush_every_epoch = check_flag(flush_every_epoch, "flush_every_epoch")
        self._writer: Any = None
        self._iterations_written = 0
        self._global_iteration = 0

    def on_train_begin(self, logs: Optional[Logs] = None) -> None:
        from tensorboardX import SummaryWriter

        self._writer = SummaryWriter(logdir=self.log_dir)
        self._iterations_written = 0

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        for key, value in logs.items():
            self._writer.add_scalar(f"epoch/{key}", float(value), epoch)
        new = self.history.iterations[self._iterations_written:]
        for step in new:
            self._global_iteration += 1
            for key in ("loss", "gradient_norm", "step_size"):
                if key in step:
                    self._writer.add_scalar(f"iteration/{key}", float(step[key]), self._global_iteration)
        self._iterations_written += len(new)
        if self.flush_every_epoch:
            self._writer.flush()

    def on_train_end(self, logs: Optional[Logs] = None) -> None:
        self.close()

    def close(self) -> None:
        """Release what the callback holds open (called once when training ends)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __del__(self) -> None:  # a fit ended by an exception
        try:
            self.close()
        except Exception:  # pragma: no cover
            pass


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None or "ipykernel" not in sys.modules:
        return False
    try:
        ip = shell.get_ipython()  # type: ignore[attr-defined]
    except Exception:  # pragma: no cover
        return False
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def _stream_is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _tqdm_available() -> bool:
    try:
        import tqdm  # noqa: F401
    except ImportError:
        return False
    return True


def _summary(logs: Logs, fmt: str = "{:.4f}", sep: str = " - ") -> str:
    return sep.join(f"{k} {fmt.format(v)}" if isinstance(v, float) else f"{k} {v}" for k, v in logs.items())


class _EpochLines(Callback):
    """verbose=2 (and verbose=1 without a terminal): one line per epoch on stdout."""

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        rate = self.params["n_samples"] / self.epoch_seconds if self.epoch_seconds > 0 else float("inf")
        last = self.params["first_epoch"] + self.params["epochs"]
        print(f"epoch {epoch}/{last} - {_summary(logs)} - {rate:,.0f} samples/s", file=sys.stdout, flush=True)


class ProgressBar(Callback):
    """A tqdm progress bar over the epochs, with the last epoch's loss, validation metrics and
    samples/s. ``fit(verbose=1)`` adds one by itself when stderr is a terminal or in a notebook;
    passing one in ``callbacks`` forces it (and replaces the default display)."""

    def __init__(self, file: Any = None, notebook: Optional[bool] = None) -> None:
        if file is not None and not callable(getattr(file, "write", None)):
            raise TypeError(f"file must be a writable text stream or None, got {type(file).__name__}")
        if notebook is not None and not isinstance(notebook, bool):
            raise TypeError(f"notebook must be True, False or None, got {type(notebook).__name__}")
        self.file = file
        self.notebook = notebook
        self.bar: Any = None

    def on_train_begin(self, logs: Optional[Logs] = None) -> None:
        notebook = _in_notebook() if self.notebook is None else self.notebook
        if notebook:
            from tqdm.auto import tqdm
        else:
            from tqdm import tqdm
        first, epochs = self.params["first_epoch"], self.params["epochs"]
        self.bar = tqdm(total=epochs, desc=f"epoch {first}/{first + epochs}", unit="epoch",
                        file=self.file if self.file is not None else sys.stderr, dynamic_ncols=True, leave=True)

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        if self.bar is None:
            return
        rate = self.params["n_samples"] / self.epoch_seconds if self.epoch_seconds > 0 else float("inf")
        self.bar.set_description(f"epoch {epoch}/{self.params['first_epoch'] + self.params['epochs']}",
                                 refresh=False)
        self.bar.set_postfix_str(f"{_summary(logs, sep=', ')}, {rate:,.0f} samples/s", refresh=False)
        self.bar.update(1)

    def on_train_end(self, logs: Optional[Logs] = None) -> None:
        self.close()

    def close(self) -> None:
        """Release what the callback holds open (called once when training ends)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class _CallbackList:
    """What fit uses: the display chosen by ``verbose`` followed by the user's callbacks."""

    def __init__(self, callbacks: Optional[Sequence[Callback]], model: "Sequential", history: "History",
                 params: Dict[str, Any]) -> None:
        if callbacks is None:
            callbacks = []
        elif isinstance(callbacks, Callback):
            callbacks = [callbacks]
        elif not isinstance(callbacks, (list, tuple)):
            raise TypeError(f"callbacks must be a Callback or a list of them, got {type(callbacks).__name__}")
        callbacks = list(callbacks)
        for i, cb in enumerate(callbacks):
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks[{i}] is a {type(cb).__name__}, not an eigennet.callbacks.Callback")
        verbose = params["verbose"]
        display: List[Callback] = []
        if verbose and not any(isinstance(cb, ProgressBar) for cb in callbacks):
            use_bar = verbose == 1 and (_stream_is_terminal(sys.stderr) or _in_notebook()) and _tqdm_available()
            display.append(ProgressBar() if use_bar else _EpochLines())
        self.callbacks = display + callbacks
        params = dict(params)
        metrics = params.pop("metrics", None)  # the epoch log keys, for checking monitored names early
        for cb in self.callbacks:
            cb.model = model
            cb.history = history
            cb.params = dict(params)
            cb._epoch_metrics = metrics

    def train_begin(self) -> None:
        for cb in self.callbacks:
            cb.on_train_begin({})

    def epoch_begin(self, epoch: int) -> None:
        for cb in self.callbacks:
            cb.on_epoch_begin(epoch, {})

    def iteration_interval(self) -> Optional[int]:
        """How often fit must call back during an epoch: the gcd of the callbacks' intervals."""
        intervals = [cb.every_n_iterations for cb in self.callbacks if cb.every_n_iterations]
        return math.gcd(*intervals) if intervals else None

    def iteration_end(self, epoch: int, iteration: int, loss: float) -> bool:
        """Runs the due per-iteration hooks; True when a callback asked training to stop."""
        for cb in self.callbacks:
            if cb.every_n_iterations and iteration % cb.every_n_iterations == 0:
                cb.on_iteration_end(iteration, {"loss": loss, "epoch": epoch})
        return bool(getattr(self.callbacks[0].model, "stop_training", False)) if self.callbacks else False

    def epoch_end(self, epoch: int, logs: Logs, seconds: float) -> None:
        for cb in self.callbacks:
            cb.epoch_seconds = seconds
            cb.on_epoch_end(epoch, logs)

    def nan(self, epoch: int, logs: Logs) -> bool:
        # Every callback hears about it (e.g. a logger), whichever one decides to stop.
        decisions = [bool(cb.on_nan(epoch, dict(logs))) for cb in self.callbacks]
        return any(decisions)

    def train_end(self, logs: Logs) -> None:
        for cb in self.callbacks:
            cb.on_train_end(logs)

    def close(self) -> None:
        """After an exception: do not leave a progress bar half drawn."""
        for cb in self.callbacks:
            if isinstance(cb, ProgressBar):
                cb.close()
