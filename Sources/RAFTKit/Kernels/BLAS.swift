import COpenBLAS

/// The one place RAFTKit calls OpenBLAS. Everything else sees these Swift functions.
///
/// RAFTKit runs OpenBLAS single-threaded and splits the work over its own threads (``threads``, through
/// `Parallel`). A convolution's Winograd GEMMs are many small products (36 per band for F(4×4)): each thread takes
/// whole products, where a multi-threaded OpenBLAS would hand every small product to its worker and wait. OpenBLAS's
/// worker would also spin (`sched_yield`) between calls, competing with the passes RAFTKit runs on every core
/// between GEMMs; a single-threaded OpenBLAS never wakes it (measurements: `Benchmarks/README.md`, "Design
/// choices and their measurements").
public enum BLAS {
    /// `c = a · b` for matrices `a` `[M, K]` and `b` `[K, N]`, split over ``threads``: the reference GEMM that
    /// benchmarks compare convolutions with. `c` is resized to `[M, N]` (reallocated only if its element count
    /// changes).
    public static func multiply(_ a: Tensor, _ b: Tensor, into c: inout Tensor) {
        precondition(a.rank == 2 && b.rank == 2 && a.shape[1] == b.shape[0],
                     "BLAS.multiply needs [M, K] · [K, N], got \(a.shape) · \(b.shape)")
        let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
        c.resize(to: [m, n])
        sgemm(m: m, n: n, k: k, a: a.pointer, lda: k, b: b.pointer, ldb: n, c: c.mutablePointer(), ldc: n)
    }

    /// Row-major `C[M,N] = alpha·A[M,K]·B[K,N] + beta·C` (A and B not transposed), split over ``threads``, in
    /// `arithmetic` (bf16 only with alpha 1).
    package static func sgemm(m: Int, n: Int, k: Int, alpha: Float = 1,
                             a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int,
                             arithmetic: GEMMArithmetic = .float32) {
        splitGEMM(false, false, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, workers: threads, arithmetic: arithmetic)
    }

    /// Row-major `C[M,N] = alpha·Aᵀ·B + beta·C` where A is stored `[K, M]` (used for correlation volumes), split
    /// over ``threads``.
    package static func sgemmTransposedA(m: Int, n: Int, k: Int, alpha: Float = 1,
                                        a: UnsafePointer<Float>, lda: Int,
                                        b: UnsafePointer<Float>, ldb: Int,
                                        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        splitGEMM(true, false, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, workers: threads)
    }

    /// Row-major `C[M,N] = alpha·A·Bᵀ + beta·C` where B is stored `[N, K]` (pixel-major inputs), split over
    /// ``threads``, in `arithmetic` (bf16 only with alpha 1).
    package static func sgemmTransposedB(m: Int, n: Int, k: Int, alpha: Float = 1,
                                        a: UnsafePointer<Float>, lda: Int,
                                        b: UnsafePointer<Float>, ldb: Int,
                                        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int,
                                        arithmetic: GEMMArithmetic = .float32) {
        splitGEMM(false, true, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, workers: threads, arithmetic: arithmetic)
    }

    /// `C = alpha·op(A)·op(B) + beta·C` split over `workers` threads (``GEMMPartition``): each part multiplies
    /// its rows of op(A) by its columns of op(B). `transposeA`: A stored `[K, M]`; `transposeB`: B stored `[N, K]`.
    package static func splitGEMM(_ transposeA: Bool, _ transposeB: Bool, _ m: Int, _ n: Int, _ k: Int,
                                  _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>,
                                  _ ldb: Int, _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int,
                                  workers: Int, arithmetic: GEMMArithmetic = .float32) {
        let product = (transposeA, transposeB, k, alpha, a, lda, b, ldb, beta, c, ldc, arithmetic)
        guard let partition = GEMMPartition(m: m, n: n, k: k, workers: workers) else {
            multiply(product, rows: 0..<m, columns: 0..<n)
            return
        }
        Parallel.forEach(partition.parts, threads: workers, context: (product, partition)) { split, part in
            let (product, partition) = split
            let block = partition.block(part)
            multiply(product, rows: block.rows, columns: block.columns)
        }
    }

