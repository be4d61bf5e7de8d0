// BatchNormalization (Ioffe & Szegedy 2015) over the features of a dense layer's output.
//
//   out = gamma * (x - mu) / sqrt(sigma^2 + eps) + beta, per feature (row), over the batch (columns)
//
// Mode::Training and Mode::Deterministic normalize with the batch's mean and biased variance;
// Training also folds them into the running statistics
//   running_mean = decay * running_mean + (1 - decay) * batch_mean
//   running_var  = decay * running_var  + (1 - decay) * batch_var * B / (B - 1)
// i.e. the running variance tracks the UNBIASED batch variance, as torch.nn.BatchNorm1d does with
// momentum = 1 - decay (DL4J folds in the biased one). A batch of one sample leaves the running
// variance unchanged (its unbiased variance is undefined) and normalizes to beta. Mode::Inference
// and infer() use the running statistics. A frozen layer always uses the running statistics and
// never updates them (DL4J's FrozenLayer runs its layer in inference mode).
//
// Parameters, each a vector of n = n_in: "gamma", "beta" (absent with lock_gamma_beta, which fixes
// them at the configured values), then "mean" and "var", the running statistics: state kept in
// the flat parameter vector so that saving, loading and copying parameters carry it; the layer
// writes them itself and their gradient is always exactly zero (trainable = false).
#include <cmath>

#include "eigennet/errors.hpp"
#include "layer_internal.hpp"

namespace eigennet {
namespace internal {
namespace {

template <typename T>
class BatchNormalization final : public Layer<T> {
 public:
  BatchNormalization(const Json& config, Index n_in, const std::string& where) {
    this->n_in_ = n_in;
    this->n_out_ = n_in;
    if (const Json* n_out = config.find("n_out"); n_out && !n_out->is_null())
      EIGENNET_REQUIRE(n_out->as_int(where + " n_out") == n_in,
                       where + ": n_out must equal n_in (" + std::to_string(n_in) + "); batch normalization keeps the width");
    if (const Json* act = config.find("activation"); act && !act->is_null())
      EIGENNET_REQUIRE(make_activation<T>(*act)->name() == "IDENTITY",
                       where + ": BatchNormalization has no activation; put an ActivationLayer after it");
    identity_ = make_activation<T>(Json("IDENTITY"));
    decay_ = config.number_or("decay", 0.9);
    EIGENNET_REQUIRE(std::isfinite(decay_) && decay_ >= 0 && decay_ <= 1,
                     where + ": decay must be in [0, 1], got " + std::to_string(decay_));
    eps_ = config.number_or("eps", 1e-5);
    EIGENNET_REQUIRE(std::isfinite(eps_) && eps_ > 0, where + ": eps must be finite and > 0, got " + std::to_string(eps_));
    lock_ = config.bool_or("lock_gamma_beta", false);
    gamma_init_ = config.number_or("gamma", 1.0);
    beta_init_ = config.number_or("beta", 0.0);
    EIGENNET_REQUIRE(std::isfinite(gamma_init_), where + ": gamma must be finite");
    EIGENNET_REQUIRE(std::isfinite(beta_init_), where + ": beta must be finite");
    const Index n = n_in;
    if (lock_) {
      fixed_gamma_.setConstant(n, static_cast<T>(gamma_init_));
      fixed_beta_.setConstant(n, static_cast<T>(beta_init_));
    }
    batch_mean_.setZero(n);
    batch_var_.setZero(n);
    inv_std_.setZero(n);
    scale_.setZero(n);
    dgamma_.setZero(n);
    dbeta_.setZero(n);
  }

  std::string type() const override { return "BatchNormalization"; }

  std::vector<ParamInfo> param_info() const override {
    const Index n = this->n_in_;
    std::vector<ParamInfo> info;
    if (!lock_) {
      info.push_back({"gamma", 0, n, 1, true});
      info.push_back({"beta", n, n, 1, true});
    }
    info.push_back({"mean", state_offset(), n, 1, true, false});
    info.push_back({"var", state_offset() + n, n, 1, true, false});
    return info;
  }

