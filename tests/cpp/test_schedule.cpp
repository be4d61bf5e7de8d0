// Learning-rate schedules: closed forms, configuration round trips, validation messages, and the
// updater evaluating its schedule once per step without touching the heap.
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>

#include <eigennet/eigennet.hpp>
#include <eigennet/schedule.hpp>

#include "allocation_counter.hpp"
#include "check.hpp"


using namespace eigennet;

namespace {

std::unique_ptr<Schedule> schedule(const char* json) { return make_schedule(Json::parse(json)); }

constexpr double kTolerance = 1e-15;
const double kPi = std::acos(-1.0);

}  // namespace

TEST_CASE(closed_forms_at_several_counters) {
  for (std::int64_t i : {0, 1, 2, 7, 10, 99, 1000}) {
    const double x = static_cast<double>(i);
    CHECK_NEAR(schedule(R"({"name":"fixed","value":0.25})")->value_at(i, 0), 0.25, kTolerance);
    CHECK_NEAR(schedule(R"({"name":"step","initial_value":0.5,"decay_rate":0.1,"step":3})")->value_at(i, 0),
               0.5 * std::pow(0.1, std::floor(x / 3)), kTolerance);
    CHECK_NEAR(schedule(R"({"name":"Exponential","initial_value":0.1,"gamma":0.99})")->value_at(i, 0),
               0.1 * std::pow(0.99, x), kTolerance);
    CHECK_NEAR(schedule(R"({"name":"inverse","initial_value":0.2,"gamma":0.01,"power":0.75})")->value_at(i, 0),
               0.2 / std::pow(1 + 0.01 * x, 0.75), kTolerance);
    CHECK_NEAR(schedule(R"({"name":"POLY","initial_value":0.3,"power":2,"max_iter":100})")->value_at(i, 0),
               i < 100 ? 0.3 * std::pow(1 - x / 100, 2) : 0.0, kTolerance);
    CHECK_NEAR(schedule(R"({"name":"sigmoid","initial_value":0.4,"gamma":-0.1,"step_size":5})")->value_at(i, 0),
               0.4 / (1 + std::exp(0.1 * (x - 5))), kTolerance);
  }
}

TEST_CASE(map_takes_the_last_key_reached) {
  auto s = schedule(R"({"name":"map","values":{"10":0.05,"0":0.1,"25":0.01}})");
  CHECK_EQ(s->value_at(0, 0), 0.1);
  CHECK_EQ(s->value_at(9, 0), 0.1);
  CHECK_EQ(s->value_at(10, 0), 0.05);
  CHECK_EQ(s->value_at(24, 0), 0.05);
  CHECK_EQ(s->value_at(25, 0), 0.01);
  CHECK_EQ(s->value_at(1000000, 0), 0.01);
  // Keys come back sorted and in canonical form.
  CHECK_EQ(s->config().at("values").dump(), std::string(R"({"0":0.10000000000000001,"10":0.050000000000000003,"25":0.01})"));
}

TEST_CASE(cosine_warmup_ramps_then_decays_then_holds) {
  auto s = schedule(R"({"name":"cosine_warmup","peak_value":1.0,"warmup":4,"total":12,"final_value":0.1})");
  CHECK_EQ(s->value_at(0, 0), 0.0);
  CHECK_NEAR(s->value_at(2, 0), 0.5, kTolerance);
  CHECK_NEAR(s->value_at(4, 0), 1.0, kTolerance);
  CHECK_NEAR(s->value_at(8, 0), 0.1 + 0.9 * 0.5 * (1 + std::cos(kPi * 0.5)), kTolerance);
  CHECK_NEAR(s->value_at(11, 0), 0.1 + 0.9 * 0.5 * (1 + std::cos(kPi * 7 / 8)), kTolerance);
  CHECK_EQ(s->value_at(12, 0), 0.1);
  CHECK_EQ(s->value_at(500, 0), 0.1);
  // No warm-up starts at the peak; final_value defaults to 0.
  auto plain = schedule(R"({"name":"cosine_warmup","peak_value":2.0,"warmup":0,"total":10})");
  CHECK_EQ(plain->value_at(0, 0), 2.0);
  CHECK_EQ(plain->value_at(10, 0), 0.0);
  CHECK_EQ(plain->config().at("final_value").as_number(), 0.0);
}

TEST_CASE(schedule_type_selects_the_counter) {
  auto by_iteration = schedule(R"({"name":"exponential","initial_value":1,"gamma":0.5})");
  auto by_epoch = schedule(R"({"name":"exponential","initial_value":1,"gamma":0.5,"schedule_type":"EPOCH"})");
  CHECK(by_iteration->schedule_type() == ScheduleType::Iteration);
  CHECK(by_epoch->schedule_type() == ScheduleType::Epoch);
  CHECK_EQ(by_iteration->value_at(3, 1), 0.125);
  CHECK_EQ(by_epoch->value_at(3, 1), 0.5);
  CHECK_EQ(by_epoch->config().at("schedule_type").as_string(), std::string("epoch"));
}

