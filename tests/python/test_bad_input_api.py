"""Bad input across the public API beyond fit/predict (see test_bad_input.py): constructors, training
options, callbacks, persistence, evaluation, data helpers and the scikit-learn wrappers. Each row is
(id, call, exception type, message pattern naming the argument); where a model exists, a failing call
leaves it unchanged (parameters, updater state, counters, threshold, normalizer)."""

import logging
import time

import numpy as np
import pytest

import eigennet as en
from eigennet import callbacks as cb
from eigennet import data
from eigennet import evaluation as ev
from eigennet import schedules

N, D, K = 40, 6, 10


def sample_data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(N, D)), np.arange(N) % K


# ---------------------------------------------------------------------------------------------- constructors
CONSTRUCTOR_CASES = [
    # layers
    ("dense_units_huge", lambda: en.Dense(10**12), ValueError, r"units must be between 1 and 2\*\*31"),
    ("dense_bias_init_text", lambda: en.Dense(3, bias_init="x"), TypeError, "bias_init must be a number"),
    ("dense_bias_init_nan", lambda: en.Dense(3, bias_init=float("nan")), ValueError, "bias_init must be finite"),
    ("dense_has_bias_int", lambda: en.Dense(3, has_bias=1), TypeError, "has_bias must be True or False"),
    ("dense_dropout_one", lambda: en.Dense(3, dropout=1.0), ValueError, r"dropout must be in \[0, 1\)"),
    ("dense_weight_dropout_negative", lambda: en.Dense(3, weight_dropout=-0.1), ValueError, "weight_dropout"),
    ("dense_weight_init_type", lambda: en.Dense(3, weight_init=3), TypeError, "weight_init must be a name"),
    ("output_loss_typo", lambda: en.Output(3, loss="msee"), ValueError, r'unknown loss "msee"; did you mean "MSE"'),
    ("activation_layer_typo", lambda: en.ActivationLayer("tanhh"), ValueError,
     r'unknown activation "tanhh"; did you mean "TANH"'),
    ("loss_layer_typo", lambda: en.LossLayer(loss="mcxnet"), ValueError, r'did you mean "MCXENT"'),
    ("batchnorm_decay", lambda: en.BatchNormalization(decay=2), ValueError, r"decay must be in \[0, 1\]"),
    ("batchnorm_eps_zero", lambda: en.BatchNormalization(eps=0), ValueError, "eps must be > 0"),
    ("batchnorm_gamma_nan", lambda: en.BatchNormalization(gamma=float("nan")), ValueError, "gamma must be finite"),
    ("batchnorm_lock_int", lambda: en.BatchNormalization(lock_gamma_beta=1), TypeError, "lock_gamma_beta"),
    ("dropout_rate_one", lambda: en.Dropout(1), ValueError, r"Dropout: rate must be in \[0, 1\)"),
    ("dropout_rate_text", lambda: en.Dropout("0.5"), TypeError, "rate must be a number"),
    ("gaussian_dropout_negative", lambda: en.GaussianDropout(-0.1), ValueError, "GaussianDropout: rate"),
    ("alpha_dropout_nan", lambda: en.AlphaDropout(float("nan")), ValueError, "AlphaDropout: rate"),
    ("gaussian_noise_negative", lambda: en.GaussianNoise(-1), ValueError, "stddev must be >= 0"),
    ("autoencoder_units", lambda: en.AutoEncoder(0), ValueError, "AutoEncoder: units"),
    ("autoencoder_corruption", lambda: en.AutoEncoder(3, corruption_level=1.5), ValueError, "corruption_level"),
    ("autoencoder_loss", lambda: en.AutoEncoder(3, loss="mae"), ValueError, "loss must be one of"),
    ("autoencoder_tied_int", lambda: en.AutoEncoder(3, tied=1), TypeError, "tied must be True or False"),
    ("autoencoder_sparsity", lambda: en.AutoEncoder(3, sparsity=2, sparsity_weight=1), ValueError, "sparsity"),
    ("rbm_visible_typo", lambda: en.RBM(3, visible="gausian"), ValueError, "visible must be one of"),
    ("rbm_k_zero", lambda: en.RBM(3, k=0), ValueError, r"k \(the number of contrastive divergence steps\)"),
    ("vae_encoder_zero", lambda: en.VariationalAutoencoder(3, encoder_layer_sizes=(0,)), ValueError,
     "encoder_layer_sizes"),
    ("vae_decoder_text", lambda: en.VariationalAutoencoder(3, decoder_layer_sizes="ab"), TypeError,
     "decoder_layer_sizes must be a sequence"),
    ("vae_reconstruction_typo", lambda: en.VariationalAutoencoder(3, reconstruction="bernouli"), ValueError,
     "reconstruction must be one of"),
    ("vae_num_samples_zero", lambda: en.VariationalAutoencoder(3, num_samples=0), ValueError, "num_samples"),
    # activations and initializers with parameters
    ("leaky_relu_text", lambda: en.LeakyReLU("x"), TypeError, "LeakyReLU: alpha must be a number"),
    ("elu_nan", lambda: en.ELU(float("nan")), ValueError, "ELU: alpha must be finite"),
    ("rrelu_reversed", lambda: en.RReLU(0.5, 0.1), ValueError, "RReLU: needs lower <= upper"),
    ("thresholded_relu_inf", lambda: en.ThresholdedReLU(float("inf")), ValueError, "theta must be finite"),
    ("normal_negative_std", lambda: en.Normal(std=-1), ValueError, "Normal: std must be >= 0"),
    ("uniform_reversed", lambda: en.Uniform(1, 0), ValueError, "Uniform: needs lower <= upper"),
    ("constant_text", lambda: en.Constant("a"), TypeError, "Constant: value must be a number"),
    # updaters and schedules
    ("adam_negative_rate", lambda: en.Adam(learning_rate=-1), ValueError, "learning_rate=-1 is out of range"),
    ("adam_beta1", lambda: en.Adam(beta1=1.5), ValueError, "beta1=1.5 is out of range"),
    ("sgd_nan_rate", lambda: en.SGD(learning_rate=float("nan")), ValueError, "learning_rate must be finite"),
    ("sgd_text_rate", lambda: en.SGD(learning_rate="fast"), TypeError, "learning_rate must be a number"),
    ("adam_misspelt", lambda: en.Adam(lr=0.1), TypeError, r"unexpected hyperparameter\(s\) \['lr'\]"),
    ("nesterovs_momentum", lambda: en.Nesterovs(momentum=-0.1), ValueError, "momentum=-0.1 is out of range"),
    ("rmsprop_decay", lambda: en.RMSProp(rms_decay=2), ValueError, "rms_decay=2"),
    ("noop_rate", lambda: en.NoOp(learning_rate=0.1), TypeError, "it has no learning rate"),
    ("exponential_gamma", lambda: schedules.Exponential(0.1, gamma=-1), ValueError, "gamma=-1 is out of range"),
    ("step_zero", lambda: schedules.Step(0.1, 0.5, step=0), ValueError, "step=0 is out of range"),
    ("poly_max_iter", lambda: schedules.Poly(0.1, 1, max_iter=0), ValueError, "max_iter=0"),
    ("sigmoid_step_size", lambda: schedules.Sigmoid(0.1, 1, step_size=-1), ValueError, "step_size=-1"),
    ("inverse_gamma", lambda: schedules.Inverse(0.1, gamma=-1, power=1), ValueError, "gamma=-1"),
    ("map_without_zero", lambda: schedules.Map({5: 0.1}), ValueError, "values needs a key 0"),
    ("map_negative_key", lambda: schedules.Map({0: 0.1, -1: 0.2}), ValueError, "values key"),
    ("map_list", lambda: schedules.Map([0.1]), TypeError, "values must be a dict"),
    ("cosine_warmup_after_total", lambda: schedules.CosineWarmup(0.1, warmup=10, total=5), ValueError,
     "warmup=10 must not exceed total=5"),
    ("fixed_nan", lambda: schedules.Fixed(float("nan")), ValueError, "value must be finite"),
    ("schedule_type_typo", lambda: schedules.Fixed(0.1, schedule_type="epochs"), ValueError,
     r'schedule_type "epochs".*did you mean "epoch"'),
    ("schedule_name_typo", lambda: schedules.from_config({"name": "exponentail", "initial_value": 1, "gamma": 0.5}),
     ValueError, r'unknown schedule "exponentail"; did you mean "EXPONENTIAL"'),
    ("value_at_negative", lambda: schedules.Fixed(0.1).value_at(-1), ValueError, "iteration must be >= 0"),
    # Sequential
    ("sequential_layers_none", lambda: en.Sequential(None), TypeError, "layers must be a list of eigennet layers"),
    ("sequential_single_layer", lambda: en.Sequential(en.Output(2)), TypeError, "layers must be a list"),
    ("sequential_gradient_normalization_typo",
     lambda: en.Sequential([en.Output(2)], gradient_normalization="clip_l2_per_layr"), ValueError,
     r'unknown gradient_normalization "clip_l2_per_layr"; did you mean'),
    ("sequential_gradient_normalization_threshold",
     lambda: en.Sequential([en.Output(2)], gradient_normalization="clip_l2_per_layer",
                           gradient_normalization_threshold=-1), ValueError, "gradient_normalization_threshold"),
    ("sequential_normalizer_typo", lambda: en.Sequential([en.Output(2)], normalizer="standardise"), ValueError,
     'unknown normalizer "standardise"'),
    ("sequential_normalizer_type", lambda: en.Sequential([en.Output(2)], normalizer=3), TypeError,
     "normalizer must be None"),
    ("sequential_seed_huge", lambda: en.Sequential([en.Output(2)], seed=2**60), ValueError, "seed must be"),
    ("sequential_updater_dict_typo", lambda: en.Sequential([en.Output(2)], updater={"name": "adma"}), ValueError,
     r'unknown updater "adma"; did you mean "ADAM"'),
    # Absurd sizes fail on the size check, before anything is allocated.
    ("dense_of_2_31_units_on_10_6_inputs", lambda: en.Sequential([en.Dense(2**31), en.Output(2)], input_dim=10**6),
     ValueError, r"1000000 x 2147483648 weights is more than this library allows"),
    ("dense_of_2_20_units_on_2_20_inputs", lambda: en.Sequential([en.Dense(2**20), en.Output(2)], input_dim=2**20),
     ValueError, "weights is more than this library allows"),
    ("input_dim_huge", lambda: en.Sequential([en.Output(2)], input_dim=2**40), ValueError,
     "input_dim must be a positive integer"),
    # callbacks
    ("early_stopping_monitor_int", lambda: cb.EarlyStopping(monitor=5), TypeError, "monitor must be a metric name"),
    ("early_stopping_patience", lambda: cb.EarlyStopping(patience=-1), ValueError, "patience must be an integer >= 0"),
    ("early_stopping_mode", lambda: cb.EarlyStopping(mode="maximum"), ValueError, 'mode must be "auto", "min"'),
    ("early_stopping_min_delta", lambda: cb.EarlyStopping(min_delta=-1), ValueError, "min_delta must be"),
    ("early_stopping_max_epochs", lambda: cb.EarlyStopping(max_epochs=0), ValueError, "max_epochs must be"),
    ("early_stopping_max_time", lambda: cb.EarlyStopping(max_time_seconds=0), ValueError, "max_time_seconds"),
    ("early_stopping_restore_int", lambda: cb.EarlyStopping(restore_best_weights=1), TypeError,
     "restore_best_weights must be True or False"),
    ("early_stopping_save_best_to", lambda: cb.EarlyStopping(save_best_to=5), TypeError,
     "save_best_to must be a file path"),
    ("checkpoint_every_n_epochs", lambda: cb.ModelCheckpoint("m.enet", every_n_epochs=0), ValueError,
     "every_n_epochs must be an integer >= 1"),
    ("checkpoint_every_n_iterations", lambda: cb.ModelCheckpoint("m.enet", every_n_iterations=-2), ValueError,
     "every_n_iterations"),
    ("checkpoint_keep_last", lambda: cb.ModelCheckpoint("m.enet", keep_last=0), ValueError, "keep_last"),
    ("checkpoint_best_with_iterations",
     lambda: cb.ModelCheckpoint("m.enet", every_n_iterations=5, save_best_only=True), ValueError, "save_best_only"),
    ("checkpoint_filepath_int", lambda: cb.ModelCheckpoint(5), TypeError, "filepath must be a file path"),
    ("csv_logger_path_none", lambda: cb.CSVLogger(None), TypeError, "path must be a file path"),
    ("csv_logger_separator", lambda: cb.CSVLogger("log.csv", separator=""), ValueError,
     "separator must be a single character"),
    ("csv_logger_append_text", lambda: cb.CSVLogger("log.csv", append="yes"), TypeError, "append must be True"),
    ("logging_every_n_epochs", lambda: cb.LoggingCallback(every_n_epochs=0), ValueError, "every_n_epochs"),
    ("logging_logger_int", lambda: cb.LoggingCallback(logger=5), TypeError, "logger must be a logging.Logger"),
    ("logging_level_text", lambda: cb.LoggingCallback(level="loud"), TypeError, "level must be a logging level"),
    ("iteration_history_zero", lambda: cb.IterationHistory(0), ValueError, "every_n_iterations"),
    ("lambda_hook_not_callable", lambda: cb.LambdaCallback(on_epoch_end=5), TypeError,
     "on_epoch_end must be callable"),
    ("lambda_every_n_iterations_zero", lambda: cb.LambdaCallback(on_iteration_end=print, every_n_iterations=0),
     ValueError, "every_n_iterations must be an integer >= 1"),
    ("progress_bar_file", lambda: cb.ProgressBar(file=5), TypeError, "file must be a writable text stream"),
    ("progress_bar_notebook", lambda: cb.ProgressBar(notebook="yes"), TypeError, "notebook must be"),
    # evaluation
    ("classification_lengths", lambda: ev.ClassificationEvaluation([0, 1, 2], [0, 1]), ValueError,
     "y_true has 3 samples but y_pred has 2"),
    ("classification_nan", lambda: ev.ClassificationEvaluation([0, 1, np.nan], [0, 1, 1]), ValueError,
     "y_true contains NaN"),
    ("classification_empty", lambda: ev.ClassificationEvaluation([], []), ValueError, "y_true is empty"),
    ("classification_unknown_label", lambda: ev.ClassificationEvaluation([0, 1, 2], [0, 1, 5], labels=[0, 1, 2]),
     ValueError, "y_pred contains class .*5.*which is not in labels"),
    ("classification_average_typo", lambda: ev.ClassificationEvaluation([0, 1, 1], [0, 1, 0]).precision("macroo"),
     ValueError, "average must be None, 'macro'"),
    ("classification_top_k_zero", lambda: ev.ClassificationEvaluation([0, 1, 1], [0, 1, 0]).top_k_accuracy(0),
     ValueError, "k must be a positive integer"),
    ("binary_labels_not_01", lambda: ev.BinaryEvaluation([0, 1, 2], [0.1, 0.2, 0.3]), ValueError,
     "y_true must hold only 0 and 1"),
    ("binary_proba_above_one", lambda: ev.BinaryEvaluation([0, 1, 1], [0.1, 0.2, 1.3]), ValueError,
     r"proba must hold probabilities in \[0, 1\]"),
    ("binary_proba_nan", lambda: ev.BinaryEvaluation([0, 1, 1], [0.1, 0.2, np.nan]), ValueError,
     "proba contains NaN"),
    ("binary_threshold_one", lambda: ev.BinaryEvaluation([0, 1, 1], [0.1, 0.2, 0.3], threshold=1), ValueError,
     "threshold must be strictly between 0 and 1"),
    ("binary_target_fpr", lambda: ev.BinaryEvaluation([0, 1, 1], [0.1, 0.2, 0.3]).threshold_for_fpr(2), ValueError,
     r"target must be in \[0, 1\]"),
    ("binary_negative_cost", lambda: ev.BinaryEvaluation([0, 1, 1], [0.1, 0.2, 0.3]).threshold_for_cost(-1, 1),
     ValueError, "cost_fp must be a finite number >= 0"),
    ("binary_single_class_auc", lambda: ev.BinaryEvaluation([1, 1, 1], [0.1, 0.2, 0.3]).auc(), ValueError,
     "needs both classes in y_true"),
    ("regression_lengths", lambda: ev.RegressionEvaluation([1, 2, 3], [1, 2]), ValueError,
     "y_true has 3 samples but y_pred has 2"),
    ("regression_nan", lambda: ev.RegressionEvaluation([1, 2, np.nan], [1, 2, 3]), ValueError, "y_true contains NaN"),
    ("calibration_bins", lambda: ev.calibration([0, 1], [0.1, 0.9], n_bins=0), ValueError, "n_bins must be"),
    ("calibration_strategy", lambda: ev.calibration([0, 1], [0.1, 0.9], strategy="unifrom"), ValueError,
     'strategy must be "uniform" or "quantile"'),
    # data helpers
    ("standardize_one_dimensional", lambda: data.Standardize().fit(np.zeros(3)), ValueError, "X must be 2-D"),
    ("standardize_nan", lambda: data.Standardize().fit(np.array([[np.nan]])), ValueError, "X contains NaN"),
    ("standardize_no_samples", lambda: data.Standardize().fit(np.zeros((0, 3))), ValueError, "zero samples"),
    ("standardize_strings", lambda: data.Standardize().fit(np.array([["a"]])), TypeError, "X must hold real numbers"),
    ("standardize_unfitted", lambda: data.Standardize().transform(np.zeros((2, 2))), RuntimeError, "not fitted"),
    ("standardize_width", lambda: data.Standardize().fit(np.ones((3, 2))).transform(np.zeros((2, 3))), ValueError,
     "X has 3 features, but the normalizer was fitted on 2"),
    ("standardize_inverse_width", lambda: data.Standardize().fit(np.ones((3, 2))).inverse_transform(np.zeros((2, 3))),
     ValueError, r"X has shape \(2, 3\), but the normalizer was fitted on 2 features"),
    ("minmax_reversed", lambda: data.MinMax((1, 0)), ValueError, "feature_range must be two finite numbers"),
    ("minmax_text", lambda: data.MinMax("ab"), ValueError, "feature_range"),
    ("minmax_three", lambda: data.MinMax((0, 1, 2)), ValueError, "feature_range"),
    ("minmax_int", lambda: data.MinMax(5), ValueError, "feature_range"),
    ("train_test_split_size", lambda: en.train_test_split(*sample_data(), test_size=1.5), ValueError,
     r"test_size must be in \(0, 1\)"),
    ("train_test_split_lengths", lambda: en.train_test_split(sample_data()[0], [0, 1]), ValueError,
     "X has 40 samples but y has 2"),
    ("train_test_split_size_text", lambda: en.train_test_split(*sample_data(), test_size="a"), TypeError,
     "test_size must be a number"),
    ("train_test_split_negative_seed", lambda: en.train_test_split(*sample_data(), seed=-1), ValueError,
     r"seed must be None or an integer >= 0, got -1"),
    ("train_test_split_text_seed", lambda: en.train_test_split(*sample_data(), seed="a"), ValueError,
     "seed must be None or an integer"),
    # transfer learning
    ("transfer_not_a_model", lambda: en.TransferLearning("model"), TypeError, "needs a Sequential model"),
    ("transfer_unbuilt", lambda: en.TransferLearning(en.Sequential([en.Output(2)])), ValueError, "needs a built"),
    ("transfer_freeze_too_many", lambda: en.TransferLearning(small_model()).freeze_first(5), en.LayerIndexError,
     r"k must be an integer in \[0, 2\]"),
    ("transfer_feature_extractor", lambda: en.TransferLearning(small_model()).set_feature_extractor(5),
     en.LayerIndexError, "layer index 5 out of range"),
    ("transfer_n_out_zero", lambda: en.TransferLearning(small_model()).n_out_replace(0, 0), ValueError,
     "n_out_replace: units must be between"),
    ("transfer_remove_too_many", lambda: en.TransferLearning(small_model()).remove_layers_from_output(3), ValueError,
     r"n must be an integer in \[1, 2\]"),
    ("transfer_add_non_layer", lambda: en.TransferLearning(small_model()).add_layer("Dense"), TypeError,
     "add_layer takes an eigennet layer"),
    ("transfer_fine_tune_l2", lambda: en.TransferLearning(small_model()).fine_tune(l2=-1).build(), ValueError,
     "l2 must be finite and >= 0"),
    ("transfer_fine_tune_updater", lambda: en.TransferLearning(small_model()).fine_tune(updater="adma"), ValueError,
     'unknown updater "adma"'),
    ("transfer_without_output", lambda: en.TransferLearning(small_model()).remove_output_layer().build(), ValueError,
     "the last layer must carry a loss"),
    # module functions
    ("set_num_threads_zero", lambda: en.set_num_threads(0), ValueError, "set_num_threads needs a positive integer"),
    ("from_bytes_text", lambda: en.from_bytes("abc"), TypeError, "data must be bytes"),
    ("from_bytes_empty", lambda: en.from_bytes(b""), en.FormatError, r"model bytes: not an eigennet model \(0 bytes\)"),
    ("from_bytes_zeros", lambda: en.from_bytes(b"\0" * 100), en.FormatError, "model bytes: header is not valid JSON"),
    ("from_bytes_truncated", lambda: en.from_bytes(small_model().to_bytes()[:50]), en.FormatError,
     "model bytes: header length"),
    ("from_json_broken", lambda: en.Sequential.from_json("{not json"), ValueError,
     "invalid JSON model configuration"),
    ("from_json_empty", lambda: en.Sequential.from_json(""), ValueError, "invalid JSON model configuration"),
    ("from_json_list", lambda: en.Sequential.from_json("[1, 2]"), ValueError,
     "a model configuration must be a mapping"),
    ("from_json_layer_typo", lambda: en.Sequential.from_json('{"layers": [{"type": "Dens"}]}'), ValueError,
     "unknown layer type 'Dens'"),
    ("load_path_int", lambda: en.load(5), TypeError, "path must be a file path"),
]


