// Learning-rate schedules (DL4J ISchedule). A schedule maps a counter i to a value; its
// "schedule_type" says which counter: "iteration" (updater steps taken before this step, from 0)
// or "epoch" (epochs completed before this one, from 0). Formulas, with v0 = initial_value:
//   FIXED          value
//   STEP           v0 decay_rate^floor(i / step)
//   EXPONENTIAL    v0 gamma^i
//   INVERSE        v0 / (1 + gamma i)^power
//   POLY           v0 (1 - i / max_iter)^power for i < max_iter, 0 from max_iter on
//                  (DL4J's PolySchedule computes v0 (1 + i/max_iter)^power, which grows, and its
//                  javadoc says (1 + i/max_iter)^-power; both drop to 0 at max_iter. This is the
//                  usual "poly" policy instead, which reaches 0 continuously.)
//   SIGMOID        v0 / (1 + exp(-gamma (i - step_size)))
//   MAP            values[k] for the largest key k <= i (key 0 is required)
//   COSINE_WARMUP  peak_value i / warmup                                       for i < warmup
//                  final_value + (peak_value - final_value) (1 + cos(pi (i - warmup) / (total - warmup))) / 2
//                                                                              for warmup <= i < total
//                  final_value                                                 for i >= total
//                  (the first step, i = 0, has rate 0 when warmup > 0, as in optax and Hugging Face)
// Configurations are {"name": "EXPONENTIAL", "initial_value": 0.1, "gamma": 0.99,
// "schedule_type": "iteration"}; MAP's values are {"values": {"0": 0.1, "10": 0.01}}.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "eigennet/json.hpp"

namespace eigennet {

enum class ScheduleType { Iteration, Epoch };

class Schedule;
std::unique_ptr<Schedule> make_schedule(const Json& config);

class Schedule {
  friend std::unique_ptr<Schedule> make_schedule(const Json& config);

 public:
  virtual ~Schedule() = default;
  // The canonical name ("EXPONENTIAL").
  virtual std::string name() const = 0;
  ScheduleType schedule_type() const { return schedule_type_; }

  // The value for the step that follows `iteration` steps, in epoch `epoch` (both from 0).
  double value_at(std::int64_t iteration, std::int64_t epoch) const {
    return value(schedule_type_ == ScheduleType::Iteration ? iteration : epoch);
  }

  // {"name", the fields in a fixed order, "schedule_type"}; make_schedule(config()) rebuilds it.
  Json config() const;

 protected:
  explicit Schedule(ScheduleType type) : schedule_type_(type) {}
  // The value at counter i >= 0.
  virtual double value(std::int64_t i) const = 0;

 private:
  ScheduleType schedule_type_;
  Json fields_ = Json::object();  // the schedule's own fields as read by make_schedule, which sets them
};

// Builds a schedule from {"name": ..., fields..., "schedule_type": ...}. Every field is required
// except schedule_type ("iteration" when absent) and COSINE_WARMUP's final_value (0). Unknown
// names and fields fail with a "did you mean" hint; invalid values fail naming the field.
std::unique_ptr<Schedule> make_schedule(const Json& config);

std::vector<std::string> schedule_names();

// Shortest decimal form that reads back as the same double ("1e-09", "0.001", "nan", "inf"), for
// error messages that show the value the user gave.
std::string format_number(double value);

}  // namespace eigennet