TEST_CASE(config_round_trips) {
  const char* configs[] = {
      R"({"name":"FIXED","value":0.25,"schedule_type":"iteration"})",
      R"({"name":"STEP","initial_value":0.5,"decay_rate":0.1,"step":3,"schedule_type":"epoch"})",
      R"({"name":"EXPONENTIAL","initial_value":0.1,"gamma":0.99,"schedule_type":"iteration"})",
      R"({"name":"INVERSE","initial_value":0.2,"gamma":0.01,"power":0.75,"schedule_type":"iteration"})",
      R"({"name":"POLY","initial_value":0.3,"power":2,"max_iter":100,"schedule_type":"epoch"})",
      R"({"name":"SIGMOID","initial_value":0.4,"gamma":-0.1,"step_size":5,"schedule_type":"iteration"})",
      R"({"name":"MAP","values":{"0":0.1,"10":0.05},"schedule_type":"iteration"})",
      R"({"name":"COSINE_WARMUP","peak_value":1,"warmup":4,"total":12,"final_value":0.1,"schedule_type":"iteration"})",
  };
  for (const char* text : configs) {
    const Json config = Json::parse(text);
    const Json canonical = make_schedule(config)->config();
    CHECK_MSG(canonical == config, canonical.dump() << " != " << text);
    CHECK(make_schedule(canonical)->config() == canonical);
  }
  // Fields given in another order, a lower-case name and a missing schedule_type canonicalise.
  CHECK_EQ(schedule(R"({"gamma":0.99,"name":"exponential","initial_value":0.1})")->config().dump(),
           std::string(R"({"name":"EXPONENTIAL","initial_value":0.10000000000000001,"gamma":0.98999999999999999,"schedule_type":"iteration"})"));
  CHECK_EQ(schedule_names().size(), 8u);
}

TEST_CASE(invalid_schedules_name_the_problem) {
  CHECK_THROWS(schedule(R"({"name":"exponentail","initial_value":0.1,"gamma":0.9})"), std::invalid_argument,
               "did you mean \"EXPONENTIAL\"");
  CHECK_THROWS(schedule(R"({"name":"exponential","initial_value":0.1,"gama":0.9})"), std::invalid_argument,
               "unknown field \"gama\"; did you mean \"gamma\"");
  CHECK_THROWS(schedule(R"({"name":"exponential","initial_value":0.1,"gamma":0.9,"decay":1})"), std::invalid_argument,
               "unknown field \"decay\"");
  CHECK_THROWS(schedule(R"({"name":"exponential","initial_value":0.1})"), std::invalid_argument, "missing field \"gamma\"");
  CHECK_THROWS(schedule(R"({"name":"exponential","initial_value":-0.1,"gamma":0.9})"), std::invalid_argument,
               "initial_value=-0.1 is out of range [0, inf)");
  CHECK_THROWS(schedule(R"({"name":"exponential","initial_value":"0.1","gamma":0.9})"), std::invalid_argument,
               "initial_value must be a number, got a string");
  CHECK_THROWS(schedule(R"({"name":"step","initial_value":0.1,"decay_rate":0.5,"step":0})"), std::invalid_argument,
               "step=0 is out of range (0, inf)");
  CHECK_THROWS(schedule(R"({"name":"poly","initial_value":0.1,"power":1,"max_iter":2.5})"), std::invalid_argument,
               "max_iter=2.5 must be a whole number >= 1");
  CHECK_THROWS(schedule(R"({"name":"sigmoid","initial_value":0.1,"gamma":1,"step_size":-1})"), std::invalid_argument,
               "step_size=-1 must be a whole number >= 0");
  CHECK_THROWS(schedule(R"({"name":"map","values":{"5":0.1}})"), std::invalid_argument, "needs a key 0");
  CHECK_THROWS(schedule(R"({"name":"map","values":{"0":0.1,"-3":0.2}})"), std::invalid_argument, "key \"-3\"");
  CHECK_THROWS(schedule(R"({"name":"map","values":{"0":0.1,"1":-2}})"), std::invalid_argument, "values[1]=-2");
  CHECK_THROWS(schedule(R"({"name":"map","values":{"0":0.1,"01":0.2,"1":0.3}})"), std::invalid_argument, "key 1 twice");
  CHECK_THROWS(schedule(R"({"name":"map","values":[0.1]})"), std::invalid_argument, "values must be an object");
  CHECK_THROWS(schedule(R"({"name":"cosine_warmup","peak_value":1,"warmup":5,"total":4})"), std::invalid_argument,
               "warmup=5 must not exceed total=4");
  CHECK_THROWS(schedule(R"({"name":"fixed","value":1,"schedule_type":"epochs"})"), std::invalid_argument,
               "did you mean \"epoch\"");
  CHECK_THROWS(schedule(R"({"value":1})"), std::invalid_argument, "needs a \"name\"");
}