def small_model():
    return en.Sequential([en.Dense(4), en.Output(2)], input_dim=3, seed=0)


@pytest.mark.parametrize("case", CONSTRUCTOR_CASES, ids=[c[0] for c in CONSTRUCTOR_CASES])
def test_bad_constructor_and_helper_arguments(case):
    _, call, error, pattern = case
    start = time.perf_counter()
    with pytest.raises(error, match=pattern):
        call()
    assert time.perf_counter() - start < 5  # fails fast, never tries to allocate an absurd size


def test_format_error_is_a_value_error():
    assert issubclass(en.FormatError, ValueError)
    assert issubclass(en.LayerIndexError, (IndexError)) and issubclass(en.LayerIndexError, ValueError)


# ---------------------------------------------------------------------------------------------- model calls
def make_model(kind):
    if kind == "classifier":
        model = en.Sequential([en.Dense(8, activation="relu"), en.Output(K, activation="softmax", loss="mcxent")],
                              input_dim=D, updater=en.Adam(learning_rate=0.01), seed=0)
    elif kind == "binary":
        model = en.Sequential([en.Dense(8, activation="relu"), en.Output(1, activation="sigmoid", loss="xent")],
                              input_dim=D, updater=en.Adam(learning_rate=0.01), seed=0)
    elif kind == "regressor":
        model = en.Sequential([en.Dense(8, activation="relu"), en.Output(2, activation="identity", loss="mse")],
                              input_dim=D, updater=en.Adam(learning_rate=0.01), seed=0, normalizer="standardize")
    elif kind == "autoencoder":
        model = en.Sequential([en.AutoEncoder(4), en.Output(K, activation="softmax", loss="mcxent")],
                              input_dim=D, updater=en.Adam(learning_rate=0.01), seed=0)
    X, y = sample_data()
    model.fit(X, training_targets(kind, X, y), epochs=1, batch_size=8, verbose=0)
    return model


