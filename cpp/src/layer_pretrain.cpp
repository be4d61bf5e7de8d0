// Unsupervised layers (issue #4): AutoEncoder, RBM and VariationalAutoencoder.
//
// In a supervised network each acts as an encoder (like Dense: a column per sample, W is
// n_out x n_in) and pretrains on its own objective through Layer::pretrain_gradient, which
// writes the gradient of that objective (mean over the batch) into the layer's whole gradient
// slice. In the supervised backward pass parameters used only by the decoder get gradient 0.
// x is one input column (n_in values), m the batch size, sigm the logistic sigmoid.
//
// AutoEncoder (Vincent et al. 2008 for the denoising variant, Ng's "Sparse autoencoder" notes
// for the sparsity penalty). Parameters, in order: W (n_out x n_in), b (n_out), vb (n_in) and,
// untied only, W_dec (n_in x n_out; from Python an (n_out, n_in) array).
//   encoder  h = f(W x~ + b)                 (the supervised output uses the clean x)
//   decoder  x^ = f(W^T h + vb)  tied        or  x^ = f(W_dec h + vb)  untied
//            (f, the layer's activation, serves both; sigmoid by default)
//   x~       masking noise: each input set to 0 with probability corruption_level, drawn anew
//            for every pretraining batch; never applied in supervised use or reconstruct().
//   objective J = (1/m) sum_samples L(x^, x) + beta sum_j KL(rho || rho^_j),
//            L = MSE: (1/n_in) sum_i (x^_i - x_i)^2 (the library's MSE loss, mean over features)
//                XENT: -sum_i [x_i log x^_i + (1 - x_i) log(1 - x^_i)] (needs sigmoid; inputs
//                in [0, 1]; computed from the pre-activation, so it never takes log 0),
//            rho^_j = batch mean of h_j, KL(p || q) = p log(p/q) + (1 - p) log((1 - p)/(1 - q)),
//            rho = sparsity, beta = sparsity_weight (beta > 0 needs sigmoid: rho^ must lie in
//            (0, 1); rho^ is clipped to [1e-7, 1 - 1e-7] float / [1e-12, 1 - 1e-12] double).
//   reconstruction_error: the mean over samples of L (no noise, no penalty).
//
// RBM (Hinton 2010, "A practical guide to training restricted Boltzmann machines"), binary
// hidden units; parameters W (n_out x n_in), b (hidden bias), vb (visible bias).
//   p(h = 1 | v) = sigm(W v + b)                  (also the supervised output)
//   binary visible:   p(v = 1 | h) = sigm(W^T h + vb)
//   gaussian visible: v | h ~ N(W^T h + vb, I) (unit variance: standardize the inputs)
//   CD-k: h0 ~ p(h | x) sampled; then k times: v = E[v | h] (mean-field visible units, guide
//   section 3.1), p_h = p(h = 1 | v), h ~ p_h except at the last step. With q0 = p(h = 1 | x)
//   and (v_k, p_k) the last step's visible means and hidden probabilities, the returned
//   "gradient" is the negative CD update, so that a descent step of the shared updater
//   performs CD learning:
//     dW = (p_k v_k^T - q0 x^T) / m,   db = mean(p_k - q0),   dvb = mean(v_k - x).
//   CD has no tractable objective: pretrain_gradient returns the mean reconstruction error of
//   the one-step mean-field reconstruction x^ = E[v | h = q0] (what reconstruct() gives):
//   cross-entropy summed over features for binary visible units (inputs in [0, 1]), MSE (mean
//   over features) for gaussian ones; plus the optional sparsity penalty beta sum_j KL(rho ||
//   mean q0_j), whose exact gradient is added.
//   Weights start N(0, 0.01^2) (the guide's section 8), biases 0.
//
// VariationalAutoencoder (Kingma & Welling 2014), Gaussian latent z of n_out dimensions.
//   encoder  e_0 = x, e_l = f(enc{l-1}_W e_{l-1} + enc{l-1}_b) for each encoder_layer_sizes entry
//   q(z|x) = N(mu, diag exp(lv)),  mu = mu_W e_L + mu_b,  lv = logvar_W e_L + logvar_b
//   decoder  d_0 = z, d_l = f(dec{l-1}_W d_{l-1} + dec{l-1}_b) for each decoder_layer_sizes entry
//   p(x|z)   bernoulli: o = out_W d_D + out_b, p(x_i = 1) = sigm(o_i),
//                       -log p(x|z) = sum_i softplus(o_i) - x_i o_i   (inputs in [0, 1])
//            gaussian:  mean = out_W d_D + out_b, log-variance s = out_logvar_W d_D + out_logvar_b,
//                       -log p(x|z) = sum_i 0.5 (log 2 pi + s_i + (x_i - mean_i)^2 e^-s_i)
//   objective (negative ELBO, mean over the batch, num_samples draws S of z per input):
//     J = (1/m) sum_samples [ KL(q(z|x) || N(0, I)) + (1/S) sum_s -log p(x | z_s) ],
//     KL = 0.5 sum_j (mu_j^2 + e^lv_j - lv_j - 1),  z_s = mu + e^(lv/2) * eps_s, eps_s ~ N(0, I)
//   (gradients backpropagated through the reparameterization). The supervised output is mu,
//   the mean of q(z|x), as DL4J's VariationalAutoencoder.activate (identity pzx activation):
//   the log-variance head, the decoder and the output head then get gradient 0.
//   reconstruct: decoder mean at z = mu; generate: decoder mean (sigm(o) or mean) at given z;
//   reconstruction_error: cross-entropy (bernoulli, summed over features) or MSE (gaussian, mean
//   over features) of reconstruct(x), mean over samples.
//   reconstruction_log_probability: the importance-sampled estimate of log p(x) with S draws
//     z_s ~ q(z|x):  log (1/S) sum_s p(x|z_s) p(z_s) / q(z_s|x)   (computed by log-sum-exp).
//     (DL4J's reconstructionLogProbability averages log p(x|z_s) instead, An & Cho 2015; ours
//     is a stochastic lower bound of log p(x) that tightens as S grows, Burda et al. 2016.)
//   Default initialization: the hidden layers by activation as Dense (RELU for the ReLU family,
//   LECUN_NORMAL for SELU, XAVIER otherwise), the heads mu/logvar/out XAVIER; biases 0. A
//   weight_init given in the configuration applies to every weight matrix.
//
// Every buffer of the training path is sized in reserve(max_batch) (a larger batch reserves
// more first); the const paths (infer, reconstruct, ...) allocate per call, as predict does.

#include "layer_pretrain.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "eigennet/errors.hpp"
#include "eigennet/init.hpp"
#include "eigennet/registry.hpp"
#include "eigennet/threads.hpp"
#include "product.hpp"

