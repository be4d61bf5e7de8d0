// Layers. A layer owns no parameter memory: the network binds it to views into its flat
// parameter and gradient buffers. Working buffers are sized once per maximum batch size.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "eigennet/activation.hpp"
#include "eigennet/json.hpp"
#include "eigennet/loss.hpp"
#include "eigennet/rng.hpp"
#include "eigennet/types.hpp"

namespace eigennet {

// One named parameter tensor inside a layer's slice of the flat vector: rows x cols column-major
// (W is n_out x n_in, whose bytes are a C-order (n_in, n_out) array).
// is_bias marks a 1-D vector (stored and returned with shape (rows,)) that weight regularization
// skips unless regularize_bias is set. trainable=false marks state the layer updates itself
// (BatchNormalization's running statistics): it gets no gradient and no regularization.
struct ParamInfo {
  std::string name;
  Index offset;
  Index rows;
  Index cols;
  bool is_bias;
  bool trainable = true;
};

// Where a named parameter tensor lives in the network's flat vector.
struct ParamLocation {
  std::size_t layer;
  std::string name;
  Index offset;  // into the flat vector
  Index rows;
  Index cols;
  bool is_bias;
  bool trainable = true;  // false: state such as running statistics, or a frozen layer's parameter
};

// How a forward pass runs.
//   Training:      stochastic layers draw noise (dropout), batch normalization uses and records
//                  batch statistics. The mini-batch training loop uses it.
//   Deterministic: no noise, batch statistics used but not recorded. Full-batch optimizers use
//                  it so that their objective is a function of the parameters alone.
//   Inference:     no noise, running statistics. predict and score use it.
enum class Mode { Inference, Training, Deterministic };

template <typename T>
class Layer {
 public:
  virtual ~Layer() = default;

  virtual std::string type() const = 0;
  Index n_in() const { return n_in_; }
  Index n_out() const { return n_out_; }
  virtual std::vector<ParamInfo> param_info() const { return {}; }
  Index num_params() const;

  // Points the layer at its slices of the network's flat buffers.
  virtual void bind(T*, T*) {}
  virtual void init(Rng&) {}
  virtual void reserve(Index) {}

  // out = layer(in), keeping what backward needs (for every mode).
  virtual void forward(ConstMatMap<T> in, MatMap<T> out, Mode mode, Rng& rng) = 0;
  // Inference without touching any layer state (safe from several threads at once).
  virtual void infer(ConstMatMap<T> in, MatMap<T> out) const = 0;
  // Given dL/d(out) in `dout` (which may be overwritten), accumulates parameter gradients and
  // writes dL/d(in) into `din` when it is non-null.
  virtual void backward(ConstMatMap<T> in, ConstMatMap<T> out, MatMap<T> dout, MatMap<T>* din) = 0;

  // Output layers (Output, Loss) carry a loss and start backpropagation from labels.
  virtual const Loss<T>* loss() const { return nullptr; }
  virtual T score(ConstMatMap<T> out, ConstMatMap<T> labels) const;
  virtual void score_per_sample(ConstMatMap<T> out, ConstMatMap<T> labels, Eigen::Ref<Vector<T>> losses) const;
  virtual void backward_from_labels(ConstMatMap<T> in, ConstMatMap<T> out, ConstMatMap<T> labels, MatMap<T>* din);

  // Frozen layers (transfer learning) compute no parameter gradients: theirs stay zero, so no
  // updater or optimizer moves them. Set by the network from the layer's "frozen" config field.
  void set_frozen(bool frozen) { frozen_ = frozen; }
  bool frozen() const { return frozen_; }

