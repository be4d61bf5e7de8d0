// The built-in activations. Forward and backward are written as Eigen array expressions so
// that the common ones (ReLU, tanh, sigmoid, softmax) vectorize; nothing here allocates except
// RReLU's slope buffer, which grows only when a larger batch arrives.
#include <cmath>

#include "eigennet/activation.hpp"
#include "eigennet/errors.hpp"

namespace eigennet {
namespace {

template <typename T, typename Derived>
class ActivationBase : public Activation<T> {
 public:
  std::unique_ptr<Activation<T>> clone() const override {
    return std::make_unique<Derived>(static_cast<const Derived&>(*this));
  }
};

// An activation that blockwise() allows (see activation.hpp): Derived::apply(z, a) writes a = f(z)
// for Eigen arrays, whole matrices and blocks alike.
template <typename T, typename Derived>
class BlockwiseActivation : public ActivationBase<T, Derived> {
 public:
  void forward(ConstMatMap<T> z, MatMap<T> a, bool, Rng&) override { derived().apply(z.array(), a.array()); }
  bool blockwise() const override { return true; }
  void forward_block(ConstBlockMap<T> z, BlockMap<T> a) const override { derived().apply(z.array(), a.array()); }

 private:
  const Derived& derived() const { return static_cast<const Derived&>(*this); }
};

template <typename T>
T checked_param(const Json& config, const char* key, double fallback, const char* owner) {
  const double value = config.number_or(key, fallback);
  // Checked after the conversion too: 1e300 is a finite double but overflows float.
  EIGENNET_REQUIRE(std::isfinite(value) && std::isfinite(static_cast<T>(value)),
          std::string(owner) + ": " + key + " must be finite in the model's precision, got " + std::to_string(value));
  return static_cast<T>(value);
}

template <typename T>
class Identity final : public BlockwiseActivation<T, Identity<T>> {
 public:
  std::string name() const override { return "IDENTITY"; }
  template <typename Z, typename A>
  void apply(const Z& z, A&& a) const {
    a = z;
  }
  void backward(ConstMatMap<T>, ConstMatMap<T>, ConstMatMap<T> da, MatMap<T> dz) override {
    if (dz.data() != da.data()) dz = da;
  }
};

template <typename T>
class Relu final : public BlockwiseActivation<T, Relu<T>> {
 public:
  std::string name() const override { return "RELU"; }
  template <typename Z, typename A>
  void apply(const Z& z, A&& a) const {
    a = z.max(T(0));
  }
  void backward(ConstMatMap<T> z, ConstMatMap<T>, ConstMatMap<T> da, MatMap<T> dz) override {
    dz.array() = (z.array() > T(0)).select(da.array(), T(0));
  }
};

template <typename T>
class Relu6 final : public BlockwiseActivation<T, Relu6<T>> {
 public:
  std::string name() const override { return "RELU6"; }
  template <typename Z, typename A>
  void apply(const Z& z, A&& a) const {
    a = z.max(T(0)).min(T(6));
  }
  void backward(ConstMatMap<T> z, ConstMatMap<T>, ConstMatMap<T> da, MatMap<T> dz) override {
    dz.array() = (z.array() > T(0) && z.array() < T(6)).select(da.array(), T(0));
  }
};

template <typename T>
class LeakyRelu final : public BlockwiseActivation<T, LeakyRelu<T>> {
 public:
  explicit LeakyRelu(const Json& c) : alpha_(checked_param<T>(c, "alpha", 0.01, "LEAKYRELU")) {}
  std::string name() const override { return "LEAKYRELU"; }
  Json config() const override {
    Json c = Activation<T>::config();
    c.set("alpha", static_cast<double>(alpha_));
    return c;
  }
  template <typename Z, typename A>
  void apply(const Z& z, A&& a) const {
    a = (z > T(0)).select(z, alpha_ * z);
  }
  void backward(ConstMatMap<T> z, ConstMatMap<T>, ConstMatMap<T> da, MatMap<T> dz) override {
    dz.array() = (z.array() > T(0)).select(da.array(), alpha_ * da.array());
  }