namespace eigennet {

namespace {

constexpr Index kMaxWidth = Index(1) << 31;
constexpr Index kConstChunk = 1024;  // columns per block on the allocating const paths
constexpr double kLog2Pi = 1.8378770664093454836;  // log(2 pi)

// ------------------------------------------------------------------ configuration readers

Index read_width(const Json& config, const char* key, const std::string& where) {
  const std::int64_t n = config.at(key).as_int(where + " " + key);
  EIGENNET_REQUIRE(n >= 1 && n <= kMaxWidth, where + ": " + key + " must be in [1, 2^31], got " + std::to_string(n));
  return static_cast<Index>(n);
}

double read_real(const Json& config, const char* key, double fallback, const std::string& where) {
  const Json* v = config.find(key);
  if (!v || v->is_null()) return fallback;
  EIGENNET_REQUIRE(v->is_number(), where + ": " + key + " must be a number");
  const double x = v->as_number();
  EIGENNET_REQUIRE(std::isfinite(x), where + ": " + key + " must be finite");
  return x;
}

std::int64_t read_int(const Json& config, const char* key, std::int64_t fallback, const std::string& where) {
  const Json* v = config.find(key);
  if (!v || v->is_null()) return fallback;
  EIGENNET_REQUIRE(v->is_number() && v->as_number() == std::floor(v->as_number()),
                   where + ": " + key + " must be an integer");
  return v->as_int(where + " " + key);
}

// One of `choices` (compared as registry names are: case, '_' and '-' ignored), returned in the
// spelling of `choices`.
std::string read_choice(const Json& config, const char* key, const std::string& fallback,
                        const std::vector<std::string>& choices, const std::string& where) {
  const Json* v = config.find(key);
  if (!v || v->is_null()) return fallback;
  const std::string given = v->as_string(where + " " + key);
  for (const auto& c : choices)
    if (registry_key(c) == registry_key(given)) return c;
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "\"" : ", \"") + c + "\"";
  fail(where + ": " + key + " must be one of " + list + ", got \"" + given + "\"");
}

std::vector<Index> read_sizes(const Json& config, const char* key, const std::string& where) {
  const Json* v = config.find(key);
  EIGENNET_REQUIRE(v && v->is_array(), where + ": " + key + " must be a list of layer widths");
  std::vector<Index> sizes;
  for (const Json& e : v->as_array()) {
    EIGENNET_REQUIRE(e.is_number() && e.as_number() == std::floor(e.as_number()),
                     where + ": " + key + " must hold integers");
    const std::int64_t n = e.as_int();
    EIGENNET_REQUIRE(n >= 1 && n <= kMaxWidth, where + ": " + key + " entries must be in [1, 2^31], got " + std::to_string(n));
    sizes.push_back(static_cast<Index>(n));
  }
  EIGENNET_REQUIRE(!sizes.empty(), where + ": " + key + " needs at least one layer");
  return sizes;
}

Json default_weight_init(const std::string& activation) {
  static const char* relu_family[] = {"RELU", "RELU6", "LEAKYRELU", "RRELU", "THRESHOLDEDRELU", "ELU", "GELU",
                                      "SWISH", "MISH"};
  for (const char* name : relu_family)
    if (activation == name) return Json("RELU");
  if (activation == "SELU") return Json("LECUN_NORMAL");
  return Json("XAVIER");
}

bool has_weight_init(const Json& config) { return config.contains("weight_init") && !config.at("weight_init").is_null(); }

void check_weight_count(Index rows, Index cols, const std::string& where) {
  EIGENNET_REQUIRE(rows * cols <= (Index(1) << 34), where + ": " + std::to_string(rows) + " x " + std::to_string(cols) +
                                                        " weights is more than this library allows (2^34)");
}

// ------------------------------------------------------------------ numerics

template <typename T>
T clip_eps() {
  return std::is_same<T, float>::value ? T(1e-7) : T(1e-12);
}

template <typename T>
void sigmoid_inplace(MatMap<T> m) {
  m.array() = T(1) / (T(1) + (-m.array()).exp());
}

// sum over all entries of softplus(a) - x a, i.e. the Bernoulli cross-entropy
// -[x log sigm(a) + (1 - x) log(1 - sigm(a))] from logits a, without ever taking log 0.
template <typename T>
double bernoulli_nll(ConstMatMap<T> logits, ConstMatMap<T> x) {
  const auto a = logits.array();
  return (a.max(T(0)) + (-a.abs()).exp().log1p() - x.array() * a).template cast<double>().sum();
}

template <typename T>
void require_unit_interval(ConstMatMap<T> x, const std::string& where, const char* why) {
  const T low = x.minCoeff(), high = x.maxCoeff();
  EIGENNET_REQUIRE(low >= T(0) && high <= T(1), where + ": " + why + " needs inputs in [0, 1], got values in [" +
                                                    std::to_string(static_cast<double>(low)) + ", " +
                                                    std::to_string(static_cast<double>(high)) + "]");
}

template <typename T>
void sample_bernoulli(ConstMatMap<T> p, MatMap<T> out, Rng& rng) {
  const Index n = p.size();
  const T* src = p.data();
  T* dst = out.data();
  for (Index i = 0; i < n; ++i) dst[i] = rng.uniform() < static_cast<double>(src[i]) ? T(1) : T(0);
}

// Sparsity penalty beta sum_j KL(rho || rho^_j), rho^ the row means of h (n x m). Adds its
// derivative with respect to h to `dh` (when non-null) and returns the penalty. `rho_hat` and
// `dkl` are n-vectors owned by the caller (sized at construction).
template <typename T>
double sparsity_penalty(ConstMatMap<T> h, double rho, double beta, Vector<T>& rho_hat, Vector<T>& dkl, MatMap<T>* dh) {
  const Index m = h.cols();
  const T eps = clip_eps<T>();
  rho_hat = h.rowwise().sum() / static_cast<T>(m);
  rho_hat = rho_hat.array().max(eps).min(T(1) - eps).matrix();
  double penalty = 0;
  for (Index j = 0; j < rho_hat.size(); ++j) {
    const double q = static_cast<double>(rho_hat[j]);
    penalty += rho * std::log(rho / q) + (1 - rho) * std::log((1 - rho) / (1 - q));
    dkl[j] = static_cast<T>(beta / static_cast<double>(m) * (-rho / q + (1 - rho) / (1 - q)));
  }
  if (dh) dh->colwise() += dkl;
  return beta * penalty;
}

// A named tensor in the layer's parameter slice.
struct Slot {
  Index offset = 0;
  Index rows = 0;
  Index cols = 0;
};

// Parameter table and flat-buffer access shared by the three layers.
template <typename T>
class UnsupervisedBase : public Layer<T> {
 public:
  std::vector<ParamInfo> param_info() const override { return info_; }
  void bind(T* params, T* grads) override {
    params_ = params;
    grads_ = grads;
  }
  bool pretrainable() const override { return true; }

 protected:
  explicit UnsupervisedBase(std::string where) : where_(std::move(where)) {}

  Slot add(const std::string& name, Index rows, Index cols, bool is_bias) {
    Slot s{total_, rows, cols};
    info_.push_back({name, total_, rows, cols, is_bias});
    total_ += rows * cols;
    return s;
  }
  ConstMatMap<T> P(const Slot& s) const { return ConstMatMap<T>(params_ + s.offset, s.rows, s.cols); }
  ConstVecMap<T> Pv(const Slot& s) const { return ConstVecMap<T>(params_ + s.offset, s.rows); }
  MatMap<T> G(const Slot& s) { return MatMap<T>(grads_ + s.offset, s.rows, s.cols); }
  VecMap<T> Gv(const Slot& s) { return VecMap<T>(grads_ + s.offset, s.rows); }
  VecMap<T> all_grads() { return VecMap<T>(grads_, total_); }
  // Zeroes the gradient of the parameters [from, total).
  void zero_grads_from(Index from) { VecMap<T>(grads_ + from, total_ - from).setZero(); }

