// Matrix products for the layers, threaded by eigennet rather than by Eigen.
//
// Eigen's own parallel GEMM makes its threads wait for one another several times per product,
// and it picks its cache blocking (how much of the inner dimension each partial sum covers) from
// the thread count. So a thread that loses its core to another process stalls the others at every
// wait, and results change in the last bits with the thread count. multiply() instead cuts the
// output into independent blocks of rows (or columns), hands them to the threads dynamically, and
// runs Eigen's single-threaded GEMM on each: one wait per product, a busy core simply takes fewer
// blocks, and every output element is summed in the same order whatever the thread count.
#pragma once

#include <algorithm>
#include <type_traits>

#include "eigennet/threads.hpp"
#include "eigennet/types.hpp"

namespace eigennet {

enum class Update { Assign, Add, Subtract };  // dst = lhs rhs, dst += lhs rhs, dst -= lhs rhs

namespace product_detail {

// Block boundaries fall on multiples of these: a multiple of every register block of Eigen's
// GEMM kernels (3 packets of rows, up to 8 columns), so each element goes through the same
// micro-kernel path as in the unsplit product.
template <typename T>
constexpr Index kRowGrain = sizeof(T) == 4 ? 48 : 24;
constexpr Index kColumnGrain = 8;
// Blocks per thread: enough for a thread that runs slower to hand work to the others.
constexpr Index kBlocksPerThread = 4;

template <typename Dst, typename Lhs, typename Rhs>
void product_block(Dst&& dst, const Lhs& lhs, const Rhs& rhs, Update update) {
  const EigenSingleThreaded single;
  switch (update) {
    case Update::Assign:
      dst.noalias() = lhs * rhs;
      break;
    case Update::Add:
      dst.noalias() += lhs * rhs;
      break;
    case Update::Subtract:
      dst.noalias() -= lhs * rhs;
      break;
  }
}

}  // namespace product_detail

template <typename Dst, typename Lhs, typename Rhs>
void multiply(Dst&& dst, const Lhs& lhs, const Rhs& rhs, Update update = Update::Assign) {
  using T = typename std::decay_t<Dst>::Scalar;
  using namespace product_detail;
  const Index rows = dst.rows(), cols = dst.cols();
  const int threads = threads_for_product(static_cast<double>(rows) * static_cast<double>(cols) * lhs.cols());
  const bool split_rows = rows >= cols;
  const Index extent = split_rows ? rows : cols;
  const Index grain = split_rows ? kRowGrain<T> : kColumnGrain;
  const Index units = (extent + grain - 1) / grain;
  const Index blocks = std::min<Index>(units, static_cast<Index>(threads) * kBlocksPerThread);
  if (threads == 1 || blocks < 2) {
    product_block(dst, lhs, rhs, update);
    return;
  }
#ifdef EIGENNET_HAVE_OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
#endif
  for (Index block = 0; block < blocks; ++block) {
    const Index begin = units * block / blocks * grain;
    const Index end = std::min(extent, units * (block + 1) / blocks * grain);
    if (split_rows)
      product_block(dst.middleRows(begin, end - begin), lhs.middleRows(begin, end - begin), rhs, update);
    else
      product_block(dst.middleCols(begin, end - begin), lhs, rhs.middleCols(begin, end - begin), update);
  }
}

}  // namespace eigennet
