// Gradient normalization: each DL4J kind against a direct computation per layer / per tensor,
// skipping non-trainable tensors, zero norms, configuration parsing, and no heap allocation.
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include <eigennet/eigennet.hpp>
#include <eigennet/gradient_normalization.hpp>

#include "allocation_counter.hpp"
#include "check.hpp"


using namespace eigennet;

namespace {

// Layer 0: W 3x4, b 3; layer 1: W 2x3, b 2; layer 2: a trainable gamma and non-trainable running
// statistics (as BatchNormalization has).
std::vector<ParamLocation> locations() {
  return {
      {0, "W", 0, 3, 4, false, true},   {0, "b", 12, 3, 1, true, true},  {1, "W", 15, 2, 3, false, true},
      {1, "b", 21, 2, 1, true, true},   {2, "gamma", 23, 2, 1, false, true},
      {2, "mean", 25, 2, 1, true, false},
  };
}
constexpr Index kSize = 27;

Vector<double> sample_gradient() {
  Vector<double> g(kSize);
  for (Index i = 0; i < kSize; ++i) g[i] = std::sin(1.7 * static_cast<double>(i) + 0.3) * (1 + static_cast<double>(i % 5));
  return g;
}

double norm_of(const Vector<double>& g, const std::vector<ParamLocation>& locs, std::size_t layer) {
  double sum = 0;
  for (const auto& l : locs)
    if (l.trainable && l.layer == layer) sum += g.segment(l.offset, l.rows * l.cols).squaredNorm();
  return std::sqrt(sum);
}

// The expected result, computed directly (with copies) from the definitions.
Vector<double> expected(GradientNormalization kind, double t, const Vector<double>& g,
                        const std::vector<ParamLocation>& locs) {
  Vector<double> out = g;
  for (const auto& l : locs) {
    if (!l.trainable) continue;
    auto seg = out.segment(l.offset, l.rows * l.cols);
    const double tensor_norm = g.segment(l.offset, l.rows * l.cols).norm();
    const double layer_norm = norm_of(g, locs, l.layer);
    switch (kind) {
      case GradientNormalization::None: break;
      case GradientNormalization::RenormalizeL2PerLayer: seg /= layer_norm; break;
      case GradientNormalization::RenormalizeL2PerParamType: seg /= tensor_norm; break;
      case GradientNormalization::ClipElementWiseAbsoluteValue: seg = seg.cwiseMax(-t).cwiseMin(t); break;
      case GradientNormalization::ClipL2PerLayer:
        if (layer_norm > t) seg *= t / layer_norm;
        break;
      case GradientNormalization::ClipL2PerParamType:
        if (tensor_norm > t) seg *= t / tensor_norm;
        break;
    }
  }
  return out;
}

const GradientNormalization kAllKinds[] = {
    GradientNormalization::None,           GradientNormalization::RenormalizeL2PerLayer,
    GradientNormalization::RenormalizeL2PerParamType, GradientNormalization::ClipElementWiseAbsoluteValue,
    GradientNormalization::ClipL2PerLayer, GradientNormalization::ClipL2PerParamType,
};

}  // namespace

TEST_CASE(every_kind_matches_its_definition) {
  const auto locs = locations();
  const Vector<double> g = sample_gradient();
  for (GradientNormalization kind : kAllKinds) {
    for (double threshold : {0.5, 3.0, 1e6}) {
      Vector<double> actual = g;
      normalize_gradients<double>({kind, threshold}, VecMap<double>(actual.data(), kSize), locs);
      const Vector<double> want = expected(kind, threshold, g, locs);
      CHECK_MSG((actual - want).cwiseAbs().maxCoeff() <= 1e-14,
                gradient_normalization_name(kind) << " threshold " << threshold);
      // Non-trainable state is never touched.
      CHECK_EQ(actual[25], g[25]);
      CHECK_EQ(actual[26], g[26]);
    }
  }
  // Renormalizing gives unit norm per layer / per tensor.
  Vector<double> per_layer = g;
  normalize_gradients<double>({GradientNormalization::RenormalizeL2PerLayer, 1.0}, VecMap<double>(per_layer.data(), kSize), locs);
  for (std::size_t layer = 0; layer < 3; ++layer) CHECK_NEAR(norm_of(per_layer, locs, layer), 1.0, 1e-14);
}

TEST_CASE(layers_need_not_be_adjacent_in_the_list) {
  auto locs = locations();
  std::swap(locs[1], locs[3]);  // layer 0's b now comes after layer 1's W
  const Vector<double> g = sample_gradient();
  for (GradientNormalization kind : {GradientNormalization::RenormalizeL2PerLayer, GradientNormalization::ClipL2PerLayer}) {
    Vector<double> actual = g;
    normalize_gradients<double>({kind, 0.5}, VecMap<double>(actual.data(), kSize), locs);
    CHECK((actual - expected(kind, 0.5, g, locations())).cwiseAbs().maxCoeff() <= 1e-14);
  }
}