 private:
  T alpha_;
};

template <typename T>
class ThresholdedRelu final : public BlockwiseActivation<T, ThresholdedRelu<T>> {
 public:
  explicit ThresholdedRelu(const Json& c) : theta_(checked_param<T>(c, "theta", 1.0, "THRESHOLDEDRELU")) {}
  std::string name() const override { return "THRESHOLDEDRELU"; }
  Json config() const override {
    Json c = Activation<T>::config();
    c.set("theta", static_cast<double>(theta_));
    return c;
  }
  template <typename Z, typename A>
  void apply(const Z& z, A&& a) const {
    a = (z > theta_).select(z, T(0));
  }
  void backward(ConstMatMap<T> z, ConstMatMap<T>, ConstMatMap<T> da, MatMap<T> dz) override {
    dz.array() = (z.array() > theta_).select(da.array(), T(0));
  }

 private:
  T theta_;
};

// Randomized leaky ReLU (Xu et al. 2015): while training each negative input gets its own slope
// drawn from U(lower, upper); at inference the slope is the mean (lower + upper) / 2.
template <typename T>
class RRelu final : public ActivationBase<T, RRelu<T>> {
 public:
  explicit RRelu(const Json& c)
      : lower_(checked_param<T>(c, "lower", 1.0 / 8.0, "RRELU")), upper_(checked_param<T>(c, "upper", 1.0 / 3.0, "RRELU")) {
    EIGENNET_REQUIRE(lower_ >= T(0) && lower_ <= upper_, "RRELU: need 0 <= lower <= upper");
  }
  std::string name() const override { return "RRELU"; }
  Json config() const override {
    Json c = Activation<T>::config();
    c.set("lower", static_cast<double>(lower_));
    c.set("upper", static_cast<double>(upper_));
    return c;
  }
  void forward(ConstMatMap<T> z, MatMap<T> a, bool training, Rng& rng) override {
    if (!training) {
      // Written only when it changes, so that concurrent inference never writes shared state.
      if (random_slopes_) random_slopes_ = false;
      const T slope = (lower_ + upper_) / T(2);
      a.array() = (z.array() > T(0)).select(z.array(), slope * z.array());
      return;
    }
    random_slopes_ = true;
    slopes_.reserve(z.rows(), z.cols());
    auto slopes = slopes_.view(z.cols());
    for (Index i = 0; i < slopes.size(); ++i) slopes.data()[i] = static_cast<T>(rng.uniform(lower_, upper_));
    a.array() = (z.array() > T(0)).select(z.array(), slopes.array() * z.array());
  }
  void backward(ConstMatMap<T> z, ConstMatMap<T>, ConstMatMap<T> da, MatMap<T> dz) override {
    if (random_slopes_ && slopes_.capacity() >= z.cols() && slopes_.rows() == z.rows()) {
      auto slopes = slopes_.view(z.cols());
      dz.array() = (z.array() > T(0)).select(da.array(), slopes.array() * da.array());
    } else {
      const T slope = (lower_ + upper_) / T(2);
      dz.array() = (z.array() > T(0)).select(da.array(), slope * da.array());
    }
  }

 private:
  T lower_, upper_;
  bool random_slopes_ = false;
  BatchBuffer<T> slopes_;
};

template <typename T>
class Elu final : public ActivationBase<T, Elu<T>> {
 public:
  explicit Elu(const Json& c) : alpha_(checked_param<T>(c, "alpha", 1.0, "ELU")) {}
  std::string name() const override { return "ELU"; }
  Json config() const override {
    Json c = Activation<T>::config();
    c.set("alpha", static_cast<double>(alpha_));
    return c;
  }
  void forward(ConstMatMap<T> z, MatMap<T> a, bool, Rng&) override {
    a.array() = (z.array() > T(0)).select(z.array(), alpha_ * (z.array().min(T(0)).exp() - T(1)));
  }
  void backward(ConstMatMap<T> z, ConstMatMap<T> a, ConstMatMap<T> da, MatMap<T> dz) override {
    dz.array() = (z.array() > T(0)).select(da.array(), da.array() * (a.array() + alpha_));
  }

 private:
  T alpha_;
};

// Scaled ELU (Klambauer et al. 2017) with the self-normalizing constants.
template <typename T>
class Selu final : public ActivationBase<T, Selu<T>> {
 public:
  std::string name() const override { return "SELU"; }
  void forward(ConstMatMap<T> z, MatMap<T> a, bool, Rng&) override {
    a.array() = kScale * (z.array() > T(0)).select(z.array(), kAlpha * (z.array().min(T(0)).exp() - T(1)));
  }
  void backward(ConstMatMap<T> z, ConstMatMap<T>, ConstMatMap<T> da, MatMap<T> dz) override {
    dz.array() = kScale * da.array() * (z.array() > T(0)).select(T(1), kAlpha * z.array().min(T(0)).exp());
  }

