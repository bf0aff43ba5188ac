#include "cache_control.h"
#include <stdint.h>
#include <string.h>
#if defined(__x86_64__) || defined(_M_X64)
#include <emmintrin.h>
#define RAFTKIT_HAS_STREAMING 1
#endif

void raftkit_streaming_copy(float *restrict dst, const float *restrict src, size_t count) {
#if RAFTKIT_HAS_STREAMING
    size_t i = 0;
    // Ordinary stores up to the first 16-byte boundary of dst, then 16-float groups, then 4-float groups.
    while (i < count && ((uintptr_t)(dst + i) & 15) != 0) { dst[i] = src[i]; i += 1; }
    for (; i + 16 <= count; i += 16) {
        __m128 a = _mm_loadu_ps(src + i), b = _mm_loadu_ps(src + i + 4);
        __m128 c = _mm_loadu_ps(src + i + 8), d = _mm_loadu_ps(src + i + 12);
        _mm_stream_ps(dst + i, a);
        _mm_stream_ps(dst + i + 4, b);
        _mm_stream_ps(dst + i + 8, c);
        _mm_stream_ps(dst + i + 12, d);
    }
    for (; i + 4 <= count; i += 4) _mm_stream_ps(dst + i, _mm_loadu_ps(src + i));
    for (; i < count; i += 1) dst[i] = src[i];
#else
    memcpy(dst, src, count * sizeof(float));
#endif
}

void raftkit_streaming_fence(void) {
#if RAFTKIT_HAS_STREAMING
    _mm_sfence();
#else
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}
