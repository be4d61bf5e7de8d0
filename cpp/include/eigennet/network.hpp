// A feed-forward network: a stack of layers over one contiguous parameter vector and one
// gradient vector, trained on mini-batches entirely in C++.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "eigennet/json.hpp"
#include "eigennet/layer.hpp"
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
  T fit_epoch(ConstMatMap<T> X, ConstMatMap<T> Y, Index batch_size, bool shuffle,
              const std::function<bool()>& should_stop = {});

  // Checks shapes, finiteness and label ranges of a training set; throws std::invalid_argument.
  void check_data(ConstMatMap<T> X, ConstMatMap<T> Y) const;

 private:
  void reserve(Index max_batch);
  void forward(ConstMatMap<T> X, Mode mode);
  void backward(ConstMatMap<T> X, ConstMatMap<T> Y);
  T regularization_penalty() const;
  void add_regularization_gradient();
  T train_step(ConstMatMap<T> X, ConstMatMap<T> Y);
  ConstMatMap<T> activation_view(std::size_t layer, Index cols) const;

  Json config_;
  Index input_dim_ = 0;
  std::vector<std::unique_ptr<Layer<T>>> layers_;
  std::vector<ParamLocation> locations_;
  Vector<T> params_;
  Vector<T> grads_;
  std::unique_ptr<Updater<T>> updater_;
  double l1_ = 0, l2_ = 0, weight_decay_ = 0;
  bool regularize_bias_ = false;
  std::vector<std::pair<Index, Index>> regularized_;  // (offset, size) ranges
  Rng rng_;
  std::int64_t epoch_ = 0;

  Index reserved_batch_ = 0;
  std::vector<BatchBuffer<T>> activations_;  // output of each layer
  std::vector<BatchBuffer<T>> deltas_;       // dL/d(input) of each layer
  BatchBuffer<T> batch_x_, batch_y_;         // gathered shuffled mini-batch
  std::vector<Index> order_;
  std::atomic<bool> training_{false};
};

}  // namespace eigennet
