#include "eigennet/schedule.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <map>
#include <utility>

#include "eigennet/errors.hpp"
#include "eigennet/registry.hpp"

namespace eigennet {

std::string format_number(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buffer[32];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof buffer, "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  return buffer;
}

Json Schedule::config() const {
  Json c = Json::object();
  c.set("name", name());
  for (const auto& [key, value] : fields_.as_object()) c.set(key, value);
  c.set("schedule_type", schedule_type_ == ScheduleType::Iteration ? "iteration" : "epoch");
  return c;
}

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// Counters and keys travel as JSON numbers (doubles), which hold every integer below 2^53 exactly.
constexpr double kLargestExactInteger = 9007199254740992.0;

const char* json_type_name(const Json& value) {
  switch (value.type()) {
    case Json::Type::Null: return "null";
    case Json::Type::Bool: return "a boolean";
    case Json::Type::Number: return "a number";
    case Json::Type::String: return "a string";
    case Json::Type::Array: return "an array";
    case Json::Type::Object: return "an object";
  }
  return "a value";
}

// Reads a schedule's fields by name, rejecting missing, unknown and invalid ones with the field named.
class FieldReader {
 public:
  FieldReader(const Json& config, std::string owner) : config_(config), owner_(std::move(owner)) {}

  const std::string& owner() const { return owner_; }

  // A required number in [low, high] (or (low, high] when low_open).
  double number(const std::string& key, double low, double high, bool low_open = false) {
    return checked(key, raw_number(key), low, high, low_open);
  }
  double number_or(const std::string& key, double fallback, double low, double high) {
    used_.push_back(key);
    const Json* value = config_.find(key);
    return checked(key, value == nullptr || value->is_null() ? fallback : raw_number(key), low, high, false);
  }
  // A required whole number in [low, 2^53).
  std::int64_t integer(const std::string& key, std::int64_t low) {
    const double v = raw_number(key);
    EIGENNET_REQUIRE(std::isfinite(v) && v == std::floor(v) && v >= static_cast<double>(low) && v < kLargestExactInteger,
                     owner_ + ": " + key + "=" + format_number(v) + " must be a whole number >= " + std::to_string(low));
    fields_.set(key, v);
    return static_cast<std::int64_t>(v);
  }
  // A required JSON object, returned for the caller to read; the caller records its canonical form.
  const Json::Object& object(const std::string& key) {
    const Json& value = required(key);
    EIGENNET_REQUIRE(value.is_object(), owner_ + ": " + key + " must be an object, got " + json_type_name(value));
    return value.as_object();
  }
  void record(const std::string& key, Json canonical) { fields_.set(key, std::move(canonical)); }

  ScheduleType schedule_type() {
    used_.push_back("schedule_type");
    const Json* value = config_.find("schedule_type");
    if (value == nullptr || value->is_null()) return ScheduleType::Iteration;
    EIGENNET_REQUIRE(value->is_string(), owner_ + ": schedule_type must be \"iteration\" or \"epoch\", got " +
                                             json_type_name(*value));
    const std::string key = registry_key(value->as_string());
    if (key == "ITERATION") return ScheduleType::Iteration;
    if (key == "EPOCH") return ScheduleType::Epoch;
    const std::string hint = closest_name(value->as_string(), {"iteration", "epoch"});
    fail(owner_ + ": schedule_type \"" + value->as_string() + "\" is neither \"iteration\" nor \"epoch\"" +
         (hint.empty() ? "" : "; did you mean \"" + hint + "\"?"));
  }

  void check_no_extra() const {
    for (const auto& kv : config_.as_object()) {
      if (kv.first == "name") continue;
      if (std::find(used_.begin(), used_.end(), kv.first) != used_.end()) continue;
      const std::string hint = closest_name(kv.first, used_);
      fail(owner_ + ": unknown field \"" + kv.first + "\"" + (hint.empty() ? "" : "; did you mean \"" + hint + "\"?"));
    }
  }

  // The fields read so far, in reading order.
  const Json& fields() const { return fields_; }

 private:
  const Json& required(const std::string& key) {
    used_.push_back(key);
    const Json* value = config_.find(key);
    if (value == nullptr || value->is_null()) {
      // A misspelt field shows up as this missing one: name the misspelling rather than the absence.
      for (const auto& kv : config_.as_object()) {
        if (kv.first == "name" || std::find(used_.begin(), used_.end(), kv.first) != used_.end()) continue;
        if (closest_name(kv.first, {key}) == key)
          fail(owner_ + ": unknown field \"" + kv.first + "\"; did you mean \"" + key + "\"?");
      }
      fail(owner_ + ": missing field \"" + key + "\"");
    }
    return *value;
  }
  double raw_number(const std::string& key) {
    const Json& value = required(key);
    EIGENNET_REQUIRE(value.is_number(), owner_ + ": " + key + " must be a number, got " + json_type_name(value));
    return value.as_number();
  }
  double checked(const std::string& key, double v, double low, double high, bool low_open) {
    const bool above = low_open ? v > low : v >= low;
    EIGENNET_REQUIRE(std::isfinite(v) && above && v <= high,
                     owner_ + ": " + key + "=" + format_number(v) + " is out of range " + (low_open ? "(" : "[") +
                         (std::isinf(low) ? "-inf" : format_number(low)) + ", " +
                         (std::isinf(high) ? "inf)" : format_number(high) + "]"));
    fields_.set(key, v);
    return v;
  }

