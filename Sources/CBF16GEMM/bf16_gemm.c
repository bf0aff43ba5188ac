// bfloat16 GEMM with float32 accumulation (AVX512_BF16), and its portable emulation; the driver is gemm_body.h.
#include "bf16_gemm.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// Micro-tile MR × NR (24 accumulators); KC keeps a B panel (KC/2 pairs × NR × 4 bytes = 24 KB) in L1, MC × KC of A
// (48 KB) and KC × NC of B (576 KB) in L2.
enum { MR = 8, NR = 48, KC = 256, MC = 96, NC = 1152 };

typedef uint16_t mask16;

// Each thread's packing buffers, one allocation: MC × KC bf16 of A, then KC × NC of B. Freed when the thread ends.
static _Thread_local uint16_t *packed_a, *packed_b;
static pthread_key_t buffers_key;
static pthread_once_t buffers_key_once = PTHREAD_ONCE_INIT;
static int buffers_key_made;

static void make_buffers_key(void) { buffers_key_made = pthread_key_create(&buffers_key, free) == 0; }

static int ensure_buffers(void) {
    if (packed_a) return 0;
    pthread_once(&buffers_key_once, make_buffers_key);
    if (!buffers_key_made) return -1;
    uint16_t *block = aligned_alloc(64, ((size_t)MC * KC + (size_t)KC * NC) * sizeof(uint16_t));
    if (!block) return -1;
    if (pthread_setspecific(buffers_key, block) != 0) { free(block); return -1; }
    packed_a = block;
    packed_b = block + (size_t)MC * KC;
    return 0;
}

// The first `count` of 16 lanes.
static inline mask16 lanes(long count) {
    return count >= 16 ? (mask16)0xFFFF : count <= 0 ? 0 : (mask16)((1u << count) - 1);
}

static void scale_c(long m, long n, float beta, float *c, long ldc) {
    for (long i = 0; i < m; i++) {
        float *row = c + i * ldc;
        if (beta == 0.0f) memset(row, 0, (size_t)n * sizeof(float));
        else for (long j = 0; j < n; j++) row[j] *= beta;
    }
}

// MARK: portable emulation (Intel's pseudo-code for each instruction)

typedef struct { float f[16]; } emu_vf;
typedef struct { uint16_t w[32]; } emu_vw;

static inline float emu_flush(float x) { return fpclassify(x) == FP_SUBNORMAL ? copysignf(0.0f, x) : x; }