    /// One block of ``splitGEMM(_:_:_:_:_:_:_:_:_:_:_:_:_:workers:)``'s product on the calling thread.
    @inline(__always)
    private static func multiply(_ product: (Bool, Bool, Int, Float, UnsafePointer<Float>, Int, UnsafePointer<Float>,
                                             Int, Float, UnsafeMutablePointer<Float>, Int, GEMMArithmetic),
                                 rows: Range<Int>, columns: Range<Int>) {
        let (transposeA, transposeB, k, alpha, a, lda, b, ldb, beta, c, ldc, arithmetic) = product
        gemm(transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
             rows.count, columns.count, k, alpha,
             a + rows.lowerBound * (transposeA ? 1 : lda), lda,
             b + columns.lowerBound * (transposeB ? ldb : 1), ldb,
             beta, c + rows.lowerBound * ldc + columns.lowerBound, ldc, arithmetic: arithmetic)
    }

    /// `C[M,N] = alpha·A·B + beta·C` on the calling thread only: for code that already runs on every thread (one
    /// Winograd position per call, the positions split over the threads).
    @inline(__always)
    package static func serialSGEMM(m: Int, n: Int, k: Int, alpha: Float = 1,
                                    a: UnsafePointer<Float>, lda: Int,
                                    b: UnsafePointer<Float>, ldb: Int,
                                    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int,
                                    arithmetic: GEMMArithmetic = .float32) {
        gemm(CblasNoTrans, CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, arithmetic: arithmetic)
    }

    /// Products below this many multiply-adds run on the calling thread: a thread hand-off costs about as much.
    static let splitThreshold = 1 << 21

    /// How a product `C[M, N]` is split over threads: by columns in blocks of whole 64-byte lines when N is wide
    /// enough, else by rows. ``parts`` indices are handed to `Parallel`, whose chunk of them ``block(_:)`` maps
    /// to a block of C.
    package struct GEMMPartition {
        let m: Int, n: Int, byColumns: Bool
        /// The indices that `Parallel` partitions: 16-float column lines, or rows.
        package let parts: Int

        /// Nil when the product runs on one thread (one worker, or fewer than ``splitThreshold`` multiply-adds).
        package init?(m: Int, n: Int, k: Int, workers: Int) {
            guard workers > 1, m * n * k >= BLAS.splitThreshold else { return nil }
            (self.m, self.n, byColumns) = (m, n, n >= 64 * workers)
            parts = byColumns ? (n + 15) / 16 : m
        }

        /// The block of C that the chunk `part` of ``parts`` covers.
        @inline(__always)
        package func block(_ part: Range<Int>) -> (rows: Range<Int>, columns: Range<Int>) {
            byColumns ? (0..<m, 16 * part.lowerBound..<min(n, 16 * part.upperBound)) : (part, 0..<n)
        }
    }

    /// One product on the calling thread: OpenBLAS, or ``BFloat16GEMM`` for a bf16 `arithmetic` (A not transposed,
    /// alpha 1; OpenBLAS otherwise, and if the bf16 kernel could not run).
    @inline(__always)
    private static func gemm(_ transA: CBLAS_TRANSPOSE, _ transB: CBLAS_TRANSPOSE, _ m: Int, _ n: Int, _ k: Int,
                             _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>,
                             _ ldb: Int, _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int,
                             arithmetic: GEMMArithmetic = .float32) {
        if m == 0 || n == 0 { return }
        if arithmetic != .float32, transA == CblasNoTrans, alpha == 1,
           BFloat16GEMM.multiply(transposeB: transB == CblasTrans, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                                 beta: beta, c: c, ldc: ldc, emulated: arithmetic == .bfloat16Emulated) {
            return
        }
        _ = ThreadCount.value   // OpenBLAS is set to one thread before its first product, whichever path comes first
        cblas_sgemm(CblasRowMajor, transA, transB, Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// The threads RAFTKit computes on (GEMMs and the passes between them). Defaults to OpenBLAS's own choice at
    /// load: the number of cores, or `OPENBLAS_NUM_THREADS`. OpenBLAS itself is kept single-threaded.
    public static var threads: Int {
        get { ThreadCount.value }
        set { ThreadCount.value = max(1, newValue) }
    }

    /// The CPU kernel OpenBLAS selected at run time (e.g. "Cooperlake").
    public static var coreName: String { String(cString: openblas_get_corename()) }
    /// OpenBLAS's build configuration string.
    public static var configuration: String { String(cString: openblas_get_config()) }
}

/// The thread count, read once from OpenBLAS (which is then set to one thread, its idle server threads stopped)
/// on first use.
private enum ThreadCount {
    /// Set from the main thread before work starts (command-line options, benchmarks); read by every call.
    nonisolated(unsafe) static var value: Int = {
        let count = Int(openblas_get_num_threads())
        openblas_set_num_threads(1)
        raftkit_openblas_stop_server_threads()
        return max(1, count)
    }()
}
