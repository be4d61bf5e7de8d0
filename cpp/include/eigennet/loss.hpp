// Loss functions with DL4J semantics: the score of a mini-batch is the mean over its samples of
// the per-sample loss (summed over outputs, each output optionally weighted). The division by the
// batch size happens only in Loss::score and Loss::gradient below.
#pragma once

#include <memory>
#include <string>

#include "eigennet/activation.hpp"
#include "eigennet/json.hpp"
#include "eigennet/registry.hpp"
#include "eigennet/types.hpp"

namespace eigennet {

template <typename T>
class Loss {
 public:
  virtual ~Loss() = default;

  virtual std::string name() const = 0;
  virtual std::unique_ptr<Loss> clone() const = 0;
  Json config() const;

  // Rows of the label matrix for a layer with n_out outputs (1 for index labels).
  virtual Index label_rows(Index n_out) const { return n_out; }
  // Checks labels once before training (ranges, e.g. class indices); throws std::invalid_argument.
  virtual void check_labels(ConstMatMap<T> labels, Index n_out) const;

  // Mean loss over the batch. z: pre-activations, a = activation(z), one column per sample.
  T score(ConstMatMap<T> z, ConstMatMap<T> a, ConstMatMap<T> labels, const Activation<T>& activation) const;
  // Per-sample losses (length = batch), for evaluation and sample-level reporting.
  void score_per_sample(ConstMatMap<T> z, ConstMatMap<T> a, ConstMatMap<T> labels, const Activation<T>& activation,
                        Eigen::Ref<Vector<T>> out) const;
  // dz = d(mean loss)/dz. Uses the fused form when the activation allows it.
  void gradient(ConstMatMap<T> z, ConstMatMap<T> a, ConstMatMap<T> labels, Activation<T>& activation,
                MatMap<T> dz) const;

  // Hessian-free: result = G r_z / batch for each column, with G the Gauss-Newton matrix of the
  // sample loss with respect to the pre-activation z: the exact Hessian where the loss is fused
  // with its activation (softmax + MCXENT/NLL/SPARSE_MCXENT, sigmoid + XENT), otherwise
  // J^T H_a J with H_a the (diagonal) Hessian of the loss with respect to the output a and J the
  // activation's Jacobian. False (result untouched) when neither exists for this pair.
  bool gauss_newton_product(ConstMatMap<T> z, ConstMatMap<T> a, ConstMatMap<T> labels, Activation<T>& activation,
                            ConstMatMap<T> r_z, MatMap<T> result) const;
  bool has_gauss_newton(const Activation<T>& activation) const {
    return has_fused_curvature(activation) || has_output_curvature();
  }

  // False for losses that are not a weighted sum over outputs (make_loss then refuses weights).
  virtual bool supports_output_weights() const { return true; }
  void set_weights(Vector<T> weights) { weights_ = std::move(weights); }
  const Vector<T>& weights() const { return weights_; }

 protected:
  // Loss of each sample (column), before the batch mean.
  virtual void sample_losses(ConstMatMap<T> z, ConstMatMap<T> a, ConstMatMap<T> labels, const Activation<T>& activation,
                             Eigen::Ref<Vector<T>> out) const = 0;
  // Sum of sample losses; overridden where a direct reduction avoids a buffer.
  virtual T total_loss(ConstMatMap<T> z, ConstMatMap<T> a, ConstMatMap<T> labels, const Activation<T>& activation) const = 0;
  // d(sum of sample losses)/da, not yet divided by the batch size.
  virtual void output_gradient(ConstMatMap<T> a, ConstMatMap<T> labels, MatMap<T> da) const = 0;
  // d(sum of sample losses)/dz in one stable step for this activation; false if there is none.
  virtual bool fused_gradient(const Activation<T>&, ConstMatMap<T>, ConstMatMap<T>, ConstMatMap<T>, MatMap<T>) const {
    return false;
  }
  // Exact Hessian-vector product with respect to z for a fused pair, summed over samples (not
  // divided by the batch size); false if this pair is not fused.
  virtual bool has_fused_curvature(const Activation<T>&) const { return false; }
  virtual void fused_curvature(ConstMatMap<T>, ConstMatMap<T>, ConstMatMap<T>, ConstMatMap<T>, MatMap<T>) const {}
  // Multiplies `inout` element-wise by the second derivative of the loss with respect to a
  // (a diagonal Hessian, non-negative for these losses); false if the loss has none.
  virtual bool has_output_curvature() const { return false; }
  virtual void multiply_output_curvature(ConstMatMap<T>, ConstMatMap<T>, MatMap<T>) const {}
  // Extra configuration fields of parameterised losses.
  virtual void add_config(Json&) const {}

  Vector<T> weights_;  // per-output weights; empty means all ones
};

template <typename T>
Registry<Loss<T>>& loss_registry();

// Creates a loss from a name or {"name": ..., "weights": [...]}.
template <typename T>
std::unique_ptr<Loss<T>> make_loss(const Json& config);

}  // namespace eigennet
