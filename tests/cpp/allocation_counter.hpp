// Counts heap allocations by interposing glibc's malloc in the test executable that includes this
// header (include it in one file per executable). While `counting` is set, every malloc call adds
// one to `allocations`. Where interposition cannot work (other C libraries, or AddressSanitizer,
// which replaces malloc itself) EIGENNET_COUNT_ALLOCATIONS stays undefined and tests skip the count.
#pragma once

#include <atomic>
#include <cstddef>

#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
#define EIGENNET_COUNT_ALLOCATIONS 1

extern "C" void* __libc_malloc(std::size_t size);

inline std::atomic<bool> counting{false};
inline std::atomic<long> allocations{0};

extern "C" void* malloc(std::size_t size) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(size);
}
#endif
