// Internal to the core: factories of the layers that live in their own source files, and the
// dropout helpers that Dense shares with the Dropout layer. Not installed, not part of the API.
#pragma once

#include <memory>
#include <string>

#include "eigennet/layer.hpp"

namespace eigennet {
namespace internal {

// BatchNormalization (layer_batchnorm.cpp).
template <typename T>
std::unique_ptr<Layer<T>> make_batch_normalization(const Json& config, Index n_in, const std::string& where);

// Dropout, GaussianDropout, AlphaDropout, GaussianNoise (layer_dropout.cpp); `key` is the
// registry_key of the type ("DROPOUT", ...). Returns nullptr for any other key.
template <typename T>
std::unique_ptr<Layer<T>> make_noise_layer(const std::string& key, const Json& config, Index n_in,
                                           const std::string& where);

// Reads an optional probability of dropping, `key` in [0, 1) (0 when absent); the error names
// `where` and `key`.
double read_drop_rate(const Json& config, const char* key, const std::string& where);

// Inverted dropout mask: each of the n entries is 0 with probability `rate`, else 1 / (1 - rate).
// One uniform draw per entry. `keep` (optional, n bytes) receives 1 for kept entries, 0 for dropped.
template <typename T>
void draw_dropout_mask(T* mask, unsigned char* keep, Index n, double rate, Rng& rng) {
  const T scale = static_cast<T>(1.0 / (1.0 - rate));
  for (Index k = 0; k < n; ++k) {
    const bool kept = rng.uniform() >= rate;
    mask[k] = kept ? scale : T(0);
    if (keep) keep[k] = kept ? 1 : 0;
  }
}

}  // namespace internal
}  // namespace eigennet