  void init_weights(const Json& spec, const Slot& s, Rng& rng) {
    initialize_weights<T>(spec, params_ + s.offset, s.rows * s.cols, s.cols, s.rows, rng);
  }
  void init_zero(const Slot& s) { VecMap<T>(params_ + s.offset, s.rows * s.cols).setZero(); }

  void check_input(ConstMatMap<T> in) const {
    EIGENNET_REQUIRE(in.rows() == this->n_in_, where_ + ": input has " + std::to_string(in.rows()) +
                                                   " features, expected " + std::to_string(this->n_in_));
  }

  // out = W in + b
  void affine(const Slot& W, const Slot& b, ConstMatMap<T> in, MatMap<T> out) const {
    multiply(out, P(W), in);
    out.colwise() += Pv(b);
  }
  // Given dz = dL/d(W in + b): gradients of W and b (assigned, or added when `accumulate`) and,
  // when `din` is non-null, dL/d(in) = W^T dz.
  void affine_backward(const Slot& W, const Slot& b, ConstMatMap<T> in, ConstMatMap<T> dz, MatMap<T>* din,
                       bool accumulate) {
    if (accumulate) {
      multiply(G(W), dz, in.transpose(), Update::Add);
      Gv(b) += dz.rowwise().sum();
    } else {
      multiply(G(W), dz, in.transpose());
      Gv(b) = dz.rowwise().sum();
    }
    if (din) multiply(*din, P(W).transpose(), dz);
  }

  std::string where_;
  std::vector<ParamInfo> info_;
  Index total_ = 0;
  T* params_ = nullptr;
  T* grads_ = nullptr;
};

// ================================================================== AutoEncoder

template <typename T>
class AutoEncoder final : public UnsupervisedBase<T> {
 public:
  AutoEncoder(const Json& config, Index n_in, const std::string& where) : UnsupervisedBase<T>(where) {
    this->n_in_ = n_in;
    this->n_out_ = read_width(config, "n_out", where);
    check_weight_count(this->n_out_, n_in, where);
    enc_act_ = make_activation<T>(config.contains("activation") && !config.at("activation").is_null()
                                      ? config.at("activation")
                                      : Json("SIGMOID"));
    dec_act_ = enc_act_->clone();
    const bool sigmoid = enc_act_->name() == "SIGMOID";
    tied_ = config.bool_or("tied", true);
    corruption_ = read_real(config, "corruption_level", 0.0, where);
    EIGENNET_REQUIRE(corruption_ >= 0 && corruption_ < 1,
                     where + ": corruption_level must be in [0, 1), got " + std::to_string(corruption_));
    rho_ = read_real(config, "sparsity", 0.0, where);
    beta_ = read_real(config, "sparsity_weight", 0.0, where);
    EIGENNET_REQUIRE(beta_ >= 0, where + ": sparsity_weight must be >= 0, got " + std::to_string(beta_));
    EIGENNET_REQUIRE(rho_ >= 0 && rho_ < 1, where + ": sparsity must be in [0, 1), got " + std::to_string(rho_));
    if (beta_ > 0) {
      EIGENNET_REQUIRE(rho_ > 0, where + ": sparsity_weight > 0 needs a sparsity target in (0, 1)");
      EIGENNET_REQUIRE(sigmoid, where + ": the sparsity penalty needs hidden activations in (0, 1): use activation "
                                        "SIGMOID, not " + enc_act_->name());
    }
    xent_ = read_choice(config, "reconstruction_loss", "MSE", {"MSE", "XENT"}, where) == "XENT";
    EIGENNET_REQUIRE(!xent_ || sigmoid, where + ": reconstruction_loss XENT needs activation SIGMOID (the "
                                                "reconstruction must be a probability), not " + enc_act_->name());
    weight_init_ = canonical_weight_init(has_weight_init(config) ? config.at("weight_init")
                                                                 : default_weight_init(enc_act_->name()));
    W_ = this->add("W", this->n_out_, n_in, false);
    b_ = this->add("b", this->n_out_, 1, true);
    vb_ = this->add("vb", n_in, 1, true);
    if (!tied_) W_dec_ = this->add("W_dec", n_in, this->n_out_, false);
    rho_hat_.resize(this->n_out_);
    dkl_.resize(this->n_out_);
  }

  std::string type() const override { return "AutoEncoder"; }
  const Activation<T>* activation() const override { return enc_act_.get(); }

  void init(Rng& rng) override {
    this->init_weights(weight_init_, W_, rng);
    this->init_zero(b_);
    this->init_zero(vb_);
    if (!tied_) this->init_weights(weight_init_, W_dec_, rng);
  }

  void reserve(Index max_batch) override {
    const Index n = this->n_out_, d = this->n_in_;
    z1_.reserve(n, max_batch);
    h_.reserve(n, max_batch);
    dh_.reserve(n, max_batch);
    xc_.reserve(d, max_batch);
    z2_.reserve(d, max_batch);
    xhat_.reserve(d, max_batch);
    d2_.reserve(d, max_batch);
  }

  void forward(ConstMatMap<T> in, MatMap<T> out, Mode mode, Rng& rng) override {
    this->check_input(in);
    if (in.cols() > z1_.capacity()) reserve(in.cols());
    auto z = z1_.view(in.cols());
    this->affine(W_, b_, in, z);
    enc_act_->forward(as_const(z), out, mode == Mode::Training, rng);
  }

  void infer(ConstMatMap<T> in, MatMap<T> out) const override {
    this->check_input(in);
    this->affine(W_, b_, in, out);
    Rng unused(0);
    enc_act_->forward(as_const(out), out, false, unused);
  }

  void backward(ConstMatMap<T> in, ConstMatMap<T> out, MatMap<T> dout, MatMap<T>* din) override {
    enc_act_->backward(as_const(z1_.view(in.cols())), out, as_const(dout), dout);
    if (!this->frozen_) {
      this->affine_backward(W_, b_, in, as_const(dout), din, false);
    } else if (din) {
      multiply(*din, this->P(W_).transpose(), dout);
    }
    this->zero_grads_from(vb_.offset);  // vb and W_dec serve only the decoder
  }

