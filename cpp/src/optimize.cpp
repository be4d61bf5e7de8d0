#include "eigennet/optimize.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <utility>

#include "eigennet/registry.hpp"

namespace eigennet {

namespace {

struct NamedAlgorithm {
  Algorithm algorithm;
  const char* name;
};

constexpr NamedAlgorithm kAlgorithms[] = {
    {Algorithm::StochasticGradientDescent, "STOCHASTIC_GRADIENT_DESCENT"},
    {Algorithm::LineGradientDescent, "LINE_GRADIENT_DESCENT"},
    {Algorithm::ConjugateGradient, "CONJUGATE_GRADIENT"},
    {Algorithm::Lbfgs, "LBFGS"},
    {Algorithm::HessianFree, "HESSIAN_FREE"},
};

// Shortest text that reads back as the same double, for messages.
std::string format_number(double v) {
  char buffer[32];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof buffer, "%.*g", precision, v);
    if (std::strtod(buffer, nullptr) == v) break;
  }
  return buffer;
}

const char* const kOptionKeys[] = {
    "algorithm",        "max_iterations",     "gradient_tolerance", "function_tolerance",
    "lbfgs_memory",     "max_line_search_steps", "wolfe_c1",        "wolfe_c2",
    "cg_wolfe_c2",      "cg_restart_every",   "hf_initial_damping", "hf_max_cg_iterations",
    "hf_cg_decay",
};

int read_int(const Json& config, const char* key, int fallback) {
  const Json* value = config.find(key);
  if (value == nullptr || value->is_null()) return fallback;
  const double v = value->as_number(key);
  EIGENNET_REQUIRE(v == std::floor(v) && std::fabs(v) <= 2147483647.0,
                   std::string("optimizer options: ") + key + "=" + format_number(v) + " must be an integer");
  return static_cast<int>(v);
}

// Accumulates in double whatever T is, so that float parameters do not lose the curvature
// information carried by small differences (s'y, the PR+ numerator).
template <typename A, typename B>
double dot(const Eigen::MatrixBase<A>& a, const Eigen::MatrixBase<B>& b) {
  return a.template cast<double>().dot(b.template cast<double>());
}

template <typename A>
double max_abs(const Eigen::MatrixBase<A>& a) {
  return static_cast<double>(a.cwiseAbs().maxCoeff());
}

// Stop reasons are string literals so that the iteration loop never builds a std::string.
constexpr const char* kGradientTolerance = "gradient tolerance reached";
constexpr const char* kFunctionTolerance = "function tolerance reached";
constexpr const char* kMaxIterations = "max iterations reached";
constexpr const char* kLineSearchFailed = "line search failed";
constexpr const char* kStoppedByCallback = "stopped by callback";

// A point on the line: phi(step) = f(x + step d) and its slope phi'(step) = g(x + step d)'d.
struct LinePoint {
  double step;
  double value;
  double slope;
  bool usable() const { return std::isfinite(value) && std::isfinite(slope); }
};

struct LineSearchOutcome {
  bool satisfied;  // the last evaluated trial (x_trial_, g_trial_) meets the acceptance conditions
  double step;
  double value;
};

template <typename T>
class Minimizer {
 public:
  using Callback = std::function<bool(const IterationInfo&)>;

  Minimizer(Objective<T>& objective, VecMap<T> x, const OptimizerOptions& options, const Callback& on_iteration)
      : objective_(objective),
        x_(x.data(), x.size()),
        options_(options),
        on_iteration_(on_iteration),
        n_(x.size()),
        g_(n_),
        d_(n_),
        x_trial_(n_),
        g_trial_(n_),
        g_best_(n_) {
    const Algorithm algorithm = options_.algorithm;
    if (algorithm == Algorithm::Lbfgs) {
      const Index m = options_.lbfgs_memory;
      // One pair per column: each s or y is contiguous in column-major storage.
      s_history_.resize(n_, m);
      y_history_.resize(n_, m);
      rho_history_.assign(static_cast<std::size_t>(m), 0.0);
      two_loop_alpha_.assign(static_cast<std::size_t>(m), 0.0);
    }
    if (algorithm == Algorithm::HessianFree) {
      residual_.resize(n_);
      cg_direction_.resize(n_);
      curvature_times_direction_.resize(n_);
      previous_solution_ = Vector<T>::Zero(n_);
      model_history_.assign(static_cast<std::size_t>(options_.hf_max_cg_iterations) + 1, 0.0);
      damping_ = options_.hf_initial_damping;
    }
    cg_restart_every_ =
        options_.cg_restart_every > 0 ? options_.cg_restart_every : static_cast<int>(std::min<Index>(n_, 1 << 30));
  }

  OptimizerResult run() {
    value_ = evaluate(x_, g_);
    start_value_ = value_;
    EIGENNET_REQUIRE(std::isfinite(value_) && g_.allFinite(),
                     "minimize: the objective is not finite at the starting point (f = " + format_number(value_) +
                         (g_.allFinite() ? ")" : ", and the gradient has non-finite entries)"));
    const char* reason = gradient_converged() ? kGradientTolerance : nullptr;
    while (reason == nullptr) {
      if (iterations_ >= options_.max_iterations) {
        reason = kMaxIterations;
        break;
      }
      reason = options_.algorithm == Algorithm::HessianFree ? hessian_free_iteration() : line_search_iteration();
    }
    OptimizerResult result;
    result.iterations = iterations_;
    result.function_evaluations = evaluations_;
    result.curvature_products = curvature_products_;
    result.value = value_;
    result.gradient_norm = max_abs(g_);
    result.converged = reason == kGradientTolerance || reason == kFunctionTolerance || gradient_converged();
    result.stop_reason = reason;
    return result;
  }

 private:
  double evaluate(const Vector<T>& point, Vector<T>& grad) {
    ++evaluations_;
    return objective_.evaluate(ConstVecMap<T>(point.data(), n_), VecMap<T>(grad.data(), n_));
  }
  double evaluate(const VecMap<T>& point, Vector<T>& grad) {
    ++evaluations_;
    return objective_.evaluate(ConstVecMap<T>(point.data(), n_), VecMap<T>(grad.data(), n_));
  }

  bool gradient_converged() const {
    return max_abs(g_) <= options_.gradient_tolerance * std::max(1.0, std::fabs(value_));
  }

  // Bookkeeping shared by every algorithm once x, g and value_ hold the new point.
  const char* finish_iteration(double previous_value, double step, double damping, int cg_iterations) {
    ++iterations_;
    if (on_iteration_) {
      const IterationInfo info{iterations_, evaluations_, value_, max_abs(g_), step, damping, cg_iterations};
      if (!on_iteration_(info)) return kStoppedByCallback;
    }
    if (gradient_converged()) return kGradientTolerance;
    const double scale = std::max({std::fabs(previous_value), std::fabs(value_), 1.0});
    if (options_.function_tolerance > 0 && previous_value - value_ < options_.function_tolerance * scale)
      return kFunctionTolerance;
    return nullptr;
  }

  // ---- line-search methods -------------------------------------------------------------------

  const char* line_search_iteration() {
    const Algorithm algorithm = options_.algorithm;
    bool steepest = true;
    if (algorithm == Algorithm::Lbfgs && pair_count_ > 0) {
      lbfgs_direction();
      steepest = false;
    } else if (algorithm == Algorithm::ConjugateGradient && cg_beta_ > 0 && !cg_restart_ &&
               steps_since_restart_ < cg_restart_every_) {
      d_ = static_cast<T>(cg_beta_) * d_ - g_;
      steepest = false;
    } else {
      d_ = -g_;
    }
    double slope = dot(g_, d_);
    if (!steepest && !(slope < 0)) {  // not a descent direction: forget the curvature information
      d_ = -g_;
      slope = dot(g_, d_);
      steepest = true;
    }
    if (steepest) {
      pair_count_ = 0;
      cg_restart_ = false;
      steps_since_restart_ = 0;
    }
    if (!(slope < 0)) return kLineSearchFailed;  // ||g||^2 underflowed: no usable direction

    const double gradient_length = std::sqrt(dot(g_, g_));
    double initial_step;
    if (algorithm == Algorithm::Lbfgs) {
      // Without curvature pairs the first step has length 1 in parameter space (as L-BFGS-B).
      initial_step = pair_count_ > 0 ? 1.0 : 1.0 / gradient_length;
    } else {
      initial_step = previous_step_ > 0 ? previous_step_ * previous_slope_ / slope : 1.0 / gradient_length;
      if (!(initial_step > 0) || !std::isfinite(initial_step)) initial_step = 1.0 / gradient_length;
    }
    const double c2 = algorithm == Algorithm::ConjugateGradient ? options_.cg_wolfe_c2 : options_.wolfe_c2;
    const double previous_value = value_;
    const LineSearchOutcome outcome = strong_wolfe_search(previous_value, slope, initial_step, c2);

    const bool moved = outcome.satisfied || best_value_ < previous_value;
    if (moved) {
      if (!outcome.satisfied) {  // take the lowest point seen: it is never worse than x
        x_trial_.noalias() = x_ + static_cast<T>(best_step_) * d_;
        g_trial_.swap(g_best_);
      }
      accept_trial(outcome.satisfied ? outcome.value : best_value_);
      previous_step_ = outcome.satisfied ? outcome.step : best_step_;
      previous_slope_ = slope;
      const char* reason = finish_iteration(previous_value, previous_step_, 0.0, 0);
      if (reason != nullptr) return reason;
    }
    if (!outcome.satisfied) {
      if (steepest) return kLineSearchFailed;
      // The quasi-Newton / conjugate direction may be stale: retry along -g before giving up.
      pair_count_ = 0;
      cg_restart_ = true;
    }
    return nullptr;
  }

  // x <- x_trial, g <- g_trial, updating the L-BFGS memory and the CG coefficient on the way.
  void accept_trial(double new_value) {
    if (options_.algorithm == Algorithm::Lbfgs) {
      const auto s = x_trial_ - x_;
      const auto y = g_trial_ - g_;
      const double sy = dot(s, y);
      const double yy = dot(y, y);
      // A pair with s'y <= 0 would make H indefinite; a nearly orthogonal one is mostly rounding.
      if (sy > 1e-10 * std::sqrt(dot(s, s)) * std::sqrt(yy)) {
        const Index m = s_history_.cols();
        newest_pair_ = (newest_pair_ + 1) % m;
        s_history_.col(newest_pair_) = s;
        y_history_.col(newest_pair_) = y;
        rho_history_[static_cast<std::size_t>(newest_pair_)] = 1.0 / sy;
        initial_scaling_ = sy / yy;
        pair_count_ = std::min<Index>(pair_count_ + 1, m);
      }
    }
    if (options_.algorithm == Algorithm::ConjugateGradient) {
      const double old_squared_norm = dot(g_, g_);
      const double polak_ribiere = dot(g_trial_, g_trial_ - g_) / old_squared_norm;
      cg_beta_ = std::isfinite(polak_ribiere) ? std::max(0.0, polak_ribiere) : 0.0;
      ++steps_since_restart_;
    }
    x_ = x_trial_;
    g_.swap(g_trial_);
    value_ = new_value;
  }

  // d = -H g by the two-loop recursion (N&W Alg. 7.4), newest pair first.
  void lbfgs_direction() {
    const Index m = s_history_.cols();
    d_ = g_;
    for (Index i = 0; i < pair_count_; ++i) {
      const Index slot = (newest_pair_ - i + m) % m;
      const double alpha = rho_history_[static_cast<std::size_t>(slot)] * dot(s_history_.col(slot), d_);
      two_loop_alpha_[static_cast<std::size_t>(slot)] = alpha;
      d_ -= static_cast<T>(alpha) * y_history_.col(slot);
    }
    d_ *= static_cast<T>(initial_scaling_);
    for (Index i = pair_count_ - 1; i >= 0; --i) {
      const Index slot = (newest_pair_ - i + m) % m;
      const double beta = rho_history_[static_cast<std::size_t>(slot)] * dot(y_history_.col(slot), d_);
      d_ += static_cast<T>(two_loop_alpha_[static_cast<std::size_t>(slot)] - beta) * s_history_.col(slot);
    }
    d_ = -d_;
  }

  // Evaluates x + step d into x_trial_ / g_trial_, remembering the lowest usable point seen.
  LinePoint probe(double step) {
    x_trial_.noalias() = x_ + static_cast<T>(step) * d_;
    const double value = evaluate(x_trial_, g_trial_);
    const LinePoint point{step, value, dot(g_trial_, d_)};
    if (point.usable() && value < best_value_) {
      best_value_ = value;
      best_step_ = step;
      g_best_ = g_trial_;
    }
    return point;
  }

