// Matrix products for the layers, threaded by eigennet rather than by Eigen.
//
// Eigen's parallel GEMM makes its threads wait for one another at every panel of the inner
// dimension, and picks its cache blocking from the thread count, so a thread that loses its core to
// another process stalls the rest at every wait, and results change in the last bits with the
// thread count. Splitting the output into independent blocks, each an Eigen product of its own,
// fixed both but repacked the shared operand once per block.
//
// multiply() drives Eigen's GEMM building blocks itself (the packing routines and the gebp
// micro-kernel, as Eigen's own single-threaded product does): the right-hand operand is packed once
// for the whole product, by all threads, into a buffer that lives as long as the calling thread;
// then the threads take blocks of the output dynamically (blocks of rows, cut into column blocks
// when there are too few rows to go round), each packing its rows of the left-hand operand and
// running the kernel (parallel_phases in parallel.hpp). So a product has two waits (after packing,
// and at the end), a busy or late thread simply takes fewer blocks, and nothing is allocated once
// the buffers have grown. The cache blocking comes from the product's shape alone and blocks start
// at multiples of the kernel's register tiles, so every output element is summed in the same order
// by the same kernel on any number of threads: results are bit-identical.
//
// The driver is compiled once per scalar type and operand layout, in product.cpp, with the rest of
// the core: the packed layout and the kernel must come from the same instruction set, and code
// including this header (tests, say) need not be built with the core's.
#pragma once

#include <Eigen/Core>
#include <type_traits>

#include "eigennet/threads.hpp"
#include "eigennet/types.hpp"
#include "parallel.hpp"

namespace eigennet {

enum class Update { Assign, Add, Subtract };  // dst = lhs rhs, dst += lhs rhs, dst -= lhs rhs

// Does nothing to a finished block of the output (see multiply()).
struct NoFinish {
  void operator()(Index, Index, Index, Index) const {}
};

namespace product_detail {

template <typename X>
constexpr bool row_major = (std::decay_t<X>::Flags & Eigen::RowMajorBit) != 0;

// The threaded product on raw column-major storage (row-major for an operand whose flag says so):
// res (rows x cols) = / += / -= lhs (rows x depth) rhs (depth x cols), with finish as in multiply().
template <typename T, bool LhsRowMajor, bool RhsRowMajor>
void blocked_product(T* res, Index res_stride, const T* lhs, Index lhs_stride, const T* rhs, Index rhs_stride,
                     Index rows, Index depth, Index cols, Update update,
                     FunctionRef<void(Index, Index, Index, Index)> finish);

template <typename Dst, typename Lhs, typename Rhs>
void small_product(Dst&& dst, const Lhs& lhs, const Rhs& rhs, Update update) {
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

// dst = lhs rhs (or += / -=), for dense column-major dst and lhs, rhs each column-major or the
// transpose of a column-major matrix, all with unit inner stride. finish(row, rows, col, cols) is
// called once for each block of dst when its value is final, from the thread that computed it
// while the block is still in cache; the blocks cover dst exactly once.
template <typename Dst, typename Lhs, typename Rhs, typename Finish = NoFinish>
void multiply(Dst&& dst, const Lhs& lhs, const Rhs& rhs, Update update = Update::Assign, const Finish& finish = {}) {
  using T = typename std::decay_t<Dst>::Scalar;
  using namespace product_detail;
  static_assert(!row_major<Dst>, "multiply() writes column-major storage");
  const Index rows = dst.rows(), cols = dst.cols(), depth = lhs.cols();
  const double multiply_adds = static_cast<double>(rows) * static_cast<double>(cols) * static_cast<double>(depth);
  // Below the threading threshold (and for empty products) Eigen's own product, on this thread.
  if (multiply_adds < kParallelMultiplyAdds) {
    small_product(dst, lhs, rhs, update);
    if (rows > 0 && cols > 0) finish(0, rows, 0, cols);
    return;
  }
  blocked_product<T, row_major<Lhs>, row_major<Rhs>>(dst.data(), dst.outerStride(), lhs.data(), lhs.outerStride(),
                                                     rhs.data(), rhs.outerStride(), rows, depth, cols, update, finish);
}

}  // namespace eigennet
