import Testing
@testable import RAFTKit

/// `BLAS`'s GEMMs split over RAFTKit's threads (OpenBLAS single-threaded), against a Double reference.
@Suite struct BLASTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var m: Int, n: Int, k: Int, workers: Int
        var testDescription: String { "\(m)x\(n)x\(k) on \(workers) threads" }
    }

    /// Column splits with N not a multiple of 16 (the blocks are whole 64-byte lines), a row split (N narrower
    /// than 64 per thread), products too small to split, and 1, 2 and 3 threads.
    static let cases: [Case] = [
        Case(m: 37, n: 1003, k: 70, workers: 2), Case(m: 37, n: 1003, k: 70, workers: 3),
        Case(m: 600, n: 100, k: 40, workers: 2), Case(m: 601, n: 100, k: 40, workers: 3),
        Case(m: 20, n: 30, k: 10, workers: 2), Case(m: 64, n: 2048, k: 33, workers: 1),
    ]

    /// Deterministic values in [-1, 1).
    static func values(_ count: Int, seed: Int) -> [Float] {
        (0..<count).map { Float((($0 &* 2_654_435_761 &+ seed &* 40_503) >> 7) % 2000) / 1000 - 1 }
    }

    @Test(arguments: cases)
    func splitProductsMatchReference(_ c: Case) {
        let (m, n, k) = (c.m, c.n, c.k)
        // Row-major A [m, k], B [k, n]; their transposes for the transposed variants; C starts non-zero (beta).
        let a = Self.values(m * k, seed: 1), b = Self.values(k * n, seed: 2), c0 = Self.values(m * n, seed: 3)
        let aT = (0..<k * m).map { a[($0 % m) * k + $0 / m] }       // [k, m]
        let bT = (0..<n * k).map { b[($0 % k) * n + $0 / k] }       // [n, k]
        let (alpha, beta): (Float, Float) = (0.5, 0.25)
        var reference = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k { s += Double(a[i * k + p]) * Double(b[p * n + j]) }
                reference[i * n + j] = Double(alpha) * s + Double(beta) * Double(c0[i * n + j])
            }
        }
        // Sums of k products of magnitude ≤ 1 in float: a few ulps of k.
        let tolerance = 4e-6 * Double(k)
        func check(_ name: String, _ run: (UnsafeMutablePointer<Float>) -> Void) {
            var out = c0
            out.withUnsafeMutableBufferPointer { run($0.baseAddress!) }
            let error = zip(out, reference).map { abs(Double($0) - $1) }.max() ?? 0
            #expect(error <= tolerance, "\(name) \(c.testDescription): max error \(error)")
        }
        check("sgemm") { out in
            BLAS.splitGEMM(false, false, m, n, k, alpha, a, k, b, n, beta, out, n, workers: c.workers)
        }
        check("sgemmTransposedA") { out in
            BLAS.splitGEMM(true, false, m, n, k, alpha, aT, m, b, n, beta, out, n, workers: c.workers)
        }
        check("sgemmTransposedB") { out in
            BLAS.splitGEMM(false, true, m, n, k, alpha, a, k, bT, k, beta, out, n, workers: c.workers)
        }
    }

    /// The partition covers C exactly once, whatever the thread count.
    @Test(arguments: cases)
    func partitionCoversEveryEntryOnce(_ c: Case) {
        var hits = [Int](repeating: 0, count: c.m * c.n)
        hits.withUnsafeMutableBufferPointer { hits in
            let base = hits.baseAddress!
            guard let partition = BLAS.GEMMPartition(m: c.m, n: c.n, k: c.k, workers: c.workers) else {
                for i in 0..<c.m * c.n { base[i] += 1 }
                return
            }
            Parallel.forEach(partition.parts, threads: c.workers, context: (base, partition, c.n)) { hit, part in
                let (base, partition, n) = hit
                let block = partition.block(part)
                for i in block.rows { for j in block.columns { base[i * n + j] += 1 } }
            }
        }
        #expect(hits.allSatisfy { $0 == 1 })
    }
}
