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
// at multiples of the kernel's register tiles, so every output element is summed in the same order by the same kernel on any
// number of threads: results are bit-identical.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <type_traits>
#include <utility>

#include "eigennet/threads.hpp"
#include "eigennet/types.hpp"
#include "parallel.hpp"

namespace eigennet {

enum class Update { Assign, Add, Subtract };  // dst = lhs rhs, dst += lhs rhs, dst -= lhs rhs

namespace product_detail {

// Blocks of output per thread: enough for a thread that runs slower to hand work to the others, and
// for the last blocks to be small next to a thread's share.
constexpr Index kBlocksPerThread = 8;
// Register tiles of rows per block at most, so that a block's tile of the output (rows x nc) stays
// in L2 between being zeroed and the kernel.
constexpr Index kMaxBlockTiles = 8;
// Blocks are split by columns as well as rows when the rows alone give too few blocks, but not into
// fewer columns than this: each column block packs its rows of the left-hand operand again.
constexpr Index kMinBlockColumns = 32;
// Column blocks and panels start at multiples of this (a multiple of the kernel's nr), so that every
// column is computed by the same kernel as in an unsplit product.
constexpr Index kColumnTile = 8;
// The packed right-hand operand is kept whole up to this size; wider ones are packed (and the
// threads wait) in column panels that fit, so the buffer a thread keeps stays bounded.
constexpr Index kPackedRhsBytes = 8 << 20;

template <typename X>
constexpr int storage_order = (std::decay_t<X>::Flags & Eigen::RowMajorBit) ? Eigen::RowMajor : Eigen::ColMajor;

// Grow-only packing buffers of the calling thread (0: left-hand rows, 1: the shared right-hand
// operand), aligned as Eigen's kernel expects.
template <typename T>
T* packing_buffer(int which, Index size) {
  thread_local Eigen::Matrix<T, Eigen::Dynamic, 1> buffers[2];
  auto& buffer = buffers[which];
  if (buffer.size() < size) buffer.resize(size);
  return buffer.data();
}

// Range [begin, end) of block `block` of `blocks` over `size` elements in tiles of `tile`: every block
// starts at a multiple of the tile, and the first (tiles % blocks) blocks hold one tile more.
inline std::pair<Index, Index> split(Index size, Index tile, Index blocks, Index block) {
  const Index tiles = (size + tile - 1) / tile, base = tiles / blocks, extra = tiles % blocks;
  const Index begin = (block * base + std::min(block, extra)) * tile;
  const Index end = ((block + 1) * base + std::min(block + 1, extra)) * tile;
  return {begin, std::min(size, end)};
}

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

// Does nothing to a finished block of the output (see multiply()).
struct NoFinish {
  void operator()(Index, Index, Index, Index) const {}
};

// dst = lhs rhs (or += / -=), for dense column-major dst and lhs, rhs each column-major or the
// transpose of a column-major matrix, all with unit inner stride. finish(row, rows, col, cols) is
// called once for each block of dst when its value is final, from the thread that computed it
// while the block is still in cache; the blocks cover dst exactly once.
template <typename Dst, typename Lhs, typename Rhs, typename Finish = NoFinish>
void multiply(Dst&& dst, const Lhs& lhs, const Rhs& rhs, Update update = Update::Assign, const Finish& finish = {}) {
  using T = typename std::decay_t<Dst>::Scalar;
  using namespace product_detail;
  using namespace Eigen::internal;
  const Index rows = dst.rows(), cols = dst.cols(), depth = lhs.cols();
  const double multiply_adds = static_cast<double>(rows) * static_cast<double>(cols) * static_cast<double>(depth);
  // Below the threading threshold (and for empty products) Eigen's own product, on this thread.
  if (multiply_adds < kParallelMultiplyAdds) {
    small_product(dst, lhs, rhs, update);
    if (rows > 0 && cols > 0) finish(0, rows, 0, cols);
    return;
  }
  using Traits = gebp_traits<T, T>;
  constexpr int kLhsOrder = storage_order<Lhs>, kRhsOrder = storage_order<Rhs>;
  using LhsMapper = const_blas_data_mapper<T, Index, kLhsOrder>;
  using RhsMapper = const_blas_data_mapper<T, Index, kRhsOrder>;
  using ResMapper = blas_data_mapper<T, Index, Eigen::ColMajor, Eigen::Unaligned, 1>;
  const LhsMapper lhs_map(lhs.data(), lhs.outerStride());
  const RhsMapper rhs_map(rhs.data(), rhs.outerStride());
  const ResMapper res_map(dst.data(), dst.outerStride());
  gemm_pack_lhs<T, Index, LhsMapper, Traits::mr, Traits::LhsProgress, typename Traits::LhsPacket4Packing, kLhsOrder>
      pack_lhs;
  gemm_pack_rhs<T, Index, RhsMapper, Traits::nr, kRhsOrder> pack_rhs;
  gebp_kernel<T, T, Index, ResMapper, Traits::mr, Traits::nr, false, false> gebp;

  // Cache blocking as Eigen's single-threaded product chooses it, from the shape only. Column
  // panels are a multiple of the kernel's 8-column tiles (Eigen's may not be), so that only the
  // product's last columns take the narrow kernels, as in an unsplit product.
  Index kc = depth, mc = rows, nc = cols;
  computeProductBlockingSizes<T, T, 1>(kc, mc, nc, Index(1));
  if (nc < cols) nc = std::max(kColumnTile, nc / kColumnTile * kColumnTile);
  const Index panel_cols = std::min(
      cols, std::max(nc, kPackedRhsBytes / static_cast<Index>(sizeof(T)) / depth / nc * nc));

  // Row blocks start at multiples of the register tile (mr rows) and hold at most mc rows and
  // kMaxBlockTiles tiles; with several threads there are kBlocksPerThread blocks per thread where the
  // rows allow, and where they do not, the row blocks are split into column blocks.
  const int threads = threads_for_product(multiply_adds);
  const Index tiles = (rows + Traits::mr - 1) / Traits::mr;
  const Index tiles_per_mc = std::max<Index>(1, std::min(kMaxBlockTiles, mc / Traits::mr));
  const Index blocks_for_cache = (tiles + tiles_per_mc - 1) / tiles_per_mc;
  const Index wanted_blocks = static_cast<Index>(threads) * kBlocksPerThread;
  const Index row_blocks = threads == 1 ? blocks_for_cache : std::min(tiles, std::max(wanted_blocks, blocks_for_cache));
  const Index most_column_blocks = std::max<Index>(1, panel_cols / kMinBlockColumns);
  const Index column_blocks =
      threads == 1 ? 1 : std::min(most_column_blocks, (wanted_blocks + row_blocks - 1) / row_blocks);
  const T alpha = update == Update::Subtract ? T(-1) : T(1);
  const Index k_panels = (depth + kc - 1) / kc;
  T* const packed_rhs = packing_buffer<T>(1, depth * panel_cols);
  // Packing work items: (k panel, column chunk) pairs of the current column panel; chunks of up to 64
  // columns, and narrow enough that each k panel has two for every thread (a batch of 32 columns
  // was packed by one thread while the others waited).
  const Index pack_chunk =
      std::clamp(panel_cols / (2 * threads) / kColumnTile * kColumnTile, kColumnTile, Index(64));

  const Index panels = (cols + panel_cols - 1) / panel_cols;
  const Index packed_lhs_size = std::min(kc, depth) * std::min(rows, tiles_per_mc * Traits::mr);
  // Two phases per column panel: pack it (items: pairs of a k panel and a column chunk), then
  // run the kernel on the blocks of the output.
  auto panel_width = [&](Index panel) { return std::min(panel_cols, cols - panel * panel_cols); };
  auto pack_items = [&](Index panel) { return k_panels * ((panel_width(panel) + pack_chunk - 1) / pack_chunk); };
  auto items = [&](int phase) { return phase % 2 == 0 ? pack_items(phase / 2) : row_blocks * column_blocks; };
  auto run = [&](int phase, Index item) {
    const Index j0 = phase / 2 * panel_cols, width = panel_width(phase / 2);
    if (phase % 2 == 0) {
      // Panel p of the depth occupies [p kc width, ...) of packed_rhs; its column c sits c kc_p in.
      const Index chunks = (width + pack_chunk - 1) / pack_chunk;
      const Index k0 = item / chunks * kc, c0 = item % chunks * pack_chunk;
      const Index k_len = std::min(kc, depth - k0), c_len = std::min(pack_chunk, width - c0);
      pack_rhs(packed_rhs + k0 * width + c0 * k_len, rhs_map.getSubMapper(k0, j0 + c0), k_len, c_len);
      return;
    }
    // Rows outer, so the blocks taken last are the small ones: the first tiles % row_blocks row
    // blocks take one tile more, and likewise for the column blocks of the panel.
    const Index row_block = item / column_blocks, column_block = item % column_blocks;
    const auto [i0, i1] = split(rows, Traits::mr, row_blocks, row_block);
    const auto [c0, c1] = split(width, kColumnTile, column_blocks, column_block);
    if (c0 >= c1) return;  // a narrow last panel has fewer column tiles than blocks
    T* const packed_lhs = packing_buffer<T>(0, packed_lhs_size);
    for (Index k0 = 0; k0 < depth; k0 += kc) {
      const Index k_len = std::min(kc, depth - k0);
      pack_lhs(packed_lhs, lhs_map.getSubMapper(i0, k0), k_len, i1 - i0);
      for (Index q0 = c0; q0 < c1; q0 += nc) {
        const Index q_len = std::min(nc, c1 - q0);
        // The kernel adds to its output; zeroed tile by tile, a tile is still in cache for it.
        if (update == Update::Assign && k0 == 0) dst.block(i0, j0 + q0, i1 - i0, q_len).setZero();
        gebp(res_map.getSubMapper(i0, j0 + q0), packed_lhs, packed_rhs + k0 * width + q0 * k_len, i1 - i0, k_len,
             q_len, alpha);
        if (k0 + k_len == depth) finish(i0, i1 - i0, j0 + q0, q_len);
      }
    }
  };
  parallel_phases(threads, static_cast<int>(2 * panels), items, run);
}

}  // namespace eigennet
