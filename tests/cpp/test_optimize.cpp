// Full-batch optimizers (optimize.hpp) on problems with known minimizers: a convex quadratic (closed
// form), Rosenbrock (1, ..., 1) and L2-regularized logistic regression (a Newton's-method oracle).
// Each run prints its iteration and evaluation counts.
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <Eigen/Cholesky>
#include <Eigen/QR>
#include <eigennet/optimize.hpp>
#include <eigennet/rng.hpp>

#include "allocation_counter.hpp"
#include "check.hpp"


using namespace eigennet;

namespace {

const Algorithm kAllAlgorithms[] = {Algorithm::LineGradientDescent, Algorithm::ConjugateGradient, Algorithm::Lbfgs,
                                    Algorithm::HessianFree};

// Symmetric positive definite, eigenvalues log-spaced in [1, condition], random eigenvectors.
Matrix<double> random_spd(Index n, double condition, std::uint64_t seed) {
  Rng rng(seed);
  Matrix<double> gaussian(n, n);
  for (Index j = 0; j < n; ++j)
    for (Index i = 0; i < n; ++i) gaussian(i, j) = rng.normal();
  const Matrix<double> q = Eigen::HouseholderQR<Matrix<double>>(gaussian).householderQ();
  Vector<double> eigenvalues(n);
  for (Index i = 0; i < n; ++i)
    eigenvalues(i) = std::pow(condition, static_cast<double>(i) / static_cast<double>(n - 1));
  return q * eigenvalues.asDiagonal() * q.transpose();
}

Vector<double> random_vector(Index n, std::uint64_t seed) {
  Rng rng(seed);
  Vector<double> v(n);
  for (Index i = 0; i < n; ++i) v(i) = rng.normal();
  return v;
}

// f(x) = 1/2 x'Ax - b'x; the curvature product is the exact Hessian A. Allocation-free.
template <typename T>
class Quadratic : public Objective<T> {
 public:
  Quadratic(const Matrix<double>& a, const Vector<double>& b) : a_(a.cast<T>()), b_(b.cast<T>()) {}
  Index dimension() const override { return b_.size(); }
  double evaluate(ConstVecMap<T> x, VecMap<T> grad) override {
    grad.noalias() = a_ * x;
    const double value = 0.5 * x.template cast<double>().dot(grad.template cast<double>()) -
                         x.template cast<double>().dot(b_.template cast<double>());
    grad -= b_;
    return value;
  }
  bool has_curvature_product() const override { return true; }
  void curvature_product(ConstVecMap<T>, ConstVecMap<T> v, VecMap<T> out) override { out.noalias() = a_ * v; }

 private:
  Matrix<T> a_;
  Vector<T> b_;
};

// Extended Rosenbrock: sum over pairs of 100 (x[2i+1] - x[2i]^2)^2 + (1 - x[2i])^2, a sum of squares of
// r1 = 10 (x[2i+1] - x[2i]^2), r2 = 1 - x[2i], so the Gauss-Newton curvature is 2 J'J. Allocation-free.
class Rosenbrock : public Objective<double> {
 public:
  explicit Rosenbrock(Index n) : n_(n) {}
  Index dimension() const override { return n_; }
  double evaluate(ConstVecMap<double> x, VecMap<double> grad) override {
    double value = 0.0;
    for (Index i = 0; i + 1 < n_; i += 2) {
      const double r1 = 10.0 * (x(i + 1) - x(i) * x(i)), r2 = 1.0 - x(i);
      value += r1 * r1 + r2 * r2;
      grad(i) = -40.0 * x(i) * r1 - 2.0 * r2;
      grad(i + 1) = 20.0 * r1;
    }
    return value;
  }
  bool has_curvature_product() const override { return true; }
  void curvature_product(ConstVecMap<double> x, ConstVecMap<double> v, VecMap<double> out) override {
    for (Index i = 0; i + 1 < n_; i += 2) {
      const double jv1 = -20.0 * x(i) * v(i) + 10.0 * v(i + 1);  // J row of r1 times v
      const double jv2 = -v(i);                                   // J row of r2 times v
      out(i) = 2.0 * (-20.0 * x(i) * jv1 - jv2);
      out(i + 1) = 2.0 * 10.0 * jv1;
    }
  }