  // --- Hessian-free support: forward-mode derivatives (Pearlmutter's R-operator) -------------
  // With `direction` pointing at the layer's slice of a direction v in parameter space and
  // `r_in` the derivative of the layer's input along v (nullptr for the network input, whose
  // derivative is zero), writes `r_out`, the derivative of the layer's output along v, at the
  // state of the last forward pass. Output layers write the derivative of their pre-activation
  // instead (the Gauss-Newton product is taken there). Layers that return false from
  // supports_r_op make Hessian-free refuse the network.
  virtual bool supports_r_op() const { return false; }
  virtual void forward_r(ConstMatMap<T> in, ConstMatMap<T> out, const T* direction, const ConstMatMap<T>* r_in,
                         MatMap<T> r_out);
  // Output layers: from the pre-activation derivative r_z, applies the loss's Gauss-Newton
  // matrix and backpropagates it: parameter gradients receive J^T H J v, `din` (if non-null)
  // the input part. False when the loss/activation pair has no Gauss-Newton form.
  virtual bool gauss_newton_backward(ConstMatMap<T> in, ConstMatMap<T> out, ConstMatMap<T> labels, MatMap<T> r_z,
                                     MatMap<T>* din);

  // --- Unsupervised layers (AutoEncoder, RBM, VariationalAutoencoder) ------------------------
  // They act as an encoder in a supervised network (their extra decoder parameters then get
  // zero gradient) and pretrain on their own objective.
  virtual bool pretrainable() const { return false; }
  // Gradient of the layer's own objective on a batch of its inputs, written into the layer's
  // whole gradient slice; returns the objective (mean over the batch, penalties included).
  virtual T pretrain_gradient(ConstMatMap<T> in, Rng& rng);
  // Deterministic reconstruction of the input: decoder(encoder(in)).
  virtual void reconstruct(ConstMatMap<T> in, MatMap<T> out) const;
  // Per-sample reconstruction error used to report pretraining progress (mean squared error
  // for real-valued inputs, cross-entropy for Bernoulli ones; the layer documents which).
  virtual T reconstruction_error(ConstMatMap<T> in) const;
  // VariationalAutoencoder: log p(x) estimated by importance sampling with `samples` draws per
  // input (DL4J reconstructionLogProbability), one value per column of `in`.
  virtual void reconstruction_log_probability(ConstMatMap<T> in, Index samples, Rng& rng,
                                              Eigen::Ref<Vector<T>> out) const;
  // VariationalAutoencoder: mean of p(x | z) for each column of `latent` (n_out x n).
  virtual void generate(ConstMatMap<T> latent, MatMap<T> out) const;

  virtual const Activation<T>* activation() const { return nullptr; }
  // The layer's configuration including sizes: {"type": ..., "n_in": ..., "n_out": ..., ...}.
  virtual Json config() const = 0;

 protected:
  // {"type", "n_in", "n_out", "activation"}: what every layer's configuration starts with.
  Json common_config() const;

  Index n_in_ = 0;
  Index n_out_ = 0;
  bool frozen_ = false;
};

// Builds a layer from its configuration; `n_in` comes from the previous layer.
template <typename T>
std::unique_ptr<Layer<T>> make_layer(const Json& config, Index n_in, std::size_t position);

// --- Layer types defined outside the core (C++ plug-ins; Python's eigennet.CustomLayer) ---------
// A factory builds a layer from its configuration (an object whose "type" is the registered name;
// a stored model's also has "n_in", "n_out" and whatever the layer's config() added), the width
// `n_in` of its input, and `where` ("Type(position)") to prefix error messages with. The layer's
// type() must return the registered name, so that its config() rebuilds it when a saved model is
// loaded; a model using the type loads only in a process that registered it.
template <typename T>
using LayerFactory = std::function<std::unique_ptr<Layer<T>>(const Json& config, Index n_in, const std::string& where)>;

// Registers a layer type for networks of element type T (register both float and double to serve
// both dtypes); registering a registered name again replaces its factory. Names compare as
// activation names do (case-insensitive, '_' and '-' ignored); a built-in type's name is refused.
// make_layer consults registered types after the built-in ones. Thread-safe.
template <typename T>
void register_layer_type(const std::string& type, LayerFactory<T> factory);

// The built-in layer types followed by the registered ones (element type T).
template <typename T>
std::vector<std::string> layer_type_names();

}  // namespace eigennet