  void bind(T* params, T* grads) override {
    params_ = params;
    grads_ = grads;
  }

  void init(Rng&) override {
    const Index n = this->n_in_;
    if (!lock_) {
      VecMap<T>(params_, n).setConstant(static_cast<T>(gamma_init_));
      VecMap<T>(params_ + n, n).setConstant(static_cast<T>(beta_init_));
    }
    running_mean().setZero();
    running_var().setOnes();
  }

  void reserve(Index max_batch) override { xhat_.reserve(this->n_in_, max_batch); }

  void forward(ConstMatMap<T> in, MatMap<T> out, Mode mode, Rng&) override {
    check_input(in);
    const Index batch = in.cols();
    auto xhat = xhat_.view(batch);
    batch_stats_ = mode != Mode::Inference && !this->frozen_;
    if (batch_stats_) {
      // Two passes (mean, then squared deviations) for accuracy; column loops for speed.
      batch_mean_.setZero();
      for (Index j = 0; j < batch; ++j) batch_mean_ += in.col(j);
      batch_mean_ /= static_cast<T>(batch);
      batch_var_.setZero();
      for (Index j = 0; j < batch; ++j) {
        xhat.col(j) = in.col(j) - batch_mean_;
        batch_var_.array() += xhat.col(j).array().square();
      }
      batch_var_ /= static_cast<T>(batch);
      inv_std_.array() = (batch_var_.array() + static_cast<T>(eps_)).sqrt().inverse();
      for (Index j = 0; j < batch; ++j) xhat.col(j).array() *= inv_std_.array();
      if (mode == Mode::Training) update_running_statistics(batch);
    } else {
      inv_std_.array() = (running_var_const().array() + static_cast<T>(eps_)).sqrt().inverse();
      for (Index j = 0; j < batch; ++j) xhat.col(j).array() = (in.col(j) - running_mean_const()).array() * inv_std_.array();
    }
    const ConstVecMap<T> g = gamma(), b = beta();
    for (Index j = 0; j < batch; ++j) out.col(j).array() = g.array() * xhat.col(j).array() + b.array();
  }

  // The same arithmetic as forward in Mode::Inference (so predict and score agree to the bit),
  // with local buffers so that concurrent calls share nothing.
  void infer(ConstMatMap<T> in, MatMap<T> out) const override {
    check_input(in);
    const Vector<T> inv_std = (running_var_const().array() + static_cast<T>(eps_)).sqrt().inverse().matrix();
    const ConstVecMap<T> g = gamma(), b = beta(), mean = running_mean_const();
    for (Index j = 0; j < in.cols(); ++j)
      out.col(j).array() = g.array() * ((in.col(j) - mean).array() * inv_std.array()) + b.array();
  }

  void backward(ConstMatMap<T>, ConstMatMap<T>, MatMap<T> dout, MatMap<T>* din) override {
    const Index batch = dout.cols();
    const auto xhat = xhat_.view(batch);
    dbeta_.setZero();
    dgamma_.setZero();
    for (Index j = 0; j < batch; ++j) {
      dbeta_ += dout.col(j);
      dgamma_.array() += dout.col(j).array() * xhat.col(j).array();
    }
    if (!this->frozen_ && !lock_) {
      VecMap<T>(grads_, this->n_in_) = dgamma_;
      VecMap<T>(grads_ + this->n_in_, this->n_in_) = dbeta_;
    }
    // The running statistics are state, not parameters: exactly zero gradient, always.
    VecMap<T>(grads_ + state_offset(), 2 * this->n_in_).setZero();
    if (!din) return;
    scale_.array() = gamma().array() * inv_std_.array();
    if (batch_stats_) {
      // With xhat = (x - mu) * inv_std and mu, sigma^2 functions of the whole batch:
      // dL/dx_j = gamma * inv_std * (dL/dy_j - mean_k dL/dy_k - xhat_j * mean_k(dL/dy_k xhat_k)).
      const T inv_batch = T(1) / static_cast<T>(batch);
      dbeta_ *= inv_batch;
      dgamma_ *= inv_batch;
      for (Index j = 0; j < batch; ++j)
        din->col(j).array() =
            scale_.array() * (dout.col(j).array() - dbeta_.array() - xhat.col(j).array() * dgamma_.array());
    } else {
      for (Index j = 0; j < batch; ++j) din->col(j).array() = scale_.array() * dout.col(j).array();
    }
  }

