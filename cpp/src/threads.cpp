#include "eigennet/threads.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <thread>

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define EIGENNET_HAVE_MXCSR 1
#endif
#ifdef EIGENNET_HAVE_OPENMP
#include <omp.h>
#endif

#include "eigennet/errors.hpp"

namespace eigennet {

namespace {
// OpenMP's default (one per core, or OMP_NUM_THREADS) where the build has it; eigennet's workers
// are its own threads either way (parallel.cpp).
int default_threads() {
#ifdef EIGENNET_HAVE_OPENMP
  return std::max(1, omp_get_max_threads());
#else
  return std::max(1u, std::thread::hardware_concurrency());
#endif
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

EigenSingleThreaded::EigenSingleThreaded() {
#ifdef EIGENNET_HAVE_OPENMP
  thread_setting();  // its default reads omp_get_max_threads(), so settle it before changing that
  previous_ = omp_get_max_threads();
  if (previous_ != 1) omp_set_num_threads(1);
#endif
}

EigenSingleThreaded::~EigenSingleThreaded() {
#ifdef EIGENNET_HAVE_OPENMP
  if (previous_ != 1) omp_set_num_threads(previous_);
#endif
}

bool has_openmp() {
#ifdef EIGENNET_HAVE_OPENMP
  return true;
#else
  return false;
#endif
}

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
