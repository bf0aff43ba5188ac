// CCacheControl: the cache hints Swift cannot emit, for the all-pairs correlation pyramid (hundreds of megabytes).
//
// Streaming (non-temporal) stores write whole cache lines to memory without first reading them (no
// read-for-ownership) and without keeping them in the cache: the pyramid is written once per image pair and read back
// only sparsely by the look-ups, so caching its lines buys nothing and reading them before writing doubles the memory
// traffic. Prefetches let a look-up ask for the next pixels' windows, each in a different part of the pyramid, while
// it interpolates the current one.
#pragma once
#include <stddef.h>

/// Copies `count` floats from `src` to `dst` (which must not overlap) with streaming stores where the target has
/// them (SSE2 on x86-64; elsewhere an ordinary copy). Any alignment; whole 16-byte groups are streamed.
/// Streaming stores are weakly ordered: call `raftkit_streaming_fence` before another thread may read `dst`.
void raftkit_streaming_copy(float *restrict dst, const float *restrict src, size_t count);

/// Orders every earlier streaming store before any later store of this thread (`sfence` on x86-64).
void raftkit_streaming_fence(void);

/// Asks the cache to fetch the line holding `address` for reading (a hint: never faults).
static inline void raftkit_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }
