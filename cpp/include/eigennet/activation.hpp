// Activation functions. Each is a small object (parameters live in it, e.g. LeakyReLU's alpha;
// RReLU also keeps the slopes it drew for the current batch) created by name from a registry
// that built-in and user-defined activations share.
#pragma once

#include <memory>
#include <stdexcept>
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

  // True for an activation that computes each element from its own z alone, without state or
  // randomness, and rounds it the same whether a vectorized loop or its scalar tail computes it.
  // Such an activation gives every element the same value whichever block of a matrix it is given,
  // so a layer may apply it inside its matrix product, to each tile of output as it is finished:
  // on the threads that computed the tile, while the tile is still in cache.
  virtual bool blockwise() const { return false; }
  // a = f(z) on blocks of larger matrices (a may be z); called only when blockwise() is true, from
  // several threads at once on disjoint blocks.
  virtual void forward_block(ConstBlockMap<T> z, BlockMap<T> a) const;
};

template <typename T>
void Activation<T>::forward_block(ConstBlockMap<T>, BlockMap<T>) const {
  throw std::logic_error(name() + ": forward_block called on an activation that is not blockwise");
}

template <typename T>
Registry<Activation<T>>& activation_registry();

// Creates an activation from a name or a config object; throws std::invalid_argument if unknown.
template <typename T>
std::unique_ptr<Activation<T>> make_activation(const Json& config) {
  return activation_registry<T>().create(config);
}

}  // namespace eigennet
