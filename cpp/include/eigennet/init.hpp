// Weight initializers with DL4J's names and formulas (fan_in = n_in, fan_out = n_out):
//   ZERO, ONES, CONSTANT{value}     constants
//   NORMAL          N(0, 1/fan_in)              UNIFORM        U(-a, a), a = 1/sqrt(fan_in)
//   XAVIER          N(0, 2/(fan_in+fan_out))    XAVIER_UNIFORM U(-a, a), a = sqrt(6/(fan_in+fan_out))
//   XAVIER_FAN_IN   N(0, 1/fan_in)              LECUN_NORMAL   N(0, 1/fan_in)
//   LECUN_UNIFORM   U(-a, a), a = 3/sqrt(fan_in)   (DL4J's constant; Keras uses sqrt(3/fan_in))
//   RELU (He)       N(0, 2/fan_in)              RELU_UNIFORM   U(-a, a), a = sqrt(6/fan_in)
//   SIGMOID_UNIFORM U(-a, a), a = 4 sqrt(6/(fan_in+fan_out))
//   DISTRIBUTION{distribution: "normal", mean, std} or {distribution: "uniform", lower, upper}
// (variances given; a normal draws mean + std * z with our own sampler).
#pragma once

#include "eigennet/json.hpp"
#include "eigennet/rng.hpp"
#include "eigennet/types.hpp"

namespace eigennet {

// Validates a weight-init spec (a name or an object) and returns its canonical object form.
Json canonical_weight_init(const Json& spec);

template <typename T>
void initialize_weights(const Json& canonical_spec, T* data, Index count, Index fan_in, Index fan_out, Rng& rng);

}  // namespace eigennet