TEST_CASE(zero_norm_leaves_the_gradient_unchanged) {
  const auto locs = locations();
  Vector<double> g = sample_gradient();
  g.segment(0, 15).setZero();  // all of layer 0
  g.segment(21, 2).setZero();  // layer 1's b
  for (GradientNormalization kind : kAllKinds) {
    Vector<double> actual = g;
    normalize_gradients<double>({kind, 0.5}, VecMap<double>(actual.data(), kSize), locs);
    CHECK(actual.allFinite());
    CHECK(actual.segment(0, 15).isZero(0));
    CHECK(actual.segment(21, 2).isZero(0));
  }
}

TEST_CASE(float_gradients_match_double_reference) {
  const auto locs = locations();
  const Vector<double> g = sample_gradient();
  for (GradientNormalization kind : kAllKinds) {
    Vector<float> actual = g.cast<float>();
    normalize_gradients<float>({kind, 0.5}, VecMap<float>(actual.data(), kSize), locs);
    CHECK_MSG((actual.cast<double>() - expected(kind, 0.5, g, locs)).cwiseAbs().maxCoeff() <= 1e-5,
              gradient_normalization_name(kind));
  }
}

TEST_CASE(config_accepts_null_names_and_objects) {
  CHECK(GradientNormalizationConfig::from_json(Json()).kind == GradientNormalization::None);
  for (const char* spelling : {"\"clip_l2_per_layer\"", "\"ClipL2PerLayer\"", "\"CLIPL2PERLAYER\"", "\"clip-l2-per-layer\""})
    CHECK(GradientNormalizationConfig::from_json(Json::parse(spelling)).kind == GradientNormalization::ClipL2PerLayer);
  const auto config = GradientNormalizationConfig::from_json(
      Json::parse(R"({"name":"clip_element_wise_absolute_value","threshold":0.25})"));
  CHECK(config.kind == GradientNormalization::ClipElementWiseAbsoluteValue);
  CHECK_EQ(config.threshold, 0.25);
  CHECK_EQ(config.to_json().dump(), std::string(R"({"name":"ClipElementWiseAbsoluteValue","threshold":0.25})"));
  for (const auto& name : gradient_normalization_names()) {
    Json object = Json::object();
    object.set("name", name);
    object.set("threshold", 2.5);
    CHECK(GradientNormalizationConfig::from_json(object).to_json() == object);
  }
  CHECK_EQ(GradientNormalizationConfig::from_json(Json("none")).to_json().dump(), std::string(R"({"name":"None","threshold":1})"));
}

TEST_CASE(config_errors_name_the_problem) {
  CHECK_THROWS(GradientNormalizationConfig::from_json(Json("ClipL2PerLayr")), std::invalid_argument,
               "did you mean \"ClipL2PerLayer\"");
  CHECK_THROWS(GradientNormalizationConfig::from_json(Json::parse(R"({"name":"ClipL2PerLayer","threshold":0})")),
               std::invalid_argument, "threshold=0 is out of range (0, inf)");
  CHECK_THROWS(GradientNormalizationConfig::from_json(Json::parse(R"({"name":"ClipL2PerLayer","threshold":-1})")),
               std::invalid_argument, "threshold=-1");
  CHECK_THROWS(GradientNormalizationConfig::from_json(Json::parse(R"({"name":"ClipL2PerLayer","treshold":2})")),
               std::invalid_argument, "did you mean \"threshold\"");
  CHECK_THROWS(GradientNormalizationConfig::from_json(Json::parse(R"({"name":"ClipL2PerLayer","threshold":"2"})")),
               std::invalid_argument, "threshold must be a number");
  CHECK_THROWS(GradientNormalizationConfig::from_json(Json(3.0)), std::invalid_argument, "gradient_normalization must be");
}

TEST_CASE(normalizing_does_not_allocate) {
#if defined(EIGENNET_COUNT_ALLOCATIONS)
  const auto locs = locations();
  Vector<double> g = sample_gradient();
  Vector<float> gf = g.cast<float>();
  allocations.store(0);
  counting.store(true);
  for (GradientNormalization kind : kAllKinds) {
    normalize_gradients<double>({kind, 0.5}, VecMap<double>(g.data(), kSize), locs);
    normalize_gradients<float>({kind, 0.5}, VecMap<float>(gf.data(), kSize), locs);
  }
  counting.store(false);
  CHECK_EQ(allocations.load(), 0L);
#else
  std::printf("  (allocation counting needs glibc without AddressSanitizer; skipped)\n");
#endif
}

int main(int argc, char** argv) { return check::run(argc, argv); }
