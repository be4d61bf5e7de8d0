// The built-in losses. Most are sums over outputs of an element-wise term, written once as
// ElementwiseLoss with a value and a derivative; the rest override what differs.
#include <algorithm>
#include <cmath>
#include <limits>

#include "eigennet/errors.hpp"
#include "eigennet/loss.hpp"

namespace eigennet {
namespace {

// Probabilities are clipped to [kClip, 1 - kClip] before a logarithm or a division on the
// unfused paths (DL4J clips at 1e-10 likewise).
template <typename T>
constexpr T clip_eps() {
  return std::is_same<T, float>::value ? T(1e-7) : T(1e-12);
}

template <typename T>
T clip_probability(T p) {
  return std::min(std::max(p, clip_eps<T>()), T(1) - clip_eps<T>());
}

template <typename T>
T positive(T p) {
  return std::max(p, clip_eps<T>());
}

template <typename T>
T sign(T x) {
  return T((x > T(0)) - (x < T(0)));
}

template <typename T>
class ElementwiseLoss : public Loss<T> {
 public:
  using Term = T (*)(T a, T y);
  // mean_over_outputs: the per-sample loss is divided by the number of outputs (MSE, MAE, ...).
  // curvature: the second derivative of the term in a, for Hessian-free (nullptr: none).
  ElementwiseLoss(std::string name, Term value, Term derivative, bool mean_over_outputs, Term curvature = nullptr)
      : name_(std::move(name)),
        value_(value),
        derivative_(derivative),
        curvature_(curvature),
        mean_over_outputs_(mean_over_outputs) {}

  std::string name() const override { return name_; }
  std::unique_ptr<Loss<T>> clone() const override { return std::make_unique<ElementwiseLoss>(*this); }

 protected:
  T output_scale(Index rows) const { return mean_over_outputs_ ? T(1) / static_cast<T>(rows) : T(1); }
  T weight(Index i) const { return this->weights_.size() ? this->weights_[i] : T(1); }

  void sample_losses(ConstMatMap<T>, ConstMatMap<T> a, ConstMatMap<T> y, const Activation<T>&,
                     Eigen::Ref<Vector<T>> out) const override {
    const T scale = output_scale(a.rows());
    for (Index j = 0; j < a.cols(); ++j) {
      T sum = 0;
      for (Index i = 0; i < a.rows(); ++i) sum += weight(i) * value_(a(i, j), y(i, j));
      out[j] = sum * scale;
    }
  }
  T total_loss(ConstMatMap<T> z, ConstMatMap<T> a, ConstMatMap<T> y, const Activation<T>& act) const override {
    T total = 0;
    const T scale = output_scale(a.rows());
    (void)z;
    (void)act;
    for (Index j = 0; j < a.cols(); ++j)
      for (Index i = 0; i < a.rows(); ++i) total += weight(i) * value_(a(i, j), y(i, j));
    return total * scale;
  }
  void output_gradient(ConstMatMap<T> a, ConstMatMap<T> y, MatMap<T> da) const override {
    const T scale = output_scale(a.rows());
    for (Index j = 0; j < a.cols(); ++j)
      for (Index i = 0; i < a.rows(); ++i) da(i, j) = weight(i) * scale * derivative_(a(i, j), y(i, j));
  }
  bool has_output_curvature() const override { return curvature_ != nullptr; }
  void multiply_output_curvature(ConstMatMap<T> a, ConstMatMap<T> y, MatMap<T> inout) const override {
    const T scale = output_scale(a.rows());
    for (Index j = 0; j < a.cols(); ++j)
      for (Index i = 0; i < a.rows(); ++i) inout(i, j) *= weight(i) * scale * curvature_(a(i, j), y(i, j));
  }

