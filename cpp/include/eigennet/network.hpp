// A feed-forward network: a stack of layers over one contiguous parameter vector and one
// gradient vector, trained on mini-batches entirely in C++.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "eigennet/json.hpp"
#include "eigennet/gradient_normalization.hpp"
#include "eigennet/layer.hpp"
#include "eigennet/optimize.hpp"
#include "eigennet/rng.hpp"
#include "eigennet/types.hpp"
#include "eigennet/updater.hpp"

namespace eigennet {

template <typename T>
class Network {
 public:
  // config: {"input_dim": n, "layers": [...], "updater": {...}, "l1": 0, "l2": 0,
  //          "weight_decay": 0, "regularize_bias": false, "seed": 0}
  // Builds the layers and initialises the weights from the seed.
  explicit Network(const Json& config);

  Json config() const;
  Index input_dim() const { return input_dim_; }
  Index output_dim() const { return layers_.back()->n_out(); }
  std::size_t num_layers() const { return layers_.size(); }
  const Layer<T>& layer(std::size_t i) const { return *layers_.at(i); }
  Index num_params() const { return params_.size(); }
  // Rows of the label matrix the output layer expects.
  Index label_rows() const;

  VecMap<T> params() { return VecMap<T>(params_.data(), params_.size()); }
  ConstVecMap<T> params() const { return ConstVecMap<T>(params_.data(), params_.size()); }
  ConstVecMap<T> gradients() const { return ConstVecMap<T>(grads_.data(), grads_.size()); }
  const std::vector<ParamLocation>& param_locations() const { return locations_; }
  const ParamLocation& find_param(std::size_t layer, const std::string& name) const;

  Updater<T>& updater() { return *updater_; }
  const Updater<T>& updater() const { return *updater_; }
  void set_updater(const Json& config);  // fresh state
  Rng& rng() { return rng_; }
  std::int64_t epoch() const { return epoch_; }
  void set_epoch(std::int64_t e) { epoch_ = e; }

  // X: input_dim x n (one column per sample). out: output_dim x n. Thread-safe, const.
  void predict(ConstMatMap<T> X, MatMap<T> out) const;

  // Mean loss over the samples plus the regularization penalty (the DL4J score).
  T score(ConstMatMap<T> X, ConstMatMap<T> Y);
  // Per-sample loss (no regularization), length n.
  void score_per_sample(ConstMatMap<T> X, ConstMatMap<T> Y, Eigen::Ref<Vector<T>> out);
  // Gradient of score(X, Y) into gradients(), treating X as one batch; returns the score.
  T compute_gradients(ConstMatMap<T> X, ConstMatMap<T> Y);

  // One pass over the data in mini-batches; returns the mean score of its steps weighted by
  // batch size. `should_stop` is polled about every 100 ms (e.g. to see Ctrl-C); when it
  // returns true training stops after the current step and Interrupted is thrown.
  // `on_step`, if set, runs after every step with the updater's iteration count and the step's
  // score; returning true ends the epoch there (it still counts as an epoch and returns the mean
  // score of the steps taken).
  T fit_epoch(ConstMatMap<T> X, ConstMatMap<T> Y, Index batch_size, bool shuffle,
              const std::function<bool()>& should_stop = {},
              const std::function<bool(std::int64_t, T)>& on_step = {});
  // One training step on exactly this batch (no shuffling, no splitting); returns the step's
  // score. The updater sees the current epoch but epoch() is not advanced: a caller streaming
  // batches ends each pass with set_epoch(epoch() + 1).
  T train_batch(ConstMatMap<T> X, ConstMatMap<T> Y);

  // Checks shapes, finiteness and label ranges of a training set; throws std::invalid_argument.
  void check_data(ConstMatMap<T> X, ConstMatMap<T> Y) const;

  // One epoch of a full-batch optimization algorithm (LBFGS, CONJUGATE_GRADIENT,
  // LINE_GRADIENT_DESCENT, HESSIAN_FREE) on the score: the data is split into mini-batches of
  // batch_size (batch_size >= n: one full batch) and the algorithm runs up to
  // options.max_iterations iterations on each in turn (DL4J's iterations per mini-batch).
  // The objective is evaluated in Mode::Deterministic (no dropout noise; batch normalization uses
  // batch statistics) over chunks of at most `evaluation_chunk` samples, so a large full batch
  // needs no buffers of its size. Returns the result of the last mini-batch's run with
  // `iterations` and `function_evaluations` summed over the epoch and `value` the mean score of
  // the final points weighted by batch size. on_iteration sees every iteration of every batch.
  OptimizerResult optimize_epoch(ConstMatMap<T> X, ConstMatMap<T> Y, Index batch_size, bool shuffle,
                                 const OptimizerOptions& options,
                                 const std::function<bool(const IterationInfo&)>& on_iteration = {},
                                 const std::function<bool()>& should_stop = {});

