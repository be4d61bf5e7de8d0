// Full-batch optimization algorithms (DL4J OptimizationAlgorithm) over a function object
// f: R^n -> R on a flat parameter vector. Pure numerics: the network supplies the objective.
//
// Notation: x the point, g = grad f(x), d the search direction, a the step, x+ = x + a d.
// References: Nocedal & Wright, "Numerical Optimization", 2nd ed. (N&W); Martens, "Deep learning
// via Hessian-free optimization", ICML 2010.
//
// Stop rules, checked after every outer iteration (and the gradient rule also at the start):
//   gradient:  ||g||_inf <= gradient_tolerance * max(1, |f|)          -> converged, "gradient tolerance reached"
//   function:  f_old - f_new < function_tolerance * max(|f_old|, |f_new|, 1)   (when function_tolerance > 0)
//                                                                     -> converged, "function tolerance reached"
//   budget:    max_iterations outer iterations                        -> "max iterations reached"
//   callback:  on_iteration returned false                            -> "stopped by callback"
//   failure:   no acceptable step along a steepest-descent direction  -> "line search failed"
// For the last three, converged is true only if the gradient rule holds at the final point.
// Every accepted step decreases f (near a minimizer, where f is flat to rounding, up to that
// rounding; see the line search), and no accepted point has f above its value at the start, so x
// never ends worse than it began. A trial point where f or g is NaN/inf is treated as "too far":
// the search backs off, and x only ever moves to points where both are finite.
//
// Line search (LINE_GRADIENT_DESCENT, CONJUGATE_GRADIENT, LBFGS): strong Wolfe conditions
//   f(x+) <= f + c1 a g'd   and   |g(x+)'d| <= c2 |g'd|
// by bracketing then zoom (N&W Alg. 3.5 / 3.6), trial steps from the cubic interpolating f and f'
// at the bracket ends (N&W 3.59), kept at least 10% of the bracket width away from its ends
// (bisection when the cubic is unusable). While bracketing, the step grows to between
// a + 1.1 (a - a_prev) and a + 4 (a - a_prev). Near a minimizer f is flat to rounding
// (|f(x+) - f| <= 100 eps(T) |f|) and comparing values is meaningless: there the bracket follows the
// sign of the slope, trials come from the secant on slopes, and a step is also accepted under the
// approximate Wolfe conditions of Hager & Zhang (SIAM J. Optim. 2005) -- the curvature condition,
// g(x+)'d <= (2 c1 - 1) g'd (sufficient decrease judged from slopes), and f(x+) <= min(f + 100 eps(T) |f|,
// f at the start). At most max_line_search_steps evaluations. If no step
// satisfies both conditions, the lowest point seen is still taken when it lowers f; then L-BFGS
// and CG drop their memory and retry along -g, and a failure along -g stops the run.
//   Initial step: LBFGS 1 (1/||g||_2 while its memory is empty, as L-BFGS-B); LINE_GRADIENT_DESCENT and
//   CONJUGATE_GRADIENT 1/||g||_2 at the first iteration, then a_prev g_prev'd_prev / g'd (N&W 3.60).
//
// LINE_GRADIENT_DESCENT  d = -g.
// CONJUGATE_GRADIENT     Polak-Ribiere+: d = -g + beta d_prev, beta = max(0, g'(g - g_prev) / g_prev'g_prev);
//                        restarts with d = -g every cg_restart_every iterations (0: every n), and
//                        whenever d is not a descent direction (g'd >= 0). Its line search uses
//                        c2 = cg_wolfe_c2 (0.1 by default: N&W's choice for nonlinear CG).
// LBFGS                  d = -H g by the two-loop recursion (N&W Alg. 7.4) over the last lbfgs_memory
//                        pairs s = x+ - x, y = g+ - g, with H0 = gamma I, gamma = s'y / y'y of the newest
//                        pair. A pair is skipped (curvature not trustworthy) when s'y <= 1e-10 ||s|| ||y||.
// HESSIAN_FREE           truncated Newton (Martens 2010). With G(x) the objective's positive semi-definite
//                        curvature (Gauss-Newton) and lambda the damping, approximately minimize
//                          q(d) = g'd + 1/2 d'(G + lambda I) d
//                        by linear CG started from hf_cg_decay * (previous solution) (from 0 if that start
//                        has q > 0). CG stops at iteration i when i > k = max(10, floor(i/10)), q_i < 0 and
//                        (q_i - q_{i-k}) / q_i < 5e-4 k; or after hf_max_cg_iterations; or on curvature
//                        p'(G + lambda I)p <= 0; or when ||residual||_2 <= eps(T) ||g||_2.
//                        Step: Armijo backtracking f(x + a d) <= f + wolfe_c1 a g'd over a = 1, 0.8, 0.8^2, ...
//                        (max_line_search_steps trials; where f is flat to rounding, the approximate form
//                        g(x + a d)'d <= (2 c1 - 1) g'd as above). Damping (Levenberg-Marquardt heuristic):
//                          rho = (f(x + d) - f) / q(d);  lambda *= 3/2 if rho < 1/4;  lambda *= 2/3 if rho > 3/4.
//                        If CG yields no descent direction, d = -g is searched and lambda *= 3/2.
// STOCHASTIC_GRADIENT_DESCENT is the network's own mini-batch loop; minimize() rejects it.
//
// minimize() allocates all its work vectors once (L-BFGS keeps its history as two n x m matrices)
// and nothing inside the iteration loop. Dot products and norms accumulate in double for T=float.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "eigennet/errors.hpp"
#include "eigennet/json.hpp"
#include "eigennet/types.hpp"