def training_targets(kind, X, y):
    if kind == "binary":
        return y % 2
    if kind == "regressor":
        return X[:, :2]
    return y


def snapshot(model):
    normalizer = model.normalizer
    return {
        "params": model.params().copy(),
        "state": {k: v.copy() for k, v in model.updater_state().items()},
        "counters": (model.iteration, model.epoch),
        "threshold": model.threshold,
        "normalizer": None if normalizer is None else (normalizer.shift.copy(), normalizer.scale.copy()),
    }


def assert_unchanged(model, before):
    after = snapshot(model)
    np.testing.assert_array_equal(after["params"], before["params"])
    assert after["state"].keys() == before["state"].keys()
    for key in before["state"]:
        np.testing.assert_array_equal(after["state"][key], before["state"][key])
    assert after["counters"] == before["counters"]
    assert after["threshold"] == before["threshold"]
    if before["normalizer"] is not None:
        for new, old in zip(after["normalizer"], before["normalizer"]):
            np.testing.assert_array_equal(new, old)


class NotACallback:
    def on_epoch_end(self, epoch, logs):
        pass


# Each case: (id, model kind, function of (model, X, y, tmp_path), exception type, message pattern).
MODEL_CASES = [
    # fit options
    ("fit_algorithm_typo", "classifier", lambda m, X, y, t: m.fit(X, y, algorithm="lbgfs", verbose=0), ValueError,
     r'unknown optimization algorithm "lbgfs"; did you mean "LBFGS"'),
    ("fit_algorithm_int", "classifier", lambda m, X, y, t: m.fit(X, y, algorithm=3, verbose=0), TypeError,
     "algorithm must be a name"),
    ("fit_optimizer_option_typo", "classifier",
     lambda m, X, y, t: m.fit(X, y, algorithm="lbfgs", optimizer_options={"lbfgs_memroy": 3}, verbose=0),
     ValueError, r'unknown key "lbfgs_memroy"; did you mean "lbfgs_memory"'),
    ("fit_optimizer_option_range", "classifier",
     lambda m, X, y, t: m.fit(X, y, algorithm="lbfgs", optimizer_options={"lbfgs_memory": -3}, verbose=0),
     ValueError, "lbfgs_memory=-3 must be >= 1"),
    ("fit_optimizer_options_list", "classifier",
     lambda m, X, y, t: m.fit(X, y, algorithm="lbfgs", optimizer_options=[1], verbose=0), TypeError,
     "optimizer_options must be a dict, got list"),
    ("fit_optimizer_options_with_sgd", "classifier",
     lambda m, X, y, t: m.fit(X, y, optimizer_options={"lbfgs_memory": 3}, verbose=0), ValueError,
     "optimizer_options only apply to the full-batch algorithms"),
    ("fit_max_iterations_negative", "classifier",
     lambda m, X, y, t: m.fit(X, y, algorithm="lbfgs", max_iterations=-1, verbose=0), ValueError,
     "max_iterations=-1 must be >= 0"),
    ("fit_tolerance_nan", "classifier",
     lambda m, X, y, t: m.fit(X, y, algorithm="lbfgs", tolerance=float("nan"), verbose=0), ValueError,
     "tolerance must be finite"),
    ("fit_callbacks_int", "classifier", lambda m, X, y, t: m.fit(X, y, callbacks=5, verbose=0), TypeError,
     "callbacks must be a Callback or a list of them, got int"),
    ("fit_callbacks_foreign_object", "classifier",
     lambda m, X, y, t: m.fit(X, y, callbacks=[NotACallback()], verbose=0), TypeError,
     r"callbacks\[0\] is a NotACallback, not an eigennet.callbacks.Callback"),
    ("fit_early_stopping_monitor_typo", "classifier",
     lambda m, X, y, t: m.fit(X, y, validation_data=(X, y), callbacks=[cb.EarlyStopping(monitor="val_los")],
                              verbose=0), ValueError, r"monitors 'val_los', which is not an epoch metric; did you mean \"val_loss\""),
    ("fit_early_stopping_needs_validation", "classifier",
     lambda m, X, y, t: m.fit(X, y, callbacks=[cb.EarlyStopping(monitor="val_accuracy")], verbose=0), ValueError,
     r"monitors 'val_accuracy'.*pass validation_data to fit"),
    ("fit_checkpoint_best_monitor_typo", "classifier",
     lambda m, X, y, t: m.fit(X, y, validation_data=(X, y), verbose=0, callbacks=[
         cb.ModelCheckpoint(str(t / "m.enet"), save_best_only=True, monitor="val_acc")]), ValueError,
     r'monitors \'val_acc\'.*did you mean "val_accuracy"'),
    ("fit_csv_logger_directory_missing", "classifier",
     lambda m, X, y, t: m.fit(X, y, callbacks=[cb.CSVLogger(str(t / "no" / "log.csv"))], verbose=0),
     FileNotFoundError, "log.csv"),
    ("fit_class_weight_typo", "classifier", lambda m, X, y, t: m.fit(X, y, class_weight="balance", verbose=0),
     ValueError, 'class_weight must be None, a dict or "balanced"'),
    ("fit_class_weight_key", "classifier", lambda m, X, y, t: m.fit(X, y, class_weight={10: 1.0}, verbose=0),
     ValueError, r"class_weight key 10 is not a class index 0..9"),
    ("fit_class_weight_negative", "classifier", lambda m, X, y, t: m.fit(X, y, class_weight={1: -1}, verbose=0),
     ValueError, r"class_weight\[1\] must be a finite number >= 0"),
    ("fit_class_weight_list", "classifier", lambda m, X, y, t: m.fit(X, y, class_weight=[1, 2], verbose=0),
     TypeError, "class_weight must be None, a dict"),
    ("fit_class_weight_on_xent", "binary", lambda m, X, y, t: m.fit(X, y % 2, class_weight={0: 2.0}, verbose=0),
     ValueError, "class_weight needs one-hot MCXENT"),
    ("fit_verbose_text", "classifier", lambda m, X, y, t: m.fit(X, y, verbose="yes"), ValueError,
     "verbose must be 0, 1 or 2"),
    ("fit_verbose_negative", "classifier", lambda m, X, y, t: m.fit(X, y, verbose=-1), ValueError,
     "verbose must be 0, 1 or 2"),
    ("fit_shuffle_text", "classifier", lambda m, X, y, t: m.fit(X, y, shuffle="no", verbose=0), TypeError,
     "shuffle must be True or False"),
    ("fit_without_labels", "classifier", lambda m, X, y, t: m.fit(X), TypeError, r"fit\(X, y\) needs labels y"),
    ("fit_float_labels_for_classifier", "classifier", lambda m, X, y, t: m.fit(X, X[:, 0], verbose=0), ValueError,
     "y must hold integer class labels"),
    ("fit_string_labels_for_classifier", "classifier", lambda m, X, y, t: m.fit(X, np.array(["a", "b"])[y % 2],
                                                                               verbose=0), TypeError,
     "y must hold real numbers"),
    ("fit_xent_label_out_of_range", "binary", lambda m, X, y, t: m.fit(X, y, verbose=0), ValueError,
     r"XENT needs y in \[0, 1\]"),
    ("fit_regression_nan", "regressor", lambda m, X, y, t: m.fit(X, np.full((N, 2), np.nan), verbose=0), ValueError,
     "y contains NaN or infinity"),
    ("fit_regression_x_inf", "regressor", lambda m, X, y, t: m.fit(np.full((N, D), np.inf), X[:, :2], verbose=0),
     ValueError, "X contains NaN or infinity"),
    ("fit_zero_features", "classifier", lambda m, X, y, t: m.fit(X[:, :0], y, verbose=0), ValueError,
     r"X has no features \(shape \(40, 0\)\)"),
    # fit_batches
    ("fit_batches_int", "classifier", lambda m, X, y, t: m.fit_batches(5), TypeError,
     "batches must be an iterable of"),
    ("fit_batches_arrays", "classifier", lambda m, X, y, t: m.fit_batches((X, y)), TypeError,
     "to train on arrays use fit"),
    ("fit_batches_empty", "classifier", lambda m, X, y, t: m.fit_batches([], verbose=0), ValueError,
     "the batch source yielded no batches"),
    ("fit_batches_not_pairs", "classifier", lambda m, X, y, t: m.fit_batches([(X,)], verbose=0), ValueError,
     r"batch 0: expected an \(X_batch, y_batch\) pair"),
    ("fit_batches_first_bad_label", "classifier", lambda m, X, y, t: m.fit_batches([(X, y + K)], verbose=0),
     ValueError, "batch 0: y contains label"),
    ("fit_batches_generator_twice", "classifier",
     lambda m, X, y, t: m.fit_batches(iter([(X, y)]), epochs=2, verbose=0), ValueError, "one-shot iterator"),
    ("fit_batches_balanced", "classifier", lambda m, X, y, t: m.fit_batches([(X, y)], class_weight="balanced"),
     ValueError, 'class_weight="balanced" needs the class counts'),
    ("fit_batches_verbose", "classifier", lambda m, X, y, t: m.fit_batches([(X, y)], verbose=7), ValueError,
     "verbose must be 0, 1 or 2"),
    # pretrain and unsupervised queries
    ("pretrain_without_unsupervised_layer", "classifier", lambda m, X, y, t: m.pretrain(X, verbose=0), ValueError,
     "no AutoEncoder, RBM or VariationalAutoencoder layer"),
    ("pretrain_epochs", "autoencoder", lambda m, X, y, t: m.pretrain(X, epochs=-1, verbose=0), ValueError,
     "epochs must be an integer >= 0"),
    ("pretrain_batch_size", "autoencoder", lambda m, X, y, t: m.pretrain(X, batch_size=0, verbose=0), ValueError,
     "batch_size must be an integer >= 1"),
    ("pretrain_shuffle", "autoencoder", lambda m, X, y, t: m.pretrain(X, shuffle=None, verbose=0), TypeError,
     "shuffle must be True or False"),
    ("pretrain_nan", "autoencoder", lambda m, X, y, t: m.pretrain(np.full((N, D), np.nan), verbose=0), ValueError,
     "X contains NaN"),
    ("pretrain_layer_index", "autoencoder", lambda m, X, y, t: m.pretrain(X, layers=[7], verbose=0),
     en.LayerIndexError, "layer index 7 out of range"),
    ("reconstruct_without_unsupervised_layer", "classifier", lambda m, X, y, t: m.reconstruct(X), ValueError,
     "no AutoEncoder"),
    ("reconstruct_width", "autoencoder", lambda m, X, y, t: m.reconstruct(X[:, :2]), ValueError,
     "X has 2 features, but the model expects 6"),
    ("reconstruction_log_probability_samples", "autoencoder",
     lambda m, X, y, t: m.reconstruction_log_probability(X, num_samples=0), ValueError, "num_samples must be"),
    # prediction and evaluation of the wrong kind of model
    ("predict_proba_of_regressor", "regressor", lambda m, X, y, t: m.predict_proba(X), TypeError,
     "predict_proba needs a classifier"),
    ("evaluate_binary_of_multiclass", "classifier", lambda m, X, y, t: m.evaluate_binary(X, y), TypeError,
     "evaluate_binary needs a binary model"),
    ("evaluate_regression_of_classifier", "classifier", lambda m, X, y, t: m.evaluate_regression(X, y), TypeError,
     "evaluate_regression needs a regressor"),
    ("evaluate_classification_of_regressor", "regressor", lambda m, X, y, t: m.evaluate_classification(X, X[:, :2]),
     TypeError, "evaluate_classification needs a multi-class or binary classifier"),
    ("evaluate_classification_bad_label", "classifier",
     lambda m, X, y, t: m.evaluate_classification(X, y + 1), ValueError, "y contains label 10"),
    ("evaluate_binary_label_two", "binary", lambda m, X, y, t: m.evaluate_binary(X, y % 3), ValueError,
     r"XENT needs y in \[0, 1\]"),
    ("evaluate_regression_wrong_columns", "regressor", lambda m, X, y, t: m.evaluate_regression(X, X[:, :3]),
     ValueError, "y has 3 columns but the output layer has 2"),
    ("score_wrong_width", "classifier", lambda m, X, y, t: m.score(X[:, :3], y), ValueError,
     "X has 3 features, but the model expects 6"),
    ("compute_gradients_nan", "classifier", lambda m, X, y, t: m.compute_gradients(np.full((N, D), np.nan), y),
     ValueError, "X contains NaN"),
    ("predict_zero_features", "classifier", lambda m, X, y, t: m.predict(np.zeros((3, 0))), ValueError,
     r"X has no features"),
    ("predict_output_complex", "regressor", lambda m, X, y, t: m.predict_output(X.astype(complex)), TypeError,
     "X must hold real numbers"),
    # parameters, threshold, updater state
    ("threshold_zero", "binary", lambda m, X, y, t: setattr(m, "threshold", 0), ValueError,
     "threshold must be strictly between 0 and 1"),
    ("threshold_nan", "binary", lambda m, X, y, t: setattr(m, "threshold", float("nan")), ValueError,
     "threshold must be strictly between 0 and 1"),
    ("threshold_text", "binary", lambda m, X, y, t: setattr(m, "threshold", "0.5"), TypeError,
     "threshold must be a number"),
    ("set_updater_state_unknown", "classifier", lambda m, X, y, t: m.set_updater_state({"x": np.zeros(3)}),
     ValueError, r"state must have exactly the updater's entries \['m', 'v'\]; unknown \['x'\]"),
    ("set_updater_state_list", "classifier", lambda m, X, y, t: m.set_updater_state([1]), TypeError,
     "state must be a dict"),
    ("set_updater_state_shape", "classifier",
     lambda m, X, y, t: m.set_updater_state({"m": np.zeros(3), "v": np.zeros(3)}), ValueError,
     r"state\['m'\] must have shape \(146,\)"),
    ("set_updater_state_nan", "classifier",
     lambda m, X, y, t: m.set_updater_state({"m": np.zeros(146), "v": np.full(146, np.nan)}), ValueError,
     r"state\['v'\] contains NaN"),
    ("set_param_bool_index", "classifier", lambda m, X, y, t: m.set_param(True, "W", np.zeros((6, 8))), TypeError,
     "layer must be an integer index"),
    ("get_param_lowercase", "classifier", lambda m, X, y, t: m.get_param(0, "w"), ValueError,
     r'layer 0 \(Dense\) has no parameter "w"; it has W, b'),
    ("set_params_object", "classifier", lambda m, X, y, t: m.set_params(np.zeros(146, dtype=object)), TypeError,
     "theta must hold real numbers"),
    # persistence
    ("save_to_directory", "classifier", lambda m, X, y, t: m.save(t), IsADirectoryError,
     "is a directory; give a file name"),
    ("save_missing_directory", "classifier", lambda m, X, y, t: m.save(t / "missing" / "m.enet"), FileNotFoundError,
     "could not create .*the directory .*missing does not exist"),
    ("save_under_a_file", "classifier", lambda m, X, y, t: (t.joinpath("file").write_text("x"),
                                                            m.save(t / "file" / "m.enet")), FileNotFoundError,
     "does not exist"),
    ("save_path_int", "classifier", lambda m, X, y, t: m.save(3), TypeError, "path must be a file path"),
    ("metadata_not_json", "classifier", lambda m, X, y, t: (setattr(m, "metadata", {"f": object()}),
                                                            m.save(t / "m.enet")), TypeError,
     "model.metadata must hold JSON-serializable values"),
    ("load_directory", "classifier", lambda m, X, y, t: en.load(t), FileNotFoundError, "no model file at"),
    ("load_missing", "classifier", lambda m, X, y, t: en.load(t / "none.enet"), FileNotFoundError,
     "no model file at"),
    ("load_garbage", "classifier", lambda m, X, y, t: (t.joinpath("g.enet").write_bytes(b"hello"),
                                                       en.load(t / "g.enet")), en.FormatError,
     r"g.enet: not an eigennet model \(file is 5 bytes\)"),
]