  // A trial is accepted when it satisfies the strong Wolfe conditions, or -- once f is flat to
  // rounding, where comparing values says nothing -- Hager & Zhang's (2005) approximate Wolfe
  // conditions, which check sufficient decrease through slopes: phi'(a) <= (2 c1 - 1) phi'(0) together
  // with the curvature condition, and phi(a) <= phi(0) + (rounding level of f). The computed f may
  // then rise by rounding noise, but never above its value at the starting point of the run.
  bool acceptable(const LinePoint& point, double value0, double slope0, double c2) const {
    if (!point.usable() || std::fabs(point.slope) > -c2 * slope0) return false;
    if (point.value <= value0 + options_.wolfe_c1 * point.step * slope0) return true;
    return point.value <= std::min(value0 + value_noise_, start_value_) &&
           point.slope <= (2.0 * options_.wolfe_c1 - 1.0) * slope0;
  }

  // Whether phi(a) differs from phi(0) by no more than the rounding in computing f; such values
  // cannot order trial points, so the bracket is updated from slopes alone (as Hager & Zhang do).
  bool flat(const LinePoint& point, double value0) const {
    return point.usable() && std::fabs(point.value - value0) <= value_noise_;
  }

  // N&W Alg. 3.5: grow the step until an acceptable one is bracketed, then zoom.
  LineSearchOutcome strong_wolfe_search(double value0, double slope0, double initial_step, double c2) {
    best_value_ = value0;
    best_step_ = 0.0;
    value_noise_ = 100.0 * std::numeric_limits<T>::epsilon() * std::fabs(value0);
    int evaluations = 0;
    LinePoint previous{0.0, value0, slope0};
    double step = initial_step;
    while (evaluations < options_.max_line_search_steps) {
      const LinePoint current = probe(step);
      ++evaluations;
      if (acceptable(current, value0, slope0, c2)) return {true, current.step, current.value};
      const bool flat_here = flat(current, value0);
      if (!current.usable() ||
          (!flat_here && (current.value > value0 + options_.wolfe_c1 * step * slope0 ||
                          (evaluations > 1 && current.value >= previous.value))))
        return zoom(previous, current, value0, slope0, c2, evaluations);
      if (current.slope >= 0) {
        return flat_here ? zoom(previous, current, value0, slope0, c2, evaluations)
                         : zoom(current, previous, value0, slope0, c2, evaluations);
      }
      step = extrapolate(previous, current);
      previous = current;
    }
    return {false, 0.0, value0};
  }

  // N&W Alg. 3.6. `low` is the best end so far (sufficient decrease, lowest value), and its slope
  // points into the bracket towards `high`; a trial where f was not finite becomes `high`.
  LineSearchOutcome zoom(LinePoint low, LinePoint high, double value0, double slope0, double c2, int& evaluations) {
    const double resolution = std::numeric_limits<T>::epsilon();
    while (evaluations < options_.max_line_search_steps) {
      if (std::fabs(high.step - low.step) <= resolution * std::max(low.step, high.step)) break;
      const bool secant = flat(low, value0) && flat(high, value0);
      const LinePoint current = probe(interpolate(low, high, secant));
      ++evaluations;
      if (acceptable(current, value0, slope0, c2)) return {true, current.step, current.value};
      bool replaces_high;
      if (!current.usable()) {
        replaces_high = true;
      } else if (flat(current, value0)) {  // the minimizer is on the side the slope points to
        replaces_high = current.slope * (current.step - low.step) > 0;
      } else {
        replaces_high = current.value > value0 + options_.wolfe_c1 * current.step * slope0 ||
                        current.value >= low.value;
      }
      if (replaces_high) {
        high = current;
        continue;
      }
      if (current.slope * (high.step - low.step) >= 0) high = low;
      low = current;
    }
    return {false, 0.0, value0};
  }

