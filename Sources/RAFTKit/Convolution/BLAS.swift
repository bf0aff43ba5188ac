import COpenBLAS

/// The one place RAFTKit calls OpenBLAS. Everything else sees these Swift functions.
public enum BLAS {
    /// Row-major `C[M,N] = alpha·A[M,K]·B[K,N] + beta·C` (A and B not transposed).
    @inline(__always)
    public static func sgemm(m: Int, n: Int, k: Int, alpha: Float = 1,
                              a: UnsafePointer<Float>, lda: Int,
                              b: UnsafePointer<Float>, ldb: Int,
                              beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        gemm(CblasNoTrans, CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }

    /// Row-major `C[M,N] = alpha·Aᵀ·B + beta·C` where A is stored `[K, M]` (used for correlation volumes).
    @inline(__always)
    public static func sgemmTransposedA(m: Int, n: Int, k: Int, alpha: Float = 1,
                                         a: UnsafePointer<Float>, lda: Int,
                                         b: UnsafePointer<Float>, ldb: Int,
                                         beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        gemm(CblasTrans, CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }

    /// Row-major `C[M,N] = alpha·A·Bᵀ + beta·C` where B is stored `[N, K]` (pixel-major inputs).
    @inline(__always)
    public static func sgemmTransposedB(m: Int, n: Int, k: Int, alpha: Float = 1,
                                         a: UnsafePointer<Float>, lda: Int,
                                         b: UnsafePointer<Float>, ldb: Int,
                                         beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        gemm(CblasNoTrans, CblasTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }

    @inline(__always)
    private static func gemm(_ transA: CBLAS_TRANSPOSE, _ transB: CBLAS_TRANSPOSE, _ m: Int, _ n: Int, _ k: Int,
                             _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>,
                             _ ldb: Int, _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        cblas_sgemm(CblasRowMajor, transA, transB, Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// OpenBLAS threads used by each GEMM (defaults to the number of cores, or `OPENBLAS_NUM_THREADS`).
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(max(1, newValue))) }
    }

    /// The CPU kernel OpenBLAS selected at run time (e.g. "Cooperlake").
    public static var coreName: String { String(cString: openblas_get_corename()) }
    /// OpenBLAS's build configuration string.
    public static var configuration: String { String(cString: openblas_get_config()) }
}
