// Internal: factories of the unsupervised layers defined in layer_pretrain.cpp (AutoEncoder, RBM,
// VariationalAutoencoder), called by make_layer. `where` names the layer in error messages,
// e.g. "AutoEncoder(0)".
#pragma once

#include <memory>
#include <string>

#include "eigennet/json.hpp"
#include "eigennet/layer.hpp"

namespace eigennet {

template <typename T>
std::unique_ptr<Layer<T>> make_autoencoder(const Json& config, Index n_in, const std::string& where);

template <typename T>
std::unique_ptr<Layer<T>> make_rbm(const Json& config, Index n_in, const std::string& where);

template <typename T>
std::unique_ptr<Layer<T>> make_variational_autoencoder(const Json& config, Index n_in, const std::string& where);

}  // namespace eigennet