 private:
  std::string name_;
  Term value_;
  Term derivative_;
  Term curvature_;
  bool mean_over_outputs_;
};

// Multi-class cross-entropy -sum y log a. With softmax, the score comes from the log-softmax of z
// and the gradient is a * sum(w y) - w y: no log(0) and no overflow for any finite logits.
template <typename T>
class McXent final : public ElementwiseLoss<T> {
 public:
  explicit McXent(std::string name)
      : ElementwiseLoss<T>(
            std::move(name), [](T a, T y) { return -y * std::log(clip_probability(a)); },
            [](T a, T y) { return -y / clip_probability(a); }, false,
            [](T a, T y) { return y / (clip_probability(a) * clip_probability(a)); }) {}
  std::unique_ptr<Loss<T>> clone() const override { return std::make_unique<McXent>(*this); }

 protected:
  // With softmax the Hessian in z of -sum w y log a is (sum w y) (diag(a) - a a^T).
  bool has_fused_curvature(const Activation<T>& act) const override { return act.name() == "SOFTMAX"; }
  void fused_curvature(ConstMatMap<T>, ConstMatMap<T> a, ConstMatMap<T> y, ConstMatMap<T> r,
                       MatMap<T> result) const override {
    for (Index j = 0; j < a.cols(); ++j) {
      const T mass = this->weights_.size() ? this->weights_.dot(y.col(j)) : y.col(j).sum();
      const T projection = a.col(j).dot(r.col(j));
      result.col(j).array() = mass * a.col(j).array() * (r.col(j).array() - projection);
    }
  }
  void sample_losses(ConstMatMap<T> z, ConstMatMap<T> a, ConstMatMap<T> y, const Activation<T>& act,
                     Eigen::Ref<Vector<T>> out) const override {
    if (act.name() != "SOFTMAX") return ElementwiseLoss<T>::sample_losses(z, a, y, act, out);
    for (Index j = 0; j < z.cols(); ++j) {
      const T peak = z.col(j).maxCoeff();
      const T log_sum = peak + std::log((z.col(j).array() - peak).exp().sum());
      T sum = 0;
      for (Index i = 0; i < z.rows(); ++i) sum -= this->weight(i) * y(i, j) * (z(i, j) - log_sum);
      out[j] = sum;
    }
  }
  T total_loss(ConstMatMap<T> z, ConstMatMap<T> a, ConstMatMap<T> y, const Activation<T>& act) const override {
    if (act.name() != "SOFTMAX") return ElementwiseLoss<T>::total_loss(z, a, y, act);
    T total = 0;
    for (Index j = 0; j < z.cols(); ++j) {
      const T peak = z.col(j).maxCoeff();
      const T log_sum = peak + std::log((z.col(j).array() - peak).exp().sum());
      for (Index i = 0; i < z.rows(); ++i) total -= this->weight(i) * y(i, j) * (z(i, j) - log_sum);
    }
    return total;
  }
  bool fused_gradient(const Activation<T>& act, ConstMatMap<T>, ConstMatMap<T> a, ConstMatMap<T> y,
                      MatMap<T> dz) const override {
    if (act.name() != "SOFTMAX") return false;
    if (this->weights_.size() == 0) {
      for (Index j = 0; j < a.cols(); ++j) dz.col(j) = a.col(j) * y.col(j).sum() - y.col(j);
    } else {
      for (Index j = 0; j < a.cols(); ++j) {
        const T weighted_mass = this->weights_.dot(y.col(j));
        dz.col(j).array() = a.col(j).array() * weighted_mass - this->weights_.array() * y.col(j).array();
      }
    }
    return true;
  }
};

// Binary cross-entropy -(y log a + (1 - y) log(1 - a)) per output. With sigmoid the score is
// max(z, 0) - z y + log(1 + e^-|z|) and the gradient is a - y.
template <typename T>
class Xent final : public ElementwiseLoss<T> {
 public:
  Xent()
      : ElementwiseLoss<T>(
            "XENT",
            [](T a, T y) {
              const T p = clip_probability(a);
              return -(y * std::log(p) + (T(1) - y) * std::log(T(1) - p));
            },
            [](T a, T y) {
              const T p = clip_probability(a);
              return (p - y) / (p * (T(1) - p));
            },
            false,
            [](T a, T y) {
              const T p = clip_probability(a);
              return y / (p * p) + (T(1) - y) / ((T(1) - p) * (T(1) - p));
            }) {}
  std::unique_ptr<Loss<T>> clone() const override { return std::make_unique<Xent>(*this); }