 private:
  Index n_;
};

Vector<double> rosenbrock_start(Index n) {
  Vector<double> x(n);
  for (Index i = 0; i + 1 < n; i += 2) {
    x(i) = -1.2;
    x(i + 1) = 1.0;
  }
  return x;
}

// Mean logistic loss + l2/2 ||w||^2 over samples in columns; curvature = exact Hessian X D X'/n + l2 I.
class Logistic : public Objective<double> {
 public:
  Logistic(Matrix<double> x, Vector<double> labels, double l2) : x_(std::move(x)), y_(std::move(labels)), l2_(l2) {}
  Index dimension() const override { return x_.rows(); }
  double evaluate(ConstVecMap<double> w, VecMap<double> grad) override {
    const Vector<double> z = x_.transpose() * w;
    const double n = static_cast<double>(x_.cols());
    double loss = 0.0;
    Vector<double> residual(z.size());
    for (Index i = 0; i < z.size(); ++i) {
      const double softplus = z(i) > 0 ? z(i) + std::log1p(std::exp(-z(i))) : std::log1p(std::exp(z(i)));
      loss += softplus - y_(i) * z(i);
      residual(i) = 1.0 / (1.0 + std::exp(-z(i))) - y_(i);
    }
    grad = x_ * residual / n + l2_ * w;
    return loss / n + 0.5 * l2_ * w.squaredNorm();
  }
  bool has_curvature_product() const override { return true; }
  void curvature_product(ConstVecMap<double> w, ConstVecMap<double> v, VecMap<double> out) override {
    out = hessian(w) * v;
  }
  Matrix<double> hessian(const Vector<double>& w) const {
    const Vector<double> z = x_.transpose() * w;
    Vector<double> weight(z.size());
    for (Index i = 0; i < z.size(); ++i) {
      const double p = 1.0 / (1.0 + std::exp(-z(i)));
      weight(i) = p * (1.0 - p);
    }
    Matrix<double> h = x_ * weight.asDiagonal() * x_.transpose() / static_cast<double>(x_.cols());
    h.diagonal().array() += l2_;
    return h;
  }

 private:
  Matrix<double> x_;
  Vector<double> y_;
  double l2_;
};

Logistic synthetic_logistic(Index n, Index d, double l2, std::uint64_t seed) {
  Rng rng(seed);
  Matrix<double> x(d, n);
  for (Index j = 0; j < n; ++j)
    for (Index i = 0; i < d; ++i) x(i, j) = rng.normal();
  Vector<double> w_true(d);
  for (Index i = 0; i < d; ++i) w_true(i) = rng.normal();
  Vector<double> labels(n);
  for (Index j = 0; j < n; ++j) {
    const double p = 1.0 / (1.0 + std::exp(-w_true.dot(x.col(j))));
    labels(j) = rng.uniform() < p ? 1.0 : 0.0;
  }
  return Logistic(std::move(x), std::move(labels), l2);
}

// The oracle: Newton's method with an LDLT solve, run until the gradient stops shrinking.
Vector<double> newton_minimizer(Logistic& f) {
  Vector<double> w = Vector<double>::Zero(f.dimension()), grad(f.dimension());
  for (int iteration = 0; iteration < 50; ++iteration) {
    f.evaluate(ConstVecMap<double>(w.data(), w.size()), VecMap<double>(grad.data(), grad.size()));
    w -= f.hessian(w).ldlt().solve(grad);
  }
  f.evaluate(ConstVecMap<double>(w.data(), w.size()), VecMap<double>(grad.data(), grad.size()));
  CHECK_MSG(grad.lpNorm<Eigen::Infinity>() < 1e-14, "Newton oracle gradient " << grad.lpNorm<Eigen::Infinity>());
  return w;
}

OptimizerOptions tight(Algorithm algorithm, int max_iterations) {
  OptimizerOptions options;
  options.algorithm = algorithm;
  options.max_iterations = max_iterations;
  options.gradient_tolerance = 1e-10;
  options.function_tolerance = 0.0;
  return options;
}

template <typename T>
OptimizerResult run(const char* problem, Objective<T>& f, Vector<T>& x, const OptimizerOptions& options) {
  const OptimizerResult result = minimize<T>(f, VecMap<T>(x.data(), x.size()), options);
  std::printf("  %-26s %-22s iterations=%5d evaluations=%6d curvature_products=%5d f=%.17g  (%s)\n", problem,
              algorithm_name(options.algorithm).c_str(), result.iterations, result.function_evaluations,
              result.curvature_products, result.value, result.stop_reason.c_str());
  return result;
}

double value_at(Objective<double>& f, const Vector<double>& x) {
  Vector<double> grad(x.size());
  return f.evaluate(ConstVecMap<double>(x.data(), x.size()), VecMap<double>(grad.data(), grad.size()));
}

}  // namespace

