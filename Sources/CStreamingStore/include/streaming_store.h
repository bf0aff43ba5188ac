// CStreamingStore: copies with non-temporal ("streaming") stores, which Swift cannot emit.
//
// A streaming store writes whole cache lines to memory without first reading them (no read-for-ownership) and
// without keeping them in the cache. RAFTKit uses it for the all-pairs correlation pyramid: hundreds of megabytes
// written once per image pair and read back only sparsely by the look-ups, so caching the lines buys nothing and
// reading them before writing doubles the memory traffic.
#pragma once
#include <stddef.h>

/// Copies `count` floats from `src` to `dst` (which must not overlap) with streaming stores where the target has
/// them (SSE2 on x86-64; elsewhere an ordinary copy). Any alignment; whole 16-byte groups are streamed.
/// Streaming stores are weakly ordered: call `raftkit_streaming_fence` before another thread may read `dst`.
void raftkit_streaming_copy(float *restrict dst, const float *restrict src, size_t count);

/// Orders every earlier streaming store before any later store of this thread (`sfence` on x86-64).
void raftkit_streaming_fence(void);