  const Activation<T>* activation() const override { return identity_.get(); }

  Json config() const override {
    Json c = this->common_config();
    c.set("decay", decay_);
    c.set("eps", eps_);
    c.set("lock_gamma_beta", lock_);
    c.set("gamma", gamma_init_);
    c.set("beta", beta_init_);
    return c;
  }

 private:
  Index state_offset() const { return lock_ ? 0 : 2 * this->n_in_; }
  ConstVecMap<T> gamma() const {
    return lock_ ? ConstVecMap<T>(fixed_gamma_.data(), this->n_in_) : ConstVecMap<T>(params_, this->n_in_);
  }
  ConstVecMap<T> beta() const {
    return lock_ ? ConstVecMap<T>(fixed_beta_.data(), this->n_in_) : ConstVecMap<T>(params_ + this->n_in_, this->n_in_);
  }
  VecMap<T> running_mean() { return VecMap<T>(params_ + state_offset(), this->n_in_); }
  VecMap<T> running_var() { return VecMap<T>(params_ + state_offset() + this->n_in_, this->n_in_); }
  ConstVecMap<T> running_mean_const() const { return ConstVecMap<T>(params_ + state_offset(), this->n_in_); }
  ConstVecMap<T> running_var_const() const {
    return ConstVecMap<T>(params_ + state_offset() + this->n_in_, this->n_in_);
  }

  void check_input(ConstMatMap<T> in) const {
    EIGENNET_REQUIRE(in.rows() == this->n_in_, "BatchNormalization: input has " + std::to_string(in.rows()) +
                                                   " features, expected " + std::to_string(this->n_in_));
  }

  void update_running_statistics(Index batch) {
    const T keep = static_cast<T>(decay_), take = static_cast<T>(1.0 - decay_);
    auto mean = running_mean();
    mean = keep * mean + take * batch_mean_;
    if (batch > 1) {
      auto var = running_var();
      const T unbias = static_cast<T>(static_cast<double>(batch) / static_cast<double>(batch - 1));
      var = keep * var + (take * unbias) * batch_var_;
    }
  }

  std::unique_ptr<Activation<T>> identity_;
  double decay_ = 0.9;
  double eps_ = 1e-5;
  bool lock_ = false;
  double gamma_init_ = 1.0;
  double beta_init_ = 0.0;
  Vector<T> fixed_gamma_, fixed_beta_;
  T* params_ = nullptr;
  T* grads_ = nullptr;
  // State of the last forward pass, for backward.
  bool batch_stats_ = false;
  BatchBuffer<T> xhat_;
  Vector<T> batch_mean_, batch_var_, inv_std_;
  // Backward scratch.
  Vector<T> scale_, dgamma_, dbeta_;
};

}  // namespace

template <typename T>
std::unique_ptr<Layer<T>> make_batch_normalization(const Json& config, Index n_in, const std::string& where) {
  return std::make_unique<BatchNormalization<T>>(config, n_in, where);
}

template std::unique_ptr<Layer<float>> make_batch_normalization<float>(const Json&, Index, const std::string&);
template std::unique_ptr<Layer<double>> make_batch_normalization<double>(const Json&, Index, const std::string&);

}  // namespace internal
}  // namespace eigennet