TEST_CASE(quadratic_reaches_closed_form_solution) {
  const Matrix<double> a = random_spd(20, 100.0, 7);
  const Vector<double> b = random_vector(20, 8);
  const Vector<double> solution = a.ldlt().solve(b);
  Quadratic<double> f(a, b);
  for (Algorithm algorithm : kAllAlgorithms) {
    Vector<double> x = Vector<double>::Zero(20);
    const OptimizerResult result = run("quadratic 20-D, cond 100", f, x, tight(algorithm, 5000));
    CHECK_MSG(result.converged, algorithm_name(algorithm) << ": " << result.stop_reason);
    CHECK_MSG((x - solution).lpNorm<Eigen::Infinity>() < 1e-6,
              algorithm_name(algorithm) << " error " << (x - solution).lpNorm<Eigen::Infinity>());
    CHECK_NEAR(result.value, value_at(f, x), 0.0);
    // Budgets with room over the measured counts (HF 11, CG 95 iterations, L-BFGS 101 evaluations);
    // CG without its beta needs ~1000 iterations, L-BFGS without the gamma scaling ~270 evaluations.
    if (algorithm == Algorithm::HessianFree) CHECK(result.iterations <= 15);
    if (algorithm == Algorithm::ConjugateGradient) CHECK(result.iterations <= 200);
    if (algorithm == Algorithm::Lbfgs) CHECK(result.function_evaluations <= 150);
  }
}

TEST_CASE(quadratic_in_float) {
  const Matrix<double> a = random_spd(20, 100.0, 7);
  const Vector<double> b = random_vector(20, 8);
  const Vector<double> solution = a.ldlt().solve(b);
  Quadratic<float> f(a, b);
  for (Algorithm algorithm : kAllAlgorithms) {
    Vector<float> x = Vector<float>::Zero(20);
    OptimizerOptions options = tight(algorithm, 5000);
    options.gradient_tolerance = 1e-5;
    const OptimizerResult result = run("quadratic 20-D float", f, x, options);
    const double error = (x.cast<double>() - solution).lpNorm<Eigen::Infinity>();
    CHECK_MSG(error < 1e-3, algorithm_name(algorithm) << " error " << error << " (" << result.stop_reason << ")");
  }
}

