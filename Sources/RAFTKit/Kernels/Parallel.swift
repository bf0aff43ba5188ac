/// Splits work over RAFTKit's threads (``BLAS/threads``): the GEMMs (OpenBLAS itself runs single-threaded, see
/// ``BLAS``) and the passes between them (Winograd transforms, padding copies, gate activations, correlation
/// look-ups, normalisation, im2col).
///
/// The passes scale with the threads as the GEMMs do (a Winograd input transform: `Benchmarks/README.md`, third
/// round). Each call partitions the work into disjoint chunks, so the passes between GEMMs are bit-identical for
/// any thread count (a GEMM split over threads may round differently in its last bit). With one thread (or too
/// little work) the body runs inline, with no thread hand-off.
///
/// **No allocation.** A body reaches the worker threads without a heap allocation only if it captures nothing:
/// everything it needs goes in `context` (pointers, sizes, a `self`), which the closure receives as its first
/// argument, like an explicit capture list. An escaping closure with no captures has no context box, and the job
/// is handed over as a pointer to the caller's stack (see ``WorkerPool``). A body that does capture still works,
/// but Swift boxes its captures on the heap at every call; the loop's allocation count (`Benchmarks/README.md`,
/// "Allocation") would show it.
package enum Parallel {
    /// Calls `body(context, range)` once per chunk of a partition of `0..<count` into up to `threads` consecutive
    /// ranges of at least `minimumChunk` items, concurrently, and returns when all have finished.
    @inline(__always)
    package static func forEach<Context>(_ count: Int, minimumChunk: Int = 1, threads: Int = BLAS.threads,
                                         context: Context, _ body: @escaping (Context, Range<Int>) -> Void) {
        run(count, workers: workers(count, minimumChunk: minimumChunk, threads: threads),
            RangeJob(context: context, body: body))
    }

    /// The number of chunks ``forEachWorker(_:minimumChunk:threads:context:_:)`` makes (for sizing per-worker
    /// buffers).
    @inline(__always)
    package static func workers(_ count: Int, minimumChunk: Int = 1, threads: Int = BLAS.threads) -> Int {
        max(1, min(threads, count / max(1, minimumChunk)))
    }

    /// ``forEach(_:minimumChunk:threads:context:_:)`` that also passes each chunk's index, `0..<workers(…)`, so
    /// that a chunk can use its own scratch buffer.
    @inline(__always)
    package static func forEachWorker<Context>(_ count: Int, minimumChunk: Int = 1, threads: Int = BLAS.threads,
                                               context: Context,
                                               _ body: @escaping (Context, Int, Range<Int>) -> Void) {
        run(count, workers: workers(count, minimumChunk: minimumChunk, threads: threads),
            WorkerJob(context: context, body: body))
    }

    /// Chunk `w` of the partition of `0..<count` into `workers` consecutive ranges: `count·w/workers ..<`
    /// `count·(w+1)/workers`. The pool and the inline fallback both use it, so the partition never depends on which
    /// runs.
    @inline(__always)
    static func chunk(_ w: Int, of count: Int, workers: Int) -> Range<Int> {
        (count * w / workers)..<(count * (w + 1) / workers)
    }

    /// Runs `job` on the chunks ``chunk(_:of:workers:)``, `w < workers`.
    @inline(__always)
    private static func run<Job: ParallelJob>(_ count: Int, workers: Int, _ job: Job) {
        if workers <= 1 {
            job.run(worker: 0, range: 0..<count)
            return
        }
        // The chunks write disjoint memory and the job does not outlive this call. When the pool is busy (another
        // caller, or a call nested inside a chunk) the same chunks run here one after the other: the partition, and
        // so every result bit, does not depend on contention.
        if !WorkerPool.shared.run(count, chunks: workers, job) {
            for w in 0..<workers { job.run(worker: w, range: chunk(w, of: count, workers: workers)) }
        }
    }
}

/// One ``Parallel`` call as the worker threads see it. The pool knows a job only by address and by its type (a
/// metatype), so each conforming type says how to run itself from a raw pointer.
protocol ParallelJob {
    /// Runs chunk `worker`, the indices `range`.
    func run(worker: Int, range: Range<Int>)
    /// Runs chunk `worker` of the job of this type at `job`.
    static func run(at job: UnsafeRawPointer, worker: Int, range: Range<Int>)
}

extension ParallelJob {
    static func run(at job: UnsafeRawPointer, worker: Int, range: Range<Int>) {
        job.assumingMemoryBound(to: Self.self).pointee.run(worker: worker, range: range)
    }
}

/// ``Parallel/forEach(_:minimumChunk:threads:context:_:)``'s job. The body captures nothing; keeping it at the
/// abstraction of the caller's parameter (never inside a generic tuple) also spares Swift a reabstraction thunk,
/// which would be a heap allocation per call.
struct RangeJob<Context>: ParallelJob {
    let context: Context
    let body: (Context, Range<Int>) -> Void
    func run(worker: Int, range: Range<Int>) { body(context, range) }
}

/// ``Parallel/forEachWorker(_:minimumChunk:threads:context:_:)``'s job.
struct WorkerJob<Context>: ParallelJob {
    let context: Context
    let body: (Context, Int, Range<Int>) -> Void
    func run(worker: Int, range: Range<Int>) { body(context, worker, range) }
}
