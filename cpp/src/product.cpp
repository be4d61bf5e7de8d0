#include "product.hpp"

#include <algorithm>
#include <utility>

namespace eigennet {
namespace product_detail {

namespace {

using namespace Eigen::internal;

// Blocks of output per thread: enough for a thread that runs slower to hand work to the others, and
// for the last blocks to be small next to a thread's share.
constexpr Index kBlocksPerThread = 8;
// Register tiles of rows per block at most, so that a block's tile of the output (rows x nc) stays
// in L2 from one depth panel to the next.
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
std::pair<Index, Index> split(Index size, Index tile, Index blocks, Index block) {
  const Index tiles = (size + tile - 1) / tile, base = tiles / blocks, extra = tiles % blocks;
  const Index begin = (block * base + std::min(block, extra)) * tile;
  const Index end = ((block + 1) * base + std::min(block + 1, extra)) * tile;
  return {begin, std::min(size, end)};
}

template <typename T>
using ResMapper = blas_data_mapper<T, Index, Eigen::ColMajor, Eigen::Unaligned, 1>;

// The output of a block under Update::Assign, for its first depth panel: it reads as zero, so the
// kernel, which adds its result to the output, writes the product without the block being zeroed
// first. Adding to a read of zero rounds exactly as adding to zeroed memory: the same bits.
template <typename T>
class AssignMapper {
 public:
  class LinearMapper {
   public:
    explicit LinearMapper(typename ResMapper<T>::LinearMapper base) : base_(base) {}
    void prefetch(int i) const { base_.prefetch(i); }
    template <typename Packet>
    Packet loadPacket(Index) const {
      return pset1<Packet>(T(0));
    }
    template <typename Packet>
    void storePacket(Index i, const Packet& p) const {
      base_.storePacket(i, p);
    }

   private:
    typename ResMapper<T>::LinearMapper base_;
  };
  // The kernel's scalar paths only ever add to an element.
  struct Element {
    T& value;
    void operator+=(T x) const { value = T(0) + x; }
  };

  AssignMapper(T* data, Index stride) : base_(data, stride) {}
  LinearMapper getLinearMapper(Index i, Index j) const { return LinearMapper(base_.getLinearMapper(i, j)); }
  template <typename Packet>
  Packet gatherPacket(Index, Index) const {
    return pset1<Packet>(T(0));
  }
  template <typename Packet>
  void scatterPacket(Index i, Index j, const Packet& p) const {
    base_.template scatterPacket<Packet>(i, j, p);
  }
  Element operator()(Index i, Index j) const { return {base_(i, j)}; }

 private:
  ResMapper<T> base_;
};

template <typename T, typename Mapper>
void run_kernel(const Mapper& res, const T* packed_lhs, const T* packed_rhs, Index rows, Index depth, Index cols,
                T alpha) {
  using Traits = gebp_traits<T, T>;
  gebp_kernel<T, T, Index, Mapper, Traits::mr, Traits::nr, false, false> gebp;
  gebp(res, packed_lhs, packed_rhs, rows, depth, cols, alpha);
}

}  // namespace

template <typename T, bool LhsRowMajor, bool RhsRowMajor>
void blocked_product(T* res, Index res_stride, const T* lhs, Index lhs_stride, const T* rhs, Index rhs_stride,
                     Index rows, Index depth, Index cols, Update update,
                     FunctionRef<void(Index, Index, Index, Index)> finish) {
  using Traits = gebp_traits<T, T>;
  constexpr int kLhsOrder = LhsRowMajor ? Eigen::RowMajor : Eigen::ColMajor;
  constexpr int kRhsOrder = RhsRowMajor ? Eigen::RowMajor : Eigen::ColMajor;
  using LhsMapper = const_blas_data_mapper<T, Index, kLhsOrder>;
  using RhsMapper = const_blas_data_mapper<T, Index, kRhsOrder>;
  const LhsMapper lhs_map(lhs, lhs_stride);
  const RhsMapper rhs_map(rhs, rhs_stride);
  gemm_pack_lhs<T, Index, LhsMapper, Traits::mr, Traits::LhsProgress, typename Traits::LhsPacket4Packing, kLhsOrder>
      pack_lhs;
  gemm_pack_rhs<T, Index, RhsMapper, Traits::nr, kRhsOrder> pack_rhs;

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
  const int threads = threads_for_product(static_cast<double>(rows) * static_cast<double>(cols) *
                                          static_cast<double>(depth));
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
        T* const block = res + i0 + (j0 + q0) * res_stride;
        const T* const block_rhs = packed_rhs + k0 * width + q0 * k_len;
        // Under `=` the first depth panel overwrites the block (zeroing it first took 4% of W1's
        // training time, and the kernel then read the zeros back).
        if (update == Update::Assign && k0 == 0)
          run_kernel(AssignMapper<T>(block, res_stride), packed_lhs, block_rhs, i1 - i0, k_len, q_len, alpha);
        else
          run_kernel(ResMapper<T>(block, res_stride), packed_lhs, block_rhs, i1 - i0, k_len, q_len, alpha);
        if (k0 + k_len == depth) finish(i0, i1 - i0, j0 + q0, q_len);
      }
    }
  };
  parallel_phases(threads, static_cast<int>(2 * panels), items, run);
}

#define EIGENNET_BLOCKED_PRODUCT(T, LHS_ROW_MAJOR, RHS_ROW_MAJOR)                                          \
  template void blocked_product<T, LHS_ROW_MAJOR, RHS_ROW_MAJOR>(T*, Index, const T*, Index, const T*, Index, \
                                                                  Index, Index, Index, Update,                 \
                                                                  FunctionRef<void(Index, Index, Index, Index)>);
EIGENNET_BLOCKED_PRODUCT(float, false, false)
EIGENNET_BLOCKED_PRODUCT(float, false, true)
EIGENNET_BLOCKED_PRODUCT(float, true, false)
EIGENNET_BLOCKED_PRODUCT(float, true, true)
EIGENNET_BLOCKED_PRODUCT(double, false, false)
EIGENNET_BLOCKED_PRODUCT(double, false, true)
EIGENNET_BLOCKED_PRODUCT(double, true, false)
EIGENNET_BLOCKED_PRODUCT(double, true, true)
#undef EIGENNET_BLOCKED_PRODUCT

}  // namespace product_detail
}  // namespace eigennet