  // Minimizer of the cubic through (a.step, a.value, a.slope) and (b.step, b.value, b.slope), N&W (3.59);
  // NaN when the cubic has no minimizer or an end point is not usable.
  static double cubic_minimizer(const LinePoint& a, const LinePoint& b) {
    if (!a.usable() || !b.usable() || a.step == b.step) return std::numeric_limits<double>::quiet_NaN();
    const double d1 = a.slope + b.slope - 3.0 * (a.value - b.value) / (a.step - b.step);
    const double discriminant = d1 * d1 - a.slope * b.slope;
    if (!(discriminant >= 0)) return std::numeric_limits<double>::quiet_NaN();
    const double d2 = std::copysign(std::sqrt(discriminant), b.step - a.step);
    return b.step - (b.step - a.step) * (b.slope + d2 - d1) / (b.slope - a.slope + 2.0 * d2);
  }

  // Zero of the line through the two slopes: the minimizer when only slopes can be trusted.
  static double secant_minimizer(const LinePoint& a, const LinePoint& b) {
    if (!a.usable() || !b.usable()) return std::numeric_limits<double>::quiet_NaN();
    return (a.step * b.slope - b.step * a.slope) / (b.slope - a.slope);
  }

  // A trial inside the bracket, at least 10% of its width from either end, so that it shrinks
  // geometrically even when the model is poor; bisection when the model is unusable.
  static double interpolate(const LinePoint& low, const LinePoint& high, bool slopes_only) {
    const double left = std::min(low.step, high.step), right = std::max(low.step, high.step);
    const double margin = 0.1 * (right - left);
    const double trial = slopes_only ? secant_minimizer(low, high) : cubic_minimizer(low, high);
    if (!std::isfinite(trial)) return 0.5 * (left + right);
    return std::min(std::max(trial, left + margin), right - margin);
  }

  // The next bracketing step beyond `current` (still descending there).
  static double extrapolate(const LinePoint& previous, const LinePoint& current) {
    const double growth = current.step - previous.step;
    const double lower = current.step + 1.1 * growth, upper = current.step + 4.0 * growth;
    const double trial = cubic_minimizer(previous, current);
    if (!std::isfinite(trial) || trial <= current.step) return upper;
    return std::min(std::max(trial, lower), upper);
  }

  // ---- Hessian-free --------------------------------------------------------------------------

  // out = (G(x) + damping I) v
  void damped_curvature(const Vector<T>& v, Vector<T>& out, double damping) {
    ++curvature_products_;
    objective_.curvature_product(ConstVecMap<T>(x_.data(), n_), ConstVecMap<T>(v.data(), n_),
                                 VecMap<T>(out.data(), n_));
    out += static_cast<T>(damping) * v;
  }

  // Linear CG on q(d) = g'd + 1/2 d'(G + damping I)d from the decayed previous solution; leaves the
  // approximate minimizer in d_ and returns {q(d), CG iterations}.
  std::pair<double, int> solve_damped_newton_system(double damping) {
    const int max_cg = options_.hf_max_cg_iterations;
    double model = 0.0;
    d_ = static_cast<T>(options_.hf_cg_decay) * previous_solution_;
    if (dot(d_, d_) > 0) {
      damped_curvature(d_, curvature_times_direction_, damping);
      residual_ = -g_ - curvature_times_direction_;
      model = dot(g_, d_) + 0.5 * dot(d_, curvature_times_direction_);
      // A warm start that the model rates worse than d = 0 is only a hindrance (Martens 2010, Sec. 4.5).
      if (!(model < 0)) {
        d_.setZero();
        residual_ = -g_;
        model = 0.0;
      }
    } else {
      d_.setZero();
      residual_ = -g_;
    }
    cg_direction_ = residual_;
    double residual_squared = dot(residual_, residual_);
    const double residual_target = std::numeric_limits<T>::epsilon() * std::sqrt(dot(g_, g_));
    model_history_[0] = model;
    int iteration = 0;
    while (iteration < max_cg && std::sqrt(residual_squared) > residual_target) {
      damped_curvature(cg_direction_, curvature_times_direction_, damping);
      const double curvature = dot(cg_direction_, curvature_times_direction_);
      if (!(curvature > 0) || !std::isfinite(curvature)) break;  // G is not PSD here (or overflowed)
      const double step = residual_squared / curvature;
      d_ += static_cast<T>(step) * cg_direction_;
      residual_ -= static_cast<T>(step) * curvature_times_direction_;
      ++iteration;
      // With r = -g - B d: q(d) = g'd + 1/2 d'B d = 1/2 (g - r)'d.
      model = 0.5 * (dot(g_, d_) - dot(residual_, d_));
      model_history_[static_cast<std::size_t>(iteration)] = model;
      // Martens' relative-progress rule: stop when the last k iterations lowered q by less than
      // 5e-4 k of its value.
      const int window = std::max(10, iteration / 10);
      if (iteration > window && model < 0 &&
          (model - model_history_[static_cast<std::size_t>(iteration - window)]) / model < 5e-4 * window)
        break;
      const double next_residual_squared = dot(residual_, residual_);
      cg_direction_ = residual_ + static_cast<T>(next_residual_squared / residual_squared) * cg_direction_;
      residual_squared = next_residual_squared;
    }
    return {model, iteration};
  }

