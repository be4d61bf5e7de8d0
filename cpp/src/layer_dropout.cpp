// The dropout family as layers: Dropout, GaussianDropout, AlphaDropout and GaussianNoise.
//
// Each keeps its width, has no parameters and is the identity except in Mode::Training, where it
// draws fresh noise from the network's Rng on every forward pass and keeps it (in buffers sized
// by reserve) for the backward pass. Rates are probabilities of DROPPING (Keras / PyTorch); DL4J's
// Dropout(p) and AlphaDropout(p) take the probability of keeping instead.
#include <cmath>

#include "eigennet/errors.hpp"
#include "layer_internal.hpp"

namespace eigennet {
namespace internal {

double read_drop_rate(const Json& config, const char* key, const std::string& where) {
  const Json* value = config.find(key);
  if (!value || value->is_null()) return 0.0;
  const double rate = value->as_number(where + " " + key);
  EIGENNET_REQUIRE(std::isfinite(rate) && rate >= 0.0 && rate < 1.0,
                   where + ": " + key + " must be in [0, 1) (the probability of dropping), got " + std::to_string(rate));
  return rate;
}

namespace {

// SELU's constants (Klambauer et al. 2017); AlphaDropout sets dropped units to SELU's negative
// saturation value -lambda * alpha.
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluLambda = 1.0507009873554804934193349852946;

// The shared part: width, identity outside training, the noise buffer, no parameters.
template <typename T>
class NoiseLayer : public Layer<T> {
 public:
  NoiseLayer(const Json& config, Index n_in, const std::string& where) {
    this->n_in_ = n_in;
    this->n_out_ = n_in;
    if (const Json* n_out = config.find("n_out"); n_out && !n_out->is_null())
      EIGENNET_REQUIRE(n_out->as_int(where + " n_out") == n_in,
                       where + ": n_out must equal n_in (" + std::to_string(n_in) + "); the layer keeps its width");
    if (const Json* act = config.find("activation"); act && !act->is_null())
      EIGENNET_REQUIRE(make_activation<T>(*act)->name() == "IDENTITY",
                       where + ": this layer has no activation; put an ActivationLayer after it");
    identity_ = make_activation<T>(Json("IDENTITY"));
  }

  void reserve(Index max_batch) override {
    if (uses_noise_buffer() && strength() > 0) noise_.reserve(this->n_in_, max_batch);
  }

  void forward(ConstMatMap<T> in, MatMap<T> out, Mode mode, Rng& rng) override {
    active_ = mode == Mode::Training && strength() > 0 && !this->frozen_;
    if (!active_) {
      copy(in, out);
      return;
    }
    apply_noise(in, out, rng);
  }

  void infer(ConstMatMap<T> in, MatMap<T> out) const override { copy(in, out); }

  void backward(ConstMatMap<T>, ConstMatMap<T>, MatMap<T> dout, MatMap<T>* din) override {
    if (!din) return;
    if (!active_ || !uses_noise_buffer()) {
      *din = dout;
      return;
    }
    // d out / d in is the (scaled) mask or the multiplicative noise kept by forward.
    din->array() = dout.array() * noise_.view(dout.cols()).array();
  }

  // Forward-mode derivative at the last forward pass (Hessian-free): the identity unless that pass
  // drew noise, then the same element-wise derivative as backward. Hessian-free runs the network
  // deterministically, so there it is the identity.
  bool supports_r_op() const override { return true; }
  void forward_r(ConstMatMap<T>, ConstMatMap<T>, const T*, const ConstMatMap<T>* r_in, MatMap<T> r_out) override {
    if (!r_in)
      r_out.setZero();
    else if (active_ && uses_noise_buffer())
      r_out.array() = r_in->array() * noise_.view(r_out.cols()).array();
    else
      r_out = *r_in;
  }

  // Reported so that summaries and configurations show what the layer applies after the noise.
  const Activation<T>* activation() const override { return identity_.get(); }

 protected:
  // The rate or standard deviation; 0 makes the layer an exact identity that draws nothing.
  virtual double strength() const = 0;
  // False for additive noise, whose derivative is 1.
  virtual bool uses_noise_buffer() const { return true; }
  // out = noisy(in); keeps d out / d in in noise_ when uses_noise_buffer().
  virtual void apply_noise(ConstMatMap<T> in, MatMap<T> out, Rng& rng) = 0;

  static void copy(ConstMatMap<T> in, MatMap<T> out) {
    if (out.data() != in.data()) out = in;
  }

  BatchBuffer<T> noise_;
  bool active_ = false;

 private:
  std::unique_ptr<Activation<T>> identity_;
};

// The dropout layers: configured by `rate`, the probability of dropping a unit.
template <typename T>
class RateNoiseLayer : public NoiseLayer<T> {
 public:
  RateNoiseLayer(const Json& config, Index n_in, const std::string& where)
      : NoiseLayer<T>(config, n_in, where), rate_(read_drop_rate(config, "rate", where)) {}
  Json config() const override {
    Json c = this->common_config();
    c.set("rate", rate_);
    return c;
  }

 protected:
  double strength() const override { return rate_; }
  const double rate_;
};

// Inverted dropout: each unit is zeroed with probability rate, kept ones are scaled by 1/(1-rate).
template <typename T>
class DropoutLayer final : public RateNoiseLayer<T> {
 public:
  using RateNoiseLayer<T>::RateNoiseLayer;
  std::string type() const override { return "Dropout"; }