  const Json& config_;
  std::string owner_;
  std::vector<std::string> used_;
  Json fields_ = Json::object();
};

// Each schedule reads its fields in its member initializers, which run in declaration order, so
// a configuration lists the fields in that order.

class FixedSchedule final : public Schedule {
 public:
  FixedSchedule(FieldReader& f, ScheduleType type) : Schedule(type), value_(f.number("value", 0, kInf)) {}
  std::string name() const override { return "FIXED"; }

 protected:
  double value(std::int64_t) const override { return value_; }

 private:
  double value_;
};

class StepSchedule final : public Schedule {
 public:
  StepSchedule(FieldReader& f, ScheduleType type)
      : Schedule(type),
        initial_(f.number("initial_value", 0, kInf)),
        decay_rate_(f.number("decay_rate", 0, kInf)),
        step_(f.number("step", 0, kInf, true)) {}
  std::string name() const override { return "STEP"; }

 protected:
  double value(std::int64_t i) const override {
    return initial_ * std::pow(decay_rate_, std::floor(static_cast<double>(i) / step_));
  }

 private:
  double initial_, decay_rate_, step_;
};

class ExponentialSchedule final : public Schedule {
 public:
  ExponentialSchedule(FieldReader& f, ScheduleType type)
      : Schedule(type), initial_(f.number("initial_value", 0, kInf)), gamma_(f.number("gamma", 0, kInf)) {}
  std::string name() const override { return "EXPONENTIAL"; }

 protected:
  double value(std::int64_t i) const override { return initial_ * std::pow(gamma_, static_cast<double>(i)); }

 private:
  double initial_, gamma_;
};

class InverseSchedule final : public Schedule {
 public:
  InverseSchedule(FieldReader& f, ScheduleType type)
      : Schedule(type),
        initial_(f.number("initial_value", 0, kInf)),
        gamma_(f.number("gamma", 0, kInf)),
        power_(f.number("power", 0, kInf)) {}
  std::string name() const override { return "INVERSE"; }

 protected:
  double value(std::int64_t i) const override {
    return initial_ / std::pow(1.0 + gamma_ * static_cast<double>(i), power_);
  }

 private:
  double initial_, gamma_, power_;
};

class PolySchedule final : public Schedule {
 public:
  PolySchedule(FieldReader& f, ScheduleType type)
      : Schedule(type),
        initial_(f.number("initial_value", 0, kInf)),
        power_(f.number("power", 0, kInf)),
        max_iter_(f.integer("max_iter", 1)) {}
  std::string name() const override { return "POLY"; }

 protected:
  double value(std::int64_t i) const override {
    if (i >= max_iter_) return 0.0;
    return initial_ * std::pow(1.0 - static_cast<double>(i) / static_cast<double>(max_iter_), power_);
  }

 private:
  double initial_, power_;
  std::int64_t max_iter_;
};

class SigmoidSchedule final : public Schedule {
 public:
  SigmoidSchedule(FieldReader& f, ScheduleType type)
      : Schedule(type),
        initial_(f.number("initial_value", 0, kInf)),
        gamma_(f.number("gamma", -kInf, kInf)),
        step_size_(f.integer("step_size", 0)) {}
  std::string name() const override { return "SIGMOID"; }

 protected:
  // exp overflowing to infinity gives the correct limit 0.
  double value(std::int64_t i) const override {
    return initial_ / (1.0 + std::exp(-gamma_ * (static_cast<double>(i) - static_cast<double>(step_size_))));
  }

 private:
  double initial_, gamma_;
  std::int64_t step_size_;
};

// Parses a MAP key: a decimal whole number written without sign, exponent or fraction.
std::int64_t parse_map_key(const std::string& owner, const std::string& text) {
  bool digits = !text.empty() && text.size() <= 16;
  for (char c : text) digits = digits && c >= '0' && c <= '9';
  EIGENNET_REQUIRE(digits, owner + ": values key \"" + text + "\" is not a non-negative whole number (an iteration or epoch)");
  const double key = std::strtod(text.c_str(), nullptr);
  EIGENNET_REQUIRE(key < kLargestExactInteger, owner + ": values key \"" + text + "\" is too large");
  return static_cast<std::int64_t>(key);
}

class MapSchedule final : public Schedule {
 public:
  MapSchedule(FieldReader& f, ScheduleType type) : Schedule(type), points_(read_points(f)) {}
  std::string name() const override { return "MAP"; }

