#include "eigennet/network.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "eigennet/errors.hpp"
#include "eigennet/finite.hpp"
#include "eigennet/threads.hpp"
#include "parallel.hpp"

namespace eigennet {

namespace {

double regularization_field(const Json& config, const char* key) {
  const double v = config.number_or(key, 0.0);
  EIGENNET_REQUIRE(std::isfinite(v) && v >= 0, std::string("network: ") + key + " must be finite and >= 0, got " + std::to_string(v));
  return v;
}

// Marks a fit in progress; a second concurrent fit on the same network is refused.
class TrainingGuard {
 public:
  explicit TrainingGuard(std::atomic<bool>& flag) : flag_(flag) {
    bool expected = false;
    EIGENNET_REQUIRE(flag_.compare_exchange_strong(expected, true),
            "network is already being trained in another thread; concurrent fit on one model is not supported");
  }
  ~TrainingGuard() { flag_.store(false); }

 private:
  std::atomic<bool>& flag_;
};

// Shuffles `order` in place (Fisher-Yates) with draws from rng.
void shuffle_indices(std::vector<Index>& order, Rng& rng) {
  for (std::size_t i = order.size(); i-- > 1;) std::swap(order[i], order[rng.below(static_cast<std::uint64_t>(i + 1))]);
}

// order = 0..n-1, shuffled.
void random_order(std::vector<Index>& order, Index n, Rng& rng) {
  order.resize(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = i;
  shuffle_indices(order, rng);
}

// Columns order[start], ..., order[start + b - 1] of `source`, copied into `buffer` (reserved for
// at least b columns of source's height): the shuffled mini-batch as one contiguous block.
template <typename T>
ConstMatMap<T> gather_columns(ConstMatMap<T> source, const std::vector<Index>& order, Index start, Index b,
                              BatchBuffer<T>& buffer) {
  auto block = buffer.view(b);
  // Reads of scattered columns wait on memory; the workers, idle at the start of a step, share them.
  constexpr Index kColumnsPerItem = 16;
  const int threads = threads_for_elementwise(static_cast<long>(b * source.rows()));
  parallel_for(threads, (b + kColumnsPerItem - 1) / kColumnsPerItem, [&](Index item) {
    const Index end = std::min(b, (item + 1) * kColumnsPerItem);
    for (Index j = item * kColumnsPerItem; j < end; ++j) block.col(j) = source.col(order[static_cast<std::size_t>(start + j)]);
  });
  return as_const(block);
}

// Columns start .. start + b - 1 of M, without a copy.
template <typename T>
ConstMatMap<T> column_block(ConstMatMap<T> M, Index start, Index b) {
  return ConstMatMap<T>(M.data() + start * M.rows(), M.rows(), b);
}

constexpr Index kPredictChunk = 1024;
// Full-batch objectives are evaluated in chunks of this many samples (bounded buffers).
constexpr Index kEvaluationChunk = 4096;

}  // namespace

template <typename T>
Network<T>::Network(const Json& config) {
  EIGENNET_REQUIRE(config.is_object(), "network config must be a JSON object");
  const std::int64_t input_dim = config.at("input_dim").as_int("input_dim");
  EIGENNET_REQUIRE(input_dim >= 1 && input_dim <= (std::int64_t(1) << 31), "input_dim must be in [1, 2^31], got " + std::to_string(input_dim));
  input_dim_ = static_cast<Index>(input_dim);
  const auto& layer_configs = config.at("layers").as_array("layers");
  EIGENNET_REQUIRE(!layer_configs.empty(), "network needs at least one layer");

  Json canonical = config;
  Json canonical_layers = Json::array();
  Index n_in = input_dim_;
  Index offset = 0;
  for (std::size_t i = 0; i < layer_configs.size(); ++i) {
    const Json& lc = layer_configs[i];
    if (const Json* declared = lc.find("n_in"); declared && !declared->is_null())
      EIGENNET_REQUIRE(declared->as_int("n_in") == n_in, "layer " + std::to_string(i) + ": declared n_in " +
                                                    std::to_string(declared->as_int()) + " but the previous layer gives " +
                                                    std::to_string(n_in));
    auto layer = make_layer<T>(lc, n_in, i);
    layer->set_frozen(lc.bool_or("frozen", false));
    EIGENNET_REQUIRE(layer->loss() == nullptr || i + 1 == layer_configs.size(),
            "layer " + std::to_string(i) + " (" + layer->type() + ") has a loss but is not the last layer");
    for (const auto& p : layer->param_info())
      locations_.push_back({i, p.name, offset + p.offset, p.rows, p.cols, p.is_bias, p.trainable && !layer->frozen()});
    offset += layer->num_params();
    n_in = layer->n_out();
    Json layer_config = layer->config();
    if (layer->frozen()) layer_config.set("frozen", true);
    canonical_layers.push_back(layer_config);
    layers_.push_back(std::move(layer));
  }

  params_.setZero(offset);
  grads_.setZero(offset);
  offset = 0;
  for (auto& layer : layers_) {
    layer_offsets_.push_back(offset);
    layer->bind(params_.data() + offset, grads_.data() + offset);
    offset += layer->num_params();
  }
  backward_floor_ = layers_.size();
  for (const auto& loc : locations_) {
    if (loc.trainable)
      backward_floor_ = std::min(backward_floor_, loc.layer);
    else
      state_ranges_.emplace_back(loc.offset, loc.rows * loc.cols);
  }
  std::sort(state_ranges_.begin(), state_ranges_.end());

  l1_ = regularization_field(config, "l1");
  l2_ = regularization_field(config, "l2");
  weight_decay_ = regularization_field(config, "weight_decay");
  regularize_bias_ = config.bool_or("regularize_bias", false);
  gradient_normalization_ = GradientNormalizationConfig::from_json(
      config.contains("gradient_normalization") ? config.at("gradient_normalization") : Json());
  for (const auto& loc : locations_)
    if (loc.trainable && (!loc.is_bias || regularize_bias_)) regularized_.emplace_back(loc.offset, loc.rows * loc.cols);

  const double seed = config.number_or("seed", 0.0);
  EIGENNET_REQUIRE(seed >= 0 && seed == std::floor(seed) && seed < 9.007199254740992e15, "seed must be a non-negative integer");
  rng_.reseed(static_cast<std::uint64_t>(seed));
  for (auto& layer : layers_) layer->init(rng_);

  updater_ = make_updater<T>(config.contains("updater") ? config.at("updater") : Json("SGD"));
  updater_->setup(params_.size());

  canonical.set("input_dim", input_dim_);
  canonical.set("layers", canonical_layers);
  canonical.set("updater", updater_->config());
  canonical.set("l1", l1_);
  canonical.set("l2", l2_);
  canonical.set("weight_decay", weight_decay_);
  canonical.set("regularize_bias", regularize_bias_);
  if (gradient_normalization_.kind != GradientNormalization::None)
    canonical.set("gradient_normalization", gradient_normalization_.to_json());
  canonical.set("seed", seed);
  config_ = canonical;
}

template <typename T>
Json Network<T>::config() const {
  Json c = config_;
  c.set("updater", updater_->config());
  return c;
}

template <typename T>
void Network<T>::set_updater(const Json& config) {
  auto fresh = make_updater<T>(config);
  fresh->setup(params_.size());
  updater_ = std::move(fresh);
  config_.set("updater", updater_->config());
}

template <typename T>
Index Network<T>::label_rows() const {
  const Loss<T>* loss = layers_.back()->loss();
  EIGENNET_REQUIRE(loss != nullptr, "the last layer (" + layers_.back()->type() + ") has no loss; use an Output or Loss layer");
  return loss->label_rows(output_dim());
}

template <typename T>
const ParamLocation& Network<T>::find_param(std::size_t layer, const std::string& name) const {
  EIGENNET_REQUIRE(layer < layers_.size(), "layer index " + std::to_string(layer) + " out of range: the network has " +
                                      std::to_string(layers_.size()) + " layers");
  std::string available;
  for (const auto& loc : locations_) {
    if (loc.layer != layer) continue;
    if (loc.name == name) return loc;
    available += (available.empty() ? "" : ", ") + loc.name;
  }
  fail("layer " + std::to_string(layer) + " (" + layers_[layer]->type() + ") has no parameter \"" + name + "\"" +
       (available.empty() ? "; it has no parameters" : "; it has " + available));
}

template <typename T>
void Network<T>::reserve(Index max_batch) {
  if (max_batch <= reserved_batch_ && activations_.size() == layers_.size()) return;
  activations_.resize(layers_.size());
  deltas_.resize(layers_.size());
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    activations_[i].reserve(layers_[i]->n_out(), max_batch);
    deltas_[i].reserve(layers_[i]->n_in(), max_batch);
    layers_[i]->reserve(max_batch);
  }
  reserved_batch_ = max_batch;
}

template <typename T>
ConstMatMap<T> Network<T>::activation_view(std::size_t layer, Index cols) const {
  const auto& buffer = activations_[layer];
  return buffer.view(cols);
}

template <typename T>
void Network<T>::forward(ConstMatMap<T> X, Mode mode) {
  const Index cols = X.cols();
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    ConstMatMap<T> in = i == 0 ? X : activation_view(i - 1, cols);
    layers_[i]->forward(in, activations_[i].view(cols), mode, rng_);
  }
}

