#include "eigennet/init.hpp"

#include <cmath>
#include <vector>

#include "eigennet/errors.hpp"
#include "eigennet/registry.hpp"

namespace eigennet {

namespace {
const std::vector<std::string>& scheme_names() {
  static const std::vector<std::string> names = {
      "ZERO",   "ONES",          "CONSTANT",     "NORMAL",      "UNIFORM",      "XAVIER",          "XAVIER_UNIFORM",
      "XAVIER_FAN_IN", "LECUN_NORMAL", "LECUN_UNIFORM", "RELU", "RELU_UNIFORM", "SIGMOID_UNIFORM", "DISTRIBUTION"};
  return names;
}

double finite_field(const Json& spec, const char* key, double fallback) {
  const double v = spec.number_or(key, fallback);
  EIGENNET_REQUIRE(std::isfinite(v), std::string("weight init: ") + key + " must be finite");
  return v;
}
}  // namespace

Json canonical_weight_init(const Json& spec) {
  const std::string given = spec.is_string() ? spec.as_string() : spec.at("name").as_string("weight init name");
  std::string scheme;
  for (const auto& name : scheme_names())
    if (registry_key(name) == registry_key(given)) scheme = name;
  if (scheme.empty()) {
    const std::string hint = closest_name(given, scheme_names());
    fail("unknown weight init \"" + given + "\"" + (hint.empty() ? "" : "; did you mean \"" + hint + "\"?"));
  }
  Json out = Json::object();
  out.set("name", scheme);
  if (scheme == "CONSTANT") out.set("value", finite_field(spec.is_object() ? spec : Json::object(), "value", 0.0));
  if (scheme == "DISTRIBUTION") {
    EIGENNET_REQUIRE(spec.is_object(), "weight init DISTRIBUTION needs {\"distribution\": \"normal\"|\"uniform\", ...}");
    const std::string kind = spec.string_or("distribution", "normal");
    out.set("distribution", kind);
    if (kind == "normal") {
      const double stddev = finite_field(spec, "std", 1.0);
      EIGENNET_REQUIRE(stddev >= 0, "weight init: std must be >= 0");
      out.set("mean", finite_field(spec, "mean", 0.0));
      out.set("std", stddev);
    } else if (kind == "uniform") {
      const double lower = finite_field(spec, "lower", -1.0), upper = finite_field(spec, "upper", 1.0);
      EIGENNET_REQUIRE(lower <= upper, "weight init: need lower <= upper");
      out.set("lower", lower);
      out.set("upper", upper);
    } else {
      fail("weight init: distribution must be \"normal\" or \"uniform\", got \"" + kind + "\"");
    }
  }
  return out;
}

template <typename T>
void initialize_weights(const Json& spec, T* data, Index count, Index fan_in, Index fan_out, Rng& rng) {
  const std::string scheme = spec.at("name").as_string();
  const double in = static_cast<double>(std::max<Index>(fan_in, 1));
  const double sum = static_cast<double>(std::max<Index>(fan_in + fan_out, 1));
  auto fill_normal = [&](double mean, double stddev) {
    for (Index i = 0; i < count; ++i) data[i] = static_cast<T>(rng.normal(mean, stddev));
  };
  auto fill_uniform = [&](double lower, double upper) {
    for (Index i = 0; i < count; ++i) data[i] = static_cast<T>(rng.uniform(lower, upper));
  };
  auto fill_constant = [&](double value) {
    for (Index i = 0; i < count; ++i) data[i] = static_cast<T>(value);
  };
  if (scheme == "ZERO") fill_constant(0.0);
  else if (scheme == "ONES") fill_constant(1.0);
  else if (scheme == "CONSTANT") fill_constant(spec.at("value").as_number());
  else if (scheme == "NORMAL" || scheme == "XAVIER_FAN_IN" || scheme == "LECUN_NORMAL") fill_normal(0.0, std::sqrt(1.0 / in));
  else if (scheme == "UNIFORM") fill_uniform(-1.0 / std::sqrt(in), 1.0 / std::sqrt(in));
  else if (scheme == "XAVIER") fill_normal(0.0, std::sqrt(2.0 / sum));
  else if (scheme == "XAVIER_UNIFORM") fill_uniform(-std::sqrt(6.0 / sum), std::sqrt(6.0 / sum));
  else if (scheme == "LECUN_UNIFORM") fill_uniform(-3.0 / std::sqrt(in), 3.0 / std::sqrt(in));
  else if (scheme == "RELU") fill_normal(0.0, std::sqrt(2.0 / in));
  else if (scheme == "RELU_UNIFORM") fill_uniform(-std::sqrt(6.0 / in), std::sqrt(6.0 / in));
  else if (scheme == "SIGMOID_UNIFORM") fill_uniform(-4.0 * std::sqrt(6.0 / sum), 4.0 * std::sqrt(6.0 / sum));
  else if (scheme == "DISTRIBUTION") {
    if (spec.at("distribution").as_string() == "normal")
      fill_normal(spec.at("mean").as_number(), spec.at("std").as_number());
    else
      fill_uniform(spec.at("lower").as_number(), spec.at("upper").as_number());
  } else {
    fail("unknown weight init \"" + scheme + "\"");
  }
}

template void initialize_weights<float>(const Json&, float*, Index, Index, Index, Rng&);
template void initialize_weights<double>(const Json&, double*, Index, Index, Index, Rng&);

}  // namespace eigennet
