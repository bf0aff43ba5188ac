
/// Splits work over RAFTKit's threads (``BLAS/threads``): the GEMMs (OpenBLAS itself runs single-threaded, see
/// ``BLAS``) and the passes between them (Winograd transforms, padding copies, gate activations, correlation
/// look-ups, normalisation, im2col).
///
/// Measured on the project machine, a Winograd input transform takes 1.32 ms on 2 threads against 2.63 ms on one.
/// Each call partitions the work into disjoint chunks, so the passes between GEMMs are bit-identical for any thread
/// count (a GEMM split over threads may round differently in its last bit). With one thread (or too little work)
/// the body runs inline: no thread hand-off and no allocation.
package enum Parallel {
    /// Calls `body` once per chunk of a partition of `0..<count` into up to `threads` consecutive ranges of
    /// at least `minimumChunk` items, concurrently, and returns when all have finished.
    @inline(__always)
    package static func forEach(_ count: Int, minimumChunk: Int = 1, threads: Int = BLAS.threads,
                                _ body: (Range<Int>) -> Void) {
        forEachWorker(count, minimumChunk: minimumChunk, threads: threads) { _, part in body(part) }
    }

    /// The number of chunks ``forEachWorker(_:minimumChunk:threads:_:)`` makes (for sizing per-worker buffers).
    @inline(__always)
    package static func workers(_ count: Int, minimumChunk: Int = 1, threads: Int = BLAS.threads) -> Int {
        max(1, min(threads, count / max(1, minimumChunk)))
    }

    /// ``forEach(_:minimumChunk:threads:_:)`` that also passes each chunk's index, `0..<workers(…)`, so that a
    /// chunk can use its own scratch buffer.
    @inline(__always)
    package static func forEachWorker(_ count: Int, minimumChunk: Int = 1, threads: Int = BLAS.threads,
                                      _ body: (Int, Range<Int>) -> Void) {
        let workers = workers(count, minimumChunk: minimumChunk, threads: threads)
        if workers <= 1 {
            body(0, 0..<count)
            return
        }
        // The chunks write disjoint memory and `body` does not outlive this call. When the pool is busy (another
        // caller, or a call nested inside a chunk) the same chunks run here one after the other: the partition, and
        // so every result bit, does not depend on contention.
        if !WorkerPool.shared.run(count, chunks: workers, body) {
            for w in 0..<workers { body(w, (count * w / workers)..<(count * (w + 1) / workers)) }
        }
    }
}