template <typename T>
void Network<T>::backward(ConstMatMap<T> X, ConstMatMap<T> Y) {
  const Index cols = X.cols();
  const std::size_t last = layers_.size() - 1;
  if (backward_floor_ > last) return;  // nothing trainable
  ConstMatMap<T> in = last == 0 ? X : activation_view(last - 1, cols);
  MatMap<T> din = deltas_[last].view(cols);
  layers_[last]->backward_from_labels(in, activation_view(last, cols), Y, last > backward_floor_ ? &din : nullptr);
  backward_from(last, X, cols);
}

// Backpropagates deltas_[top] (dL/d(input of layer top)) down to the lowest trainable layer.
// Layers below it have no trainable parameters, so nothing there needs a gradient.
template <typename T>
void Network<T>::backward_from(std::size_t top, ConstMatMap<T> X, Index cols) {
  for (std::size_t i = top; i-- > backward_floor_;) {
    ConstMatMap<T> in = i == 0 ? X : activation_view(i - 1, cols);
    MatMap<T> din = deltas_[i].view(cols);
    layers_[i]->backward(in, activation_view(i, cols), deltas_[i + 1].view(cols), i > backward_floor_ ? &din : nullptr);
  }
}

template <typename T>
T Network<T>::regularization_penalty() const {
  if (l1_ == 0 && l2_ == 0) return T(0);
  double penalty = 0;
  for (const auto& [offset, size] : regularized_) {
    auto w = params_.segment(offset, size);
    if (l2_ != 0) penalty += 0.5 * l2_ * static_cast<double>(w.squaredNorm());
    if (l1_ != 0) penalty += l1_ * static_cast<double>(w.template lpNorm<1>());
  }
  return static_cast<T>(penalty);
}

template <typename T>
void Network<T>::add_regularization_gradient(VecMap<T> grad, Index from, Index to) const {
  if (l1_ == 0 && l2_ == 0) return;
  const T l1 = static_cast<T>(l1_), l2 = static_cast<T>(l2_);
  for (const auto& [offset, size] : regularized_) {
    if (offset < from || offset >= to) continue;
    auto w = params_.segment(offset, size).array();
    auto g = grad.segment(offset, size).array();
    if (l2_ != 0) g += l2 * w;
    if (l1_ != 0) g += l1 * w.sign();
  }
}

template <typename T>
void Network<T>::check_data(ConstMatMap<T> X, ConstMatMap<T> Y) const {
  EIGENNET_REQUIRE(X.rows() == input_dim_, "X has " + std::to_string(X.rows()) + " features, expected " + std::to_string(input_dim_));
  EIGENNET_REQUIRE(X.cols() > 0, "X has no samples");
  EIGENNET_REQUIRE(Y.cols() == X.cols(), "X has " + std::to_string(X.cols()) + " samples but y has " + std::to_string(Y.cols()));
  EIGENNET_REQUIRE(all_finite(X), "X contains NaN or infinity");
  EIGENNET_REQUIRE(all_finite(Y), "y contains NaN or infinity");
  const Loss<T>* loss = layers_.back()->loss();
  EIGENNET_REQUIRE(loss != nullptr, "the last layer (" + layers_.back()->type() + ") has no loss; use an Output or Loss layer");
  loss->check_labels(Y, output_dim());
}

