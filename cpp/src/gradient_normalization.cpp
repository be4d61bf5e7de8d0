#include "eigennet/gradient_normalization.hpp"

#include <cmath>

#include "eigennet/errors.hpp"
#include "eigennet/registry.hpp"
#include "eigennet/schedule.hpp"  // format_number

namespace eigennet {

namespace {

struct NamedKind {
  GradientNormalization kind;
  const char* name;
};

constexpr NamedKind kKinds[] = {
    {GradientNormalization::None, "None"},
    {GradientNormalization::RenormalizeL2PerLayer, "RenormalizeL2PerLayer"},
    {GradientNormalization::RenormalizeL2PerParamType, "RenormalizeL2PerParamType"},
    {GradientNormalization::ClipElementWiseAbsoluteValue, "ClipElementWiseAbsoluteValue"},
    {GradientNormalization::ClipL2PerLayer, "ClipL2PerLayer"},
    {GradientNormalization::ClipL2PerParamType, "ClipL2PerParamType"},
};

GradientNormalization kind_from_name(const std::string& given) {
  for (const auto& entry : kKinds)
    if (registry_key(entry.name) == registry_key(given)) return entry.kind;
  const std::string hint = closest_name(given, gradient_normalization_names());
  fail("unknown gradient_normalization \"" + given + "\"" + (hint.empty() ? "" : "; did you mean \"" + hint + "\"?"));
}

template <typename T>
auto tensor(VecMap<T>& grads, const ParamLocation& loc) {
  return grads.segment(loc.offset, loc.rows * loc.cols);
}

// Sums of squares accumulate in double so that float32 gradients get an accurate norm too (the
// cast is an expression, not a copy).
template <typename T>
double squared_norm(VecMap<T>& grads, const ParamLocation& loc) {
  return tensor(grads, loc).template cast<double>().squaredNorm();
}

// Rescales one tensor whose layer (or own) gradient has L2 norm `norm`, as `kind` asks.
template <typename T>
void rescale(VecMap<T>& grads, const ParamLocation& loc, GradientNormalization kind, double norm, double threshold) {
  if (kind == GradientNormalization::RenormalizeL2PerLayer || kind == GradientNormalization::RenormalizeL2PerParamType) {
    // Dividing (rather than multiplying by 1/norm) stays finite for the tiniest non-zero norms.
    if (norm > 0) tensor(grads, loc) /= static_cast<T>(norm);
  } else if (norm > threshold) {  // the ClipL2 kinds
    tensor(grads, loc) *= static_cast<T>(threshold / norm);
  }
}

}  // namespace

std::string gradient_normalization_name(GradientNormalization kind) {
  for (const auto& entry : kKinds)
    if (entry.kind == kind) return entry.name;
  fail("invalid GradientNormalization value " + std::to_string(static_cast<int>(kind)));
}

std::vector<std::string> gradient_normalization_names() {
  std::vector<std::string> names;
  for (const auto& entry : kKinds) names.push_back(entry.name);
  return names;
}

GradientNormalizationConfig GradientNormalizationConfig::from_json(const Json& config) {
  GradientNormalizationConfig result;
  if (config.is_null()) return result;
  if (config.is_string()) {
    result.kind = kind_from_name(config.as_string());
    return result;
  }
  EIGENNET_REQUIRE(config.is_object(), "gradient_normalization must be null, a name or {\"name\": ..., \"threshold\": ...}");
  const Json* name = config.find("name");
  EIGENNET_REQUIRE(name != nullptr && name->is_string(), "gradient_normalization needs a \"name\" string");
  result.kind = kind_from_name(name->as_string());
  for (const auto& kv : config.as_object()) {
    if (kv.first == "name") continue;
    if (kv.first == "threshold") {
      EIGENNET_REQUIRE(kv.second.is_number(), "gradient_normalization threshold must be a number");
      result.threshold = kv.second.as_number();
      continue;
    }
    const std::string hint = closest_name(kv.first, {"name", "threshold"});
    fail("gradient_normalization: unknown field \"" + kv.first + "\"" +
         (hint.empty() ? "" : "; did you mean \"" + hint + "\"?"));
  }
  EIGENNET_REQUIRE(std::isfinite(result.threshold) && result.threshold > 0,
                   "gradient_normalization threshold=" + format_number(result.threshold) + " is out of range (0, inf)");
  return result;
}

Json GradientNormalizationConfig::to_json() const {
  Json out = Json::object();
  out.set("name", gradient_normalization_name(kind));
  out.set("threshold", threshold);
  return out;
}

template <typename T>
void normalize_gradients(const GradientNormalizationConfig& config, VecMap<T> grads,
                         const std::vector<ParamLocation>& locations) {
  const GradientNormalization kind = config.kind;
  switch (kind) {
    case GradientNormalization::None:
      return;

    case GradientNormalization::ClipElementWiseAbsoluteValue: {
      const T t = static_cast<T>(config.threshold);
      for (const auto& loc : locations)
        if (loc.trainable) tensor(grads, loc) = tensor(grads, loc).cwiseMax(-t).cwiseMin(t);
      return;
    }

    case GradientNormalization::RenormalizeL2PerParamType:
    case GradientNormalization::ClipL2PerParamType:
      for (const auto& loc : locations)
        if (loc.trainable) rescale(grads, loc, kind, std::sqrt(squared_norm(grads, loc)), config.threshold);
      return;

    case GradientNormalization::RenormalizeL2PerLayer:
    case GradientNormalization::ClipL2PerLayer: {
      // A layer's tensors are found by scanning the list rather than by assuming they are adjacent
      // in it; the list holds a few entries per layer, so this costs nothing next to the step.
      const std::size_t n = locations.size();
      for (std::size_t i = 0; i < n; ++i) {
        const ParamLocation& first = locations[i];
        if (!first.trainable) continue;
        bool seen_before = false;
        for (std::size_t j = 0; j < i && !seen_before; ++j)
          seen_before = locations[j].trainable && locations[j].layer == first.layer;
        if (seen_before) continue;
        double sum_of_squares = 0;
        for (std::size_t j = i; j < n; ++j)
          if (locations[j].trainable && locations[j].layer == first.layer) sum_of_squares += squared_norm(grads, locations[j]);
        const double norm = std::sqrt(sum_of_squares);
        for (std::size_t j = i; j < n; ++j)
          if (locations[j].trainable && locations[j].layer == first.layer)
            rescale(grads, locations[j], kind, norm, config.threshold);
      }
      return;
    }
  }
}

template void normalize_gradients<float>(const GradientNormalizationConfig&, VecMap<float>,
                                         const std::vector<ParamLocation>&);
template void normalize_gradients<double>(const GradientNormalizationConfig&, VecMap<double>,
                                          const std::vector<ParamLocation>&);

}  // namespace eigennet
