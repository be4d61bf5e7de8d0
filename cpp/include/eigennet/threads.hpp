// Thread count for the GEMM kernels and denormal flushing for the computing threads.
#pragma once

namespace eigennet {

// Sets the number of threads used by large matrix products and updates (1 disables threading). The
// default is OMP_NUM_THREADS if set, else one per CPU this process may run on. The threads are
// eigennet's own (not OpenMP's), created when first needed.
void set_num_threads(int n);
int get_num_threads();
// Always false: the core does not use OpenMP (build_info() reports it, as issue #3 asks).
bool has_openmp();

// Products below this many multiply-adds run on the calling thread alone: waking a worker costs
// more than it saves there, and small networks must never be slower with more threads.
constexpr double kParallelMultiplyAdds = 4.0 * 1024 * 1024;

// The threads to split a matrix product of `multiply_adds` (rows x cols x depth) over: 1 below
// kParallelMultiplyAdds, else get_num_threads() (see multiply() in product.hpp).
int threads_for_product(double multiply_adds);

// Elementwise passes (updater steps) over fewer elements than this stay on the calling thread.
constexpr long kParallelElements = 64 * 1024;

// The threads to split an elementwise pass over `elements` values across: 1 below
// kParallelElements, else get_num_threads().
int threads_for_elementwise(long elements);

// While alive, flushes denormal floats to zero (FTZ/DAZ) in this thread and in the workers that run
// its products and updates: as Adam's moments for dead units decay they would otherwise turn
// denormal and slow every multiply that touches them several times over. Restores the previous
// mode on exit.
class FlushDenormals {
 public:
  FlushDenormals();
  ~FlushDenormals();
  FlushDenormals(const FlushDenormals&) = delete;
  FlushDenormals& operator=(const FlushDenormals&) = delete;

 private:
  unsigned previous_ = 0;
};

}  // namespace eigennet