template <typename T>
T Network<T>::train_step(ConstMatMap<T> X, ConstMatMap<T> Y) {
  forward(X, Mode::Training);
  const T score = layers_.back()->score(activation_view(layers_.size() - 1, X.cols()), Y) + regularization_penalty();
  backward(X, Y);
  // DL4J order: gradient normalization sees the loss gradient, then L1/L2 join it.
  if (gradient_normalization_.kind != GradientNormalization::None)
    normalize_gradients(gradient_normalization_, VecMap<T>(grads_.data(), grads_.size()), locations_);
  add_regularization_gradient(VecMap<T>(grads_.data(), grads_.size()));
  updater_->step(params(), VecMap<T>(grads_.data(), grads_.size()));
  if (weight_decay_ != 0) {
    const T shrink = static_cast<T>(updater_->learning_rate() * weight_decay_);
    for (const auto& [offset, size] : regularized_) params_.segment(offset, size) -= shrink * params_.segment(offset, size);
  }
  return score;
}

template <typename T>
T Network<T>::fit_epoch(ConstMatMap<T> X, ConstMatMap<T> Y, Index batch_size, bool shuffle,
                        const std::function<bool()>& should_stop,
                        const std::function<bool(std::int64_t, T)>& on_step) {
  TrainingGuard guard(training_);
  check_data(X, Y);
  EIGENNET_REQUIRE(batch_size >= 1, "batch_size must be >= 1, got " + std::to_string(batch_size));
  FlushDenormals flush;
  const Index n = X.cols();
  const Index batch = std::min(batch_size, n);
  reserve(batch);
  updater_->set_epoch(epoch_);
  if (shuffle) {
    batch_x_.reserve(X.rows(), batch);
    batch_y_.reserve(Y.rows(), batch);
    random_order(order_, n, rng_);
  }
  using Clock = std::chrono::steady_clock;
  auto next_poll = Clock::now() + std::chrono::milliseconds(100);
  double total = 0;
  Index seen = 0;
  for (Index start = 0; start < n; start += batch) {
    const Index b = std::min(batch, n - start);
    const T step_score =
        shuffle ? train_step(gather_columns(X, order_, start, b, batch_x_), gather_columns(Y, order_, start, b, batch_y_))
                : train_step(column_block(X, start, b), column_block(Y, start, b));
    total += static_cast<double>(step_score) * static_cast<double>(b);
    seen += b;
    if (should_stop && Clock::now() >= next_poll) {
      if (should_stop()) throw Interrupted();
      next_poll = Clock::now() + std::chrono::milliseconds(100);
    }
    if (on_step && on_step(updater_->iteration(), step_score)) break;
  }
  ++epoch_;
  return static_cast<T>(total / static_cast<double>(seen));
}

template <typename T>
T Network<T>::train_batch(ConstMatMap<T> X, ConstMatMap<T> Y) {
  TrainingGuard guard(training_);
  check_data(X, Y);
  FlushDenormals flush;
  reserve(X.cols());
  updater_->set_epoch(epoch_);
  return train_step(X, Y);
}

template <typename T>
T Network<T>::compute_gradients(ConstMatMap<T> X, ConstMatMap<T> Y) {
  TrainingGuard guard(training_);
  check_data(X, Y);
  reserve(X.cols());
  forward(X, Mode::Deterministic);
  const T score = layers_.back()->score(activation_view(layers_.size() - 1, X.cols()), Y) + regularization_penalty();
  backward(X, Y);
  add_regularization_gradient(VecMap<T>(grads_.data(), grads_.size()));
  return score;
}

template <typename T>
T Network<T>::score(ConstMatMap<T> X, ConstMatMap<T> Y) {
  TrainingGuard guard(training_);
  check_data(X, Y);
  const Index n = X.cols();
  const Index chunk = std::min(n, kPredictChunk);
  reserve(chunk);
  double total = 0;
  for (Index start = 0; start < n; start += chunk) {
    const Index b = std::min(chunk, n - start);
    const ConstMatMap<T> xb = column_block(X, start, b);
    const ConstMatMap<T> yb = column_block(Y, start, b);
    forward(xb, Mode::Inference);
    total += static_cast<double>(layers_.back()->score(activation_view(layers_.size() - 1, b), yb)) * static_cast<double>(b);
  }
  return static_cast<T>(total / static_cast<double>(n)) + regularization_penalty();
}