 protected:
  // With sigmoid the Hessian in z is diag(w a (1 - a)).
  bool has_fused_curvature(const Activation<T>& act) const override { return act.name() == "SIGMOID"; }
  void fused_curvature(ConstMatMap<T>, ConstMatMap<T> a, ConstMatMap<T>, ConstMatMap<T> r,
                       MatMap<T> result) const override {
    if (this->weights_.size() == 0)
      result.array() = a.array() * (T(1) - a.array()) * r.array();
    else
      result.array() = (a.array() * (T(1) - a.array()) * r.array()).colwise() * this->weights_.array();
  }
  static T logit_loss(T z, T y) { return std::max(z, T(0)) - z * y + std::log1p(std::exp(-std::abs(z))); }

  void sample_losses(ConstMatMap<T> z, ConstMatMap<T> a, ConstMatMap<T> y, const Activation<T>& act,
                     Eigen::Ref<Vector<T>> out) const override {
    if (act.name() != "SIGMOID") return ElementwiseLoss<T>::sample_losses(z, a, y, act, out);
    for (Index j = 0; j < z.cols(); ++j) {
      T sum = 0;
      for (Index i = 0; i < z.rows(); ++i) sum += this->weight(i) * logit_loss(z(i, j), y(i, j));
      out[j] = sum;
    }
  }
  T total_loss(ConstMatMap<T> z, ConstMatMap<T> a, ConstMatMap<T> y, const Activation<T>& act) const override {
    if (act.name() != "SIGMOID") return ElementwiseLoss<T>::total_loss(z, a, y, act);
    T total = 0;
    for (Index j = 0; j < z.cols(); ++j)
      for (Index i = 0; i < z.rows(); ++i) total += this->weight(i) * logit_loss(z(i, j), y(i, j));
    return total;
  }
  bool fused_gradient(const Activation<T>& act, ConstMatMap<T>, ConstMatMap<T> a, ConstMatMap<T> y,
                      MatMap<T> dz) const override {
    if (act.name() != "SIGMOID") return false;
    if (this->weights_.size() == 0)
      dz = a - y;
    else
      dz.array() = (a - y).array().colwise() * this->weights_.array();
    return true;
  }
};

// Cross-entropy with integer class labels: one label row holding the class index of each sample.
template <typename T>
class SparseMcXent final : public Loss<T> {
 public:
  std::string name() const override { return "SPARSE_MCXENT"; }
  std::unique_ptr<Loss<T>> clone() const override { return std::make_unique<SparseMcXent>(*this); }
  Index label_rows(Index) const override { return 1; }
  void check_labels(ConstMatMap<T> labels, Index n_out) const override {
    Loss<T>::check_labels(labels, n_out);
    for (Index j = 0; j < labels.cols(); ++j) {
      const T c = labels(0, j);
      EIGENNET_REQUIRE(c >= T(0) && c < static_cast<T>(n_out) && c == std::floor(c),
              "SPARSE_MCXENT: label " + std::to_string(static_cast<double>(c)) + " of sample " + std::to_string(j) +
                  " is not a class index in [0, " + std::to_string(n_out) + ")");
    }
  }

