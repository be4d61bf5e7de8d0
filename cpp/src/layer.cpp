#include "eigennet/layer.hpp"

#include <cmath>

#include "eigennet/errors.hpp"
#include "eigennet/init.hpp"
#include "eigennet/threads.hpp"

namespace eigennet {

template <typename T>
Index Layer<T>::num_params() const {
  Index total = 0;
  for (const auto& p : param_info()) total += p.rows * p.cols;
  return total;
}

template <typename T>
Json Layer<T>::common_config() const {
  Json c = Json::object();
  c.set("type", type());
  c.set("n_in", n_in_);
  c.set("n_out", n_out_);
  if (const Activation<T>* f = activation()) c.set("activation", f->config());
  return c;
}

template <typename T>
T Layer<T>::score(ConstMatMap<T>, ConstMatMap<T>) const {
  fail(type() + " layer has no loss");
}

template <typename T>
void Layer<T>::score_per_sample(ConstMatMap<T>, ConstMatMap<T>, Eigen::Ref<Vector<T>>) const {
  fail(type() + " layer has no loss");
}

template <typename T>
void Layer<T>::backward_from_labels(ConstMatMap<T>, ConstMatMap<T>, ConstMatMap<T>, MatMap<T>*) {
  fail(type() + " layer has no loss");
}

template <typename T>
void Layer<T>::forward_r(ConstMatMap<T>, ConstMatMap<T>, const T*, const ConstMatMap<T>*, MatMap<T>) {
  fail(type() + " layer does not support Hessian-free optimization");
}

template <typename T>
bool Layer<T>::gauss_newton_backward(ConstMatMap<T>, ConstMatMap<T>, ConstMatMap<T>, MatMap<T>, MatMap<T>*) {
  return false;
}

template <typename T>
T Layer<T>::pretrain_gradient(ConstMatMap<T>, Rng&) {
  fail(type() + " layer has no unsupervised objective to pretrain");
}

template <typename T>
void Layer<T>::reconstruct(ConstMatMap<T>, MatMap<T>) const {
  fail(type() + " layer cannot reconstruct its input");
}

template <typename T>
T Layer<T>::reconstruction_error(ConstMatMap<T>) const {
  fail(type() + " layer cannot reconstruct its input");
}

template <typename T>
void Layer<T>::reconstruction_log_probability(ConstMatMap<T>, Index, Rng&, Eigen::Ref<Vector<T>>) const {
  fail(type() + " layer has no reconstruction probability (only VariationalAutoencoder has)");
}

template <typename T>
void Layer<T>::generate(ConstMatMap<T>, MatMap<T>) const {
  fail(type() + " layer cannot generate samples (only VariationalAutoencoder can)");
}

namespace {

// Limits a layer width so that a typo like 10**12 fails here instead of in an allocation.
constexpr Index kMaxWidth = Index(1) << 31;

Index read_width(const Json& config, const char* key, const std::string& where) {
  const std::int64_t n = config.at(key).as_int(where + " " + key);
  EIGENNET_REQUIRE(n >= 1 && n <= kMaxWidth, where + ": " + key + " must be in [1, 2^31], got " + std::to_string(n));
  return static_cast<Index>(n);
}

// Dense: out = f(W in + b). Output extends it with a loss.
template <typename T>
class Dense : public Layer<T> {
 public:
  Dense(const Json& config, Index n_in, const std::string& where) {
    this->n_in_ = n_in;
    this->n_out_ = read_width(config, "n_out", where);
    EIGENNET_REQUIRE(this->n_in_ <= kMaxWidth / 1 && this->n_in_ * this->n_out_ <= (Index(1) << 34),
            where + ": " + std::to_string(this->n_in_) + " x " + std::to_string(this->n_out_) +
                " weights is more than this library allows (2^34)");
    has_bias_ = config.bool_or("has_bias", true);
    activation_ = make_activation<T>(config.contains("activation") ? config.at("activation") : Json("IDENTITY"));
    const Json default_init = default_weight_init(activation_->name());
    weight_init_ = canonical_weight_init(config.contains("weight_init") && !config.at("weight_init").is_null()
                                             ? config.at("weight_init")
                                             : default_init);
    bias_init_ = config.number_or("bias_init", 0.0);
    EIGENNET_REQUIRE(std::isfinite(bias_init_), where + ": bias_init must be finite");
  }

  std::string type() const override { return "Dense"; }

  std::vector<ParamInfo> param_info() const override {
    std::vector<ParamInfo> info{{"W", 0, this->n_out_, this->n_in_, false}};
    if (has_bias_) info.push_back({"b", this->n_out_ * this->n_in_, this->n_out_, 1, true});
    return info;
  }

  void bind(T* params, T* grads) override {
    params_ = params;
    grads_ = grads;
  }