  T pretrain_gradient(ConstMatMap<T> x, Rng& rng) override {
    this->check_input(x);
    if (xent_) require_unit_interval(x, this->where_, "reconstruction_loss XENT");
    const Index m = x.cols();
    if (m > z1_.capacity()) reserve(m);
    Rng unused(0);
    // Masking noise.
    auto xc = xc_.view(m);
    if (corruption_ > 0) {
      const T* src = x.data();
      T* dst = xc.data();
      for (Index i = 0; i < xc.size(); ++i) dst[i] = rng.uniform() < corruption_ ? T(0) : src[i];
    } else {
      xc = x;
    }
    // Encoder and decoder.
    auto z1 = z1_.view(m), h = h_.view(m), z2 = z2_.view(m), xhat = xhat_.view(m), d2 = d2_.view(m), dh = dh_.view(m);
    this->affine(W_, b_, as_const(xc), z1);
    enc_act_->forward(as_const(z1), h, false, unused);
    decode_linear(as_const(h), z2);
    dec_act_->forward(as_const(z2), xhat, false, unused);
    // Reconstruction loss and its gradient with respect to the decoder pre-activation.
    const double inv_m = 1.0 / static_cast<double>(m);
    double loss;
    if (xent_) {
      loss = bernoulli_nll<T>(as_const(z2), x);
      d2 = (xhat - x) * static_cast<T>(inv_m);  // sigmoid + cross-entropy
    } else {
      loss = (xhat - x).template cast<double>().squaredNorm() / static_cast<double>(this->n_in_);
      d2 = (xhat - x) * static_cast<T>(2.0 * inv_m / static_cast<double>(this->n_in_));
      dec_act_->backward(as_const(z2), as_const(xhat), as_const(d2), d2);
    }
    double objective = loss * inv_m;
    // Decoder gradients and the gradient reaching h.
    this->Gv(vb_) = d2.rowwise().sum();
    if (tied_) {
      multiply(this->G(W_), h, d2.transpose());  // from x^ = f(W^T h + vb)
      multiply(dh, this->P(W_), d2);
    } else {
      multiply(this->G(W_dec_), d2, h.transpose());
      multiply(dh, this->P(W_dec_).transpose(), d2);
    }
    if (beta_ > 0) objective += sparsity_penalty<T>(as_const(h), rho_, beta_, rho_hat_, dkl_, &dh);
    // Encoder gradients.
    enc_act_->backward(as_const(z1), as_const(h), as_const(dh), dh);
    if (tied_) {
      multiply(this->G(W_), dh, xc.transpose(), Update::Add);
    } else {
      multiply(this->G(W_), dh, xc.transpose());
    }
    this->Gv(b_) = dh.rowwise().sum();
    if (this->frozen_) this->all_grads().setZero();
    return static_cast<T>(objective);
  }

  void reconstruct(ConstMatMap<T> in, MatMap<T> out) const override {
    this->check_input(in);
    EIGENNET_REQUIRE(out.rows() == this->n_in_ && out.cols() == in.cols(), this->where_ + ": reconstruct output has the wrong shape");
    Matrix<T> h(this->n_out_, in.cols());
    reconstruct_logits(in, MatMap<T>(h.data(), h.rows(), h.cols()), out);
    Rng unused(0);
    dec_act_->forward(as_const(out), out, false, unused);
  }

  T reconstruction_error(ConstMatMap<T> in) const override {
    this->check_input(in);
    EIGENNET_REQUIRE(in.cols() > 0, this->where_ + ": reconstruction_error needs at least one sample");
    if (xent_) require_unit_interval(in, this->where_, "reconstruction_loss XENT");
    const Index n = in.cols(), chunk = std::min(n, kConstChunk);
    Matrix<T> h(this->n_out_, chunk), z(this->n_in_, chunk);
    double total = 0;
    Rng unused(0);
    for (Index start = 0; start < n; start += chunk) {
      const Index b = std::min(chunk, n - start);
      ConstMatMap<T> x(in.data() + start * in.rows(), in.rows(), b);
      MatMap<T> hb(h.data(), h.rows(), b), zb(z.data(), z.rows(), b);
      reconstruct_logits(x, hb, zb);
      if (xent_) {
        total += bernoulli_nll<T>(as_const(zb), x);
      } else {
        dec_act_->forward(as_const(zb), zb, false, unused);
        total += (zb - x).template cast<double>().squaredNorm() / static_cast<double>(this->n_in_);
      }
    }
    return static_cast<T>(total / static_cast<double>(n));
  }

  Json config() const override {
    Json c = this->common_config();
    c.set("weight_init", weight_init_);
    c.set("tied", tied_);
    c.set("corruption_level", corruption_);
    c.set("sparsity", rho_);
    c.set("sparsity_weight", beta_);
    c.set("reconstruction_loss", xent_ ? "XENT" : "MSE");
    return c;
  }

 private:
  // out = W^T h + vb (tied) or W_dec h + vb
  void decode_linear(ConstMatMap<T> h, MatMap<T> out) const {
    if (tied_)
      multiply(out, this->P(W_).transpose(), h);
    else
      multiply(out, this->P(W_dec_), h);
    out.colwise() += this->Pv(vb_);
  }
  // h = encoder(in); z = the decoder's pre-activation.
  void reconstruct_logits(ConstMatMap<T> in, MatMap<T> h, MatMap<T> z) const {
    Rng unused(0);
    this->affine(W_, b_, in, h);
    enc_act_->forward(as_const(h), h, false, unused);
    decode_linear(as_const(h), z);
  }

  std::unique_ptr<Activation<T>> enc_act_, dec_act_;
  Json weight_init_;
  bool tied_ = true;
  bool xent_ = false;
  double corruption_ = 0, rho_ = 0, beta_ = 0;
  Slot W_, b_, vb_, W_dec_;
  BatchBuffer<T> z1_, h_, dh_, xc_, z2_, xhat_, d2_;
  Vector<T> rho_hat_, dkl_;
};

// ================================================================== RBM

template <typename T>
class RBM final : public UnsupervisedBase<T> {
 public:
  RBM(const Json& config, Index n_in, const std::string& where) : UnsupervisedBase<T>(where) {
    this->n_in_ = n_in;
    this->n_out_ = read_width(config, "n_out", where);
    check_weight_count(this->n_out_, n_in, where);
    gaussian_ = read_choice(config, "visible", "binary", {"binary", "gaussian"}, where) == "gaussian";
    read_choice(config, "hidden", "binary", {"binary"}, where);
    const std::int64_t k = read_int(config, "k", 1, where);
    EIGENNET_REQUIRE(k >= 1 && k <= 100000, where + ": k (contrastive divergence steps) must be in [1, 100000], got " +
                                                std::to_string(k));
    k_ = static_cast<Index>(k);
    rho_ = read_real(config, "sparsity", 0.0, where);
    beta_ = read_real(config, "sparsity_weight", 0.0, where);
    EIGENNET_REQUIRE(beta_ >= 0, where + ": sparsity_weight must be >= 0, got " + std::to_string(beta_));
    EIGENNET_REQUIRE(rho_ >= 0 && rho_ < 1, where + ": sparsity must be in [0, 1), got " + std::to_string(rho_));
    EIGENNET_REQUIRE(beta_ == 0 || rho_ > 0, where + ": sparsity_weight > 0 needs a sparsity target in (0, 1)");
    Json small = Json::object();
    small.set("name", "DISTRIBUTION");
    small.set("distribution", "normal");
    small.set("mean", 0.0);
    small.set("std", 0.01);
    weight_init_ = canonical_weight_init(has_weight_init(config) ? config.at("weight_init") : small);
    activation_ = make_activation<T>(Json("SIGMOID"));
    W_ = this->add("W", this->n_out_, n_in, false);
    b_ = this->add("b", this->n_out_, 1, true);
    vb_ = this->add("vb", n_in, 1, true);
    rho_hat_.resize(this->n_out_);
    dkl_.resize(this->n_out_);
  }

  std::string type() const override { return "RBM"; }
  const Activation<T>* activation() const override { return activation_.get(); }

  void init(Rng& rng) override {
    this->init_weights(weight_init_, W_, rng);
    this->init_zero(b_);
    this->init_zero(vb_);
  }