TEST_CASE(updater_evaluates_its_schedule_per_step) {
  auto sgd = make_updater<double>(Json::parse(
      R"({"name":"sgd","learning_rate":{"name":"map","values":{"0":0.5,"2":0.25}}})"));
  CHECK(sgd->schedule() != nullptr);
  CHECK_EQ(sgd->learning_rate(), 0.5);  // the first step's rate, before any step
  sgd->setup(1);
  Vector<double> p = Vector<double>::Zero(1), g = Vector<double>::Ones(1);
  const double expected_rates[] = {0.5, 0.5, 0.25, 0.25};
  double expected_p = 0;
  for (double rate : expected_rates) {
    Vector<double> scratch = g;
    sgd->step(VecMap<double>(p.data(), 1), VecMap<double>(scratch.data(), 1));
    expected_p -= rate;
    CHECK_EQ(sgd->learning_rate(), rate);
    CHECK_NEAR(p[0], expected_p, kTolerance);
  }
  // The schedule is part of the updater's configuration, so a saved model keeps it.
  const Json config = sgd->config();
  CHECK_EQ(config.at("learning_rate").at("name").as_string(), std::string("MAP"));
  CHECK(make_updater<double>(config)->config() == config);
}

TEST_CASE(epoch_schedule_follows_set_epoch) {
  auto adam = make_updater<float>(Json::parse(
      R"({"name":"adam","learning_rate":{"name":"step","initial_value":0.1,"decay_rate":0.5,"step":1,"schedule_type":"epoch"}})"));
  adam->setup(3);
  Vector<float> p = Vector<float>::Zero(3), g = Vector<float>::Ones(3);
  for (std::int64_t epoch = 0; epoch < 3; ++epoch) {
    adam->set_epoch(epoch);
    for (int step = 0; step < 2; ++step) {
      Vector<float> scratch = g;
      adam->step(VecMap<float>(p.data(), 3), VecMap<float>(scratch.data(), 3));
      CHECK_NEAR(adam->learning_rate(), 0.1 * std::pow(0.5, static_cast<double>(epoch)), 1e-17);
    }
  }
  CHECK_EQ(adam->iteration(), 6);
}

TEST_CASE(updater_schedule_errors_name_the_field) {
  CHECK_THROWS(make_updater<double>(Json::parse(R"({"name":"adam","learning_rate":{"name":"exponential","initial_value":0.1,"gamma":-1}})")),
               std::invalid_argument, "ADAM: learning_rate: EXPONENTIAL schedule: gamma=-1");
  CHECK_THROWS(make_updater<double>(Json::parse(R"({"name":"adadelta","learning_rate":{"name":"fixed","value":0.1}})")),
               std::invalid_argument, "ADADELTA has no learning rate");
  CHECK_THROWS(make_updater<double>(Json::parse(R"({"name":"none","learning_rate":0.1})")), std::invalid_argument,
               "NONE has no learning rate");
  // A schedule that overflows stops training instead of producing infinite parameters.
  auto growing = make_updater<double>(Json::parse(
      R"({"name":"sgd","learning_rate":{"name":"exponential","initial_value":1,"gamma":1e300}})"));
  growing->setup(1);
  Vector<double> p = Vector<double>::Zero(1), g = Vector<double>::Ones(1);
  growing->step(VecMap<double>(p.data(), 1), VecMap<double>(g.data(), 1));
  growing->step(VecMap<double>(p.data(), 1), VecMap<double>(g.data(), 1));
  CHECK_THROWS(growing->step(VecMap<double>(p.data(), 1), VecMap<double>(g.data(), 1)), std::invalid_argument,
               "schedule gave inf at iteration 2");
}

TEST_CASE(scheduled_steps_do_not_allocate) {
#if defined(EIGENNET_COUNT_ALLOCATIONS)
  for (const char* rate : {R"({"name":"map","values":{"0":0.1,"3":0.05,"7":0.01}})",
                           R"({"name":"cosine_warmup","peak_value":0.1,"warmup":3,"total":10})"}) {
    Json config = Json::parse(R"({"name":"nadam"})");
    config.set("learning_rate", Json::parse(rate));
    auto updater = make_updater<double>(config);
    updater->setup(64);
    Vector<double> p = Vector<double>::Zero(64), g = Vector<double>::Ones(64);
    allocations.store(0);
    counting.store(true);
    for (int step = 0; step < 20; ++step) {
      updater->set_epoch(step / 5);
      updater->step(VecMap<double>(p.data(), 64), VecMap<double>(g.data(), 64));
    }
    counting.store(false);
    CHECK_EQ(allocations.load(), 0L);
  }
#else
  std::printf("  (allocation counting needs glibc without AddressSanitizer; skipped)\n");
#endif
}

int main(int argc, char** argv) { return check::run(argc, argv); }
