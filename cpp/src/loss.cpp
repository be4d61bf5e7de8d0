#include "eigennet/loss.hpp"

#include <cmath>

#include "eigennet/errors.hpp"

namespace eigennet {

template <typename T>
Json Loss<T>::config() const {
  Json c = Json::object();
  c.set("name", name());
  if (weights_.size()) {
    Json w = Json::array();
    for (Index i = 0; i < weights_.size(); ++i) w.push_back(static_cast<double>(weights_[i]));
    c.set("weights", w);
  }
  add_config(c);
  return c;
}

template <typename T>
void Loss<T>::check_labels(ConstMatMap<T> labels, Index n_out) const {
  EIGENNET_REQUIRE(labels.rows() == label_rows(n_out), "loss " + name() + ": labels have " + std::to_string(labels.rows()) +
                                                  " columns, expected " + std::to_string(label_rows(n_out)));
  EIGENNET_REQUIRE(weights_.size() == 0 || weights_.size() == n_out,
          "loss " + name() + ": " + std::to_string(weights_.size()) + " output weights for " + std::to_string(n_out) +
              " outputs");
}

template <typename T>
T Loss<T>::score(ConstMatMap<T> z, ConstMatMap<T> a, ConstMatMap<T> labels, const Activation<T>& activation) const {
  if (a.cols() == 0) return T(0);
  return total_loss(z, a, labels, activation) / static_cast<T>(a.cols());
}

template <typename T>
void Loss<T>::score_per_sample(ConstMatMap<T> z, ConstMatMap<T> a, ConstMatMap<T> labels,
                               const Activation<T>& activation, Eigen::Ref<Vector<T>> out) const {
  sample_losses(z, a, labels, activation, out);
}

template <typename T>
void Loss<T>::gradient(ConstMatMap<T> z, ConstMatMap<T> a, ConstMatMap<T> labels, Activation<T>& activation,
                       MatMap<T> dz) const {
  if (!fused_gradient(activation, z, a, labels, dz)) {
    output_gradient(a, labels, dz);
    activation.backward(z, a, as_const(dz), dz);
  }
  if (a.cols() > 0) dz /= static_cast<T>(a.cols());
}

template <typename T>
bool Loss<T>::gauss_newton_product(ConstMatMap<T> z, ConstMatMap<T> a, ConstMatMap<T> labels, Activation<T>& activation,
                                   ConstMatMap<T> r_z, MatMap<T> result) const {
  if (has_fused_curvature(activation)) {
    fused_curvature(z, a, labels, r_z, result);
  } else if (has_output_curvature()) {
    // The Jacobians of the built-in activations are symmetric (diagonal, or softmax's), so the
    // backward pass J^T r also gives the forward derivative J r.
    activation.backward(z, a, r_z, result);
    multiply_output_curvature(a, labels, result);
    activation.backward(z, a, as_const(result), result);
  } else {
    return false;
  }
  if (a.cols() > 0) result /= static_cast<T>(a.cols());
  return true;
}

template <typename T>
std::unique_ptr<Loss<T>> make_loss(const Json& config) {
  auto loss = loss_registry<T>().create(config);
  if (config.is_object()) {
    if (const Json* w = config.find("weights"); w && !w->is_null()) {
      EIGENNET_REQUIRE(loss->supports_output_weights(), "loss " + loss->name() + " does not take per-output weights");
      const auto& items = w->as_array("loss weights");
      Vector<T> weights(static_cast<Index>(items.size()));
      for (std::size_t i = 0; i < items.size(); ++i) {
        const double value = items[i].as_number("loss weight");
        EIGENNET_REQUIRE(std::isfinite(value) && value >= 0, "loss weights must be finite and non-negative");
        weights[static_cast<Index>(i)] = static_cast<T>(value);
      }
      loss->set_weights(std::move(weights));
    }
  }
  return loss;
}

template class Loss<float>;
template class Loss<double>;
template std::unique_ptr<Loss<float>> make_loss<float>(const Json&);
template std::unique_ptr<Loss<double>> make_loss<double>(const Json&);

}  // namespace eigennet