  void reserve(Index max_batch) override {
    const Index n = this->n_out_, d = this->n_in_;
    z_.reserve(n, max_batch);
    q0_.reserve(n, max_batch);
    h_.reserve(n, max_batch);
    pk_.reserve(n, max_batch);
    v_.reserve(d, max_batch);
    xhat_.reserve(d, max_batch);
  }

  void forward(ConstMatMap<T> in, MatMap<T> out, Mode mode, Rng& rng) override {
    this->check_input(in);
    if (in.cols() > z_.capacity()) reserve(in.cols());
    auto z = z_.view(in.cols());
    this->affine(W_, b_, in, z);
    activation_->forward(as_const(z), out, mode == Mode::Training, rng);
  }

  void infer(ConstMatMap<T> in, MatMap<T> out) const override {
    this->check_input(in);
    this->affine(W_, b_, in, out);
    sigmoid_inplace<T>(out);
  }

  void backward(ConstMatMap<T> in, ConstMatMap<T> out, MatMap<T> dout, MatMap<T>* din) override {
    activation_->backward(as_const(z_.view(in.cols())), out, as_const(dout), dout);
    if (!this->frozen_) {
      this->affine_backward(W_, b_, in, as_const(dout), din, false);
    } else if (din) {
      multiply(*din, this->P(W_).transpose(), dout);
    }
    this->zero_grads_from(vb_.offset);  // the visible bias serves only the reconstruction
  }

  T pretrain_gradient(ConstMatMap<T> x, Rng& rng) override {
    this->check_input(x);
    if (!gaussian_) require_unit_interval(x, this->where_, "an RBM with binary visible units");
    const Index m = x.cols();
    if (m > q0_.capacity()) reserve(m);
    const T inv_m = static_cast<T>(1.0 / static_cast<double>(m));
    auto q0 = q0_.view(m), h = h_.view(m), pk = pk_.view(m), v = v_.view(m), xhat = xhat_.view(m);
    // Positive phase.
    this->affine(W_, b_, x, q0);
    sigmoid_inplace<T>(q0);
    // Reported objective: error of the mean-field reconstruction E[v | h = q0].
    visible_mean_logits(as_const(q0), xhat);
    double objective = gaussian_ ? (xhat - x).template cast<double>().squaredNorm() / static_cast<double>(this->n_in_)
                                 : bernoulli_nll<T>(as_const(xhat), x);
    objective /= static_cast<double>(m);
    // Gibbs chain: k steps.
    sample_bernoulli<T>(as_const(q0), h, rng);
    for (Index step = 1; step <= k_; ++step) {
      visible_mean_logits(as_const(h), v);
      if (!gaussian_) sigmoid_inplace<T>(v);
      this->affine(W_, b_, as_const(v), pk);
      sigmoid_inplace<T>(pk);
      if (step < k_) sample_bernoulli<T>(as_const(pk), h, rng);
    }
    // Negative CD update: <h v^T>_model - <h v^T>_data.
    auto gW = this->G(W_);
    multiply(gW, pk, v.transpose());
    multiply(gW, q0, x.transpose(), Update::Subtract);
    gW *= inv_m;
    this->Gv(b_) = (pk - q0).rowwise().sum() * inv_m;
    this->Gv(vb_) = (v - x).rowwise().sum() * inv_m;
    // Optional sparsity penalty on the data-driven hidden probabilities (exact gradient).
    if (beta_ > 0) {
      auto dq = h;  // the sampled states are no longer needed
      dq.setZero();
      objective += sparsity_penalty<T>(as_const(q0), rho_, beta_, rho_hat_, dkl_, &dq);
      dq.array() *= q0.array() * (T(1) - q0.array());
      multiply(gW, dq, x.transpose(), Update::Add);
      this->Gv(b_) += dq.rowwise().sum();
    }
    if (this->frozen_) this->all_grads().setZero();
    return static_cast<T>(objective);
  }

  void reconstruct(ConstMatMap<T> in, MatMap<T> out) const override {
    this->check_input(in);
    EIGENNET_REQUIRE(out.rows() == this->n_in_ && out.cols() == in.cols(), this->where_ + ": reconstruct output has the wrong shape");
    Matrix<T> q(this->n_out_, in.cols());
    MatMap<T> qm(q.data(), q.rows(), q.cols());
    this->affine(W_, b_, in, qm);
    sigmoid_inplace<T>(qm);
    visible_mean_logits(as_const(qm), out);
    if (!gaussian_) sigmoid_inplace<T>(out);
  }

  T reconstruction_error(ConstMatMap<T> in) const override {
    this->check_input(in);
    EIGENNET_REQUIRE(in.cols() > 0, this->where_ + ": reconstruction_error needs at least one sample");
    if (!gaussian_) require_unit_interval(in, this->where_, "an RBM with binary visible units");
    const Index n = in.cols(), chunk = std::min(n, kConstChunk);
    Matrix<T> q(this->n_out_, chunk), r(this->n_in_, chunk);
    double total = 0;
    for (Index start = 0; start < n; start += chunk) {
      const Index b = std::min(chunk, n - start);
      ConstMatMap<T> x(in.data() + start * in.rows(), in.rows(), b);
      MatMap<T> qb(q.data(), q.rows(), b), rb(r.data(), r.rows(), b);
      this->affine(W_, b_, x, qb);
      sigmoid_inplace<T>(qb);
      visible_mean_logits(as_const(qb), rb);
      total += gaussian_ ? (rb - x).template cast<double>().squaredNorm() / static_cast<double>(this->n_in_)
                         : bernoulli_nll<T>(as_const(rb), x);
    }
    return static_cast<T>(total / static_cast<double>(n));
  }

  Json config() const override {
    Json c = this->common_config();
    c.set("weight_init", weight_init_);
    c.set("visible", gaussian_ ? "gaussian" : "binary");
    c.set("hidden", "binary");
    c.set("k", static_cast<double>(k_));
    c.set("sparsity", rho_);
    c.set("sparsity_weight", beta_);
    return c;
  }

 private:
  // out = W^T h + vb: the visible mean (gaussian) or its logits (binary).
  void visible_mean_logits(ConstMatMap<T> h, MatMap<T> out) const {
    multiply(out, this->P(W_).transpose(), h);
    out.colwise() += this->Pv(vb_);
  }

  std::unique_ptr<Activation<T>> activation_;
  Json weight_init_;
  bool gaussian_ = false;
  Index k_ = 1;
  double rho_ = 0, beta_ = 0;
  Slot W_, b_, vb_;
  BatchBuffer<T> z_, q0_, h_, pk_, v_, xhat_;
  Vector<T> rho_hat_, dkl_;
};

// ================================================================== VariationalAutoencoder

template <typename T>
class VariationalAutoencoder final : public UnsupervisedBase<T> {
  struct Dense {
    Slot W, b;
  };

  // Buffers for one batch: activations always, gradients for the training workspace only.
  struct Work {
    std::vector<BatchBuffer<T>> ez, eh, dz, dh;  // encoder / decoder pre-activations and activations
    BatchBuffer<T> mu, lv, eps, z, out, out_lv;
    std::vector<BatchBuffer<T>> e_delta, d_delta;
    BatchBuffer<T> d_out, d_out_lv, d_z, d_mu, d_lv;
    Index capacity = 0;
  };