 private:
  static constexpr T kAlpha = T(1.6732632423543772848170429916717);
  static constexpr T kScale = T(1.0507009873554804934193349852946);
};

template <typename T>
class Sigmoid final : public ActivationBase<T, Sigmoid<T>> {
 public:
  std::string name() const override { return "SIGMOID"; }
  void forward(ConstMatMap<T> z, MatMap<T> a, bool, Rng&) override {
    a.array() = T(1) / (T(1) + (-z.array()).exp());
  }
  void backward(ConstMatMap<T>, ConstMatMap<T> a, ConstMatMap<T> da, MatMap<T> dz) override {
    dz.array() = da.array() * a.array() * (T(1) - a.array());
  }
};

// DL4J's hard sigmoid: min(1, max(0, 0.2 z + 0.5)).
template <typename T>
class HardSigmoid final : public ActivationBase<T, HardSigmoid<T>> {
 public:
  std::string name() const override { return "HARDSIGMOID"; }
  void forward(ConstMatMap<T> z, MatMap<T> a, bool, Rng&) override {
    a.array() = (T(0.2) * z.array() + T(0.5)).max(T(0)).min(T(1));
  }
  void backward(ConstMatMap<T> z, ConstMatMap<T>, ConstMatMap<T> da, MatMap<T> dz) override {
    dz.array() = (z.array() > T(-2.5) && z.array() < T(2.5)).select(T(0.2) * da.array(), T(0));
  }
};

template <typename T>
class Tanh final : public ActivationBase<T, Tanh<T>> {
 public:
  std::string name() const override { return "TANH"; }
  void forward(ConstMatMap<T> z, MatMap<T> a, bool, Rng&) override { a.array() = z.array().tanh(); }
  void backward(ConstMatMap<T>, ConstMatMap<T> a, ConstMatMap<T> da, MatMap<T> dz) override {
    dz.array() = da.array() * (T(1) - a.array().square());
  }
};

template <typename T>
class HardTanh final : public BlockwiseActivation<T, HardTanh<T>> {
 public:
  std::string name() const override { return "HARDTANH"; }
  template <typename Z, typename A>
  void apply(const Z& z, A&& a) const {
    a = z.max(T(-1)).min(T(1));
  }
  void backward(ConstMatMap<T> z, ConstMatMap<T>, ConstMatMap<T> da, MatMap<T> dz) override {
    dz.array() = (z.array() > T(-1) && z.array() < T(1)).select(da.array(), T(0));
  }
};

// DL4J's rational tanh: 1.7159 * r(2z/3) with r(y) = sgn(y) (1 - 1 / (1 + |y| + y^2 + 1.41645 y^4)),
// a cheap approximation of tanh (scaled as LeCun recommends).
template <typename T>
class RationalTanh final : public ActivationBase<T, RationalTanh<T>> {
 public:
  std::string name() const override { return "RATIONALTANH"; }
  void forward(ConstMatMap<T> z, MatMap<T> a, bool, Rng&) override {
    auto y = (T(2) / T(3)) * z.array();
    auto ay = y.abs();
    auto denominator = T(1) + ay + ay.square() + kQuartic * ay.square().square();
    a.array() = kScale * y.sign() * (T(1) - T(1) / denominator);
  }
  void backward(ConstMatMap<T> z, ConstMatMap<T>, ConstMatMap<T> da, MatMap<T> dz) override {
    auto ay = ((T(2) / T(3)) * z.array()).abs();
    auto denominator = T(1) + ay + ay.square() + kQuartic * ay.square().square();
    auto slope = (T(1) + T(2) * ay + T(4) * kQuartic * ay.cube()) / denominator.square();
    dz.array() = da.array() * (kScale * T(2) / T(3)) * slope;
  }

