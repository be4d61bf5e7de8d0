#include "eigennet/finite.hpp"

#include <algorithm>
#include <atomic>
#include <limits>

#include "eigennet/threads.hpp"
#include "parallel.hpp"

namespace eigennet {

namespace {

// Values per item: large enough that taking an item costs nothing next to checking it, small
// enough that a NaN near the start stops the check early.
constexpr Index kChunk = 1 << 16;

template <typename T>
bool chunk_finite(const T* data, Index size) {
  // |x| <= max is false for infinities; PropagateNaN makes any NaN the maximum.
  return ConstVecMap<T>(data, size).cwiseAbs().template maxCoeff<Eigen::PropagateNaN>() <=
         std::numeric_limits<T>::max();
}

}  // namespace

template <typename T>
bool all_finite(const T* data, Index size) {
  std::atomic<bool> finite{true};
  parallel_for(threads_for_elementwise(static_cast<long>(size)), (size + kChunk - 1) / kChunk, [&](Index item) {
    if (!finite.load(std::memory_order_relaxed)) return;
    const Index start = item * kChunk;
    if (!chunk_finite(data + start, std::min(kChunk, size - start))) finite.store(false, std::memory_order_relaxed);
  });
  return finite.load();
}

template bool all_finite<float>(const float*, Index);
template bool all_finite<double>(const double*, Index);

}  // namespace eigennet