 protected:
  // The last point whose key is <= i; key 0 exists, so there always is one.
  double value(std::int64_t i) const override {
    auto after = std::upper_bound(points_.begin(), points_.end(), i,
                                  [](std::int64_t counter, const std::pair<std::int64_t, double>& point) {
                                    return counter < point.first;
                                  });
    return std::prev(after)->second;
  }

 private:
  using Points = std::vector<std::pair<std::int64_t, double>>;

  // Reads {"0": v0, "10": v1, ...} and records it with canonical keys in increasing order.
  static Points read_points(FieldReader& f) {
    const Json::Object& values = f.object("values");
    Points points;
    for (const auto& [text, value] : values) {
      const std::int64_t key = parse_map_key(f.owner(), text);
      const std::string field = "values[" + std::to_string(key) + "]";
      EIGENNET_REQUIRE(value.is_number(), f.owner() + ": " + field + " must be a number, got " + json_type_name(value));
      const double v = value.as_number();
      EIGENNET_REQUIRE(std::isfinite(v) && v >= 0,
                       f.owner() + ": " + field + "=" + format_number(v) + " is out of range [0, inf)");
      points.emplace_back(key, v);
    }
    std::sort(points.begin(), points.end());
    for (std::size_t k = 1; k < points.size(); ++k)
      EIGENNET_REQUIRE(points[k].first != points[k - 1].first,
                       f.owner() + ": values has key " + std::to_string(points[k].first) + " twice");
    EIGENNET_REQUIRE(!points.empty() && points.front().first == 0,
                     f.owner() + ": values needs a key 0 (the value before any later key is reached)");
    Json canonical = Json::object();
    for (const auto& [key, v] : points) canonical.set(std::to_string(key), v);
    f.record("values", canonical);
    return points;
  }

  Points points_;
};

class CosineWarmupSchedule final : public Schedule {
 public:
  CosineWarmupSchedule(FieldReader& f, ScheduleType type)
      : Schedule(type),
        peak_(f.number("peak_value", 0, kInf)),
        warmup_(f.integer("warmup", 0)),
        total_(f.integer("total", 1)),
        final_(f.number_or("final_value", 0.0, 0, kInf)) {
    EIGENNET_REQUIRE(warmup_ <= total_, f.owner() + ": warmup=" + std::to_string(warmup_) + " must not exceed total=" +
                                            std::to_string(total_));
  }
  std::string name() const override { return "COSINE_WARMUP"; }

 protected:
  double value(std::int64_t i) const override {
    if (i < warmup_) return peak_ * static_cast<double>(i) / static_cast<double>(warmup_);
    if (i >= total_) return final_;
    const double progress = static_cast<double>(i - warmup_) / static_cast<double>(total_ - warmup_);
    return final_ + (peak_ - final_) * 0.5 * (1.0 + std::cos(kPi * progress));
  }

 private:
  static constexpr double kPi = 3.14159265358979323846;
  double peak_;
  std::int64_t warmup_, total_;
  double final_;
};

using ScheduleFactory = std::function<std::unique_ptr<Schedule>(FieldReader&, ScheduleType)>;

template <typename S>
ScheduleFactory factory() {
  return [](FieldReader& f, ScheduleType type) { return std::make_unique<S>(f, type); };
}

const std::map<std::string, ScheduleFactory>& schedule_table() {
  static const std::map<std::string, ScheduleFactory> table = {
      {"FIXED", factory<FixedSchedule>()},
      {"STEP", factory<StepSchedule>()},
      {"EXPONENTIAL", factory<ExponentialSchedule>()},
      {"INVERSE", factory<InverseSchedule>()},
      {"POLY", factory<PolySchedule>()},
      {"SIGMOID", factory<SigmoidSchedule>()},
      {"MAP", factory<MapSchedule>()},
      {"COSINE_WARMUP", factory<CosineWarmupSchedule>()},
  };
  return table;
}

}  // namespace

std::vector<std::string> schedule_names() {
  std::vector<std::string> names;
  for (const auto& kv : schedule_table()) names.push_back(kv.first);
  return names;
}

std::unique_ptr<Schedule> make_schedule(const Json& config) {
  const Json object = config.is_string() ? Json(Json::Object{{"name", config}}) : config;
  EIGENNET_REQUIRE(object.is_object(), std::string("a schedule must be an object {\"name\": ..., ...}, got ") +
                                           json_type_name(object));
  const Json* name = object.find("name");
  EIGENNET_REQUIRE(name != nullptr && name->is_string(), "a schedule needs a \"name\" string (one of FIXED, STEP, ...)");
  const std::string given = name->as_string();
  for (const auto& [canonical, make] : schedule_table()) {
    if (registry_key(canonical) != registry_key(given)) continue;
    FieldReader reader(object, canonical + " schedule");
    const ScheduleType type = reader.schedule_type();
    auto schedule = make(reader, type);
    reader.check_no_extra();
    schedule->fields_ = reader.fields();
    return schedule;
  }
  const std::string hint = closest_name(given, schedule_names());
  fail("unknown schedule \"" + given + "\"" + (hint.empty() ? "" : "; did you mean \"" + hint + "\"?"));
}

}  // namespace eigennet