template <typename T>
void Network<T>::score_per_sample(ConstMatMap<T> X, ConstMatMap<T> Y, Eigen::Ref<Vector<T>> out) {
  TrainingGuard guard(training_);
  check_data(X, Y);
  EIGENNET_REQUIRE(out.size() == X.cols(), "score_per_sample: output has the wrong length");
  const Index n = X.cols();
  const Index chunk = std::min(n, kPredictChunk);
  reserve(chunk);
  for (Index start = 0; start < n; start += chunk) {
    const Index b = std::min(chunk, n - start);
    const ConstMatMap<T> xb = column_block(X, start, b);
    const ConstMatMap<T> yb = column_block(Y, start, b);
    forward(xb, Mode::Inference);
    layers_.back()->score_per_sample(activation_view(layers_.size() - 1, b), yb, out.segment(start, b));
  }
}

template <typename T>
void Network<T>::predict(ConstMatMap<T> X, MatMap<T> out) const {
  EIGENNET_REQUIRE(X.rows() == input_dim_, "X has " + std::to_string(X.rows()) + " features, expected " + std::to_string(input_dim_));
  EIGENNET_REQUIRE(out.rows() == output_dim() && out.cols() == X.cols(), "predict: output buffer has the wrong shape");
  EIGENNET_REQUIRE(all_finite(X), "X contains NaN or infinity");
  const Index n = X.cols();
  if (n == 0) return;
  const Index chunk = std::min(n, kPredictChunk);
  Index widest = 0;
  for (const auto& layer : layers_) widest = std::max(widest, layer->n_out());
  // Per-call buffers keep concurrent predictions independent of each other and of training.
  // The last layer also writes into an (aligned) buffer of ours rather than into `out`: Eigen's
  // vectorized activations (exp in sigmoid and softmax) round differently in the unaligned head
  // of a buffer, so writing into `out` directly would make the result depend on where the
  // caller's array happens to lie in memory. Small predictions keep them on the stack, where
  // they cost nothing next to a few hundred nanoseconds of work.
  constexpr Index kAlign = 64 / static_cast<Index>(sizeof(T));
  auto aligned_size = [](Index size) { return (size + kAlign - 1) / kAlign * kAlign; };
  const Index ping_size = aligned_size(layers_.size() > 1 ? widest * chunk : 0);
  const Index pong_size = aligned_size(layers_.size() > 2 ? widest * chunk : 0);
  const Index total = ping_size + pong_size + aligned_size(output_dim() * chunk);
  constexpr Index kStackElements = 8192 / static_cast<Index>(sizeof(T));
  alignas(64) T stack_buffer[kStackElements];
  Vector<T> heap_buffer(total > kStackElements ? total : 0);
  T* const ping = total > kStackElements ? heap_buffer.data() : stack_buffer;
  T* const pong = ping + ping_size;
  T* const last = pong + pong_size;
  for (Index start = 0; start < n; start += chunk) {
    const Index b = std::min(chunk, n - start);
    ConstMatMap<T> in(X.data() + start * X.rows(), X.rows(), b);
    for (std::size_t i = 0; i < layers_.size(); ++i) {
      const Index rows = layers_[i]->n_out();
      T* target = i + 1 == layers_.size() ? last : (i % 2 == 0 ? ping : pong);
      MatMap<T> result(target, rows, b);
      layers_[i]->infer(in, result);
      new (&in) ConstMatMap<T>(target, rows, b);
    }
    out.middleCols(start, b) = in;
  }
}

// ---------------------------------------------------------------- full-batch optimization

template <typename T>
void Network<T>::load_trainable(ConstVecMap<T> theta) {
  // State entries (running statistics, frozen parameters) keep their values.
  Index from = 0;
  for (const auto& [offset, size] : state_ranges_) {
    params_.segment(from, offset - from) = theta.segment(from, offset - from);
    from = offset + size;
  }
  params_.segment(from, params_.size() - from) = theta.segment(from, params_.size() - from);
}

template <typename T>
void Network<T>::reserve_r(Index max_batch) {
  r_outputs_.resize(layers_.size());
  for (std::size_t i = 0; i < layers_.size(); ++i) r_outputs_[i].reserve(layers_[i]->n_out(), max_batch);
}