TEST_CASE(rosenbrock_2d_and_10d) {
  for (Index n : {Index(2), Index(10)}) {
    Rosenbrock f(n);
    const std::string problem = "rosenbrock " + std::to_string(n) + "-D";
    for (Algorithm algorithm : {Algorithm::ConjugateGradient, Algorithm::Lbfgs, Algorithm::HessianFree}) {
      Vector<double> x = rosenbrock_start(n);
      const OptimizerResult result = run(problem.c_str(), f, x, tight(algorithm, 5000));
      CHECK_MSG(result.converged, algorithm_name(algorithm) << ": " << result.stop_reason);
      const double error = (x - Vector<double>::Ones(n)).lpNorm<Eigen::Infinity>();
      CHECK_MSG(error < 1e-6, algorithm_name(algorithm) << " " << n << "-D error " << error);
      // Measured: CG 36 / 23, L-BFGS 38 / 37, HF 20 / 20 iterations (2-D / 10-D).
      const int budget = algorithm == Algorithm::ConjugateGradient ? 200 : algorithm == Algorithm::Lbfgs ? 100 : 40;
      CHECK_MSG(result.iterations <= budget, algorithm_name(algorithm) << " " << result.iterations);
    }
    // Steepest descent crawls along the valley: only ask that it gets well on the way.
    Vector<double> x = rosenbrock_start(n);
    const double start_distance = (x - Vector<double>::Ones(n)).norm();
    const OptimizerResult result = run(problem.c_str(), f, x, tight(Algorithm::LineGradientDescent, 2000));
    const double distance = (x - Vector<double>::Ones(n)).norm();
    CHECK_MSG(distance < 0.25 * start_distance, "LINE_GRADIENT_DESCENT distance " << distance);
    CHECK(result.value < 0.01);
  }
}

TEST_CASE(logistic_regression_matches_newton_oracle) {
  Logistic f = synthetic_logistic(500, 10, 1e-2, 42);
  const Vector<double> optimum = newton_minimizer(f);
  for (Algorithm algorithm : kAllAlgorithms) {
    Vector<double> w = Vector<double>::Zero(10);
    const OptimizerResult result = run("logistic n=500 d=10", f, w, tight(algorithm, 10000));
    CHECK_MSG(result.converged, algorithm_name(algorithm) << ": " << result.stop_reason);
    const double error = (w - optimum).lpNorm<Eigen::Infinity>();
    CHECK_MSG(error < 1e-6, algorithm_name(algorithm) << " error " << error);
    // Measured: LINE_GD 30, CG 14, L-BFGS 14, HF 17 iterations.
    const int budget = algorithm == Algorithm::LineGradientDescent ? 200 : algorithm == Algorithm::Lbfgs ? 25 : 50;
    CHECK_MSG(result.iterations <= budget, algorithm_name(algorithm) << " " << result.iterations);
  }
}

TEST_CASE(callback_sees_every_iteration_with_decreasing_values_and_can_stop) {
  Rosenbrock f(10);
  for (Algorithm algorithm : kAllAlgorithms) {
    std::vector<IterationInfo> seen;
    Vector<double> x = rosenbrock_start(10);
    const double start_value = value_at(f, x);
    OptimizerOptions options = tight(algorithm, 40);
    const auto record = [&](const IterationInfo& info) {
      seen.push_back(info);
      return true;
    };
    const OptimizerResult result = minimize<double>(f, VecMap<double>(x.data(), 10), options, record);
    CHECK_EQ(static_cast<int>(seen.size()), result.iterations);
    CHECK(!seen.empty());
    bool consecutive = true, decreasing = true, damping_ok = true;
    double previous = start_value;
    for (std::size_t i = 0; i < seen.size(); ++i) {
      consecutive = consecutive && seen[i].iteration == static_cast<int>(i) + 1;
      decreasing = decreasing && seen[i].value < previous && seen[i].step_size > 0;
      damping_ok = damping_ok && (algorithm == Algorithm::HessianFree ? seen[i].damping > 0 && seen[i].cg_iterations > 0
                                                                      : seen[i].damping == 0);
      previous = seen[i].value;
    }
    CHECK_MSG(consecutive, algorithm_name(algorithm));
    CHECK_MSG(decreasing, algorithm_name(algorithm));
    CHECK_MSG(damping_ok, algorithm_name(algorithm));
    CHECK_NEAR(seen.back().value, result.value, 0.0);
    CHECK_EQ(seen.back().function_evaluations, result.function_evaluations);

    // Returning false after the third iteration stops the run there.
    x = rosenbrock_start(10);
    int calls = 0;
    const OptimizerResult stopped = minimize<double>(f, VecMap<double>(x.data(), 10), options,
                                                     [&](const IterationInfo&) { return ++calls < 3; });
    CHECK_EQ(calls, 3);
    CHECK_EQ(stopped.iterations, 3);
    CHECK_EQ(stopped.stop_reason, std::string("stopped by callback"));
    CHECK(!stopped.converged);
    CHECK_NEAR(stopped.value, seen[2].value, 0.0);  // deterministic: the same third point
  }
}

