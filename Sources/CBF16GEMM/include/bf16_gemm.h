#ifndef RAFTKIT_BF16_GEMM_H
#define RAFTKIT_BF16_GEMM_H

#include <stddef.h>

/// 1 when this CPU runs the bf16 GEMM (x86-64 with AVX-512 F/BW/VL and AVX512_BF16, detected at run time), else 0.
int raftkit_bf16_gemm_available(void);

/// Row-major C[M,N] = A·op(B) + beta·C on the calling thread, with A and B rounded to bfloat16 (nearest even) and
/// every product accumulated in float32 by `vdpbf16ps` (consecutive k in pairs: acc + a₂ₚ₊₁·b₂ₚ₊₁ + a₂ₚ·b₂ₚ).
/// A is float32 [M,K] (row stride lda); B is float32 [K,N] (ldb), or [N,K] when transpose_b is nonzero.
/// Packing buffers are per thread, allocated on the thread's first call and reused.
/// Returns 0 on success; -1 when the CPU lacks AVX512_BF16 or a packing buffer cannot be allocated (C untouched).
int raftkit_bf16_gemm(int transpose_b, long m, long n, long k, const float *a, long lda,
                      const float *b, long ldb, float beta, float *c, long ldc);

/// The same packing, blocking and micro-kernel with each AVX-512 instruction emulated in portable C, following
/// Intel's definition of `vcvtne2ps2bf16`, `vpermw` and `vdpbf16ps` (denormals flushed, as the hardware does).
/// Slow; runs on any CPU. Tests check the driver's layout logic with it on machines without AVX512_BF16, and
/// ``raftkit_bf16_gemm`` is checked against it once per process before first use (see bf16_gemm.c).
/// Returns 0, or -1 when a packing buffer cannot be allocated.
int raftkit_bf16_gemm_emulated(int transpose_b, long m, long n, long k, const float *a, long lda,
                               const float *b, long ldb, float beta, float *c, long ldc);

#endif
