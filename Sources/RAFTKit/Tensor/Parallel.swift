import Dispatch

/// Splits the passes between GEMMs (Winograd transforms, padding copies, gate activations, correlation look-ups,
/// normalisation, im2col) over as many threads as OpenBLAS uses (``BLAS/threads``).
///
/// Without it, a model on 2 cores is single-threaded for about half of its time: OpenBLAS's worker only waits
/// (in `sched_yield`) between GEMM calls. Measured on the project machine, a Winograd input transform run right
/// after a GEMM takes 1.32 ms on 2 threads against 2.63 ms on one. Each call partitions the work into disjoint
/// chunks, so the results are bit-identical for any thread count. With one BLAS thread (or too little work) the
/// body runs inline: no thread hand-off and no allocation.
package enum Parallel {
    /// Calls `body` once per chunk of a partition of `0..<count` into up to ``BLAS/threads`` consecutive ranges of
    /// at least `minimumChunk` items, concurrently, and returns when all have finished.
    @inline(__always)
    package static func forEach(_ count: Int, minimumChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        let workers = min(BLAS.threads, count / max(1, minimumChunk))
        if workers <= 1 {
            body(0..<count)
            return
        }
        // The chunks write disjoint memory and `body` does not outlive this call: sharing it is safe.
        withoutActuallyEscaping(body) { body in
            let shared = SharedBody(run: body)
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                shared.run((count * w / workers)..<(count * (w + 1) / workers))
            }
        }
    }

    private struct SharedBody: @unchecked Sendable {
        let run: (Range<Int>) -> Void
    }
}