 public:
  VariationalAutoencoder(const Json& config, Index n_in, const std::string& where) : UnsupervisedBase<T>(where) {
    this->n_in_ = n_in;
    this->n_out_ = read_width(config, "n_out", where);
    enc_sizes_ = read_sizes(config, "encoder_layer_sizes", where);
    dec_sizes_ = read_sizes(config, "decoder_layer_sizes", where);
    hidden_act_ = make_activation<T>(config.contains("activation") && !config.at("activation").is_null()
                                         ? config.at("activation")
                                         : Json("RELU"));
    gaussian_ = read_choice(config, "reconstruction", "bernoulli", {"bernoulli", "gaussian"}, where) == "gaussian";
    const std::int64_t s = read_int(config, "num_samples", 1, where);
    EIGENNET_REQUIRE(s >= 1 && s <= 10000, where + ": num_samples must be in [1, 10000], got " + std::to_string(s));
    num_samples_ = static_cast<Index>(s);
    if (has_weight_init(config)) weight_init_ = canonical_weight_init(config.at("weight_init"));
    hidden_init_ = has_weight_init(config) ? weight_init_ : canonical_weight_init(default_weight_init(hidden_act_->name()));
    head_init_ = has_weight_init(config) ? weight_init_ : canonical_weight_init(Json("XAVIER"));

    // Parameters: the encoder and the mean head first (what the supervised path uses).
    Index width = n_in;
    for (std::size_t l = 0; l < enc_sizes_.size(); ++l) {
      enc_.push_back(add_dense("enc" + std::to_string(l), enc_sizes_[l], width));
      width = enc_sizes_[l];
    }
    mu_ = add_dense("mu", this->n_out_, width);
    lv_ = add_dense("logvar", this->n_out_, width);
    width = this->n_out_;
    for (std::size_t l = 0; l < dec_sizes_.size(); ++l) {
      dec_.push_back(add_dense("dec" + std::to_string(l), dec_sizes_[l], width));
      width = dec_sizes_[l];
    }
    out_ = add_dense("out", n_in, width);
    if (gaussian_) out_lv_ = add_dense("out_logvar", n_in, width);
    for (std::size_t l = 0; l < enc_sizes_.size(); ++l) enc_act_.push_back(hidden_act_->clone());
    for (std::size_t l = 0; l < dec_sizes_.size(); ++l) dec_act_.push_back(hidden_act_->clone());
  }

  std::string type() const override { return "VariationalAutoencoder"; }
  const Activation<T>* activation() const override { return hidden_act_.get(); }

  void init(Rng& rng) override {
    auto init_dense = [&](const Dense& d, const Json& spec) {
      this->init_weights(spec, d.W, rng);
      this->init_zero(d.b);
    };
    for (const auto& d : enc_) init_dense(d, hidden_init_);
    init_dense(mu_, head_init_);
    init_dense(lv_, head_init_);
    for (const auto& d : dec_) init_dense(d, hidden_init_);
    init_dense(out_, head_init_);
    if (gaussian_) init_dense(out_lv_, head_init_);
  }

  void reserve(Index max_batch) override { reserve_work(train_, max_batch, true); }

  void forward(ConstMatMap<T> in, MatMap<T> out, Mode mode, Rng& rng) override {
    this->check_input(in);
    const Index m = in.cols();
    if (m > train_.capacity) reserve(m);
    encode(in, train_, m, false, mode == Mode::Training, rng);
    out = train_.mu.view(m);
  }

  void infer(ConstMatMap<T> in, MatMap<T> out) const override {
    this->check_input(in);
    Work w;
    reserve_work(w, in.cols(), false);
    Rng unused(0);
    encode(in, w, in.cols(), false, false, unused);
    out = w.mu.view(in.cols());
  }

  void backward(ConstMatMap<T> in, ConstMatMap<T>, MatMap<T> dout, MatMap<T>* din) override {
    const Index m = in.cols();
    auto hL = as_const(train_.eh.back().view(m));
    auto dhL = train_.e_delta.back().view(m);
    if (!this->frozen_) {
      this->affine_backward(mu_.W, mu_.b, hL, as_const(dout), &dhL, false);
      encoder_backward(in, m, din, true);
    } else {
      multiply(dhL, this->P(mu_.W).transpose(), dout);
      encoder_backward(in, m, din, false);
    }
    this->zero_grads_from(lv_.W.offset);  // log-variance head, decoder and output head
  }

  T pretrain_gradient(ConstMatMap<T> x, Rng& rng) override {
    this->check_input(x);
    if (!gaussian_) require_unit_interval(x, this->where_, "reconstruction \"bernoulli\"");
    const Index m = x.cols();
    if (m > train_.capacity) reserve(m);
    Work& w = train_;
    encode(x, w, m, true, false, rng);
    auto mu = w.mu.view(m), lv = w.lv.view(m), eps = w.eps.view(m), z = w.z.view(m);
    auto d_mu = w.d_mu.view(m), d_lv = w.d_lv.view(m), d_z = w.d_z.view(m);
    const double inv_m = 1.0 / static_cast<double>(m);
    const double inv_ms = inv_m / static_cast<double>(num_samples_);
    // KL(q(z|x) || N(0, I)) and its gradient.
    const double kl = 0.5 * (mu.array().square() + lv.array().exp() - lv.array() - T(1)).template cast<double>().sum();
    d_mu = mu * static_cast<T>(inv_m);
    d_lv.array() = (lv.array().exp() - T(1)) * static_cast<T>(0.5 * inv_m);
    // Decoder gradients accumulate over the samples.
    this->zero_grads_from(dec_.empty() ? out_.W.offset : dec_.front().W.offset);
    double nll = 0;
    for (Index s = 0; s < num_samples_; ++s) {
      for (Index i = 0; i < eps.size(); ++i) eps.data()[i] = static_cast<T>(rng.normal());
      z.array() = mu.array() + (T(0.5) * lv.array()).exp() * eps.array();
      decode(as_const(z), w, m);
      auto o = w.out.view(m), d_o = w.d_out.view(m);
      if (gaussian_) {
        auto s_lv = w.out_lv.view(m), d_s = w.d_out_lv.view(m);
        // Reuse d_out for the residual scaled by the precision.
        d_o.array() = (o.array() - x.array()) * (-s_lv.array()).exp();
        nll += 0.5 * (s_lv.array() + (o.array() - x.array()) * d_o.array() + T(kLog2Pi))
                         .template cast<double>()
                         .sum();
        d_s.array() = (T(1) - (o.array() - x.array()) * d_o.array()) * static_cast<T>(0.5 * inv_ms);
        d_o *= static_cast<T>(inv_ms);
      } else {
        nll += bernoulli_nll<T>(as_const(o), x);
        d_o.array() = (T(1) / (T(1) + (-o.array()).exp()) - x.array()) * static_cast<T>(inv_ms);
      }
      decoder_backward(as_const(z), w, m);  // writes d_z
      d_mu += d_z;
      d_lv.array() += T(0.5) * d_z.array() * eps.array() * (T(0.5) * lv.array()).exp();
    }
    // Heads and encoder.
    auto hL = as_const(w.eh.back().view(m));
    auto dhL = w.e_delta.back().view(m);
    this->affine_backward(mu_.W, mu_.b, hL, as_const(d_mu), &dhL, false);
    this->affine_backward(lv_.W, lv_.b, hL, as_const(d_lv), nullptr, false);
    multiply(dhL, this->P(lv_.W).transpose(), d_lv, Update::Add);
    encoder_backward(x, m, nullptr, true);
    if (this->frozen_) this->all_grads().setZero();
    return static_cast<T>((kl + nll / static_cast<double>(num_samples_)) * inv_m);
  }

