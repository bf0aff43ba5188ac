import CBF16GEMM

/// RAFTKit's bfloat16 GEMM, through the `CBF16GEMM` C kernel: A and B rounded to bf16 (nearest even), products
/// accumulated in float32 by AVX512_BF16's `vdpbf16ps`. Used for the convolutions when ``Precision/bfloat16``
/// is asked for and the CPU has the instructions (``isAvailable``).
enum BFloat16GEMM {
    /// Whether this CPU has AVX512_BF16 (and AVX-512 F/BW/VL) and the kernel matched its portable emulation in a
    /// check run once per process.
    static let isAvailable: Bool = raftkit_bf16_gemm_available() != 0

    /// Row-major `C[M,N] = A·op(B) + beta·C` on the calling thread (`transposeB`: B stored `[N, K]`), with the
    /// hardware kernel or, when `emulated`, the portable one. False when it did not run (C untouched): the CPU lacks
    /// the instructions, or a per-thread packing buffer (about 600 KB) could not be allocated.
    @inline(__always)
    static func multiply(transposeB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                         b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                         emulated: Bool) -> Bool {
        let status = emulated
            ? raftkit_bf16_gemm_emulated(transposeB ? 1 : 0, m, n, k, a, lda, b, ldb, beta, c, ldc)
            : raftkit_bf16_gemm(transposeB ? 1 : 0, m, n, k, a, lda, b, ldb, beta, c, ldc)
        return status == 0
    }
}