  void init(Rng& rng) override {
    initialize_weights<T>(weight_init_, params_, this->n_out_ * this->n_in_, this->n_in_, this->n_out_, rng);
    if (has_bias_) bias().setConstant(static_cast<T>(bias_init_));
  }

  void reserve(Index max_batch) override { preactivation_.reserve(this->n_out_, max_batch); }

  void forward(ConstMatMap<T> in, MatMap<T> out, Mode mode, Rng& rng) override {
    auto z = preactivation_.view(in.cols());
    linear(in, z);
    activation_->forward(as_const(z), out, mode == Mode::Training, rng);
  }

  void infer(ConstMatMap<T> in, MatMap<T> out) const override {
    linear(in, out);
    Rng unused(0);
    activation_->forward(as_const(out), out, false, unused);
  }

  void backward(ConstMatMap<T> in, ConstMatMap<T> out, MatMap<T> dout, MatMap<T>* din) override {
    activation_->backward(z_view(in.cols()), out, as_const(dout), dout);
    linear_backward(in, as_const(dout), din);
  }

  const Activation<T>* activation() const override { return activation_.get(); }

  Json config() const override {
    Json c = this->common_config();
    c.set("weight_init", weight_init_);
    c.set("has_bias", has_bias_);
    c.set("bias_init", bias_init_);
    return c;
  }

 protected:
  // He initialisation suits the ReLU family; Xavier (DL4J's default) suits the rest.
  static Json default_weight_init(const std::string& activation) {
    static const char* relu_family[] = {"RELU", "RELU6", "LEAKYRELU", "RRELU", "THRESHOLDEDRELU", "ELU", "GELU",
                                        "SWISH", "MISH"};
    for (const char* name : relu_family)
      if (activation == name) return Json("RELU");
    if (activation == "SELU") return Json("LECUN_NORMAL");
    return Json("XAVIER");
  }

  ConstMatMap<T> weights() const { return ConstMatMap<T>(params_, this->n_out_, this->n_in_); }
  VecMap<T> bias() { return VecMap<T>(params_ + this->n_out_ * this->n_in_, this->n_out_); }
  ConstVecMap<T> bias() const { return ConstVecMap<T>(params_ + this->n_out_ * this->n_in_, this->n_out_); }
  ConstMatMap<T> z_view(Index cols) const {
    return preactivation_.view(cols);
  }

  void linear(ConstMatMap<T> in, MatMap<T> z) const {
    EIGENNET_REQUIRE(in.rows() == this->n_in_, "Dense: input has " + std::to_string(in.rows()) + " features, expected " +
                                          std::to_string(this->n_in_));
    select_threads(static_cast<double>(this->n_out_) * this->n_in_ * in.cols());
    z.noalias() = weights() * in;
    if (has_bias_) z.colwise() += bias();
  }

  void linear_backward(ConstMatMap<T> in, ConstMatMap<T> dz, MatMap<T>* din) {
    select_threads(static_cast<double>(this->n_out_) * this->n_in_ * in.cols());
    if (!this->frozen_) {
      MatMap<T> dW(grads_, this->n_out_, this->n_in_);
      dW.noalias() = dz * in.transpose();
      if (has_bias_) {
        VecMap<T> db(grads_ + this->n_out_ * this->n_in_, this->n_out_);
        db = dz.rowwise().sum();
      }
    }
    if (din) din->noalias() = weights().transpose() * dz;
  }

  std::unique_ptr<Activation<T>> activation_;
  Json weight_init_;
  double bias_init_ = 0.0;
  bool has_bias_ = true;
  T* params_ = nullptr;
  T* grads_ = nullptr;
  BatchBuffer<T> preactivation_;
};

// DL4J OutputLayer: Dense followed by a loss.
template <typename T>
class Output final : public Dense<T> {
 public:
  Output(const Json& config, Index n_in, const std::string& where) : Dense<T>(config, n_in, where) {
    EIGENNET_REQUIRE(config.contains("loss"), where + ": Output layer needs a loss");
    loss_ = make_loss<T>(config.at("loss"));
  }
  std::string type() const override { return "Output"; }
  void reserve(Index max_batch) override {
    Dense<T>::reserve(max_batch);
    dz_.reserve(this->n_out_, max_batch);
  }
  const Loss<T>* loss() const override { return loss_.get(); }
  T score(ConstMatMap<T> out, ConstMatMap<T> labels) const override {
    return loss_->score(this->z_view(out.cols()), out, labels, *this->activation_);
  }
  void score_per_sample(ConstMatMap<T> out, ConstMatMap<T> labels, Eigen::Ref<Vector<T>> losses) const override {
    loss_->score_per_sample(this->z_view(out.cols()), out, labels, *this->activation_, losses);
  }
  void backward_from_labels(ConstMatMap<T> in, ConstMatMap<T> out, ConstMatMap<T> labels, MatMap<T>* din) override {
    auto dz = dz_.view(in.cols());
    loss_->gradient(this->z_view(in.cols()), out, labels, *this->activation_, dz);
    this->linear_backward(in, as_const(dz), din);
  }
  Json config() const override {
    Json c = Dense<T>::config();  // "type" is already this layer's: type() is virtual
    c.set("loss", loss_->config());
    return c;
  }