 private:
  void apply_noise(ConstMatMap<T> in, MatMap<T> out, Rng& rng) override {
    auto mask = this->noise_.view(in.cols());
    draw_dropout_mask<T>(mask.data(), nullptr, mask.size(), this->rate_, rng);
    out.array() = in.array() * mask.array();
  }
};

// Multiplicative N(1, rate / (1 - rate)) noise (Srivastava et al. 2014; Keras and DL4J's
// GaussianDropout): the variance of Bernoulli dropout with the same rate, without zeros.
template <typename T>
class GaussianDropoutLayer final : public RateNoiseLayer<T> {
 public:
  using RateNoiseLayer<T>::RateNoiseLayer;
  std::string type() const override { return "GaussianDropout"; }

 private:
  void apply_noise(ConstMatMap<T> in, MatMap<T> out, Rng& rng) override {
    const double stddev = std::sqrt(this->rate_ / (1.0 - this->rate_));
    auto noise = this->noise_.view(in.cols());
    T* n = noise.data();
    for (Index k = 0; k < noise.size(); ++k) n[k] = static_cast<T>(1.0 + stddev * rng.normal());
    out.array() = in.array() * noise.array();
  }
};

// Alpha dropout (Klambauer et al. 2017, section "New Dropout Technique"): dropped units take
// SELU's saturation value alpha' = -lambda * alpha, then an affine map a * x + b restores zero
// mean and unit variance for inputs with zero mean and unit variance:
//   q = 1 - rate, a = (q (1 + rate alpha'^2))^(-1/2), b = -a alpha' rate.
// d out / d in is a for kept units, 0 for dropped ones.
template <typename T>
class AlphaDropoutLayer final : public RateNoiseLayer<T> {
 public:
  AlphaDropoutLayer(const Json& config, Index n_in, const std::string& where)
      : RateNoiseLayer<T>(config, n_in, where) {
    const double rate = this->rate_;
    const double alpha_prime = -kSeluLambda * kSeluAlpha;
    a_ = 1.0 / std::sqrt((1.0 - rate) * (1.0 + rate * alpha_prime * alpha_prime));
    b_ = -a_ * alpha_prime * rate;
    dropped_value_ = a_ * alpha_prime + b_;
  }
  std::string type() const override { return "AlphaDropout"; }

 private:
  void apply_noise(ConstMatMap<T> in, MatMap<T> out, Rng& rng) override {
    auto slope = this->noise_.view(in.cols());
    const T a = static_cast<T>(a_), b = static_cast<T>(b_), dropped = static_cast<T>(dropped_value_);
    const T* x = in.data();
    T* y = out.data();
    T* s = slope.data();
    for (Index k = 0; k < slope.size(); ++k) {
      const bool kept = rng.uniform() >= this->rate_;
      s[k] = kept ? a : T(0);
      y[k] = kept ? a * x[k] + b : dropped;
    }
  }
  double a_ = 1.0, b_ = 0.0, dropped_value_ = 0.0;
};

// Additive N(0, stddev^2) noise (Keras GaussianNoise, DL4J GaussianNoise).
template <typename T>
class GaussianNoiseLayer final : public NoiseLayer<T> {
 public:
  GaussianNoiseLayer(const Json& config, Index n_in, const std::string& where) : NoiseLayer<T>(config, n_in, where) {
    EIGENNET_REQUIRE(config.contains("stddev"), where + ": GaussianNoise needs stddev");
    stddev_ = config.at("stddev").as_number(where + " stddev");
    EIGENNET_REQUIRE(std::isfinite(stddev_) && stddev_ >= 0,
                     where + ": stddev must be finite and >= 0, got " + std::to_string(stddev_));
  }
  std::string type() const override { return "GaussianNoise"; }
  Json config() const override {
    Json c = this->common_config();
    c.set("stddev", stddev_);
    return c;
  }

 private:
  double strength() const override { return stddev_; }
  bool uses_noise_buffer() const override { return false; }
  void apply_noise(ConstMatMap<T> in, MatMap<T> out, Rng& rng) override {
    const T* x = in.data();
    T* y = out.data();
    for (Index k = 0; k < in.size(); ++k) y[k] = x[k] + static_cast<T>(stddev_ * rng.normal());
  }
  double stddev_ = 0.0;
};

}  // namespace

template <typename T>
std::unique_ptr<Layer<T>> make_noise_layer(const std::string& key, const Json& config, Index n_in,
                                           const std::string& where) {
  if (key == "DROPOUT") return std::make_unique<DropoutLayer<T>>(config, n_in, where);
  if (key == "GAUSSIANDROPOUT") return std::make_unique<GaussianDropoutLayer<T>>(config, n_in, where);
  if (key == "ALPHADROPOUT") return std::make_unique<AlphaDropoutLayer<T>>(config, n_in, where);
  if (key == "GAUSSIANNOISE") return std::make_unique<GaussianNoiseLayer<T>>(config, n_in, where);
  return nullptr;
}

template std::unique_ptr<Layer<float>> make_noise_layer<float>(const std::string&, const Json&, Index,
                                                               const std::string&);
template std::unique_ptr<Layer<double>> make_noise_layer<double>(const std::string&, const Json&, Index,
                                                                 const std::string&);

}  // namespace internal
}  // namespace eigennet