  const char* hessian_free_iteration() {
    const double damping = damping_;
    const std::pair<double, int> solved = solve_damped_newton_system(damping);
    const double model = solved.first;
    double slope = dot(g_, d_);
    bool model_usable = model < 0 && slope < 0;
    if (slope < 0) {
      previous_solution_ = d_;
    } else {  // CG found no descent direction: fall back to steepest descent and distrust the model
      d_ = -g_;
      slope = dot(g_, d_);
      previous_solution_.setZero();
      model_usable = false;
    }
    if (!(slope < 0)) return kLineSearchFailed;

    // Armijo backtracking over a = 1, 0.8, 0.8^2, ... Where f is flat to rounding, sufficient decrease
    // is judged from slopes as in the Wolfe search (approximate Armijo, Hager & Zhang 2005).
    const double previous_value = value_;
    value_noise_ = 100.0 * std::numeric_limits<T>::epsilon() * std::fabs(previous_value);
    double step = 1.0, value = 0.0, value_at_full_step = 0.0;
    bool accepted = false;
    for (int trial = 0; trial < options_.max_line_search_steps && !accepted; ++trial) {
      if (trial > 0) step *= 0.8;
      x_trial_.noalias() = x_ + static_cast<T>(step) * d_;
      value = evaluate(x_trial_, g_trial_);
      if (trial == 0) value_at_full_step = value;
      const double trial_slope = dot(g_trial_, d_);
      accepted = std::isfinite(value) && std::isfinite(trial_slope) &&
                 (value <= previous_value + options_.wolfe_c1 * step * slope ||
                  (value <= std::min(previous_value + value_noise_, start_value_) &&
                   trial_slope <= (2.0 * options_.wolfe_c1 - 1.0) * slope));
    }
    // Levenberg-Marquardt damping from the reduction ratio of the full CG step (NaN counts as bad).
    const double reduction_ratio = model_usable ? (value_at_full_step - previous_value) / model : -1.0;
    if (!(reduction_ratio >= 0.25)) {
      damping_ *= 1.5;
    } else if (reduction_ratio > 0.75) {
      damping_ *= 2.0 / 3.0;
    }
    if (!accepted) return kLineSearchFailed;
    x_ = x_trial_;
    g_.swap(g_trial_);
    value_ = value;
    return finish_iteration(previous_value, step, damping, solved.second);
  }

  Objective<T>& objective_;
  VecMap<T> x_;
  const OptimizerOptions& options_;
  const Callback& on_iteration_;
  const Index n_;

  Vector<T> g_, d_, x_trial_, g_trial_, g_best_;
  double value_ = 0.0;
  double start_value_ = 0.0;  // f at the starting point: no accepted step may end above it
  int iterations_ = 0;
  int evaluations_ = 0;
  int curvature_products_ = 0;

  // line search
  double best_value_ = 0.0, best_step_ = 0.0;
  double value_noise_ = 0.0;  // rounding level of f near the current point
  double previous_step_ = 0.0, previous_slope_ = 0.0;  // for the N&W (3.60) initial step

  // L-BFGS
  Matrix<T> s_history_, y_history_;
  std::vector<double> rho_history_, two_loop_alpha_;
  Index pair_count_ = 0, newest_pair_ = -1;
  double initial_scaling_ = 1.0;