 protected:
  T weight(Index i) const { return this->weights_.size() ? this->weights_[i] : T(1); }
  T sample_loss(ConstMatMap<T> z, ConstMatMap<T> a, Index c, Index j, bool softmax) const {
    if (softmax) {
      const T peak = z.col(j).maxCoeff();
      const T log_sum = peak + std::log((z.col(j).array() - peak).exp().sum());
      return -weight(c) * (z(c, j) - log_sum);
    }
    return -weight(c) * std::log(clip_probability(a(c, j)));
  }
  void sample_losses(ConstMatMap<T> z, ConstMatMap<T> a, ConstMatMap<T> y, const Activation<T>& act,
                     Eigen::Ref<Vector<T>> out) const override {
    const bool softmax = act.name() == "SOFTMAX";
    for (Index j = 0; j < a.cols(); ++j) out[j] = sample_loss(z, a, static_cast<Index>(y(0, j)), j, softmax);
  }
  T total_loss(ConstMatMap<T> z, ConstMatMap<T> a, ConstMatMap<T> y, const Activation<T>& act) const override {
    const bool softmax = act.name() == "SOFTMAX";
    T total = 0;
    for (Index j = 0; j < a.cols(); ++j) total += sample_loss(z, a, static_cast<Index>(y(0, j)), j, softmax);
    return total;
  }
  void output_gradient(ConstMatMap<T> a, ConstMatMap<T> y, MatMap<T> da) const override {
    da.setZero();
    for (Index j = 0; j < a.cols(); ++j) {
      const Index c = static_cast<Index>(y(0, j));
      da(c, j) = -weight(c) / clip_probability(a(c, j));
    }
  }
  bool has_fused_curvature(const Activation<T>& act) const override { return act.name() == "SOFTMAX"; }
  void fused_curvature(ConstMatMap<T>, ConstMatMap<T> a, ConstMatMap<T> y, ConstMatMap<T> r,
                       MatMap<T> result) const override {
    for (Index j = 0; j < a.cols(); ++j) {
      const T mass = weight(static_cast<Index>(y(0, j)));
      const T projection = a.col(j).dot(r.col(j));
      result.col(j).array() = mass * a.col(j).array() * (r.col(j).array() - projection);
    }
  }
  bool fused_gradient(const Activation<T>& act, ConstMatMap<T>, ConstMatMap<T> a, ConstMatMap<T> y,
                      MatMap<T> dz) const override {
    if (act.name() != "SOFTMAX") return false;
    for (Index j = 0; j < a.cols(); ++j) {
      const Index c = static_cast<Index>(y(0, j));
      dz.col(j) = weight(c) * a.col(j);
      dz(c, j) -= weight(c);
    }
    return true;
  }
};

// Cosine proximity: -cos(y, a) per sample (DL4J LossCosineProximity). Output weights do not apply.
template <typename T>
class CosineProximity final : public Loss<T> {
 public:
  std::string name() const override { return "COSINE_PROXIMITY"; }
  std::unique_ptr<Loss<T>> clone() const override { return std::make_unique<CosineProximity>(*this); }
  bool supports_output_weights() const override { return false; }