TEST_CASE(max_iterations_is_respected) {
  Rosenbrock f(10);
  for (Algorithm algorithm : kAllAlgorithms) {
    for (int budget : {0, 1, 5}) {
      Vector<double> x = rosenbrock_start(10);
      const Vector<double> start = x;
      const OptimizerResult result = minimize<double>(f, VecMap<double>(x.data(), 10), tight(algorithm, budget));
      CHECK_EQ(result.iterations, budget);
      CHECK_EQ(result.stop_reason, std::string("max iterations reached"));
      CHECK(!result.converged);
      if (budget == 0) {
        CHECK(x == start);
        CHECK_EQ(result.function_evaluations, 1);
      }
    }
  }
}

TEST_CASE(function_and_gradient_tolerances_stop_early) {
  Rosenbrock f(10);
  for (Algorithm algorithm : kAllAlgorithms) {
    Vector<double> x = rosenbrock_start(10);
    OptimizerOptions options = tight(algorithm, 5000);
    options.gradient_tolerance = 1e-3;
    const OptimizerResult loose = minimize<double>(f, VecMap<double>(x.data(), 10), options);
    CHECK_EQ(loose.stop_reason, std::string("gradient tolerance reached"));
    CHECK(loose.converged);
    CHECK(loose.gradient_norm <= 1e-3 * std::max(1.0, std::fabs(loose.value)));

    x = rosenbrock_start(10);
    options = tight(algorithm, 5000);
    options.gradient_tolerance = 0.0;
    options.function_tolerance = 1e-3;
    const OptimizerResult by_value = minimize<double>(f, VecMap<double>(x.data(), 10), options);
    CHECK_EQ(by_value.stop_reason, std::string("function tolerance reached"));
    CHECK(by_value.converged);
  }
}

TEST_CASE(options_check_names_the_bad_field) {
  const auto with = [](auto change) {
    OptimizerOptions options;
    change(options);
    return options;
  };
  OptimizerOptions().check();
  CHECK_THROWS(with([](OptimizerOptions& o) { o.max_iterations = -1; }).check(), std::invalid_argument,
               "max_iterations");
  CHECK_THROWS(with([](OptimizerOptions& o) { o.gradient_tolerance = -1; }).check(), std::invalid_argument,
               "gradient_tolerance");
  CHECK_THROWS(with([](OptimizerOptions& o) { o.gradient_tolerance = std::nan(""); }).check(), std::invalid_argument,
               "gradient_tolerance");
  CHECK_THROWS(with([](OptimizerOptions& o) { o.function_tolerance = -1e-3; }).check(), std::invalid_argument,
               "function_tolerance");
  CHECK_THROWS(with([](OptimizerOptions& o) { o.lbfgs_memory = 0; }).check(), std::invalid_argument, "lbfgs_memory");
  CHECK_THROWS(with([](OptimizerOptions& o) { o.max_line_search_steps = 0; }).check(), std::invalid_argument,
               "max_line_search_steps");
  CHECK_THROWS(with([](OptimizerOptions& o) { o.wolfe_c1 = 0; }).check(), std::invalid_argument, "wolfe_c1");
  CHECK_THROWS(with([](OptimizerOptions& o) { o.wolfe_c2 = 1.5; }).check(), std::invalid_argument, "wolfe_c2");
  CHECK_THROWS(with([](OptimizerOptions& o) { o.wolfe_c2 = 1e-5; }).check(), std::invalid_argument, "wolfe_c2");
  CHECK_THROWS(with([](OptimizerOptions& o) { o.cg_wolfe_c2 = 1.0; }).check(), std::invalid_argument, "cg_wolfe_c2");
  CHECK_THROWS(with([](OptimizerOptions& o) { o.cg_restart_every = -2; }).check(), std::invalid_argument,
               "cg_restart_every");
  CHECK_THROWS(with([](OptimizerOptions& o) { o.hf_initial_damping = 0; }).check(), std::invalid_argument,
               "hf_initial_damping");
  CHECK_THROWS(with([](OptimizerOptions& o) { o.hf_max_cg_iterations = 0; }).check(), std::invalid_argument,
               "hf_max_cg_iterations");
  CHECK_THROWS(with([](OptimizerOptions& o) { o.hf_cg_decay = 1.5; }).check(), std::invalid_argument, "hf_cg_decay");

  // minimize() checks too, before touching the objective.
  Rosenbrock f(2);
  Vector<double> x = rosenbrock_start(2);
  CHECK_THROWS(minimize<double>(f, VecMap<double>(x.data(), 2), with([](OptimizerOptions& o) { o.lbfgs_memory = -3; })),
               std::invalid_argument, "lbfgs_memory");
}

