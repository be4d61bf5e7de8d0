// Activation functions. Each is a small object (parameters live in it, e.g. LeakyReLU's alpha;
// RReLU also keeps the slopes it drew for the current batch) created by name from a registry
// that built-in and user-defined activations share.
#pragma once

#include <memory>
#include <string>

#include "eigennet/json.hpp"
#include "eigennet/registry.hpp"
#include "eigennet/rng.hpp"
#include "eigennet/types.hpp"

namespace eigennet {

template <typename T>
class Activation {
 public:
  virtual ~Activation() = default;

  // Canonical DL4J-style name, e.g. "LEAKYRELU".
  virtual std::string name() const = 0;
  // {"name": ..., parameters...}; recreates an equal activation through the registry.
  virtual Json config() const {
    Json c = Json::object();
    c.set("name", name());
    return c;
  }
  virtual std::unique_ptr<Activation> clone() const = 0;

  // a = f(z), column per sample. `training` matters only for stochastic activations (RReLU).
  virtual void forward(ConstMatMap<T> z, MatMap<T> a, bool training, Rng& rng) = 0;
  // dz = J_f(z)^T da for each column; dz may share memory with da.
  virtual void backward(ConstMatMap<T> z, ConstMatMap<T> a, ConstMatMap<T> da, MatMap<T> dz) = 0;
};

template <typename T>
Registry<Activation<T>>& activation_registry();

// Creates an activation from a name or a config object; throws std::invalid_argument if unknown.
template <typename T>
std::unique_ptr<Activation<T>> make_activation(const Json& config) {
  return activation_registry<T>().create(config);
}

}  // namespace eigennet