namespace eigennet {

enum class Algorithm { StochasticGradientDescent, LineGradientDescent, ConjugateGradient, Lbfgs, HessianFree };

// DL4J names "STOCHASTIC_GRADIENT_DESCENT" (alias "SGD"), "LINE_GRADIENT_DESCENT", "CONJUGATE_GRADIENT",
// "LBFGS", "HESSIAN_FREE"; case and '_' / '-' are ignored. Unknown names fail with a suggestion.
Algorithm parse_algorithm(const std::string& name);
std::string algorithm_name(Algorithm algorithm);  // the DL4J name
std::vector<std::string> algorithm_names();

template <typename T>
class Objective {
 public:
  virtual ~Objective() = default;
  virtual Index dimension() const = 0;
  // Returns f(x) and writes grad f(x) into grad. May throw; minimize() lets the exception through.
  virtual double evaluate(ConstVecMap<T> x, VecMap<T> grad) = 0;
  // For HESSIAN_FREE: out = G(x) v with G positive semi-definite (a Gauss-Newton matrix or the Hessian of
  // a convex f). minimize() only calls it at points where evaluate() was called last.
  virtual bool has_curvature_product() const { return false; }
  virtual void curvature_product(ConstVecMap<T> /*x*/, ConstVecMap<T> /*v*/, VecMap<T> /*out*/) {
    fail("HESSIAN_FREE needs a curvature product: this objective does not implement curvature_product()");
  }
};

struct OptimizerOptions {
  Algorithm algorithm = Algorithm::Lbfgs;
  int max_iterations = 100;           // outer iterations, >= 0
  double gradient_tolerance = 1e-5;   // see the stop rules above; 0 disables
  double function_tolerance = 1e-12;  // see the stop rules above; 0 disables
  int lbfgs_memory = 10;              // pairs kept, >= 1
  int max_line_search_steps = 40;     // function evaluations per line search, >= 1
  double wolfe_c1 = 1e-4;             // sufficient decrease, 0 < c1 < c2 (also HF's Armijo constant)
  double wolfe_c2 = 0.9;              // curvature condition for LINE_GRADIENT_DESCENT and LBFGS, c1 < c2 < 1
  double cg_wolfe_c2 = 0.1;           // curvature condition for CONJUGATE_GRADIENT, c1 < c2 < 1
  int cg_restart_every = 0;           // 0 = the dimension n
  // Hessian-free (Martens 2010)
  double hf_initial_damping = 1.0;    // lambda at the first iteration, > 0
  int hf_max_cg_iterations = 250;     // linear CG iterations per outer iteration, >= 1
  double hf_cg_decay = 0.95;          // CG warm start: previous solution times this, in [0, 1]

  // Throws std::invalid_argument naming the first bad field.
  void check() const;
  // Keys are the field names above ("algorithm" holds a name for parse_algorithm); missing keys keep
  // their defaults, unknown keys are rejected with a suggestion, and the result is check()ed.
  static OptimizerOptions from_json(const Json& config);
  Json to_json() const;
};

struct IterationInfo {
  int iteration;             // 1-based outer iteration just completed
  int function_evaluations;  // total so far, including the initial one
  double value;              // f at the new point
  double gradient_norm;      // ||g||_inf at the new point
  double step_size;          // the accepted a
  double damping;            // HESSIAN_FREE: lambda used for this iteration's step; else 0
  int cg_iterations;         // HESSIAN_FREE: linear CG iterations this outer iteration; else 0
};

struct OptimizerResult {
  int iterations = 0;
  int function_evaluations = 0;
  int curvature_products = 0;  // HESSIAN_FREE only
  double value = 0.0;          // f at the returned x
  double gradient_norm = 0.0;  // ||g||_inf at the returned x
  bool converged = false;
  std::string stop_reason;
};

// Minimizes f starting from x, which is updated in place and ends at the best point found.
// on_iteration, if set, is called after every outer iteration; returning false stops the run.
// Throws std::invalid_argument for bad options, x.size() != f.dimension(), a non-finite f or gradient at
// the start, STOCHASTIC_GRADIENT_DESCENT, or HESSIAN_FREE on an objective without a curvature product.
template <typename T>
OptimizerResult minimize(Objective<T>& f, VecMap<T> x, const OptimizerOptions& options,
                         const std::function<bool(const IterationInfo&)>& on_iteration = {});

}  // namespace eigennet