 private:
  std::unique_ptr<Loss<T>> loss_;
  BatchBuffer<T> dz_;
};

// Activation layer: out = f(in), no parameters. LossLayer extends it with a loss.
template <typename T>
class ActivationLayer : public Layer<T> {
 public:
  ActivationLayer(const Json& config, Index n_in) {
    this->n_in_ = n_in;
    this->n_out_ = n_in;
    activation_ = make_activation<T>(config.contains("activation") ? config.at("activation") : Json("IDENTITY"));
  }
  std::string type() const override { return "Activation"; }
  void forward(ConstMatMap<T> in, MatMap<T> out, Mode mode, Rng& rng) override {
    activation_->forward(in, out, mode == Mode::Training, rng);
  }
  void infer(ConstMatMap<T> in, MatMap<T> out) const override {
    Rng unused(0);
    activation_->forward(in, out, false, unused);
  }
  void backward(ConstMatMap<T> in, ConstMatMap<T> out, MatMap<T> dout, MatMap<T>* din) override {
    if (!din) return;
    activation_->backward(in, out, as_const(dout), *din);
  }
  const Activation<T>* activation() const override { return activation_.get(); }
  Json config() const override {
    return this->common_config();
  }

 protected:
  std::unique_ptr<Activation<T>> activation_;
};

template <typename T>
class LossLayer final : public ActivationLayer<T> {
 public:
  LossLayer(const Json& config, Index n_in, const std::string& where) : ActivationLayer<T>(config, n_in) {
    EIGENNET_REQUIRE(config.contains("loss"), where + ": Loss layer needs a loss");
    loss_ = make_loss<T>(config.at("loss"));
  }
  std::string type() const override { return "Loss"; }
  void forward(ConstMatMap<T> in, MatMap<T> out, Mode mode, Rng& rng) override {
    last_in_ = in.data();
    ActivationLayer<T>::forward(in, out, mode, rng);
  }
  const Loss<T>* loss() const override { return loss_.get(); }
  T score(ConstMatMap<T> out, ConstMatMap<T> labels) const override {
    return loss_->score(input_view(out), out, labels, *this->activation_);
  }
  void score_per_sample(ConstMatMap<T> out, ConstMatMap<T> labels, Eigen::Ref<Vector<T>> losses) const override {
    loss_->score_per_sample(input_view(out), out, labels, *this->activation_, losses);
  }
  void backward_from_labels(ConstMatMap<T> in, ConstMatMap<T> out, ConstMatMap<T> labels, MatMap<T>* din) override {
    if (!din) {
      scratch_.reserve(this->n_in_, in.cols());
      auto dz = scratch_.view(in.cols());
      loss_->gradient(in, out, labels, *this->activation_, dz);
      return;
    }
    loss_->gradient(in, out, labels, *this->activation_, *din);
  }
  Json config() const override {
    Json c = ActivationLayer<T>::config();
    c.set("loss", loss_->config());
    return c;
  }

 private:
  ConstMatMap<T> input_view(ConstMatMap<T> out) const { return ConstMatMap<T>(last_in_, out.rows(), out.cols()); }
  std::unique_ptr<Loss<T>> loss_;
  const T* last_in_ = nullptr;
  BatchBuffer<T> scratch_;
};

}  // namespace

template <typename T>
std::unique_ptr<Layer<T>> make_layer(const Json& config, Index n_in, std::size_t position) {
  const std::string type = config.at("type").as_string("layer type");
  const std::string where = type + "(" + std::to_string(position) + ")";
  const std::string key = registry_key(type);
  if (key == "DENSE") return std::make_unique<Dense<T>>(config, n_in, where);
  if (key == "OUTPUT") return std::make_unique<Output<T>>(config, n_in, where);
  if (key == "ACTIVATION") return std::make_unique<ActivationLayer<T>>(config, n_in);
  if (key == "LOSS") return std::make_unique<LossLayer<T>>(config, n_in, where);
  const std::string hint = closest_name(type, {"Dense", "Output", "Activation", "Loss"});
  fail("unknown layer type \"" + type + "\"" + (hint.empty() ? "" : "; did you mean \"" + hint + "\"?"));
}

template class Layer<float>;
template class Layer<double>;
template std::unique_ptr<Layer<float>> make_layer<float>(const Json&, Index, std::size_t);
template std::unique_ptr<Layer<double>> make_layer<double>(const Json&, Index, std::size_t);

}  // namespace eigennet