  void reconstruct(ConstMatMap<T> in, MatMap<T> out) const override {
    this->check_input(in);
    EIGENNET_REQUIRE(out.rows() == this->n_in_ && out.cols() == in.cols(), this->where_ + ": reconstruct output has the wrong shape");
    const Index n = in.cols();
    if (n == 0) return;
    const Index chunk = std::min(n, kConstChunk);
    Work w;
    reserve_work(w, chunk, false);
    Rng unused(0);
    for (Index start = 0; start < n; start += chunk) {
      const Index b = std::min(chunk, n - start);
      ConstMatMap<T> x(in.data() + start * in.rows(), in.rows(), b);
      encode(x, w, b, false, false, unused);
      decode(as_const(w.mu.view(b)), w, b);
      auto o = w.out.view(b);
      if (!gaussian_) sigmoid_inplace<T>(o);
      out.middleCols(start, b) = o;
    }
  }

  T reconstruction_error(ConstMatMap<T> in) const override {
    this->check_input(in);
    EIGENNET_REQUIRE(in.cols() > 0, this->where_ + ": reconstruction_error needs at least one sample");
    if (!gaussian_) require_unit_interval(in, this->where_, "reconstruction \"bernoulli\"");
    const Index n = in.cols(), chunk = std::min(n, kConstChunk);
    Work w;
    reserve_work(w, chunk, false);
    Rng unused(0);
    double total = 0;
    for (Index start = 0; start < n; start += chunk) {
      const Index b = std::min(chunk, n - start);
      ConstMatMap<T> x(in.data() + start * in.rows(), in.rows(), b);
      encode(x, w, b, false, false, unused);
      decode(as_const(w.mu.view(b)), w, b);
      auto o = as_const(w.out.view(b));
      total += gaussian_ ? (o - x).template cast<double>().squaredNorm() / static_cast<double>(this->n_in_)
                         : bernoulli_nll<T>(o, x);
    }
    return static_cast<T>(total / static_cast<double>(n));
  }

  void reconstruction_log_probability(ConstMatMap<T> in, Index samples, Rng& rng,
                                      Eigen::Ref<Vector<T>> result) const override {
    this->check_input(in);
    EIGENNET_REQUIRE(samples >= 1, this->where_ + ": reconstruction_log_probability needs samples >= 1, got " +
                                       std::to_string(samples));
    EIGENNET_REQUIRE(result.size() == in.cols(), this->where_ + ": reconstruction_log_probability output has the wrong length");
    if (!gaussian_) require_unit_interval(in, this->where_, "reconstruction \"bernoulli\"");
    const Index n = in.cols();
    if (n == 0) return;
    const Index chunk = std::min(n, Index(256));
    Work w;
    reserve_work(w, chunk, false);
    Matrix<double> logw(samples, chunk);
    Vector<double> column(chunk);
    Eigen::Array<T, 1, Eigen::Dynamic> log_px(chunk), log_ratio(chunk);
    Rng unused(0);
    for (Index start = 0; start < n; start += chunk) {
      const Index b = std::min(chunk, n - start);
      ConstMatMap<T> x(in.data() + start * in.rows(), in.rows(), b);
      encode(x, w, b, true, false, unused);
      auto mu = w.mu.view(b), lv = w.lv.view(b), eps = w.eps.view(b), z = w.z.view(b);
      for (Index s = 0; s < samples; ++s) {
        for (Index i = 0; i < eps.size(); ++i) eps.data()[i] = static_cast<T>(rng.normal());
        z.array() = mu.array() + (T(0.5) * lv.array()).exp() * eps.array();
        decode(as_const(z), w, b);
        auto o = w.out.view(b);
        if (gaussian_) {
          auto s_lv = w.out_lv.view(b);
          log_px.head(b) = -T(0.5) * (s_lv.array() + (x - o).array().square() * (-s_lv.array()).exp() + T(kLog2Pi))
                                        .colwise()
                                        .sum();
        } else {
          const auto a = o.array();
          log_px.head(b) = -(a.max(T(0)) + (-a.abs()).exp().log1p() - x.array() * a).colwise().sum();
        }
        // log p(z) - log q(z|x) = -|z|^2/2 + |eps|^2/2 + sum(lv)/2 (the 2 pi terms cancel)
        log_ratio.head(b) = T(0.5) * (eps.colwise().squaredNorm() - z.colwise().squaredNorm() + lv.colwise().sum()).array();
        logw.row(s).head(b) = (log_px.head(b) + log_ratio.head(b)).template cast<double>().matrix();
      }
      for (Index j = 0; j < b; ++j) {
        const double top = logw.col(j).maxCoeff();
        const double mean = (logw.col(j).array() - top).exp().sum() / static_cast<double>(samples);
        column[j] = top + std::log(mean);
      }
      result.segment(start, b) = column.head(b).template cast<T>();
    }
  }

  void generate(ConstMatMap<T> latent, MatMap<T> out) const override {
    EIGENNET_REQUIRE(latent.rows() == this->n_out_, this->where_ + ": latent values have " + std::to_string(latent.rows()) +
                                                        " dimensions, expected " + std::to_string(this->n_out_));
    EIGENNET_REQUIRE(out.rows() == this->n_in_ && out.cols() == latent.cols(), this->where_ + ": generate output has the wrong shape");
    const Index n = latent.cols();
    if (n == 0) return;
    const Index chunk = std::min(n, kConstChunk);
    Work w;
    reserve_work(w, chunk, false);
    for (Index start = 0; start < n; start += chunk) {
      const Index b = std::min(chunk, n - start);
      decode(ConstMatMap<T>(latent.data() + start * latent.rows(), latent.rows(), b), w, b);
      auto o = w.out.view(b);
      if (!gaussian_) sigmoid_inplace<T>(o);
      out.middleCols(start, b) = o;
    }
  }

  Json config() const override {
    Json c = this->common_config();
    Json enc = Json::array(), dec = Json::array();
    for (Index s : enc_sizes_) enc.push_back(static_cast<double>(s));
    for (Index s : dec_sizes_) dec.push_back(static_cast<double>(s));
    c.set("encoder_layer_sizes", enc);
    c.set("decoder_layer_sizes", dec);
    c.set("reconstruction", gaussian_ ? "gaussian" : "bernoulli");
    c.set("num_samples", static_cast<double>(num_samples_));
    c.set("weight_init", weight_init_);  // null: defaults per matrix (see the file comment)
    return c;
  }

 private:
  Dense add_dense(const std::string& prefix, Index rows, Index cols) {
    check_weight_count(rows, cols, this->where_);
    Dense d;
    d.W = this->add(prefix + "_W", rows, cols, false);
    d.b = this->add(prefix + "_b", rows, 1, true);
    return d;
  }