  // nonlinear CG
  double cg_beta_ = 0.0;
  bool cg_restart_ = false;
  int steps_since_restart_ = 0;
  int cg_restart_every_ = 0;

  // Hessian-free
  Vector<T> residual_, cg_direction_, curvature_times_direction_, previous_solution_;
  std::vector<double> model_history_;
  double damping_ = 0.0;
};

}  // namespace

std::vector<std::string> algorithm_names() {
  std::vector<std::string> names;
  for (const auto& entry : kAlgorithms) names.push_back(entry.name);
  return names;
}

std::string algorithm_name(Algorithm algorithm) {
  for (const auto& entry : kAlgorithms)
    if (entry.algorithm == algorithm) return entry.name;
  fail("algorithm_name: unknown Algorithm value " + std::to_string(static_cast<int>(algorithm)));
}

Algorithm parse_algorithm(const std::string& name) {
  const std::string key = registry_key(name);
  if (key == "SGD") return Algorithm::StochasticGradientDescent;
  for (const auto& entry : kAlgorithms)
    if (registry_key(entry.name) == key) return entry.algorithm;
  std::vector<std::string> candidates = algorithm_names();
  candidates.push_back("SGD");
  const std::string hint = closest_name(name, candidates);
  fail("unknown optimization algorithm \"" + name + "\"" + (hint.empty() ? "" : "; did you mean \"" + hint + "\"?"));
}

void OptimizerOptions::check() const {
  const std::string owner = "optimizer options: ";
  EIGENNET_REQUIRE(max_iterations >= 0, owner + "max_iterations=" + std::to_string(max_iterations) + " must be >= 0");
  EIGENNET_REQUIRE(std::isfinite(gradient_tolerance) && gradient_tolerance >= 0,
                   owner + "gradient_tolerance=" + format_number(gradient_tolerance) + " must be finite and >= 0");
  EIGENNET_REQUIRE(std::isfinite(function_tolerance) && function_tolerance >= 0,
                   owner + "function_tolerance=" + format_number(function_tolerance) + " must be finite and >= 0");
  EIGENNET_REQUIRE(lbfgs_memory >= 1, owner + "lbfgs_memory=" + std::to_string(lbfgs_memory) + " must be >= 1");
  EIGENNET_REQUIRE(max_line_search_steps >= 1,
                   owner + "max_line_search_steps=" + std::to_string(max_line_search_steps) + " must be >= 1");
  EIGENNET_REQUIRE(wolfe_c1 > 0 && wolfe_c1 < 1,
                   owner + "wolfe_c1=" + format_number(wolfe_c1) + " must be in (0, 1)");
  EIGENNET_REQUIRE(wolfe_c2 > wolfe_c1 && wolfe_c2 < 1,
                   owner + "wolfe_c2=" + format_number(wolfe_c2) + " must be in (wolfe_c1, 1) = (" +
                       format_number(wolfe_c1) + ", 1)");
  EIGENNET_REQUIRE(cg_wolfe_c2 > wolfe_c1 && cg_wolfe_c2 < 1,
                   owner + "cg_wolfe_c2=" + format_number(cg_wolfe_c2) + " must be in (wolfe_c1, 1) = (" +
                       format_number(wolfe_c1) + ", 1)");
  EIGENNET_REQUIRE(cg_restart_every >= 0,
                   owner + "cg_restart_every=" + std::to_string(cg_restart_every) + " must be >= 0 (0: every n)");
  EIGENNET_REQUIRE(std::isfinite(hf_initial_damping) && hf_initial_damping > 0,
                   owner + "hf_initial_damping=" + format_number(hf_initial_damping) + " must be finite and > 0");
  EIGENNET_REQUIRE(hf_max_cg_iterations >= 1,
                   owner + "hf_max_cg_iterations=" + std::to_string(hf_max_cg_iterations) + " must be >= 1");
  EIGENNET_REQUIRE(hf_cg_decay >= 0 && hf_cg_decay <= 1,
                   owner + "hf_cg_decay=" + format_number(hf_cg_decay) + " must be in [0, 1]");
}