  // Score of (X, Y) at the current parameters evaluated as the optimizers see it (Deterministic
  // mode, chunked) with its gradient in `grad`. Also serves Gauss-Newton checks in the tests.
  double objective_gradient(ConstMatMap<T> X, ConstMatMap<T> Y, VecMap<T> grad);
  // out = G v: the Gauss-Newton matrix of the score at the current parameters times v, computed
  // exactly by one forward-mode (R-op) and one backward pass per chunk; the L2 penalty
  // contributes l2 v on the regularized parameters (L1 has no curvature). Throws when a layer or
  // the loss/activation pair has no Gauss-Newton form.
  void gauss_newton_product(ConstMatMap<T> X, ConstMatMap<T> Y, ConstVecMap<T> v, VecMap<T> out);
  // Whether Hessian-free can run on this network; otherwise `why` says which part cannot.
  bool supports_gauss_newton(std::string* why) const;

  // Greedy layer-wise unsupervised pretraining of layer k (AutoEncoder, RBM,
  // VariationalAutoencoder): its input is X passed through layers 0..k-1 in inference mode; a
  // fresh updater with the model's updater configuration steps over layer k's parameters only.
  // Returns the mean objective of each epoch.
  std::vector<double> pretrain_layer(std::size_t k, ConstMatMap<T> X, Index epochs, Index batch_size, bool shuffle,
                                     const std::function<bool()>& should_stop = {});
  // The input layer k sees for X (X passed through layers 0..k-1 in inference mode): width x n.
  Matrix<T> layer_input(std::size_t k, ConstMatMap<T> X) const;
  Index layer_param_offset(std::size_t k) const { return layer_offsets_.at(k); }

 private:
  void reserve(Index max_batch);
  void forward(ConstMatMap<T> X, Mode mode);
  void backward(ConstMatMap<T> X, ConstMatMap<T> Y);
  T regularization_penalty() const;
  T train_step(ConstMatMap<T> X, ConstMatMap<T> Y);
  ConstMatMap<T> activation_view(std::size_t layer, Index cols) const;
  void backward_from(std::size_t top, ConstMatMap<T> X, Index cols);
  double objective_gradient_unguarded(ConstMatMap<T> X, ConstMatMap<T> Y, VecMap<T> grad);
  void gauss_newton_product_unguarded(ConstMatMap<T> X, ConstMatMap<T> Y, ConstVecMap<T> v, VecMap<T> out);
  // Adds the L1/L2 gradient of the regularized tensors that start in [from, to) to grad.
  void add_regularization_gradient(VecMap<T> grad, Index from = 0,
                                   Index to = std::numeric_limits<Index>::max()) const;
  template <typename>
  friend class NetworkObjective;
  // Copies the trainable entries of theta into the parameters (state such as running
  // statistics keeps its own value).
  void load_trainable(ConstVecMap<T> theta);
  void reserve_r(Index max_batch);

  Json config_;
  Index input_dim_ = 0;
  std::vector<std::unique_ptr<Layer<T>>> layers_;
  std::vector<ParamLocation> locations_;
  Vector<T> params_;
  Vector<T> grads_;
  std::unique_ptr<Updater<T>> updater_;
  double l1_ = 0, l2_ = 0, weight_decay_ = 0;
  bool regularize_bias_ = false;
  GradientNormalizationConfig gradient_normalization_;
  std::vector<std::pair<Index, Index>> regularized_;  // (offset, size) ranges
  Rng rng_;
  std::int64_t epoch_ = 0;

  Index reserved_batch_ = 0;
  std::vector<BatchBuffer<T>> activations_;  // output of each layer
  std::vector<BatchBuffer<T>> deltas_;       // dL/d(input) of each layer
  std::vector<BatchBuffer<T>> r_outputs_;    // forward-mode derivatives (Gauss-Newton products)
  std::vector<Index> layer_offsets_;          // start of each layer's slice of the flat vectors
  std::vector<std::pair<Index, Index>> state_ranges_;  // (offset, size) of non-trainable entries
  std::size_t backward_floor_ = 0;  // lowest layer with trainable parameters: backward stops there
  BatchBuffer<T> batch_x_, batch_y_;         // gathered shuffled mini-batch
  std::vector<Index> order_;
  std::atomic<bool> training_{false};
};

}  // namespace eigennet
