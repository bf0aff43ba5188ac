import Dispatch
import Testing
@testable import RAFTKit

/// `Parallel` on RAFTKit's worker pool: every index exactly once, the same partition whether the pool is free,
/// busy with another caller, or already inside a chunk.
@Suite struct ParallelTests {
    /// Counts how often each of `count` indices is visited, and records each chunk's (worker, range).
    final class Visits: @unchecked Sendable {
        let hits: UnsafeMutablePointer<Int>
        var chunks: [Int: Range<Int>] = [:]
        let lock = DispatchSemaphore(value: 1)
        init(_ count: Int) { hits = .allocate(capacity: count); hits.initialize(repeating: 0, count: count) }
        deinit { hits.deallocate() }
        func record(_ worker: Int, _ range: Range<Int>) {
            for i in range { hits[i] += 1 }
            lock.wait(); chunks[worker] = range; lock.signal()
        }
    }

    /// The partition `forEachWorker` promises: `workers` consecutive ranges, chunk w = count·w/workers ..< ….
    static func expectedChunks(_ count: Int, workers: Int) -> [Int: Range<Int>] {
        Dictionary(uniqueKeysWithValues: (0..<workers).map { ($0, (count * $0 / workers)..<(count * ($0 + 1) / workers)) })
    }

    @Test(arguments: [(1000, 1), (1000, 2), (1000, 3), (7, 4), (5, 8)])
    func everyIndexOnceInTheDocumentedChunks(count: Int, threads: Int) {
        let visits = Visits(count)
        Parallel.forEachWorker(count, threads: threads, context: visits) { $0.record($1, $2) }
        #expect((0..<count).allSatisfy { visits.hits[$0] == 1 })
        let workers = Parallel.workers(count, threads: threads)
        #expect(visits.chunks == Self.expectedChunks(count, workers: workers))
    }

    @Test func nestedCallsRunTheirChunksInline() {
        let outer = Visits(64), inner = Visits(64 * 100)
        Parallel.forEachWorker(64, threads: 2, context: (outer, inner)) { visits, worker, part in
            let (outer, inner) = visits
            outer.record(worker, part)
            for i in part {
                Parallel.forEach(100, threads: 3, context: (inner, i)) { visit, range in
                    let (inner, i) = visit
                    for j in range { inner.hits[i * 100 + j] += 1 }
                }
            }
        }
        #expect((0..<64).allSatisfy { outer.hits[$0] == 1 })
        #expect((0..<6400).allSatisfy { inner.hits[$0] == 1 })
    }

    @Test func concurrentCallersEachGetTheirWholeRange() {
        let callers = 8, count = 5000
        let visits = (0..<callers).map { _ in Visits(count) }
        DispatchQueue.concurrentPerform(iterations: callers) { c in
            for _ in 0..<20 {
                Parallel.forEachWorker(count, threads: 2, context: visits[c]) { $0.record($1, $2) }
            }
        }
        for v in visits {
            #expect((0..<count).allSatisfy { v.hits[$0] == 20 })
            #expect(v.chunks == Self.expectedChunks(count, workers: 2))
        }
    }
}