// Convert_FP32_To_BF16 of vcvtne2ps2bf16: NaN kept quiet, denormals to zero, otherwise round to nearest even.
static inline uint16_t emu_bf16(float x) {
    uint32_t u;
    x = emu_flush(x);
    memcpy(&u, &x, 4);
    if ((u & 0x7F800000u) == 0x7F800000u && (u & 0x007FFFFFu)) return (uint16_t)((u >> 16) | 0x0040u);
    return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

static inline float emu_fp32(uint16_t w) {
    uint32_t u = (uint32_t)w << 16;
    float x;
    memcpy(&x, &u, 4);
    return emu_flush(x);
}

static inline emu_vf emu_loadz(mask16 m, const float *p) {
    emu_vf v;
    for (int j = 0; j < 16; j++) v.f[j] = (m >> j) & 1 ? p[j] : 0.0f;
    return v;
}
static inline void emu_storem(float *p, mask16 m, emu_vf v) {
    for (int j = 0; j < 16; j++) if ((m >> j) & 1) p[j] = v.f[j];
}
static inline emu_vf emu_zero_f(void) { return emu_loadz(0, NULL); }
static inline emu_vf emu_add(emu_vf a, emu_vf b) {
    for (int j = 0; j < 16; j++) a.f[j] += b.f[j];
    return a;
}
// _mm512_cvtne2ps_pbh(hi, lo): words 0..<16 from lo, 16..<32 from hi.
static inline emu_vw emu_cvt2(emu_vf hi, emu_vf lo) {
    emu_vw v;
    for (int j = 0; j < 16; j++) { v.w[j] = emu_bf16(lo.f[j]); v.w[16 + j] = emu_bf16(hi.f[j]); }
    return v;
}
// The two converted rows (words j and 16 + j) side by side: the vpermw of the hardware path.
static inline emu_vw emu_interleave(emu_vw x) {
    emu_vw v;
    for (int j = 0; j < 16; j++) { v.w[2 * j] = x.w[j]; v.w[2 * j + 1] = x.w[16 + j]; }
    return v;
}
static inline emu_vw emu_zero_w(void) { emu_vw v; memset(&v, 0, sizeof v); return v; }
static inline emu_vw emu_load_w(const void *p) { emu_vw v; memcpy(&v, p, sizeof v); return v; }
static inline void emu_store_w(void *p, emu_vw v) { memcpy(p, &v, sizeof v); }
static inline emu_vw emu_broadcast_pair(uint32_t pair) {
    emu_vw v;
    for (int j = 0; j < 16; j++) { v.w[2 * j] = (uint16_t)pair; v.w[2 * j + 1] = (uint16_t)(pair >> 16); }
    return v;
}
// vdpbf16ps: acc += a[2j+1]·b[2j+1], then += a[2j]·b[2j] (each product exact in float32).
static inline emu_vf emu_dot(emu_vf acc, emu_vw a, emu_vw b) {
    for (int j = 0; j < 16; j++) {
        float t = emu_flush(acc.f[j] + emu_fp32(a.w[2 * j + 1]) * emu_fp32(b.w[2 * j + 1]));
        acc.f[j] = emu_flush(t + emu_fp32(a.w[2 * j]) * emu_fp32(b.w[2 * j]));
    }
    return acc;
}

#define PREFIX(name) emulated_##name
#define TARGET
#define vf emu_vf
#define vw emu_vw
#define V_LOADZ emu_loadz
#define V_STOREM emu_storem
#define V_ZERO_F emu_zero_f
#define V_ADD emu_add
#define V_CVT2 emu_cvt2
#define V_INTERLEAVE emu_interleave
#define V_ZERO_W emu_zero_w
#define V_LOAD_W emu_load_w
#define V_STORE_W emu_store_w
#define V_BROADCAST_PAIR emu_broadcast_pair
#define V_DOT emu_dot
#include "gemm_body.h"
#undef PREFIX
#undef TARGET
#undef vf
#undef vw
#undef V_LOADZ
#undef V_STOREM
#undef V_ZERO_F
#undef V_ADD
#undef V_CVT2
#undef V_INTERLEAVE
#undef V_ZERO_W
#undef V_LOAD_W
#undef V_STORE_W
#undef V_BROADCAST_PAIR
#undef V_DOT

int raftkit_bf16_gemm_emulated(int transpose_b, long m, long n, long k, const float *a, long lda,
                               const float *b, long ldb, float beta, float *c, long ldc) {
    return emulated_gemm(transpose_b, m, n, k, a, lda, b, ldb, beta, c, ldc);
}

// MARK: AVX-512 BF16

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

#define HW_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
HW_TARGET static inline __m512i hw_cvt2(__m512 hi, __m512 lo) { return (__m512i)_mm512_cvtne2ps_pbh(hi, lo); }
HW_TARGET static inline __m512i hw_interleave(__m512i x) {
    const __m512i order = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,
                                           23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    return _mm512_permutexvar_epi16(order, x);
}
HW_TARGET static inline __m512 hw_dot(__m512 acc, __m512i a, __m512i b) {
    return _mm512_dpbf16_ps(acc, (__m512bh)a, (__m512bh)b);
}

#define PREFIX(name) hardware_##name
#define TARGET HW_TARGET
#define vf __m512
#define vw __m512i
#define V_LOADZ(m, p) _mm512_maskz_loadu_ps((__mmask16)(m), (p))
#define V_STOREM(p, m, v) _mm512_mask_storeu_ps((p), (__mmask16)(m), (v))
#define V_ZERO_F _mm512_setzero_ps
#define V_ADD _mm512_add_ps
#define V_CVT2 hw_cvt2
#define V_INTERLEAVE hw_interleave
#define V_ZERO_W _mm512_setzero_si512
#define V_LOAD_W(p) _mm512_loadu_si512((const void *)(p))
#define V_STORE_W(p, v) _mm512_storeu_si512((void *)(p), (v))
#define V_BROADCAST_PAIR(x) _mm512_set1_epi32((int)(x))
#define V_DOT hw_dot
#include "gemm_body.h"

static int hardware_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bf16");
}
#define HAVE_HARDWARE_PATH 1
#else
#define HAVE_HARDWARE_PATH 0
#endif

// MARK: availability: CPU features, then one check against the emulation

static int available;
static pthread_once_t availability_once = PTHREAD_ONCE_INIT;

// A product with every edge case of the blocking (M, N, K not multiples of the tiles, K odd, both layouts of B),
// computed by the hardware path and the emulation; they must agree to float32 rounding of the accumulation.
static int hardware_agrees_with_emulation(void) {
#if HAVE_HARDWARE_PATH
    enum { M = 13, N = 61, K = 37 };
    static float a[M * K], b[K * N], c1[M * N], c2[M * N];
    uint32_t state = 12345;
    for (int i = 0; i < M * K; i++) { state = state * 1664525u + 1013904223u; a[i] = (float)(state >> 8) / 16777216.0f - 0.5f; }
    for (int i = 0; i < K * N; i++) { state = state * 1664525u + 1013904223u; b[i] = (float)(state >> 8) / 16777216.0f - 0.5f; }
    for (int transpose = 0; transpose < 2; transpose++) {
        const long ldb = transpose ? K : N;
        for (int i = 0; i < M * N; i++) c1[i] = c2[i] = 0.25f;
        if (hardware_gemm(transpose, M, N, K, a, K, b, ldb, 1.0f, c1, N) != 0) return 0;
        if (emulated_gemm(transpose, M, N, K, a, K, b, ldb, 1.0f, c2, N) != 0) return 0;
        for (int i = 0; i < M * N; i++)
            if (!(fabsf(c1[i] - c2[i]) <= 1e-5f)) return 0;
    }
    return 1;
#else
    return 0;
#endif
}

static void decide_availability(void) {
#if HAVE_HARDWARE_PATH
    available = hardware_supported() && hardware_agrees_with_emulation();
#else
    available = 0;
#endif
}

int raftkit_bf16_gemm_available(void) {
    pthread_once(&availability_once, decide_availability);
    return available;
}

int raftkit_bf16_gemm(int transpose_b, long m, long n, long k, const float *a, long lda,
                      const float *b, long ldb, float beta, float *c, long ldc) {
    if (!raftkit_bf16_gemm_available()) return -1;
#if HAVE_HARDWARE_PATH
    return hardware_gemm(transpose_b, m, n, k, a, lda, b, ldb, beta, c, ldc);
#else
    return -1;
#endif
}