template <typename T>
double Network<T>::objective_gradient_unguarded(ConstMatMap<T> X, ConstMatMap<T> Y, VecMap<T> grad) {
  const Index n = X.cols();
  const Index chunk = std::min(n, kEvaluationChunk);
  const std::size_t last = layers_.size() - 1;
  reserve(chunk);
  grad.setZero();
  double total = 0;
  for (Index start = 0; start < n; start += chunk) {
    const Index b = std::min(chunk, n - start);
    const ConstMatMap<T> xb = column_block(X, start, b);
    const ConstMatMap<T> yb = column_block(Y, start, b);
    const double share = static_cast<double>(b) / static_cast<double>(n);
    forward(xb, Mode::Deterministic);
    total += share * static_cast<double>(layers_[last]->score(activation_view(last, b), yb));
    backward(xb, yb);
    grad += static_cast<T>(share) * grads_;
  }
  add_regularization_gradient(grad);
  return total + static_cast<double>(regularization_penalty());
}

template <typename T>
double Network<T>::objective_gradient(ConstMatMap<T> X, ConstMatMap<T> Y, VecMap<T> grad) {
  TrainingGuard guard(training_);
  check_data(X, Y);
  EIGENNET_REQUIRE(grad.size() == num_params(), "objective_gradient: gradient buffer has the wrong length");
  return objective_gradient_unguarded(X, Y, grad);
}

template <typename T>
bool Network<T>::supports_gauss_newton(std::string* why) const {
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    if (!layers_[i]->supports_r_op()) {
      if (why) *why = "layer " + std::to_string(i) + " (" + layers_[i]->type() + ") has no forward-mode derivative";
      return false;
    }
  }
  const Loss<T>* loss = layers_.back()->loss();
  const Activation<T>* activation = layers_.back()->activation();
  if (!loss || !activation || !loss->has_gauss_newton(*activation)) {
    if (why)
      *why = "the output's loss " + (loss ? loss->name() : std::string("(none)")) + " with activation " +
             (activation ? activation->name() : std::string("(none)")) + " has no Gauss-Newton form";
    return false;
  }
  return true;
}

template <typename T>
void Network<T>::gauss_newton_product_unguarded(ConstMatMap<T> X, ConstMatMap<T> Y, ConstVecMap<T> v, VecMap<T> out) {
  const Index n = X.cols();
  const Index chunk = std::min(n, kEvaluationChunk);
  const std::size_t last = layers_.size() - 1;
  reserve(chunk);
  reserve_r(chunk);
  out.setZero();
  for (Index start = 0; start < n; start += chunk) {
    const Index b = std::min(chunk, n - start);
    const ConstMatMap<T> xb = column_block(X, start, b);
    const ConstMatMap<T> yb = column_block(Y, start, b);
    forward(xb, Mode::Deterministic);
    for (std::size_t i = 0; i <= last; ++i) {
      ConstMatMap<T> in = i == 0 ? xb : activation_view(i - 1, b);
      ConstMatMap<T> r_in = as_const(r_outputs_[i == 0 ? 0 : i - 1].view(b));
      layers_[i]->forward_r(in, activation_view(i, b), v.data() + layer_offsets_[i], i == 0 ? nullptr : &r_in,
                            r_outputs_[i].view(b));
    }
    if (backward_floor_ <= last) {
      ConstMatMap<T> in = last == 0 ? xb : activation_view(last - 1, b);
      MatMap<T> din = deltas_[last].view(b);
      const bool ok = layers_[last]->gauss_newton_backward(in, activation_view(last, b), yb, r_outputs_[last].view(b),
                                                           last > backward_floor_ ? &din : nullptr);
      EIGENNET_REQUIRE(ok, "the output layer has no Gauss-Newton form");
      backward_from(last, xb, b);
    }
    out += static_cast<T>(static_cast<double>(b) / static_cast<double>(n)) * grads_;
  }
  if (l2_ != 0)
    for (const auto& [offset, size] : regularized_) out.segment(offset, size) += static_cast<T>(l2_) * v.segment(offset, size);
}

template <typename T>
void Network<T>::gauss_newton_product(ConstMatMap<T> X, ConstMatMap<T> Y, ConstVecMap<T> v, VecMap<T> out) {
  TrainingGuard guard(training_);
  check_data(X, Y);
  EIGENNET_REQUIRE(v.size() == num_params() && out.size() == num_params(),
                   "gauss_newton_product: vectors must have one entry per parameter");
  std::string why;
  EIGENNET_REQUIRE(supports_gauss_newton(&why), "Gauss-Newton product unavailable: " + why);
  gauss_newton_product_unguarded(X, Y, v, out);
}