TEST_CASE(options_json_round_trip_and_errors) {
  OptimizerOptions options;
  options.algorithm = Algorithm::HessianFree;
  options.max_iterations = 7;
  options.gradient_tolerance = 1e-7;
  options.lbfgs_memory = 4;
  options.cg_wolfe_c2 = 0.2;
  options.hf_cg_decay = 0.5;
  const Json json = options.to_json();
  CHECK_EQ(json.at("algorithm").as_string(), std::string("HESSIAN_FREE"));
  CHECK_EQ(json.at("hf_cg_decay").as_number(), 0.5);
  const OptimizerOptions back = OptimizerOptions::from_json(Json::parse(json.dump()));
  CHECK(back.to_json() == json);
  CHECK(back.algorithm == Algorithm::HessianFree);
  CHECK_EQ(back.max_iterations, 7);

  const OptimizerOptions defaults = OptimizerOptions::from_json(Json::parse(R"({"algorithm": "conjugate_gradient"})"));
  CHECK(defaults.algorithm == Algorithm::ConjugateGradient);
  CHECK_EQ(defaults.lbfgs_memory, 10);
  CHECK_THROWS(OptimizerOptions::from_json(Json::parse(R"({"lbfgs_memmory": 5})")), std::invalid_argument,
               "did you mean \"lbfgs_memory\"");
  CHECK_THROWS(OptimizerOptions::from_json(Json::parse(R"({"max_iterations": 2.5})")), std::invalid_argument,
               "max_iterations");
  CHECK_THROWS(OptimizerOptions::from_json(Json::parse(R"({"wolfe_c2": 2})")), std::invalid_argument, "wolfe_c2");
  CHECK_THROWS(OptimizerOptions::from_json(Json::parse(R"({"algorithm": "lbgfs"})")), std::invalid_argument,
               "did you mean \"LBFGS\"");
}

TEST_CASE(parse_algorithm_names) {
  CHECK(parse_algorithm("lbfgs") == Algorithm::Lbfgs);
  CHECK(parse_algorithm("LBFGS") == Algorithm::Lbfgs);
  CHECK(parse_algorithm("Conjugate_Gradient") == Algorithm::ConjugateGradient);
  CHECK(parse_algorithm("line_gradient_descent") == Algorithm::LineGradientDescent);
  CHECK(parse_algorithm("HessianFree") == Algorithm::HessianFree);
  CHECK(parse_algorithm("sgd") == Algorithm::StochasticGradientDescent);
  CHECK(parse_algorithm("STOCHASTIC_GRADIENT_DESCENT") == Algorithm::StochasticGradientDescent);
  CHECK_THROWS(parse_algorithm("lbgfs"), std::invalid_argument, "did you mean \"LBFGS\"");
  CHECK_THROWS(parse_algorithm("newton"), std::invalid_argument, "unknown optimization algorithm \"newton\"");
  for (const std::string& name : algorithm_names()) CHECK_EQ(algorithm_name(parse_algorithm(name)), name);
}

