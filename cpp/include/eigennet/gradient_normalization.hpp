// Gradient normalization (DL4J GradientNormalization), applied to the gradient before the updater.
// With g a layer's gradient (all its trainable tensors together) or one tensor's, and t the threshold:
//   None                           no change
//   RenormalizeL2PerLayer          g /= ||g||_2 over the whole layer
//   RenormalizeL2PerParamType      g /= ||g||_2 for each tensor (W, b, ...) separately
//   ClipElementWiseAbsoluteValue   each element clamped to [-t, t]
//   ClipL2PerLayer                 g *= t / ||g||_2 over the whole layer, when ||g||_2 > t
//   ClipL2PerParamType             the same for each tensor separately
// A zero norm leaves the gradient unchanged (rather than dividing by zero). Tensors that are not
// trainable (running statistics, frozen layers) are skipped and count in no norm.
// Names take DL4J's spelling and the usual lookup: "clip_l2_per_layer" is ClipL2PerLayer.
#pragma once

#include <string>
#include <vector>

#include "eigennet/json.hpp"
#include "eigennet/layer.hpp"
#include "eigennet/types.hpp"

namespace eigennet {

enum class GradientNormalization {
  None,
  RenormalizeL2PerLayer,
  RenormalizeL2PerParamType,
  ClipElementWiseAbsoluteValue,
  ClipL2PerLayer,
  ClipL2PerParamType,
};

std::string gradient_normalization_name(GradientNormalization kind);
std::vector<std::string> gradient_normalization_names();

struct GradientNormalizationConfig {
  GradientNormalization kind = GradientNormalization::None;
  double threshold = 1.0;  // used by the Clip kinds; must be finite and > 0 in any case

  // Accepts null or an absent value (None), a name, or {"name": ..., "threshold": ...}.
  static GradientNormalizationConfig from_json(const Json& config);
  // {"name": "ClipL2PerLayer", "threshold": 1}.
  Json to_json() const;
};

// Normalizes `grads` in place, as the flat gradient of the tensors listed in `locations` (each
// tensor of every layer, with its layer index, offset and rows x cols). Allocates nothing.
template <typename T>
void normalize_gradients(const GradientNormalizationConfig& config, VecMap<T> grads,
                         const std::vector<ParamLocation>& locations);

}  // namespace eigennet