// The score over one (mini-)batch as a function of the flat parameter vector.
template <typename T>
class NetworkObjective final : public Objective<T> {
 public:
  NetworkObjective(Network<T>& network, ConstMatMap<T> X, ConstMatMap<T> Y) : network_(network), X_(X), Y_(Y) {}
  Index dimension() const override { return network_.num_params(); }
  double evaluate(ConstVecMap<T> x, VecMap<T> grad) override {
    network_.load_trainable(x);
    return network_.objective_gradient_unguarded(X_, Y_, grad);
  }
  bool has_curvature_product() const override { return true; }
  void curvature_product(ConstVecMap<T> x, ConstVecMap<T> v, VecMap<T> out) override {
    network_.load_trainable(x);
    network_.gauss_newton_product_unguarded(X_, Y_, v, out);
  }

 private:
  Network<T>& network_;
  ConstMatMap<T> X_, Y_;
};

template <typename T>
OptimizerResult Network<T>::optimize_epoch(ConstMatMap<T> X, ConstMatMap<T> Y, Index batch_size, bool shuffle,
                                           const OptimizerOptions& options,
                                           const std::function<bool(const IterationInfo&)>& on_iteration,
                                           const std::function<bool()>& should_stop) {
  TrainingGuard guard(training_);
  check_data(X, Y);
  options.check();
  EIGENNET_REQUIRE(options.algorithm != Algorithm::StochasticGradientDescent,
                   "STOCHASTIC_GRADIENT_DESCENT is the mini-batch training loop (fit_epoch), not a full-batch optimizer");
  EIGENNET_REQUIRE(batch_size >= 1, "batch_size must be >= 1, got " + std::to_string(batch_size));
  if (options.algorithm == Algorithm::HessianFree) {
    std::string why;
    EIGENNET_REQUIRE(supports_gauss_newton(&why), "HESSIAN_FREE cannot run on this network: " + why);
  }
  FlushDenormals flush;
  const Index n = X.cols();
  const Index batch = std::min(batch_size, n);
  const bool gather = shuffle && batch < n;  // the order within one full batch does not matter
  if (gather) {
    batch_x_.reserve(X.rows(), batch);
    batch_y_.reserve(Y.rows(), batch);
    random_order(order_, n, rng_);
  }
  using Clock = std::chrono::steady_clock;
  auto next_poll = Clock::now() + std::chrono::milliseconds(100);
  bool interrupted = false;
  auto iteration_hook = [&](const IterationInfo& info) {
    if (on_iteration && !on_iteration(info)) return false;
    if (should_stop && Clock::now() >= next_poll) {
      next_poll = Clock::now() + std::chrono::milliseconds(100);
      if (should_stop()) {
        interrupted = true;
        return false;
      }
    }
    return true;
  };
  Vector<T> theta(params_.size());
  OptimizerResult epoch_result;
  int iterations = 0, evaluations = 0, products = 0;
  double weighted_value = 0;
  for (Index start = 0; start < n && !interrupted; start += batch) {
    const Index b = std::min(batch, n - start);
    const ConstMatMap<T> xb = gather ? gather_columns(X, order_, start, b, batch_x_) : column_block(X, start, b);
    const ConstMatMap<T> yb = gather ? gather_columns(Y, order_, start, b, batch_y_) : column_block(Y, start, b);
    NetworkObjective<T> objective(*this, xb, yb);
    theta = params_;
    epoch_result = minimize(objective, VecMap<T>(theta.data(), theta.size()), options, iteration_hook);
    load_trainable(ConstVecMap<T>(theta.data(), theta.size()));
    iterations += epoch_result.iterations;
    evaluations += epoch_result.function_evaluations;
    products += epoch_result.curvature_products;
    weighted_value += epoch_result.value * static_cast<double>(b);
  }
  if (interrupted) throw Interrupted();
  ++epoch_;
  epoch_result.iterations = iterations;
  epoch_result.function_evaluations = evaluations;
  epoch_result.curvature_products = products;
  epoch_result.value = weighted_value / static_cast<double>(n);
  return epoch_result;
}

// ---------------------------------------------------------------- unsupervised pretraining