TEST_CASE(unsupported_requests_fail_clearly) {
  Rosenbrock f(2);
  Vector<double> x = rosenbrock_start(2);
  VecMap<double> view(x.data(), 2);
  CHECK_THROWS(minimize<double>(f, view, tight(Algorithm::StochasticGradientDescent, 10)), std::invalid_argument,
               "mini-batch");

  class NoCurvature : public Objective<double> {
   public:
    Index dimension() const override { return 1; }
    double evaluate(ConstVecMap<double> x, VecMap<double> grad) override {
      grad(0) = x(0);
      return 0.5 * x(0) * x(0);
    }
  } plain;
  Vector<double> one = Vector<double>::Ones(1);
  CHECK_THROWS(minimize<double>(plain, VecMap<double>(one.data(), 1), tight(Algorithm::HessianFree, 10)),
               std::invalid_argument, "HESSIAN_FREE needs a curvature product");
  CHECK(one(0) == 1.0);
  // The other algorithms only need gradients.
  CHECK(minimize<double>(plain, VecMap<double>(one.data(), 1), tight(Algorithm::Lbfgs, 10)).converged);

  Vector<double> wrong_size = Vector<double>::Zero(3);
  CHECK_THROWS(minimize<double>(f, VecMap<double>(wrong_size.data(), 3), tight(Algorithm::Lbfgs, 10)),
               std::invalid_argument, "dimension() is 2");
  Vector<double> nan_start = rosenbrock_start(2);
  nan_start(0) = std::nan("");
  CHECK_THROWS(minimize<double>(f, VecMap<double>(nan_start.data(), 2), tight(Algorithm::Lbfgs, 10)),
               std::invalid_argument, "not finite at the starting point");
}

TEST_CASE(objective_exceptions_propagate) {
  class Throwing : public Rosenbrock {
   public:
    Throwing() : Rosenbrock(2) {}
    double evaluate(ConstVecMap<double> x, VecMap<double> grad) override {
      if (++calls == 6) throw std::runtime_error("boom from the objective");
      return Rosenbrock::evaluate(x, grad);
    }
    int calls = 0;
  };
  for (Algorithm algorithm : kAllAlgorithms) {
    Throwing f;
    Vector<double> x = rosenbrock_start(2);
    CHECK_THROWS(minimize<double>(f, VecMap<double>(x.data(), 2), tight(algorithm, 100)), std::runtime_error,
                 "boom from the objective");
    CHECK_EQ(f.calls, 6);
    CHECK(x.allFinite());
  }
}

namespace {

// 1/2 scale ||x - target||^2, but NaN (value and gradient) outside the ball ||x|| <= radius.
class NanOutsideBall : public Objective<double> {
 public:
  NanOutsideBall(Vector<double> target, double scale, double radius, double curvature_scale)
      : target_(std::move(target)), scale_(scale), radius_(radius), curvature_scale_(curvature_scale) {}
  Index dimension() const override { return target_.size(); }
  double evaluate(ConstVecMap<double> x, VecMap<double> grad) override {
    if (x.norm() > radius_) {
      ++nan_evaluations;
      grad.setConstant(std::numeric_limits<double>::quiet_NaN());
      return std::numeric_limits<double>::quiet_NaN();
    }
    grad = scale_ * (x - target_);
    return 0.5 * scale_ * (x - target_).squaredNorm();
  }
  bool has_curvature_product() const override { return true; }
  // Deliberately underestimates the curvature, so Hessian-free's first steps overshoot into NaN.
  void curvature_product(ConstVecMap<double>, ConstVecMap<double> v, VecMap<double> out) override {
    out = curvature_scale_ * v;
  }
  int nan_evaluations = 0;

 private:
  Vector<double> target_;
  double scale_, radius_, curvature_scale_;
};

}  // namespace

