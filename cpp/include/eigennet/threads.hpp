// Thread count for the GEMM kernels and denormal flushing for the computing threads.
#pragma once

namespace eigennet {

// Sets the number of threads used by matrix products (1 disables threading).
void set_num_threads(int n);
int get_num_threads();
bool has_openmp();

// While alive, flushes denormal floats to zero (FTZ/DAZ) in this thread and in the OpenMP
// workers: as Adam's moments for dead units decay they would otherwise turn denormal and slow
// every multiply that touches them several times over. Restores the previous mode on exit.
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