OptimizerOptions OptimizerOptions::from_json(const Json& config) {
  std::vector<std::string> known(std::begin(kOptionKeys), std::end(kOptionKeys));
  for (const auto& kv : config.as_object("optimizer options")) {
    if (std::find(known.begin(), known.end(), kv.first) == known.end()) {
      const std::string hint = closest_name(kv.first, known);
      fail("optimizer options: unknown key \"" + kv.first + "\"" +
           (hint.empty() ? "" : "; did you mean \"" + hint + "\"?"));
    }
  }
  OptimizerOptions o;
  if (const Json* algorithm = config.find("algorithm"); algorithm != nullptr && !algorithm->is_null())
    o.algorithm = parse_algorithm(algorithm->as_string("algorithm"));
  o.max_iterations = read_int(config, "max_iterations", o.max_iterations);
  o.gradient_tolerance = config.number_or("gradient_tolerance", o.gradient_tolerance);
  o.function_tolerance = config.number_or("function_tolerance", o.function_tolerance);
  o.lbfgs_memory = read_int(config, "lbfgs_memory", o.lbfgs_memory);
  o.max_line_search_steps = read_int(config, "max_line_search_steps", o.max_line_search_steps);
  o.wolfe_c1 = config.number_or("wolfe_c1", o.wolfe_c1);
  o.wolfe_c2 = config.number_or("wolfe_c2", o.wolfe_c2);
  o.cg_wolfe_c2 = config.number_or("cg_wolfe_c2", o.cg_wolfe_c2);
  o.cg_restart_every = read_int(config, "cg_restart_every", o.cg_restart_every);
  o.hf_initial_damping = config.number_or("hf_initial_damping", o.hf_initial_damping);
  o.hf_max_cg_iterations = read_int(config, "hf_max_cg_iterations", o.hf_max_cg_iterations);
  o.hf_cg_decay = config.number_or("hf_cg_decay", o.hf_cg_decay);
  o.check();
  return o;
}

Json OptimizerOptions::to_json() const {
  Json out = Json::object();
  out.set("algorithm", algorithm_name(algorithm));
  out.set("max_iterations", max_iterations);
  out.set("gradient_tolerance", gradient_tolerance);
  out.set("function_tolerance", function_tolerance);
  out.set("lbfgs_memory", lbfgs_memory);
  out.set("max_line_search_steps", max_line_search_steps);
  out.set("wolfe_c1", wolfe_c1);
  out.set("wolfe_c2", wolfe_c2);
  out.set("cg_wolfe_c2", cg_wolfe_c2);
  out.set("cg_restart_every", cg_restart_every);
  out.set("hf_initial_damping", hf_initial_damping);
  out.set("hf_max_cg_iterations", hf_max_cg_iterations);
  out.set("hf_cg_decay", hf_cg_decay);
  return out;
}

template <typename T>
OptimizerResult minimize(Objective<T>& f, VecMap<T> x, const OptimizerOptions& options,
                         const std::function<bool(const IterationInfo&)>& on_iteration) {
  options.check();
  EIGENNET_REQUIRE(f.dimension() >= 1, "minimize: the objective's dimension() is " + std::to_string(f.dimension()) +
                                           "; it must be >= 1");
  EIGENNET_REQUIRE(x.size() == f.dimension(), "minimize: x has " + std::to_string(x.size()) +
                                                  " entries but the objective's dimension() is " +
                                                  std::to_string(f.dimension()));
  EIGENNET_REQUIRE(options.algorithm != Algorithm::StochasticGradientDescent,
                   "minimize: STOCHASTIC_GRADIENT_DESCENT is not a full-batch algorithm (it is the network's own "
                   "mini-batch training loop); use LINE_GRADIENT_DESCENT, CONJUGATE_GRADIENT, LBFGS or HESSIAN_FREE");
  EIGENNET_REQUIRE(options.algorithm != Algorithm::HessianFree || f.has_curvature_product(),
                   "HESSIAN_FREE needs a curvature product: the objective's has_curvature_product() is false");
  Minimizer<T> minimizer(f, x, options, on_iteration);
  return minimizer.run();
}

template OptimizerResult minimize<float>(Objective<float>&, VecMap<float>, const OptimizerOptions&,
                                         const std::function<bool(const IterationInfo&)>&);
template OptimizerResult minimize<double>(Objective<double>&, VecMap<double>, const OptimizerOptions&,
                                          const std::function<bool(const IterationInfo&)>&);

}  // namespace eigennet