TEST_CASE(nan_trial_points_do_not_poison_x) {
  // The first trial step overshoots to 10 * target, outside the ball: the searches must back off.
  const Vector<double> target = Vector<double>::Constant(5, 0.1 / std::sqrt(5.0));
  for (Algorithm algorithm : kAllAlgorithms) {
    NanOutsideBall f(target, 100.0, 0.5, 1.0);
    Vector<double> x = Vector<double>::Zero(5);
    OptimizerOptions options = tight(algorithm, 500);
    options.hf_initial_damping = 1e-3;
    const OptimizerResult result = run("NaN outside a ball", f, x, options);
    CHECK_MSG(f.nan_evaluations > 0, algorithm_name(algorithm) << " never hit the NaN region");
    CHECK_MSG(result.converged, algorithm_name(algorithm) << ": " << result.stop_reason);
    CHECK_MSG((x - target).lpNorm<Eigen::Infinity>() < 1e-6, algorithm_name(algorithm));
  }
  // The minimizer itself lies outside the ball: runs end at a finite point no worse than the start.
  const Vector<double> far_target = Vector<double>::Constant(5, 1.0);
  for (Algorithm algorithm : kAllAlgorithms) {
    NanOutsideBall f(far_target, 1.0, 0.5, 1.0);
    Vector<double> x = Vector<double>::Zero(5);
    const double start_value = value_at(f, x);
    const OptimizerResult result = run("minimizer outside NaN ball", f, x, tight(algorithm, 200));
    CHECK_MSG(x.allFinite(), algorithm_name(algorithm));
    const double end_value = value_at(f, x);
    CHECK_MSG(std::isfinite(end_value) && end_value < start_value, algorithm_name(algorithm) << " " << end_value);
    CHECK_NEAR(result.value, end_value, 0.0);
    CHECK(!result.converged);
    CHECK_MSG(x.norm() > 0.49, algorithm_name(algorithm) << " stopped far from the boundary: " << x.norm());
  }
}

TEST_CASE(line_search_failure_keeps_the_best_point) {
  // A gradient that points the wrong way: no step along -g decreases f, so the run must stop where it started.
  class LyingGradient : public Objective<double> {
   public:
    Index dimension() const override { return 3; }
    double evaluate(ConstVecMap<double> x, VecMap<double> grad) override {
      grad = -x;  // the true gradient is +x
      return 0.5 * x.squaredNorm();
    }
    bool has_curvature_product() const override { return true; }
    void curvature_product(ConstVecMap<double>, ConstVecMap<double> v, VecMap<double> out) override { out = v; }
  };
  for (Algorithm algorithm : kAllAlgorithms) {
    LyingGradient f;
    Vector<double> x = Vector<double>::Constant(3, 2.0);
    const Vector<double> start = x;
    const OptimizerResult result = run("lying gradient", f, x, tight(algorithm, 50));
    CHECK_EQ(result.stop_reason, std::string("line search failed"));
    CHECK(!result.converged);
    CHECK_MSG(x == start, algorithm_name(algorithm));
    CHECK_EQ(result.iterations, 0);
  }
}

#if defined(EIGENNET_COUNT_ALLOCATIONS)
TEST_CASE(iterations_do_not_allocate) {
  // Setup allocates the same work vectors whatever the budget, so equal counts for 2 and 15
  // iterations mean the loop itself allocates nothing.
  Rosenbrock f(10);
  for (Algorithm algorithm : kAllAlgorithms) {
    long counts[2];
    int iterations[2];
    const int budgets[2] = {2, 15};
    for (int k = 0; k < 2; ++k) {
      Vector<double> x = rosenbrock_start(10);
      const OptimizerOptions options = tight(algorithm, budgets[k]);
      const std::function<bool(const IterationInfo&)> callback = [](const IterationInfo&) { return true; };
      allocations.store(0);
      counting.store(true);
      const OptimizerResult result = minimize<double>(f, VecMap<double>(x.data(), 10), options, callback);
      counting.store(false);
      counts[k] = allocations.load();
      iterations[k] = result.iterations;
    }
    std::printf("  %-22s %ld allocations for %d iterations, %ld for %d\n", algorithm_name(algorithm).c_str(),
                counts[0], iterations[0], counts[1], iterations[1]);
    CHECK_EQ(iterations[1], 15);
    CHECK_MSG(counts[0] == counts[1], algorithm_name(algorithm) << ": " << counts[0] << " vs " << counts[1]);
  }
}
#endif

int main(int argc, char** argv) { return check::run(argc, argv); }
