// The calling thread's denormal flushing (FTZ/DAZ bits of MXCSR), read and set by FlushDenormals
// (threads.cpp) and copied into the workers that run the caller's work (parallel.cpp).
#pragma once

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define EIGENNET_HAVE_MXCSR 1
#endif

namespace eigennet {

#ifdef EIGENNET_HAVE_MXCSR
constexpr unsigned kDenormalFlushBits = 0x8040;  // FTZ (bit 15) | DAZ (bit 6)

inline unsigned denormal_flush_bits() { return _mm_getcsr() & kDenormalFlushBits; }

// Sets this thread's FTZ/DAZ bits to `bits` (a subset of kDenormalFlushBits).
inline void set_denormal_flush_bits(unsigned bits) {
  const unsigned csr = _mm_getcsr();
  if ((csr & kDenormalFlushBits) != bits) _mm_setcsr((csr & ~kDenormalFlushBits) | bits);
}
#else
constexpr unsigned kDenormalFlushBits = 0;
inline unsigned denormal_flush_bits() { return 0; }
inline void set_denormal_flush_bits(unsigned) {}
#endif

}  // namespace eigennet