@pytest.mark.parametrize("case", MODEL_CASES, ids=[c[0] for c in MODEL_CASES])
def test_bad_model_calls_raise_and_leave_the_model_unchanged(case, tmp_path):
    _, kind, call, error, pattern = case
    X, y = sample_data()
    model = make_model(kind)
    before = snapshot(model)
    with pytest.raises(error, match=pattern):
        call(model, X, y, tmp_path)
    assert_unchanged(model, before)
    model.fit(X, training_targets(kind, X, y), epochs=1, batch_size=8, verbose=0)  # still usable
    assert model.epoch == 2


@pytest.mark.parametrize("case", [
    ("bad_labels", lambda X, y: (X, y + K), ValueError, "y contains label"),
    ("zero_features", lambda X, y: (X[:, :0], y), ValueError, "X has no features"),
    ("nan_X", lambda X, y: (np.full_like(X, np.nan), y), ValueError, "X contains NaN"),
    ("bad_validation", lambda X, y: (X, y, (X[:, :2], y)), ValueError, "validation X has 2 features"),
], ids=lambda c: c[0])
def test_a_failed_first_fit_leaves_the_model_unbuilt_and_its_normalizer_unfitted(case):
    _, make, error, pattern = case
    X, y = sample_data()
    model = en.Sequential([en.Output(K, activation="softmax", loss="mcxent")], seed=0, normalizer="standardize")
    args = make(X, y)
    kwargs = {"validation_data": args[2]} if len(args) == 3 else {}
    with pytest.raises(error, match=pattern):
        model.fit(args[0], args[1], verbose=0, **kwargs)
    assert not model.built and model.input_dim is None
    assert not model.normalizer.fitted
    model.fit(X[:, :3], y, verbose=0)  # any width works afterwards: nothing of the failed call stuck
    assert model.input_dim == 3


def test_huge_batch_size_is_clamped_to_the_data():
    X, y = sample_data()
    clamped, full = make_model("classifier"), make_model("classifier")
    clamped.fit(X, y, batch_size=10**15, shuffle=False, verbose=0)
    full.fit(X, y, batch_size=N, shuffle=False, verbose=0)
    np.testing.assert_array_equal(clamped.params(), full.params())
    assert clamped.iteration == full.iteration


def test_integer_and_boolean_X_are_accepted_as_numbers():
    X, y = sample_data()
    model = make_model("classifier")
    as_int = np.rint(X).astype(np.int64)
    np.testing.assert_array_equal(model.predict_proba(as_int), model.predict_proba(as_int.astype(np.float64)))
    np.testing.assert_array_equal(model.predict_proba(X > 0), model.predict_proba((X > 0).astype(np.float64)))


def test_a_single_class_is_valid_training_data():
    X, _ = sample_data()
    model = make_model("classifier")
    model.fit(X, np.full(N, 3), epochs=30, verbose=0)
    assert (model.predict(X) == 3).all()
