import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Persistent worker threads for ``Parallel``: each waits on its own semaphore, runs its chunk of the current job
/// and signals completion; idle workers sleep instead of spinning, so they never compete with the thread that
/// computes.
///
/// A job is handed over without allocating: the caller keeps its ``ParallelJob`` on its own stack and publishes a
/// pointer to it plus its type (an existential metatype, two words), and it waits for every worker before that
/// stack frame ends. (`withoutActuallyEscaping` would box the closure on the heap at every call that reaches a
/// worker: `Benchmarks/README.md`, "Allocation in the iteration loop".)
///
/// One job runs at a time. A second caller (another thread, or a `Parallel` call nested inside a chunk) does not
/// wait: ``run(_:chunks:_:)`` returns false and the caller runs the chunks itself.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// Held while a job runs (try-locked: a busy pool means "run inline").
    private let busy: UnsafeMutablePointer<pthread_mutex_t>
    /// Guards starting threads.
    private let growth: UnsafeMutablePointer<pthread_mutex_t>
    /// One start semaphore per worker thread (worker w runs chunk w + 1).
    private var starts: [DispatchSemaphore] = []
    private let done = DispatchSemaphore(value: 0)
    /// The current job: a pointer to the caller's ``ParallelJob`` and its type, set before the workers are signalled
    /// and valid until they have all finished.
    private var job: UnsafeRawPointer?
    private var jobType: any ParallelJob.Type = RangeJob<Void>.self
    private var count = 0, chunks = 0

    private init() {
        busy = .allocate(capacity: 1)
        growth = .allocate(capacity: 1)
        pthread_mutex_init(busy, nil)
        pthread_mutex_init(growth, nil)
    }

    /// Runs `job` on the `chunks` consecutive ranges ``Parallel/chunk(_:of:workers:)`` of `0..<count`, chunk 0 on
    /// the calling thread. Returns false (having run nothing) when the pool is busy.
    func run<Job: ParallelJob>(_ count: Int, chunks: Int, _ job: Job) -> Bool {
        guard pthread_mutex_trylock(busy) == 0 else { return false }
        defer { pthread_mutex_unlock(busy) }
        startWorkers(chunks - 1)
        withUnsafePointer(to: job) { pointer in
            self.job = UnsafeRawPointer(pointer)
            self.jobType = Job.self
            self.count = count
            self.chunks = chunks
            for w in 1..<chunks { starts[w - 1].signal() }
            job.run(worker: 0, range: Parallel.chunk(0, of: count, workers: chunks))
            for _ in 1..<chunks { done.wait() }
            self.job = nil
        }
        return true
    }

    /// Worker thread `index` (chunk `index + 1`): waits for a job, runs its chunk, signals.
    private func work(_ index: Int) -> Never {
        let start = starts[index]
        while true {
            start.wait()
            let w = index + 1
            jobType.run(at: job!, worker: w, range: Parallel.chunk(w, of: count, workers: chunks))
            done.signal()
        }
    }

    /// Starts threads until there are at least `needed` (only on the first jobs: allocation happens here).
    private func startWorkers(_ needed: Int) {
        guard starts.count < needed else { return }
        pthread_mutex_lock(growth)
        defer { pthread_mutex_unlock(growth) }
        while starts.count < needed {
            let index = starts.count
            starts.append(DispatchSemaphore(value: 0))
            let context = Unmanaged.passRetained(WorkerStart(pool: self, index: index)).toOpaque()
            var thread = pthread_t()
            let status = pthread_create(&thread, nil, { raw in
                let start = Unmanaged<WorkerStart>.fromOpaque(raw!).takeRetainedValue()
                start.pool.work(start.index)
            }, context)
            precondition(status == 0, "could not start a worker thread (pthread_create: \(status))")
            pthread_detach(thread)
        }
    }
}

private final class WorkerStart {
    let pool: WorkerPool, index: Int
    init(pool: WorkerPool, index: Int) { (self.pool, self.index) = (pool, index) }
}
