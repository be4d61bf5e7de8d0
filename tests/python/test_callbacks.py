"""fit(callbacks=...): progress display, early stopping, checkpoints, logging, CSV, TensorBoard, NaN handling."""

import csv
import io
import logging
import os
import struct
import time

import numpy as np
import pytest

import eigennet as en
from eigennet import callbacks as cb


def classifier(seed=0, dtype="float64", **kwargs):
    return en.Sequential(
        [en.Dense(6, activation="tanh"), en.Output(3, activation="softmax", loss="mcxent")],
        input_dim=4, seed=seed, dtype=dtype, **kwargs,
    )


def data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)), rng.integers(0, 3, size=n)


def scripted(key, values):
    """A LambdaCallback that overwrites logs[key] with values[i] at the i-th epoch of a fit call."""
    calls = []

    def inject(epoch, logs):
        logs[key] = values[len(calls)]
        calls.append(epoch)

    return cb.LambdaCallback(on_epoch_end=inject)


def diverging():
    """A regression that blows up to inf/NaN within a few epochs."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(64, 3))
    y = X.sum(axis=1)
    model = en.Sequential([en.Dense(8, activation="identity"), en.Output(1, activation="identity", loss="mse")],
                          input_dim=3, seed=0, updater=en.SGD(learning_rate=0.5))
    return model, X, y  # full-batch steps: the loss grows geometrically after a few epochs


# ------------------------------------------------------------------------------ base protocol
def test_hooks_are_called_in_order_with_epoch_numbers_and_logs():
    X, y = data()
    events = []
    lam = cb.LambdaCallback(
        on_train_begin=lambda logs: events.append("begin"),
        on_epoch_begin=lambda epoch, logs: events.append(("start", epoch)),
        on_epoch_end=lambda epoch, logs: events.append(("end", epoch, sorted(logs))),
        on_train_end=lambda logs: events.append("finish"),
    )
    model = classifier()
    model.fit(X, y, epochs=2, verbose=0, validation_data=(X[:10], y[:10]), callbacks=[lam])
    keys = ["loss", "val_accuracy", "val_loss"]
    assert events == ["begin", ("start", 1), ("end", 1, keys), ("start", 2), ("end", 2, keys), "finish"]
    # a second fit continues the epoch numbering, like History.epoch
    events.clear()
    history = model.fit(X, y, epochs=1, verbose=0, callbacks=lam)  # a single callback is accepted too
    assert events == ["begin", ("start", 3), ("end", 3, ["loss"]), "finish"] and history.epoch == [3]


def test_callback_sees_model_history_params_and_time():
    X, y = data()
    seen = {}

    class Probe(cb.Callback):
        def on_epoch_end(self, epoch, logs):
            seen.update(params=self.params, model=self.model, epochs=list(self.history.epoch),
                        seconds=self.epoch_seconds)

    model = classifier()
    model.fit(X, y, epochs=2, batch_size=8, verbose=0, callbacks=[Probe()])
    assert seen["model"] is model and seen["epochs"] == [1, 2] and seen["seconds"] > 0
    assert seen["params"] == {"epochs": 2, "first_epoch": 0, "batch_size": 8, "n_samples": 40,
                              "algorithm": "STOCHASTIC_GRADIENT_DESCENT", "verbose": 0, "validation": False}


def test_bad_callbacks_are_rejected():
    X, y = data()
    with pytest.raises(TypeError, match=r"callbacks\[0\] is a function"):
        classifier().fit(X, y, verbose=0, callbacks=[lambda e, l: None])
    with pytest.raises(TypeError, match="on_epoch_end must be callable"):
        cb.LambdaCallback(on_epoch_end=3)


def test_stop_training_from_a_callback():
    X, y = data()
    model = classifier()
    stopper = cb.LambdaCallback(on_epoch_end=lambda epoch, logs: setattr(model, "stop_training", epoch >= 3))
    history = model.fit(X, y, epochs=10, verbose=0, callbacks=[stopper])
    assert history.epoch == [1, 2, 3] and model.epoch == 3
    # the flag is reset by the next fit, and a stop in on_train_begin trains no epoch
    assert model.fit(X, y, epochs=2, verbose=0).epoch == [4, 5]
    begin_stop = cb.LambdaCallback(on_train_begin=lambda logs: setattr(model, "stop_training", True))
    assert model.fit(X, y, epochs=2, verbose=0, callbacks=[begin_stop]).epoch == [] and model.epoch == 5


def test_full_batch_algorithms_run_callbacks_between_epochs():
    X, y = data()
    seen = []
    lam = cb.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append((epoch, len(lam.history.iterations))))
    history = classifier().fit(X, y, epochs=3, algorithm="lbfgs", max_iterations=5, verbose=0, callbacks=[lam])
    assert [e for e, _ in seen] == [1, 2, 3]
    assert seen[-1][1] == len(history.iterations) > 0 and seen[0][1] <= seen[1][1] <= seen[2][1]


# ------------------------------------------------------------------------------ early stopping
def test_early_stopping_patience_on_a_crafted_curve():
    X, y = data()
    curve = [1.0, 0.8, 0.7, 0.75, 0.71, 0.9, 0.6, 0.5, 0.4, 0.3]
    stop = cb.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=False)
    history = classifier().fit(X, y, epochs=10, verbose=0, validation_data=(X, y),
                               callbacks=[scripted("val_loss", curve), stop])
    # best 0.7 at epoch 3; epochs 4 and 5 wait within patience, epoch 6 is the third miss
    assert history.epoch == [1, 2, 3, 4, 5, 6]
    assert (stop.best, stop.best_epoch, stop.stopped_epoch, stop.stop_reason) == (0.7, 3, 6, "patience")


def test_early_stopping_min_delta_and_max_mode():
    X, y = data()
    curve = [0.50, 0.60, 0.605, 0.609, 0.7]
    stop = cb.EarlyStopping(monitor="val_accuracy", patience=1, min_delta=0.01, restore_best_weights=False)
    assert stop.mode == "max"
    history = classifier().fit(X, y, epochs=5, verbose=0, validation_data=(X, y),
                               callbacks=[scripted("val_accuracy", curve), stop])
    assert history.epoch == [1, 2, 3, 4] and stop.best_epoch == 2 and stop.best == 0.60
    # patience=0 stops at the first epoch that does not improve; mode="min" forced on an accuracy
    stop = cb.EarlyStopping(monitor="val_accuracy", mode="min", patience=0, restore_best_weights=False)
    history = classifier().fit(X, y, epochs=5, verbose=0, validation_data=(X, y),
                               callbacks=[scripted("val_accuracy", [0.5, 0.4, 0.45, 0.3, 0.2]), stop])
    assert history.epoch == [1, 2, 3] and stop.best_epoch == 2


def test_early_stopping_on_a_real_rising_validation_loss():
    # An over-parameterised net on few noisy samples: the validation loss goes down, then up.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4))
    y = rng.integers(0, 3, size=30)
    Xv, yv = rng.normal(size=(200, 4)), rng.integers(0, 3, size=200)
    model = en.Sequential([en.Dense(64, activation="relu"), en.Output(3, activation="softmax", loss="mcxent")],
                          input_dim=4, seed=0, updater=en.Adam(learning_rate=0.01))
    stop = cb.EarlyStopping(patience=5)
    history = model.fit(X, y, epochs=500, batch_size=30, verbose=0, validation_data=(Xv, yv), callbacks=[stop])
    val = history.history["val_loss"]
    assert stop.stop_reason == "patience" and len(val) < 500
    assert len(val) == stop.best_epoch + 6 and min(val) == pytest.approx(stop.best)
    assert model.evaluate(Xv, yv)["loss"] == pytest.approx(stop.best, rel=1e-12)  # best weights restored


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_restore_best_weights_is_exact(dtype):
    X, y = data()
    snapshots = {}
    record = cb.LambdaCallback(on_epoch_end=lambda epoch, logs: snapshots.__setitem__(epoch, model.params()))
    model = classifier(dtype=dtype)
    stop = cb.EarlyStopping(monitor="loss", patience=1)
    model.fit(X, y, epochs=8, verbose=0, callbacks=[record, scripted("loss", [5, 4, 3, 3.5, 3.2, 1, 0, 0]), stop])
    assert stop.best_epoch == 3 and stop.stopped_epoch == 5 and model.epoch == 5
    np.testing.assert_array_equal(model.params(), snapshots[3])
    assert not np.array_equal(snapshots[3], snapshots[5])


def test_restore_best_weights_also_when_epochs_run_out_and_batchnorm_state():
    X, y = data()
    model = en.Sequential([en.Dense(6), en.BatchNormalization(), en.Output(3, loss="mcxent")], input_dim=4, seed=0)
    snapshots = {}
    record = cb.LambdaCallback(on_epoch_end=lambda epoch, logs: snapshots.__setitem__(epoch, model.params()))
    stop = cb.EarlyStopping(monitor="loss", patience=10)
    model.fit(X, y, epochs=4, verbose=0, callbacks=[record, scripted("loss", [3, 1, 2, 2]), stop])
    assert stop.stop_reason is None and stop.stopped_epoch == 0 and model.epoch == 4
    np.testing.assert_array_equal(model.params(), snapshots[2])  # running mean/var included


def test_early_stopping_max_epochs_max_time_and_save_best(tmp_path):
    X, y = data()
    stop = cb.EarlyStopping(monitor="loss", patience=100, max_epochs=3)
    model = classifier()
    model.fit(X, y, epochs=4, verbose=0)
    assert model.fit(X, y, epochs=10, verbose=0, callbacks=[stop]).epoch == [5, 6, 7]  # counts this fit's epochs
    assert stop.stop_reason == "max_epochs"

    slow = cb.LambdaCallback(on_epoch_end=lambda epoch, logs: time.sleep(0.25))
    stop = cb.EarlyStopping(monitor="loss", patience=100, max_time_seconds=0.4)  # checked at epoch ends
    history = classifier().fit(X, y, epochs=50, verbose=0, callbacks=[slow, stop])
    assert stop.stop_reason == "max_time" and len(history.epoch) == 2

    path = tmp_path / "best.enet"
    stop = cb.EarlyStopping(monitor="loss", patience=2, save_best_to=path, restore_best_weights=False)
    model = classifier()
    model.fit(X, y, epochs=9, verbose=0, callbacks=[scripted("loss", [3, 2, 1, 4, 5, 6, 7, 8, 9]), stop])
    assert stop.best_epoch == 3 and model.epoch == 6
    assert en.load(path).epoch == 3
    assert [p.name for p in tmp_path.iterdir()] == ["best.enet"]  # no temporary file left


def test_early_stopping_argument_and_monitor_errors():
    X, y = data()
    with pytest.raises(ValueError, match="monitors 'val_loss'.*pass validation_data"):
        classifier().fit(X, y, epochs=2, verbose=0, callbacks=[cb.EarlyStopping()])
    for kwargs in ({"patience": -1}, {"min_delta": -0.1}, {"mode": "up"}, {"max_epochs": 0},
                   {"max_time_seconds": 0}):
        with pytest.raises(ValueError):
            cb.EarlyStopping(**kwargs)


# ------------------------------------------------------------------------------ checkpoints
def test_model_checkpoint_every_n_epochs_and_keep_last(tmp_path):
    X, y = data()
    pattern = str(tmp_path / "ckpt" / "model-{epoch:03d}.enet")
    check = cb.ModelCheckpoint(pattern, every_n_epochs=2, keep_last=2)
    model = classifier()
    model.fit(X, y, epochs=7, verbose=0, callbacks=[check])
    names = sorted(os.listdir(tmp_path / "ckpt"))
    assert names == ["model-004.enet", "model-006.enet"]  # 2 was pruned, 7 is not a multiple of 2
    assert check.saved == [pattern.format(epoch=4), pattern.format(epoch=6)]
    restored = en.load(tmp_path / "ckpt" / "model-006.enet")
    assert restored.epoch == 6
    model.fit(X, y, epochs=1, verbose=0)
    assert not any(".tmp" in name for name in os.listdir(tmp_path / "ckpt"))


def test_model_checkpoint_keeps_all_by_default_and_formats_logs(tmp_path):
    X, y = data()
    check = cb.ModelCheckpoint(tmp_path / "m-{epoch}-{loss:.1f}.enet")
    classifier().fit(X, y, epochs=3, verbose=0, callbacks=[scripted("loss", [0.5, 0.25, 0.125]), check])
    assert sorted(os.listdir(tmp_path)) == ["m-1-0.5.enet", "m-2-0.2.enet", "m-3-0.1.enet"]
    with pytest.raises(ValueError, match="cannot format"):
        classifier().fit(X, y, epochs=1, verbose=0, callbacks=[cb.ModelCheckpoint(tmp_path / "{val_loss}.enet")])


def test_model_checkpoint_save_best_only(tmp_path):
    X, y = data()
    path = tmp_path / "best.enet"
    snapshots = {}
    model = classifier()
    record = cb.LambdaCallback(on_epoch_end=lambda epoch, logs: snapshots.__setitem__(epoch, model.params()))
    check = cb.ModelCheckpoint(path, save_best_only=True, monitor="val_loss")
    model.fit(X, y, epochs=5, verbose=0, validation_data=(X, y),
              callbacks=[record, scripted("val_loss", [3, 2, 2.5, 1, 1.5]), check])
    best = en.load(path)
    assert best.epoch == 4
    np.testing.assert_array_equal(best.params(), snapshots[4])
    assert os.listdir(tmp_path) == ["best.enet"]


# ------------------------------------------------------------------------------ logging, CSV, lambda
def test_logging_callback_records(caplog):
    X, y = data()
    model = classifier()
    with caplog.at_level(logging.INFO, logger="eigennet"):
        model.fit(X, y, epochs=4, batch_size=10, verbose=0, validation_data=(X, y),
                  callbacks=[cb.LoggingCallback(every_n_epochs=2)])
    records = [r for r in caplog.records if r.name == "eigennet"]
    assert [r.levelno for r in records] == [logging.INFO, logging.INFO]
    assert records[0].getMessage().startswith("epoch 2 (iteration 8): loss ")
    assert "val_loss" in records[1].getMessage() and records[1].getMessage().startswith("epoch 4 (iteration 16)")

    custom = logging.getLogger("my.training")
    with caplog.at_level(logging.DEBUG, logger="my.training"):
        model.fit(X, y, epochs=1, verbose=0, callbacks=[cb.LoggingCallback(logger=custom, level=logging.DEBUG)])
    assert [(r.name, r.levelno) for r in caplog.records if r.name == "my.training"] == [("my.training", logging.DEBUG)]


def test_csv_logger(tmp_path):
    X, y = data()
    path = tmp_path / "log.csv"
    model = classifier()
    history = model.fit(X, y, epochs=3, verbose=0, validation_data=(X, y), callbacks=[cb.CSVLogger(path)])
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["epoch", "loss", "val_loss", "val_accuracy"]
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    assert [float(r["val_loss"]) for r in rows] == history.history["val_loss"]  # full precision
    # append adds rows under the existing header; without append the file starts over
    model.fit(X, y, epochs=2, verbose=0, validation_data=(X, y), callbacks=[cb.CSVLogger(path, append=True)])
    with open(path, newline="") as f:
        assert [int(r["epoch"]) for r in csv.DictReader(f)] == [1, 2, 3, 4, 5]
    model.fit(X, y, epochs=1, verbose=0, callbacks=[cb.CSVLogger(path, separator=";")])
    assert path.read_text().splitlines() == ["epoch;loss", f"6;{model_loss_repr(path)}"]


def model_loss_repr(path):
    return path.read_text().splitlines()[1].split(";")[1]


def test_lambda_callback_can_change_logs_for_later_callbacks_only():
    X, y = data()
    seen = []
    inject = cb.LambdaCallback(on_epoch_end=lambda epoch, logs: logs.update(custom=epoch * 2.0))
    read = cb.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(logs["custom"]))
    history = classifier().fit(X, y, epochs=2, verbose=0, callbacks=[inject, read])
    assert seen == [2.0, 4.0] and "custom" not in history.history


# ------------------------------------------------------------------------------ NaN handling
def test_nan_loss_raises_by_default_and_callbacks_hear_about_it(caplog):
    model, X, y = diverging()
    heard = []
    with caplog.at_level(logging.ERROR, logger="eigennet"):
        with pytest.raises(FloatingPointError, match="the training loss became .* in epoch"):
            model.fit(X, y, epochs=50, batch_size=64, verbose=0,
                      callbacks=[cb.LambdaCallback(on_nan=lambda e, logs: heard.append((e, logs["loss"]))),
                                 cb.LoggingCallback()])
    assert len(heard) == 1 and not np.isfinite(heard[0][1])
    assert any("the training loss is" in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)


def test_terminate_on_nan_stops_gracefully_and_early_stopping_restores(caplog):
    model, X, y = diverging()
    snapshots = {}
    record = cb.LambdaCallback(on_epoch_end=lambda epoch, logs: snapshots.__setitem__(epoch, model.params()))
    stop = cb.EarlyStopping(monitor="loss", patience=100)
    terminate = cb.TerminateOnNaN()
    ended = []
    with caplog.at_level(logging.WARNING, logger="eigennet"):
        history = model.fit(X, y, epochs=50, batch_size=64, verbose=0,
                            callbacks=[record, stop, terminate, cb.LambdaCallback(on_train_end=ended.append)])
    nan_epoch = terminate.nan_epoch
    assert nan_epoch is not None and history.epoch[-1] == nan_epoch and 3 < len(history.epoch) < 50
    assert not np.isfinite(history.history["loss"][-1])  # recorded, not hidden
    assert ended == [{}]
    assert any("training stopped" in r.getMessage() for r in caplog.records)
    np.testing.assert_array_equal(model.params(), snapshots[stop.best_epoch])
    assert np.isfinite(model.predict(X)).all()


# ------------------------------------------------------------------------------ progress display
def test_verbose_zero_is_silent_even_in_a_terminal(capsys, monkeypatch):
    monkeypatch.setattr(cb, "_stream_is_terminal", lambda stream: True)
    X, y = data()
    classifier().fit(X, y, epochs=3, verbose=0, validation_data=(X, y))
    assert capsys.readouterr() == ("", "")


def test_verbose_one_shows_a_bar_in_a_terminal(capsys, monkeypatch):
    monkeypatch.setattr(cb, "_stream_is_terminal", lambda stream: True)
    X, y = data()
    classifier().fit(X, y, epochs=3, verbose=1, validation_data=(X, y))
    out, err = capsys.readouterr()
    assert out == ""
    final = err.replace("\r", "\n").strip().splitlines()[-1]
    assert final.startswith("epoch 3/3") and "3/3" in final
    assert "loss" in final and "val_loss" in final and "val_accuracy" in final and "samples/s" in final


def test_verbose_one_without_terminal_and_verbose_two_print_lines(capsys, monkeypatch):
    X, y = data()
    model = classifier()
    model.fit(X, y, epochs=2, verbose=1)
    out, err = capsys.readouterr()
    assert err == "" and [line.split(" - ")[0] for line in out.splitlines()] == ["epoch 1/2", "epoch 2/2"]
    monkeypatch.setattr(cb, "_stream_is_terminal", lambda stream: True)
    model.fit(X, y, epochs=2, verbose=2)
    out, err = capsys.readouterr()
    assert err == "" and [line.split(" - ")[0] for line in out.splitlines()] == ["epoch 3/4", "epoch 4/4"]
    assert out.splitlines()[0].endswith("samples/s")


def test_explicit_progress_bar_forces_the_bar():
    X, y = data()
    stream = io.StringIO()
    model = classifier()
    model.fit(X, y, epochs=2, verbose=0, callbacks=[cb.ProgressBar(file=stream)])
    text = stream.getvalue()
    assert "epoch 2/2" in text and "samples/s" in text
    # a bar stopped early still closes cleanly
    stream = io.StringIO()
    stopper = cb.LambdaCallback(on_epoch_end=lambda e, logs: setattr(model, "stop_training", True))
    model.fit(X, y, epochs=5, verbose=0, callbacks=[cb.ProgressBar(file=stream), stopper])
    assert "epoch 3/7" in stream.getvalue() and "1/5" in stream.getvalue()


def test_progress_bar_closed_when_fit_raises():
    model, X, y = diverging()
    bar = cb.ProgressBar(file=io.StringIO())
    with pytest.raises(FloatingPointError):
        model.fit(X, y, epochs=50, batch_size=64, verbose=0, callbacks=[bar])
    assert bar.bar is None


# ------------------------------------------------------------------------------ TensorBoard
def read_events(directory):
    """Scalars (tag, step, value) from the TFRecord event files tensorboardX wrote."""
    from tensorboardX.proto import event_pb2

    scalars = []
    for name in sorted(os.listdir(directory)):
        with open(os.path.join(directory, name), "rb") as f:
            blob = f.read()
        offset = 0
        while offset < len(blob):
            (length,) = struct.unpack("<Q", blob[offset:offset + 8])
            event = event_pb2.Event.FromString(blob[offset + 12:offset + 12 + length])
            offset += 12 + length + 4
            for value in event.summary.value:
                scalars.append((value.tag, event.step, value.simple_value))
    return scalars


def test_tensorboard_event_files(tmp_path):
    pytest.importorskip("tensorboardX", reason="tensorboardX is in the test extra; pip install tensorboardX")
    X, y = data()
    history = classifier().fit(X, y, epochs=3, verbose=0, validation_data=(X, y),
                               callbacks=[cb.TensorBoard(tmp_path / "sgd")])
    scalars = read_events(tmp_path / "sgd")
    val_loss = [(step, value) for tag, step, value in scalars if tag == "epoch/val_loss"]
    assert [s for s, _ in val_loss] == [1, 2, 3]
    np.testing.assert_allclose([v for _, v in val_loss], history.history["val_loss"], rtol=1e-6)

    history = classifier().fit(X, y, epochs=2, algorithm="lbfgs", max_iterations=4, verbose=0,
                               callbacks=[cb.TensorBoard(tmp_path / "lbfgs")])
    steps = [s for tag, s, _ in read_events(tmp_path / "lbfgs") if tag == "iteration/loss"]
    assert steps == list(range(1, len(history.iterations) + 1))


# ---------------------------------------------------------------- per-iteration callbacks (SGD)


def _iteration_problem(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(200, 5))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    return X, y


def _iteration_model():
    return en.Sequential([en.Dense(8, activation="tanh"), en.Output(2)], seed=3, dtype="float64",
                         updater=en.SGD(learning_rate=0.1))


def test_iteration_history_records_every_nth_step_and_training_is_unchanged():
    X, y = _iteration_problem()
    plain = _iteration_model()
    plain.fit(X, y, epochs=2, batch_size=20, verbose=0)
    watched = _iteration_model()
    every = watched.fit(X, y, epochs=2, batch_size=20, verbose=0, callbacks=[cb.IterationHistory(1)])
    np.testing.assert_array_equal(watched.params(), plain.params())
    assert [s["iteration"] for s in every.iterations] == list(range(1, 21))
    assert [s["epoch"] for s in every.iterations] == [1] * 10 + [2] * 10
    # Equal batches: the epoch loss is the mean of its steps' scores.
    first = np.mean([s["loss"] for s in every.iterations[:10]])
    assert first == pytest.approx(every.history["loss"][0], rel=1e-12)
    sparse = _iteration_model().fit(X, y, epochs=2, batch_size=20, verbose=0, callbacks=[cb.IterationHistory(5)])
    assert [s["iteration"] for s in sparse.iterations] == [5, 10, 15, 20]


def test_checkpoint_every_n_iterations(tmp_path):
    X, y = _iteration_problem()
    model = _iteration_model()
    checkpoint = cb.ModelCheckpoint(tmp_path / "ckpt-{iteration:03d}.enet", every_n_iterations=4, keep_last=2)
    model.fit(X, y, epochs=2, batch_size=20, verbose=0, callbacks=[checkpoint])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt-016.enet", "ckpt-020.enet"]
    assert en.load(tmp_path / "ckpt-016.enet").iteration == 16
    with pytest.raises(ValueError, match="save_best_only"):
        cb.ModelCheckpoint(tmp_path / "x.enet", every_n_iterations=2, save_best_only=True)


def test_a_callback_can_stop_in_the_middle_of_an_epoch():
    X, y = _iteration_problem()
    model = _iteration_model()

    def stop_at_three(iteration, logs):
        if iteration >= 3:
            model.stop_training = True

    history = model.fit(X, y, epochs=5, batch_size=20, verbose=0,
                        callbacks=[cb.LambdaCallback(on_iteration_end=stop_at_three)])
    assert model.iteration == 3
    assert len(history.epoch) == 1


def test_an_exception_in_an_iteration_hook_propagates_and_the_model_stays_usable():
    X, y = _iteration_problem()
    model = _iteration_model()

    def fail(iteration, logs):
        raise RuntimeError(f"hook failed at {iteration}")

    with pytest.raises(RuntimeError, match="hook failed at 2"):
        model.fit(X, y, epochs=1, batch_size=20, verbose=0,
                  callbacks=[cb.LambdaCallback(on_iteration_end=fail, every_n_iterations=2)])
    assert model.iteration == 2
    model.fit(X, y, epochs=1, batch_size=20, verbose=0)
    assert model.iteration == 12