template <typename T>
Matrix<T> Network<T>::layer_input(std::size_t k, ConstMatMap<T> X) const {
  EIGENNET_REQUIRE(k < layers_.size(), "layer index " + std::to_string(k) + " out of range: the network has " +
                                           std::to_string(layers_.size()) + " layers");
  EIGENNET_REQUIRE(X.rows() == input_dim_, "X has " + std::to_string(X.rows()) + " features, expected " + std::to_string(input_dim_));
  Matrix<T> current = X;
  for (std::size_t i = 0; i < k; ++i) {
    Matrix<T> next(layers_[i]->n_out(), X.cols());
    const Index n = X.cols();
    for (Index start = 0; start < n; start += kPredictChunk) {
      const Index b = std::min(kPredictChunk, n - start);
      MatMap<T> out(next.data() + start * next.rows(), next.rows(), b);
      layers_[i]->infer(ConstMatMap<T>(current.data() + start * current.rows(), current.rows(), b), out);
    }
    current.swap(next);
  }
  return current;
}

template <typename T>
std::vector<double> Network<T>::pretrain_layer(std::size_t k, ConstMatMap<T> X, Index epochs, Index batch_size,
                                               bool shuffle, const std::function<bool()>& should_stop) {
  TrainingGuard guard(training_);
  EIGENNET_REQUIRE(k < layers_.size(), "layer index " + std::to_string(k) + " out of range: the network has " +
                                           std::to_string(layers_.size()) + " layers");
  Layer<T>& layer = *layers_[k];
  EIGENNET_REQUIRE(layer.pretrainable(), "layer " + std::to_string(k) + " (" + layer.type() +
                                             ") has no unsupervised objective; only AutoEncoder, RBM and "
                                             "VariationalAutoencoder layers can be pretrained");
  EIGENNET_REQUIRE(!layer.frozen(), "layer " + std::to_string(k) + " is frozen and cannot be pretrained");
  EIGENNET_REQUIRE(X.rows() == input_dim_, "X has " + std::to_string(X.rows()) + " features, expected " + std::to_string(input_dim_));
  EIGENNET_REQUIRE(X.cols() > 0, "X has no samples");
  EIGENNET_REQUIRE(all_finite(X), "X contains NaN or infinity");
  EIGENNET_REQUIRE(epochs >= 0, "epochs must be >= 0");
  EIGENNET_REQUIRE(batch_size >= 1, "batch_size must be >= 1, got " + std::to_string(batch_size));
  FlushDenormals flush;
  const Matrix<T> input = layer_input(k, X);
  const Index n = input.cols();
  const Index batch = std::min(batch_size, n);
  layer.reserve(std::max(batch, reserved_batch_));
  const Index offset = layer_offsets_[k];
  const Index count = layer.num_params();
  VecMap<T> params(params_.data() + offset, count);
  VecMap<T> grads(grads_.data() + offset, count);
  auto updater = make_updater<T>(updater_->config());
  updater->setup(count);
  BatchBuffer<T> gathered;
  if (shuffle) gathered.reserve(input.rows(), batch);
  std::vector<Index> order(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = i;
  const ConstMatMap<T> inputs(input.data(), input.rows(), input.cols());
  using Clock = std::chrono::steady_clock;
  auto next_poll = Clock::now() + std::chrono::milliseconds(100);
  std::vector<double> history;
  for (Index epoch = 0; epoch < epochs; ++epoch) {
    if (shuffle) shuffle_indices(order, rng_);
    double total = 0;
    for (Index start = 0; start < n; start += batch) {
      const Index b = std::min(batch, n - start);
      const ConstMatMap<T> xb =
          shuffle ? gather_columns(inputs, order, start, b, gathered) : column_block(inputs, start, b);
      total += static_cast<double>(layer.pretrain_gradient(xb, rng_)) * static_cast<double>(b);
      // L1/L2 on this layer's weights, as in supervised training.
      add_regularization_gradient(VecMap<T>(grads_.data(), grads_.size()), offset, offset + count);
      updater->step(params, grads);
      if (should_stop && Clock::now() >= next_poll) {
        if (should_stop()) throw Interrupted();
        next_poll = Clock::now() + std::chrono::milliseconds(100);
      }
    }
    history.push_back(total / static_cast<double>(n));
  }
  grads.setZero();  // the supervised gradient of the decoder parameters is zero
  return history;
}

template class Network<float>;
template class Network<double>;

}  // namespace eigennet
