#include "eigennet/layer.hpp"

#include <cmath>
#include <map>
#include <mutex>

#include "eigennet/errors.hpp"
#include "eigennet/init.hpp"
#include "eigennet/threads.hpp"
#include "layer_internal.hpp"
#include "layer_pretrain.hpp"
#include "product.hpp"

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
    dropout_ = internal::read_drop_rate(config, "dropout", where);
    weight_dropout_ = internal::read_drop_rate(config, "weight_dropout", where);
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

  void reserve(Index max_batch) override {
    preactivation_.reserve(this->n_out_, max_batch);
    reserve_dropout(max_batch);
  }

  void forward(ConstMatMap<T> in, MatMap<T> out, Mode mode, Rng& rng) override {
    auto z = preactivation_.view(in.cols());
    const ConstMatMap<T> x = draw_dropout(in, mode, rng);  // sets the masks effective_weights() reads
    linear_activated(x, z, effective_weights(), out, mode == Mode::Training, rng);
  }

  void infer(ConstMatMap<T> in, MatMap<T> out) const override {
    Rng unused(0);
    linear_activated(in, out, weights(), out, false, unused);
  }

  void backward(ConstMatMap<T> in, ConstMatMap<T> out, MatMap<T> dout, MatMap<T>* din) override {
    activation_->backward(z_view(in.cols()), out, as_const(dout), dout);
    linear_backward(in, as_const(dout), din);
  }

  bool supports_r_op() const override { return true; }
  // r_z = W r_in + V_W in + V_b; r_out = f'(z) r_z (a frozen layer's parameters are constants).
  void forward_r(ConstMatMap<T> in, ConstMatMap<T> out, const T* direction, const ConstMatMap<T>* r_in,
                 MatMap<T> r_out) override {
    linear_r(in, direction, r_in, r_out);
    activation_->backward(z_view(in.cols()), out, as_const(r_out), r_out);
  }

  const Activation<T>* activation() const override { return activation_.get(); }

  Json config() const override {
    Json c = this->common_config();
    c.set("weight_init", weight_init_);
    c.set("has_bias", has_bias_);
    c.set("bias_init", bias_init_);
    if (dropout_ > 0) c.set("dropout", dropout_);
    if (weight_dropout_ > 0) c.set("weight_dropout", weight_dropout_);
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

  // z = W in + b; with `activated`, also *activated = f(z) for a blockwise() activation f. Both are
  // done inside the product, on each block of z as it is finished.
  void linear(ConstMatMap<T> in, MatMap<T> z, ConstMatMap<T> W, MatMap<T>* activated = nullptr) const {
    EIGENNET_REQUIRE(in.rows() == this->n_in_, "Dense: input has " + std::to_string(in.rows()) + " features, expected " +
                                          std::to_string(this->n_in_));
    if (!has_bias_ && !activated) {
      multiply(z, W, in);
      return;
    }
    const Index stride = z.rows();
    multiply(z, W, in, Update::Assign, [&](Index row, Index rows, Index col, Index cols) {
      BlockMap<T> z_block(z.data() + col * stride + row, rows, cols, Eigen::OuterStride<>(stride));
      if (has_bias_) z_block.colwise() += bias().segment(row, rows);
      if (activated)
        activation_->forward_block(ConstBlockMap<T>(z_block.data(), rows, cols, Eigen::OuterStride<>(stride)),
                                   BlockMap<T>(activated->data() + col * stride + row, rows, cols,
                                               Eigen::OuterStride<>(stride)));
    });
  }

  // z = W in + b and out = f(z) (out may be z): a blockwise() activation inside the product, any
  // other in a pass of its own.
  void linear_activated(ConstMatMap<T> in, MatMap<T> z, ConstMatMap<T> W, MatMap<T> out, bool training,
                        Rng& rng) const {
    if (activation_->blockwise()) {
      linear(in, z, W, &out);
    } else {
      linear(in, z, W);
      activation_->forward(as_const(z), out, training, rng);
    }
  }

  // The forward derivative of z = W in + b along (V_W, V_b) = direction, with r_in that of `in`.
  void linear_r(ConstMatMap<T> in, const T* direction, const ConstMatMap<T>* r_in, MatMap<T> r_z) const {
    if (r_in)
      multiply(r_z, weights(), *r_in);
    else
      r_z.setZero();
    if (!this->frozen_) {
      multiply(r_z, ConstMatMap<T>(direction, this->n_out_, this->n_in_), in, Update::Add);
      if (has_bias_) r_z.colwise() += ConstVecMap<T>(direction + this->n_out_ * this->n_in_, this->n_out_);
    }
  }

  void linear_backward(ConstMatMap<T> layer_in, ConstMatMap<T> dz, MatMap<T>* din) {
    const ConstMatMap<T> in = dropout_active_ ? as_const(dropped_input_.view(layer_in.cols())) : layer_in;
    if (!this->frozen_) {
      MatMap<T> dW(grads_, this->n_out_, this->n_in_);
      multiply(dW, dz, in.transpose());
      if (weight_dropout_active_) mask_weight_gradient(dW);
      if (has_bias_) {
        VecMap<T> db(grads_ + this->n_out_ * this->n_in_, this->n_out_);
        db = dz.rowwise().sum();
      }
    }
    if (din) {
      multiply(*din, effective_weights().transpose(), dz);
      if (dropout_active_) din->array() *= input_mask_.view(dz.cols()).array();
    }
  }

  // --- The dropout options (Mode::Training only; none in a frozen layer, as DL4J's FrozenLayer):
  // "dropout" drops the layer's INPUT units (DL4J applies a layer's dropout to its input),
  // "weight_dropout" is DropConnect on W (not on b): a masked copy of W serves this step's forward
  // and backward, and only the kept weights get a gradient. Both are inverted: kept values are
  // scaled by 1 / (1 - rate). Masks are drawn from the network's Rng, input mask first.
  void reserve_dropout(Index max_batch) {
    if (dropout_ > 0) {
      input_mask_.reserve(this->n_in_, max_batch);
      dropped_input_.reserve(this->n_in_, max_batch);
    }
    if (weight_dropout_ > 0 && masked_weights_.size() == 0) {
      masked_weights_.resize(this->n_out_, this->n_in_);
      weight_keep_.resize(static_cast<std::size_t>(this->n_out_ * this->n_in_));
    }
  }

  // Draws this step's masks; returns what the linear map multiplies (`in` unless dropping).
  ConstMatMap<T> draw_dropout(ConstMatMap<T> in, Mode mode, Rng& rng) {
    const bool training = mode == Mode::Training && !this->frozen_;
    dropout_active_ = training && dropout_ > 0;
    weight_dropout_active_ = training && weight_dropout_ > 0;
    if (weight_dropout_active_) {
      internal::draw_dropout_mask<T>(masked_weights_.data(), weight_keep_.data(), masked_weights_.size(),
                                     weight_dropout_, rng);
      masked_weights_.array() *= weights().array();
    }
    if (!dropout_active_) return in;
    EIGENNET_REQUIRE(in.rows() == this->n_in_, "Dense: input has " + std::to_string(in.rows()) +
                                                   " features, expected " + std::to_string(this->n_in_));
    auto mask = input_mask_.view(in.cols());
    auto dropped = dropped_input_.view(in.cols());
    internal::draw_dropout_mask<T>(mask.data(), nullptr, mask.size(), dropout_, rng);
    dropped.array() = in.array() * mask.array();
    return as_const(dropped);
  }

  ConstMatMap<T> effective_weights() const {
    return weight_dropout_active_ ? ConstMatMap<T>(masked_weights_.data(), this->n_out_, this->n_in_) : weights();
  }

  // d loss / d W = (d loss / d W_masked) * mask: zero for dropped weights.
  void mask_weight_gradient(MatMap<T> dW) const {
    const T scale = static_cast<T>(1.0 / (1.0 - weight_dropout_));
    T* g = dW.data();
    for (Index k = 0; k < dW.size(); ++k) g[k] = weight_keep_[static_cast<std::size_t>(k)] ? g[k] * scale : T(0);
  }

  std::unique_ptr<Activation<T>> activation_;
  Json weight_init_;
  double bias_init_ = 0.0;
  bool has_bias_ = true;
  T* params_ = nullptr;
  T* grads_ = nullptr;
  BatchBuffer<T> preactivation_;
  double dropout_ = 0.0;
  double weight_dropout_ = 0.0;
  bool dropout_active_ = false;         // set by each forward pass
  bool weight_dropout_active_ = false;  // set by each forward pass
  BatchBuffer<T> input_mask_, dropped_input_;
  Matrix<T> masked_weights_;
  std::vector<unsigned char> weight_keep_;
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
  // The Gauss-Newton product is taken at the pre-activation, so r_out receives r_z.
  void forward_r(ConstMatMap<T> in, ConstMatMap<T>, const T* direction, const ConstMatMap<T>* r_in,
                 MatMap<T> r_out) override {
    this->linear_r(in, direction, r_in, r_out);
  }
  bool gauss_newton_backward(ConstMatMap<T> in, ConstMatMap<T> out, ConstMatMap<T> labels, MatMap<T> r_z,
                             MatMap<T>* din) override {
    auto h = dz_.view(in.cols());
    if (!loss_->gauss_newton_product(this->z_view(in.cols()), out, labels, *this->activation_, as_const(r_z), h))
      return false;
    this->linear_backward(in, as_const(h), din);
    return true;
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
  bool supports_r_op() const override { return true; }
  void forward_r(ConstMatMap<T> in, ConstMatMap<T> out, const T*, const ConstMatMap<T>* r_in, MatMap<T> r_out) override {
    if (r_in)
      activation_->backward(in, out, *r_in, r_out);
    else
      r_out.setZero();
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
  // The layer's input is the pre-activation: r_out receives r_in unchanged.
  void forward_r(ConstMatMap<T>, ConstMatMap<T>, const T*, const ConstMatMap<T>* r_in, MatMap<T> r_out) override {
    if (r_in)
      r_out = *r_in;
    else
      r_out.setZero();
  }
  bool gauss_newton_backward(ConstMatMap<T> in, ConstMatMap<T> out, ConstMatMap<T> labels, MatMap<T> r_z,
                             MatMap<T>* din) override {
    if (!din) return this->loss_->has_gauss_newton(*this->activation_);
    return loss_->gauss_newton_product(in, out, labels, *this->activation_, as_const(r_z), *din);
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

// Every built-in layer type (make_layer below): refused as names of registered types, and offered
// as "did you mean" candidates.
const std::vector<std::string>& builtin_layer_types() {
  static const std::vector<std::string> names{"Dense",         "Output",      "Activation", "Loss",
                                              "BatchNormalization", "Dropout", "GaussianDropout",
                                              "AlphaDropout",  "GaussianNoise", "AutoEncoder", "RBM",
                                              "VariationalAutoencoder"};
  return names;
}

// Layer types registered with register_layer_type, one table per element type.
template <typename T>
class LayerTypeTable {
 public:
  static LayerTypeTable& instance() {
    static LayerTypeTable table;
    return table;
  }
  void add(const std::string& type, LayerFactory<T> factory) {
    const std::string key = registry_key(type);
    EIGENNET_REQUIRE(!key.empty(), "a layer type needs a non-empty name");
    for (const auto& builtin : builtin_layer_types())
      EIGENNET_REQUIRE(registry_key(builtin) != key,
                       "\"" + type + "\" is the name of the built-in layer type " + builtin + "; choose another name");
    EIGENNET_REQUIRE(static_cast<bool>(factory), "register_layer_type(\"" + type + "\"): the factory is empty");
    Entry replaced;  // destroyed after the lock is released: it may own a Python object
    std::lock_guard<std::mutex> lock(mutex_);
    auto& slot = entries_[key];
    replaced = std::move(slot);
    slot = Entry{type, std::move(factory)};
  }
  // The factory registered under `type`'s key (an empty one if none), copied so that it runs
  // without the lock held (a Python factory takes the GIL).
  LayerFactory<T> find(const std::string& key) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(key);
    return it == entries_.end() ? LayerFactory<T>() : it->second.factory;
  }
  std::vector<std::string> names() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::string> out;
    for (const auto& kv : entries_) out.push_back(kv.second.display_name);
    return out;
  }

 private:
  struct Entry {
    std::string display_name;
    LayerFactory<T> factory;
  };
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;
};

}  // namespace

template <typename T>
void register_layer_type(const std::string& type, LayerFactory<T> factory) {
  LayerTypeTable<T>::instance().add(type, std::move(factory));
}

template <typename T>
std::vector<std::string> layer_type_names() {
  std::vector<std::string> names = builtin_layer_types();
  for (auto& name : LayerTypeTable<T>::instance().names()) names.push_back(std::move(name));
  return names;
}

template <typename T>
std::unique_ptr<Layer<T>> make_layer(const Json& config, Index n_in, std::size_t position) {
  const std::string type = config.at("type").as_string("layer type");
  const std::string where = type + "(" + std::to_string(position) + ")";
  const std::string key = registry_key(type);
  if (key == "DENSE") return std::make_unique<Dense<T>>(config, n_in, where);
  if (key == "OUTPUT") return std::make_unique<Output<T>>(config, n_in, where);
  if (key == "ACTIVATION") return std::make_unique<ActivationLayer<T>>(config, n_in);
  if (key == "LOSS") return std::make_unique<LossLayer<T>>(config, n_in, where);
  if (key == "BATCHNORMALIZATION") return internal::make_batch_normalization<T>(config, n_in, where);
  if (auto noise = internal::make_noise_layer<T>(key, config, n_in, where)) return noise;
  if (key == "AUTOENCODER") return make_autoencoder<T>(config, n_in, where);
  if (key == "RBM") return make_rbm<T>(config, n_in, where);
  if (key == "VARIATIONALAUTOENCODER") return make_variational_autoencoder<T>(config, n_in, where);
  if (const LayerFactory<T> factory = LayerTypeTable<T>::instance().find(key)) {
    std::unique_ptr<Layer<T>> layer = factory(config, n_in, where);
    EIGENNET_REQUIRE(layer != nullptr, where + ": the registered factory returned no layer");
    return layer;
  }
  const std::string hint = closest_name(type, layer_type_names<T>());
  fail("unknown layer type \"" + type + "\"" + (hint.empty() ? "" : "; did you mean \"" + hint + "\"?") +
       " (a custom layer type must be registered, e.g. its Python class defined or imported, before a model using it"
       " is built or loaded)");
}

template class Layer<float>;
template class Layer<double>;
template std::unique_ptr<Layer<float>> make_layer<float>(const Json&, Index, std::size_t);
template std::unique_ptr<Layer<double>> make_layer<double>(const Json&, Index, std::size_t);
template void register_layer_type<float>(const std::string&, LayerFactory<float>);
template void register_layer_type<double>(const std::string&, LayerFactory<double>);
template std::vector<std::string> layer_type_names<float>();
template std::vector<std::string> layer_type_names<double>();

}  // namespace eigennet