 private:
  static constexpr T kScale = T(1.7159);
  static constexpr T kQuartic = T(1.41645);
};

template <typename T>
class Softsign final : public ActivationBase<T, Softsign<T>> {
 public:
  std::string name() const override { return "SOFTSIGN"; }
  void forward(ConstMatMap<T> z, MatMap<T> a, bool, Rng&) override { a.array() = z.array() / (T(1) + z.array().abs()); }
  void backward(ConstMatMap<T> z, ConstMatMap<T>, ConstMatMap<T> da, MatMap<T> dz) override {
    dz.array() = da.array() / (T(1) + z.array().abs()).square();
  }
};

// softplus(z) = log(1 + e^z), written as max(z, 0) + log1p(e^-|z|) so it never overflows.
template <typename T>
class Softplus final : public ActivationBase<T, Softplus<T>> {
 public:
  std::string name() const override { return "SOFTPLUS"; }
  void forward(ConstMatMap<T> z, MatMap<T> a, bool, Rng&) override {
    a.array() = z.array().max(T(0)) + (-z.array().abs()).exp().log1p();
  }
  void backward(ConstMatMap<T> z, ConstMatMap<T>, ConstMatMap<T> da, MatMap<T> dz) override {
    dz.array() = da.array() / (T(1) + (-z.array()).exp());
  }
};

template <typename T>
class Cube final : public ActivationBase<T, Cube<T>> {
 public:
  std::string name() const override { return "CUBE"; }
  void forward(ConstMatMap<T> z, MatMap<T> a, bool, Rng&) override { a.array() = z.array().cube(); }
  void backward(ConstMatMap<T> z, ConstMatMap<T>, ConstMatMap<T> da, MatMap<T> dz) override {
    dz.array() = T(3) * da.array() * z.array().square();
  }
};

// Swish / SiLU: z * sigmoid(z).
template <typename T>
class Swish final : public ActivationBase<T, Swish<T>> {
 public:
  std::string name() const override { return "SWISH"; }
  void forward(ConstMatMap<T> z, MatMap<T> a, bool, Rng&) override {
    a.array() = z.array() / (T(1) + (-z.array()).exp());
  }
  void backward(ConstMatMap<T> z, ConstMatMap<T> a, ConstMatMap<T> da, MatMap<T> dz) override {
    auto s = T(1) / (T(1) + (-z.array()).exp());
    dz.array() = da.array() * (a.array() + s * (T(1) - a.array()));
  }
};

// Mish (Misra 2019): z * tanh(softplus(z)).
template <typename T>
class Mish final : public ActivationBase<T, Mish<T>> {
 public:
  std::string name() const override { return "MISH"; }
  void forward(ConstMatMap<T> z, MatMap<T> a, bool, Rng&) override {
    auto softplus = z.array().max(T(0)) + (-z.array().abs()).exp().log1p();
    a.array() = z.array() * softplus.tanh();
  }
  void backward(ConstMatMap<T> z, ConstMatMap<T>, ConstMatMap<T> da, MatMap<T> dz) override {
    auto softplus = z.array().max(T(0)) + (-z.array().abs()).exp().log1p();
    auto t = softplus.tanh();
    auto s = T(1) / (T(1) + (-z.array()).exp());
    dz.array() = da.array() * (t + z.array() * (T(1) - t.square()) * s);
  }
};

// GELU: exact form 0.5 z (1 + erf(z / sqrt 2)) by default (as PyTorch), or the tanh
// approximation with {"approximate": "tanh"}.
template <typename T>
class Gelu final : public ActivationBase<T, Gelu<T>> {
 public:
  explicit Gelu(const Json& c) {
    const std::string mode = c.string_or("approximate", "none");
    EIGENNET_REQUIRE(mode == "none" || mode == "tanh", "GELU: approximate must be \"none\" or \"tanh\", got \"" + mode + "\"");
    tanh_form_ = mode == "tanh";
  }
  std::string name() const override { return "GELU"; }
  Json config() const override {
    Json c = Activation<T>::config();
    c.set("approximate", tanh_form_ ? "tanh" : "none");
    return c;
  }
  void forward(ConstMatMap<T> z, MatMap<T> a, bool, Rng&) override {
    if (tanh_form_) {
      auto inner = kSqrt2OverPi * (z.array() + T(0.044715) * z.array().cube());
      a.array() = T(0.5) * z.array() * (T(1) + inner.tanh());
    } else {
      a.array() = z.array().unaryExpr([](T x) { return T(0.5) * x * (T(1) + std::erf(x * kInvSqrt2)); });
    }
  }
  void backward(ConstMatMap<T> z, ConstMatMap<T>, ConstMatMap<T> da, MatMap<T> dz) override {
    if (tanh_form_) {
      auto x = z.array();
      auto t = (kSqrt2OverPi * (x + T(0.044715) * x.cube())).tanh();
      auto slope = T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t.square()) * kSqrt2OverPi * (T(1) + T(3 * 0.044715) * x.square());
      dz.array() = da.array() * slope;
    } else {
      dz.array() = da.array() * z.array().unaryExpr([](T x) {
        return T(0.5) * (T(1) + std::erf(x * kInvSqrt2)) + x * kInvSqrt2Pi * std::exp(T(-0.5) * x * x);
      });
    }
  }