  void reserve_work(Work& w, Index cols, bool gradients) const {
    const Index L = static_cast<Index>(enc_sizes_.size()), D = static_cast<Index>(dec_sizes_.size());
    const Index K = this->n_out_, N = this->n_in_;
    w.ez.resize(L);
    w.eh.resize(L);
    w.dz.resize(D);
    w.dh.resize(D);
    for (Index l = 0; l < L; ++l) {
      w.ez[l].reserve(enc_sizes_[l], cols);
      w.eh[l].reserve(enc_sizes_[l], cols);
    }
    for (Index l = 0; l < D; ++l) {
      w.dz[l].reserve(dec_sizes_[l], cols);
      w.dh[l].reserve(dec_sizes_[l], cols);
    }
    for (BatchBuffer<T>* b : {&w.mu, &w.lv, &w.eps, &w.z}) b->reserve(K, cols);
    w.out.reserve(N, cols);
    if (gaussian_) w.out_lv.reserve(N, cols);
    if (gradients) {
      w.e_delta.resize(L);
      w.d_delta.resize(D);
      for (Index l = 0; l < L; ++l) w.e_delta[l].reserve(enc_sizes_[l], cols);
      for (Index l = 0; l < D; ++l) w.d_delta[l].reserve(dec_sizes_[l], cols);
      for (BatchBuffer<T>* b : {&w.d_z, &w.d_mu, &w.d_lv}) b->reserve(K, cols);
      w.d_out.reserve(N, cols);
      if (gaussian_) w.d_out_lv.reserve(N, cols);
    }
    w.capacity = std::max(w.capacity, cols);
  }

  // Encoder MLP, then mu (and the log-variance when `with_logvar`) into w.mu / w.lv.
  void encode(ConstMatMap<T> x, Work& w, Index m, bool with_logvar, bool training, Rng& rng) const {
    for (std::size_t l = 0; l < enc_.size(); ++l) {
      auto z = w.ez[l].view(m);
      this->affine(enc_[l].W, enc_[l].b, l == 0 ? x : as_const(w.eh[l - 1].view(m)), z);
      enc_act_[l]->forward(as_const(z), w.eh[l].view(m), training, rng);
    }
    auto hL = as_const(w.eh.back().view(m));
    this->affine(mu_.W, mu_.b, hL, w.mu.view(m));
    if (with_logvar) this->affine(lv_.W, lv_.b, hL, w.lv.view(m));
  }

  // Decoder MLP from z, then the output head(s) into w.out (logits or mean) and w.out_lv.
  void decode(ConstMatMap<T> z, Work& w, Index m) const {
    Rng unused(0);
    for (std::size_t l = 0; l < dec_.size(); ++l) {
      auto a = w.dz[l].view(m);
      this->affine(dec_[l].W, dec_[l].b, l == 0 ? z : as_const(w.dh[l - 1].view(m)), a);
      dec_act_[l]->forward(as_const(a), w.dh[l].view(m), false, unused);
    }
    auto dD = as_const(w.dh.back().view(m));
    this->affine(out_.W, out_.b, dD, w.out.view(m));
    if (gaussian_) this->affine(out_lv_.W, out_lv_.b, dD, w.out_lv.view(m));
  }

  // From w.d_out (and w.d_out_lv): decoder gradients (added) and dL/dz into w.d_z.
  void decoder_backward(ConstMatMap<T> z, Work& w, Index m) {
    const std::size_t D = dec_.size();
    auto dD = as_const(w.dh[D - 1].view(m));
    auto delta = w.d_delta[D - 1].view(m);
    this->affine_backward(out_.W, out_.b, dD, as_const(w.d_out.view(m)), &delta, true);
    if (gaussian_) {
      this->affine_backward(out_lv_.W, out_lv_.b, dD, as_const(w.d_out_lv.view(m)), nullptr, true);
      multiply(delta, this->P(out_lv_.W).transpose(), w.d_out_lv.view(m), Update::Add);
    }
    for (std::size_t k = 0; k < D; ++k) {
      const std::size_t l = D - 1 - k;
      auto d = w.d_delta[l].view(m);
      dec_act_[l]->backward(as_const(w.dz[l].view(m)), as_const(w.dh[l].view(m)), as_const(d), d);
      auto in = l == 0 ? z : as_const(w.dh[l - 1].view(m));
      MatMap<T> below = l == 0 ? w.d_z.view(m) : w.d_delta[l - 1].view(m);
      this->affine_backward(dec_[l].W, dec_[l].b, in, as_const(d), &below, true);
    }
  }

  // From dL/d(e_L) in e_delta.back(): encoder gradients (assigned when `grads`) and dL/dx.
  void encoder_backward(ConstMatMap<T> x, Index m, MatMap<T>* din, bool grads) {
    Work& w = train_;
    for (std::size_t k = 0; k < enc_.size(); ++k) {
      const std::size_t l = enc_.size() - 1 - k;
      auto d = w.e_delta[l].view(m);
      enc_act_[l]->backward(as_const(w.ez[l].view(m)), as_const(w.eh[l].view(m)), as_const(d), d);
      auto in = l == 0 ? x : as_const(w.eh[l - 1].view(m));
      MatMap<T> below = l == 0 ? (din ? *din : d) : w.e_delta[l - 1].view(m);
      MatMap<T>* below_ptr = (l == 0 && !din) ? nullptr : &below;
      if (grads) {
        this->affine_backward(enc_[l].W, enc_[l].b, in, as_const(d), below_ptr, false);
      } else if (below_ptr) {
        multiply(*below_ptr, this->P(enc_[l].W).transpose(), d);
      }
    }
  }

  std::vector<Index> enc_sizes_, dec_sizes_;
  std::unique_ptr<Activation<T>> hidden_act_;
  std::vector<std::unique_ptr<Activation<T>>> enc_act_, dec_act_;
  bool gaussian_ = false;
  Index num_samples_ = 1;
  Json weight_init_;  // null unless configured
  Json hidden_init_, head_init_;
  std::vector<Dense> enc_, dec_;
  Dense mu_, lv_, out_, out_lv_;
  Work train_;
};

}  // namespace

template <typename T>
std::unique_ptr<Layer<T>> make_autoencoder(const Json& config, Index n_in, const std::string& where) {
  return std::make_unique<AutoEncoder<T>>(config, n_in, where);
}

template <typename T>
std::unique_ptr<Layer<T>> make_rbm(const Json& config, Index n_in, const std::string& where) {
  return std::make_unique<RBM<T>>(config, n_in, where);
}

template <typename T>
std::unique_ptr<Layer<T>> make_variational_autoencoder(const Json& config, Index n_in, const std::string& where) {
  return std::make_unique<VariationalAutoencoder<T>>(config, n_in, where);
}

template std::unique_ptr<Layer<float>> make_autoencoder<float>(const Json&, Index, const std::string&);
template std::unique_ptr<Layer<double>> make_autoencoder<double>(const Json&, Index, const std::string&);
template std::unique_ptr<Layer<float>> make_rbm<float>(const Json&, Index, const std::string&);
template std::unique_ptr<Layer<double>> make_rbm<double>(const Json&, Index, const std::string&);
template std::unique_ptr<Layer<float>> make_variational_autoencoder<float>(const Json&, Index, const std::string&);
template std::unique_ptr<Layer<double>> make_variational_autoencoder<double>(const Json&, Index, const std::string&);

}  // namespace eigennet
