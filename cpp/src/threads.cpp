#include "eigennet/threads.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <thread>

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define EIGENNET_HAVE_MXCSR 1
#endif
#ifdef __linux__
#include <sched.h>
#endif

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

namespace {
#ifdef EIGENNET_HAVE_MXCSR
constexpr unsigned kFlushBits = 0x8040;  // FTZ (bit 15) | DAZ (bit 6)

// The workers that run a product or an update take the calling thread's mode (parallel.cpp).
void set_mode(unsigned bits, bool on) {
  const unsigned csr = _mm_getcsr();
  _mm_setcsr(on ? (csr | bits) : (csr & ~bits));
}
#endif
}  // namespace

FlushDenormals::FlushDenormals() {
#ifdef EIGENNET_HAVE_MXCSR
  previous_ = _mm_getcsr() & kFlushBits;
  if (previous_ != kFlushBits) set_mode(kFlushBits, true);
#endif
}

FlushDenormals::~FlushDenormals() {
#ifdef EIGENNET_HAVE_MXCSR
  if (previous_ != kFlushBits) set_mode(kFlushBits & ~previous_, false);
#endif
}

}  // namespace eigennet