 private:
  static constexpr T kInvSqrt2 = T(0.70710678118654752440084436210485);
  static constexpr T kInvSqrt2Pi = T(0.39894228040143267793994605993438);
  static constexpr T kSqrt2OverPi = T(0.79788456080286535587989211986876);
  bool tanh_form_ = false;
};

// Softmax over each column (sample), computed with the column maximum subtracted.
template <typename T>
class Softmax final : public ActivationBase<T, Softmax<T>> {
 public:
  std::string name() const override { return "SOFTMAX"; }
  void forward(ConstMatMap<T> z, MatMap<T> a, bool, Rng&) override {
    for (Index j = 0; j < z.cols(); ++j) {
      const T peak = z.col(j).maxCoeff();
      a.col(j).array() = (z.col(j).array() - peak).exp();
      a.col(j) /= a.col(j).sum();
    }
  }
  void backward(ConstMatMap<T>, ConstMatMap<T> a, ConstMatMap<T> da, MatMap<T> dz) override {
    for (Index j = 0; j < a.cols(); ++j) {
      const T inner = a.col(j).dot(da.col(j));
      dz.col(j).array() = a.col(j).array() * (da.col(j).array() - inner);
    }
  }
};

template <typename T, typename A>
void add_plain(Registry<Activation<T>>& r, const char* name) {
  r.add(name, [](const Json&) { return std::make_unique<A>(); });
}
template <typename T, typename A>
void add_configured(Registry<Activation<T>>& r, const char* name) {
  r.add(name, [](const Json& c) { return std::make_unique<A>(c); });
}

template <typename T>
void register_builtins(Registry<Activation<T>>& r) {
  add_plain<T, Identity<T>>(r, "IDENTITY");
  add_plain<T, Identity<T>>(r, "LINEAR");
  add_plain<T, Relu<T>>(r, "RELU");
  add_plain<T, Relu6<T>>(r, "RELU6");
  add_configured<T, LeakyRelu<T>>(r, "LEAKYRELU");
  add_configured<T, ThresholdedRelu<T>>(r, "THRESHOLDEDRELU");
  add_configured<T, RRelu<T>>(r, "RRELU");
  add_configured<T, Elu<T>>(r, "ELU");
  add_plain<T, Selu<T>>(r, "SELU");
  add_plain<T, Sigmoid<T>>(r, "SIGMOID");
  add_plain<T, HardSigmoid<T>>(r, "HARDSIGMOID");
  add_plain<T, Tanh<T>>(r, "TANH");
  add_plain<T, HardTanh<T>>(r, "HARDTANH");
  add_plain<T, RationalTanh<T>>(r, "RATIONALTANH");
  add_plain<T, Softsign<T>>(r, "SOFTSIGN");
  add_plain<T, Softplus<T>>(r, "SOFTPLUS");
  add_plain<T, Cube<T>>(r, "CUBE");
  add_plain<T, Swish<T>>(r, "SWISH");
  add_plain<T, Mish<T>>(r, "MISH");
  add_configured<T, Gelu<T>>(r, "GELU");
  add_plain<T, Softmax<T>>(r, "SOFTMAX");
}

}  // namespace

template <typename T>
Registry<Activation<T>>& activation_registry() {
  static Registry<Activation<T>>* registry = [] {
    auto* r = new Registry<Activation<T>>("activation");
    register_builtins<T>(*r);
    return r;
  }();
  return *registry;
}

template Registry<Activation<float>>& activation_registry<float>();
template Registry<Activation<double>>& activation_registry<double>();

}  // namespace eigennet
