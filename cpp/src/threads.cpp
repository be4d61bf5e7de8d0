#include "eigennet/threads.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <thread>

#ifdef __linux__
#include <sched.h>
#endif

#include "denormals.hpp"
#include "eigennet/errors.hpp"

namespace eigennet {

namespace {
// OMP_NUM_THREADS when it starts with a positive count (the setting numerical libraries commonly
// share, and what this default was when eigennet's threads were OpenMP's), else the CPUs this
// process may run on.
int default_threads() {
  if (const char* setting = std::getenv("OMP_NUM_THREADS")) {
    char* end = nullptr;
    const long n = std::strtol(setting, &end, 10);
    if (end != setting && n >= 1 && (*end == '\0' || *end == ',')) return static_cast<int>(std::min(n, 1024L));
  }
#ifdef __linux__
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0) return std::max(1, CPU_COUNT(&allowed));
#endif
  return std::max(1u, std::thread::hardware_concurrency());
}

std::atomic<int>& thread_setting() {
  static std::atomic<int> threads{default_threads()};
  return threads;
}
}  // namespace

void set_num_threads(int n) {
  EIGENNET_REQUIRE(n >= 1, "set_num_threads: need at least 1 thread, got " + std::to_string(n));
  thread_setting().store(n);
}

int get_num_threads() { return thread_setting().load(); }

namespace {
// The configured threads for work of `amount` at or above `threshold`, else 1.
int threads_from(double amount, double threshold) { return amount >= threshold ? thread_setting().load() : 1; }
}  // namespace

int threads_for_product(double multiply_adds) { return threads_from(multiply_adds, kParallelMultiplyAdds); }

int threads_for_elementwise(long elements) {
  return threads_from(static_cast<double>(elements), static_cast<double>(kParallelElements));
}

bool has_openmp() { return false; }

FlushDenormals::FlushDenormals() : previous_(denormal_flush_bits()) {
  set_denormal_flush_bits(kDenormalFlushBits);
}

FlushDenormals::~FlushDenormals() { set_denormal_flush_bits(previous_); }

}  // namespace eigennet
