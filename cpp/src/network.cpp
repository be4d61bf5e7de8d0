#include "eigennet/network.hpp"

#include <chrono>
#include <cmath>

#include "eigennet/errors.hpp"
#include "eigennet/threads.hpp"

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

constexpr Index kPredictChunk = 1024;

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
    layer->bind(params_.data() + offset, grads_.data() + offset);
    offset += layer->num_params();
  }

  l1_ = regularization_field(config, "l1");
  l2_ = regularization_field(config, "l2");
  weight_decay_ = regularization_field(config, "weight_decay");
  regularize_bias_ = config.bool_or("regularize_bias", false);
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
  for (std::size_t k = 0; k <= last; ++k) {
    const std::size_t i = last - k;
    ConstMatMap<T> in = i == 0 ? X : activation_view(i - 1, cols);
    MatMap<T> din = deltas_[i].view(cols);
    MatMap<T>* din_ptr = i == 0 ? nullptr : &din;
    if (i == last) {
      layers_[i]->backward_from_labels(in, activation_view(i, cols), Y, din_ptr);
    } else {
      layers_[i]->backward(in, activation_view(i, cols), deltas_[i + 1].view(cols), din_ptr);
    }
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
void Network<T>::add_regularization_gradient() {
  if (l1_ == 0 && l2_ == 0) return;
  const T l1 = static_cast<T>(l1_), l2 = static_cast<T>(l2_);
  for (const auto& [offset, size] : regularized_) {
    auto w = params_.segment(offset, size).array();
    auto g = grads_.segment(offset, size).array();
    if (l2_ != 0) g += l2 * w;
    if (l1_ != 0) g += l1 * w.sign();
  }
}

template <typename T>
void Network<T>::check_data(ConstMatMap<T> X, ConstMatMap<T> Y) const {
  EIGENNET_REQUIRE(X.rows() == input_dim_, "X has " + std::to_string(X.rows()) + " features, expected " + std::to_string(input_dim_));
  EIGENNET_REQUIRE(X.cols() > 0, "X has no samples");
  EIGENNET_REQUIRE(Y.cols() == X.cols(), "X has " + std::to_string(X.cols()) + " samples but y has " + std::to_string(Y.cols()));
  EIGENNET_REQUIRE(X.allFinite(), "X contains NaN or infinity");
  EIGENNET_REQUIRE(Y.allFinite(), "y contains NaN or infinity");
  const Loss<T>* loss = layers_.back()->loss();
  EIGENNET_REQUIRE(loss != nullptr, "the last layer (" + layers_.back()->type() + ") has no loss; use an Output or Loss layer");
  loss->check_labels(Y, output_dim());
}

template <typename T>
T Network<T>::train_step(ConstMatMap<T> X, ConstMatMap<T> Y) {
  forward(X, Mode::Training);
  const T score = layers_.back()->score(activation_view(layers_.size() - 1, X.cols()), Y) + regularization_penalty();
  backward(X, Y);
  add_regularization_gradient();
  updater_->step(params(), VecMap<T>(grads_.data(), grads_.size()));
  if (weight_decay_ != 0) {
    const T shrink = static_cast<T>(updater_->learning_rate() * weight_decay_);
    for (const auto& [offset, size] : regularized_) params_.segment(offset, size) -= shrink * params_.segment(offset, size);
  }
  return score;
}

template <typename T>
T Network<T>::fit_epoch(ConstMatMap<T> X, ConstMatMap<T> Y, Index batch_size, bool shuffle,
                        const std::function<bool()>& should_stop) {
  TrainingGuard guard(training_);
  check_data(X, Y);
  EIGENNET_REQUIRE(batch_size >= 1, "batch_size must be >= 1, got " + std::to_string(batch_size));
  FlushDenormals flush;
  const Index n = X.cols();
  const Index batch = std::min(batch_size, n);
  reserve(batch);
  if (shuffle) {
    batch_x_.reserve(X.rows(), batch);
    batch_y_.reserve(Y.rows(), batch);
    order_.resize(static_cast<std::size_t>(n));
    for (Index i = 0; i < n; ++i) order_[static_cast<std::size_t>(i)] = i;
    for (Index i = n - 1; i > 0; --i)
      std::swap(order_[static_cast<std::size_t>(i)], order_[rng_.below(static_cast<std::uint64_t>(i + 1))]);
  }
  using Clock = std::chrono::steady_clock;
  auto next_poll = Clock::now() + std::chrono::milliseconds(100);
  double total = 0;
  for (Index start = 0; start < n; start += batch) {
    const Index b = std::min(batch, n - start);
    T step_score;
    if (shuffle) {
      auto xb = batch_x_.view(b);
      auto yb = batch_y_.view(b);
      for (Index j = 0; j < b; ++j) {
        const Index src = order_[static_cast<std::size_t>(start + j)];
        xb.col(j) = X.col(src);
        yb.col(j) = Y.col(src);
      }
      step_score = train_step(ConstMatMap<T>(xb.data(), xb.rows(), b), ConstMatMap<T>(yb.data(), yb.rows(), b));
    } else {
      step_score = train_step(ConstMatMap<T>(X.data() + start * X.rows(), X.rows(), b),
                              ConstMatMap<T>(Y.data() + start * Y.rows(), Y.rows(), b));
    }
    total += static_cast<double>(step_score) * static_cast<double>(b);
    if (should_stop && Clock::now() >= next_poll) {
      if (should_stop()) throw Interrupted();
      next_poll = Clock::now() + std::chrono::milliseconds(100);
    }
  }
  ++epoch_;
  return static_cast<T>(total / static_cast<double>(n));
}

template <typename T>
T Network<T>::compute_gradients(ConstMatMap<T> X, ConstMatMap<T> Y) {
  TrainingGuard guard(training_);
  check_data(X, Y);
  reserve(X.cols());
  forward(X, Mode::Deterministic);
  const T score = layers_.back()->score(activation_view(layers_.size() - 1, X.cols()), Y) + regularization_penalty();
  backward(X, Y);
  add_regularization_gradient();
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
    ConstMatMap<T> xb(X.data() + start * X.rows(), X.rows(), b);
    ConstMatMap<T> yb(Y.data() + start * Y.rows(), Y.rows(), b);
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
    ConstMatMap<T> xb(X.data() + start * X.rows(), X.rows(), b);
    ConstMatMap<T> yb(Y.data() + start * Y.rows(), Y.rows(), b);
    forward(xb, Mode::Inference);
    layers_.back()->score_per_sample(activation_view(layers_.size() - 1, b), yb, out.segment(start, b));
  }
}

