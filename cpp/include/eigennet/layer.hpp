// Layers. A layer owns no parameter memory: the network binds it to views into its flat
// parameter and gradient buffers. Working buffers are sized once per maximum batch size.
#pragma once

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
struct ParamInfo {
  std::string name;
  Index offset;
  Index rows;
  Index cols;
  bool is_bias;
};

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

  // out = layer(in); `training` enables stochastic behaviour and keeps what backward needs.
  virtual void forward(ConstMatMap<T> in, MatMap<T> out, bool training, Rng& rng) = 0;
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

  virtual const Activation<T>* activation() const { return nullptr; }
  // The layer's configuration including sizes: {"type": ..., "n_in": ..., "n_out": ..., ...}.
  virtual Json config() const = 0;

 protected:
  // {"type", "n_in", "n_out", "activation"}: what every layer's configuration starts with.
  Json common_config() const;

  Index n_in_ = 0;
  Index n_out_ = 0;
};

// Builds a layer from its configuration; `n_in` comes from the previous layer.
template <typename T>
std::unique_ptr<Layer<T>> make_layer(const Json& config, Index n_in, std::size_t position);

}  // namespace eigennet
