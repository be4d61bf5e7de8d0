// Updaters (DL4J IUpdater) over the flat parameter vector. Hyperparameters are fixed at
// construction; run state (moment vectors) is sized once by setup(n) and the step counter
// advances exactly once per step. Formulas, with g the gradient and t the step (from 1):
//   SGD       p -= lr g
//   NESTEROVS v' = mu v - lr g;  p += -mu v + (1 + mu) v'                    (same as PyTorch nesterov)
//   ADAGRAD   h += g^2;  p -= lr g / (sqrt(h) + eps)        h starts at eps (PyTorch: at 0)
//   RMSPROP   s = d s + (1-d) g^2;  p -= lr g / (sqrt(s) + eps)   s starts at eps (PyTorch: at 0)
//   ADADELTA  r = rho r + (1-rho) g^2;  dx = g sqrt(u + eps) / sqrt(r + eps);  u = rho u + (1-rho) dx^2;
//             p -= dx                                       no learning rate (PyTorch: lr=1 equals it)
//   ADAM      m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  p -= lr sqrt(1-b2^t)/(1-b1^t) m / (sqrt(v) + eps)
//             eps is added to the uncorrected sqrt(v) (PyTorch adds it to sqrt(v)/sqrt(1-b2^t))
//   ADAMAX    m as Adam;  u = max(b2 u, |g|);  p -= lr/(1-b1^t) m / (u + eps)   (PyTorch: eps inside max)
//   NADAM     m, v as Adam;  p -= lr (b1 m + (1-b1) g) / (1-b1^t) / (sqrt(v) + eps)
//             (DL4J's form: no momentum-decay schedule and no correction of v, unlike PyTorch NAdam)
//   AMSGRAD   m, v as Adam;  vmax = max(vmax, v);  p -= lr sqrt(1-b2^t)/(1-b1^t) m / (sqrt(vmax) + eps)
//   NONE      no change
// learning_rate may be a number or a schedule ({"name": "EXPONENTIAL", ...}, see schedule.hpp), which
// each step evaluates at (steps taken before it, current epoch); AdaDelta and NONE take neither.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "eigennet/json.hpp"
#include "eigennet/schedule.hpp"
#include "eigennet/types.hpp"

namespace eigennet {

template <typename T>
class Updater;
template <typename T>
std::unique_ptr<Updater<T>> make_updater(const Json& config);

template <typename T>
class Updater {
  friend std::unique_ptr<Updater<T>> make_updater<T>(const Json& config);

 public:
  virtual ~Updater() = default;
  virtual std::string name() const = 0;
  // Hyperparameters by their Python keyword names, plus "name".
  Json config() const;

  // Sizes the state for n parameters (zeroing or seeding it as the formula says).
  void setup(Index n);
  // Applies one update to params; `grads` may be used as scratch.
  void step(VecMap<T> params, VecMap<T> grads);

  // The learning rate weight decay multiplies: the rate of the last step (with a schedule, its value
  // for that step; before any step, its value at iteration 0, epoch 0), 1 for AdaDelta (no learning
  // rate), 0 for NONE (so weight decay leaves frozen parameters unchanged too).
  virtual double learning_rate() const { return learning_rate_; }
  virtual bool has_learning_rate() const { return true; }
  // The learning-rate schedule, or nullptr for a constant rate.
  const Schedule* schedule() const { return schedule_.get(); }

  std::int64_t iteration() const { return iteration_; }
  void set_iteration(std::int64_t t) { iteration_ = t; }
  // The epoch (from 0) that epoch-driven schedules see; the network sets it as each epoch starts.
  std::int64_t epoch() const { return epoch_; }
  void set_epoch(std::int64_t e) { epoch_ = e; }
  // Named state vectors, each of the parameter count, for saving and restoring.
  std::vector<std::string> state_names() const { return state_names_; }
  std::vector<Vector<T>>& state() { return state_; }
  const std::vector<Vector<T>>& state() const { return state_; }

 protected:
  Updater(double learning_rate, std::vector<std::string> state_names)
      : learning_rate_(learning_rate), state_names_(std::move(state_names)) {}
  virtual void initial_state(std::vector<Vector<T>>& state) const;
  // Computes, once per step and before any apply(), what every element of step t (1-based) shares,
  // such as the Adam family's bias corrections.
  virtual void begin_step(std::int64_t t) { (void)t; }
  // Updates one slice of the parameters: params and grads are elements [offset, offset + size) of
  // the whole vectors, and state(i, offset, size) is the same slice of state vector i. step() calls
  // it on short slices at fixed offsets, possibly from several threads at once, so it must treat
  // each element on its own.
  virtual void apply(VecMap<T> params, VecMap<T> grads, Index offset) = 0;
  VecMap<T> state(std::size_t i, Index offset, Index size) { return VecMap<T>(state_[i].data() + offset, size); }

  double learning_rate_;  // the rate apply() uses: the schedule's value for this step when there is one
  std::unique_ptr<Schedule> schedule_;     // set by make_updater; nullptr for a constant rate
  Json hyperparameters_ = Json::object();  // as read by make_updater, which sets it
  std::vector<std::string> state_names_;
  std::vector<Vector<T>> state_;
  std::int64_t iteration_ = 0;
  std::int64_t epoch_ = 0;
};

// {"name": "adam", "learning_rate": ..., ...}; unspecified fields take DL4J's defaults. learning_rate
// is a number or a schedule configuration.
template <typename T>
std::unique_ptr<Updater<T>> make_updater(const Json& config);

std::vector<std::string> updater_names();

}  // namespace eigennet