 protected:
  static constexpr T kTiny = std::numeric_limits<T>::min() * T(1e4);
  void sample_losses(ConstMatMap<T>, ConstMatMap<T> a, ConstMatMap<T> y, const Activation<T>&,
                     Eigen::Ref<Vector<T>> out) const override {
    for (Index j = 0; j < a.cols(); ++j) {
      const T norms = std::max(a.col(j).norm() * y.col(j).norm(), kTiny);
      out[j] = -a.col(j).dot(y.col(j)) / norms;
    }
  }
  T total_loss(ConstMatMap<T> z, ConstMatMap<T> a, ConstMatMap<T> y, const Activation<T>& act) const override {
    T total = 0;
    (void)z;
    (void)act;
    for (Index j = 0; j < a.cols(); ++j) {
      const T norms = std::max(a.col(j).norm() * y.col(j).norm(), kTiny);
      total -= a.col(j).dot(y.col(j)) / norms;
    }
    return total;
  }
  void output_gradient(ConstMatMap<T> a, ConstMatMap<T> y, MatMap<T> da) const override {
    for (Index j = 0; j < a.cols(); ++j) {
      const T a_norm = std::max(a.col(j).norm(), kTiny);
      const T y_norm = std::max(y.col(j).norm(), kTiny);
      const T cosine = a.col(j).dot(y.col(j)) / (a_norm * y_norm);
      da.col(j) = -(y.col(j) / (a_norm * y_norm) - cosine * a.col(j) / (a_norm * a_norm));
    }
  }
};

template <typename T>
void register_builtins(Registry<Loss<T>>& r) {
  using E = ElementwiseLoss<T>;
  auto add = [&r](const char* name, typename E::Term value, typename E::Term derivative, bool mean,
                  typename E::Term curvature = nullptr) {
    std::string canonical = name;
    r.add(name, [canonical, value, derivative, mean, curvature](const Json&) {
      return std::make_unique<E>(canonical, value, derivative, mean, curvature);
    });
  };
  const typename E::Term two = [](T, T) { return T(2); };
  add("MSE", [](T a, T y) { return (a - y) * (a - y); }, [](T a, T y) { return T(2) * (a - y); }, true, two);
  add("L2", [](T a, T y) { return (a - y) * (a - y); }, [](T a, T y) { return T(2) * (a - y); }, false, two);
  add("L1", [](T a, T y) { return std::abs(a - y); }, [](T a, T y) { return sign(a - y); }, false);
  add("MEAN_ABSOLUTE_ERROR", [](T a, T y) { return std::abs(a - y); }, [](T a, T y) { return sign(a - y); }, true);
  add("HINGE", [](T a, T y) { return std::max(T(0), T(1) - y * a); },
      [](T a, T y) { return T(1) - y * a > T(0) ? -y : T(0); }, false);
  add("SQUARED_HINGE",
      [](T a, T y) {
        const T margin = std::max(T(0), T(1) - y * a);
        return margin * margin;
      },
      [](T a, T y) { return T(-2) * y * std::max(T(0), T(1) - y * a); }, false);
  add("KL_DIVERGENCE",
      [](T a, T y) { return y > T(0) ? y * (std::log(y) - std::log(clip_probability(a))) : T(0); },
      [](T a, T y) { return -y / clip_probability(a); }, false);
  add("POISSON", [](T a, T y) { return a - y * std::log(positive(a)); }, [](T a, T y) { return T(1) - y / positive(a); },
      false, [](T a, T y) { return y / (positive(a) * positive(a)); });
  add("MEAN_ABSOLUTE_PERCENTAGE_ERROR", [](T a, T y) { return T(100) * std::abs((y - a) / positive(std::abs(y))); },
      [](T a, T y) { return T(100) * sign(a - y) / positive(std::abs(y)); }, true);
  add("MEAN_SQUARED_LOGARITHMIC_ERROR",
      [](T a, T y) {
        const T d = std::log1p(std::max(a, T(-1) + clip_eps<T>())) - std::log1p(y);
        return d * d;
      },
      [](T a, T y) {
        const T shifted = std::max(a, T(-1) + clip_eps<T>());
        return T(2) * (std::log1p(shifted) - std::log1p(y)) / (T(1) + shifted);
      },
      true);
  r.add("MCXENT", [](const Json&) { return std::make_unique<McXent<T>>("MCXENT"); });
  r.add("NEGATIVELOGLIKELIHOOD", [](const Json&) { return std::make_unique<McXent<T>>("NEGATIVELOGLIKELIHOOD"); });
  r.add("SPARSE_MCXENT", [](const Json&) { return std::make_unique<SparseMcXent<T>>(); });
  r.add("XENT", [](const Json&) { return std::make_unique<Xent<T>>(); });
  r.add("COSINE_PROXIMITY", [](const Json&) { return std::make_unique<CosineProximity<T>>(); });
}

}  // namespace

template <typename T>
Registry<Loss<T>>& loss_registry() {
  static Registry<Loss<T>>* registry = [] {
    auto* r = new Registry<Loss<T>>("loss");
    register_builtins<T>(*r);
    return r;
  }();
  return *registry;
}

template Registry<Loss<float>>& loss_registry<float>();
template Registry<Loss<double>>& loss_registry<double>();

}  // namespace eigennet