template <typename T>
void Network<T>::predict(ConstMatMap<T> X, MatMap<T> out) const {
  EIGENNET_REQUIRE(X.rows() == input_dim_, "X has " + std::to_string(X.rows()) + " features, expected " + std::to_string(input_dim_));
  EIGENNET_REQUIRE(out.rows() == output_dim() && out.cols() == X.cols(), "predict: output buffer has the wrong shape");
  EIGENNET_REQUIRE(X.allFinite(), "X contains NaN or infinity");
  const Index n = X.cols();
  if (n == 0) return;
  const Index chunk = std::min(n, kPredictChunk);
  Index widest = 0;
  for (const auto& layer : layers_) widest = std::max(widest, layer->n_out());
  // Per-call buffers keep concurrent predictions independent of each other and of training.
  // The last layer also writes into an (aligned) buffer of ours rather than into `out`: Eigen's
  // vectorized activations (exp in sigmoid and softmax) round differently in the unaligned head
  // of a buffer, so writing into `out` directly would make the result depend on where the
  // caller's array happens to lie in memory.
  Vector<T> ping(layers_.size() > 1 ? widest * chunk : 0), pong(layers_.size() > 2 ? widest * chunk : 0);
  Vector<T> last(output_dim() * chunk);
  for (Index start = 0; start < n; start += chunk) {
    const Index b = std::min(chunk, n - start);
    ConstMatMap<T> in(X.data() + start * X.rows(), X.rows(), b);
    for (std::size_t i = 0; i < layers_.size(); ++i) {
      const Index rows = layers_[i]->n_out();
      T* target = i + 1 == layers_.size() ? last.data() : (i % 2 == 0 ? ping.data() : pong.data());
      MatMap<T> result(target, rows, b);
      layers_[i]->infer(in, result);
      new (&in) ConstMatMap<T>(target, rows, b);
    }
    out.middleCols(start, b) = in;
  }
}

template class Network<float>;
template class Network<double>;

}  // namespace eigennet
