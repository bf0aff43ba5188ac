import Foundation
import Testing
@testable import RAFTKit

/// The reversed pair's all-pairs pyramid taken as the transpose of the forward level 0 and pooled again
/// (``CorrelationPyramid/init(reversing:levels:)``), against the pyramid built for the reversed pair by its own GEMM.
@Suite struct ReversedPyramidTests {
    /// The forward pyramid of (fmap1, fmap2), the same reversed in place, and the GEMM pyramid of (fmap2, fmap1).
    static func pyramids(channels: Int, height: Int, width: Int, levels count: Int = 4, seed: UInt64 = 7)
        -> (levels: CorrelationLevels, forward: [Float], reversed: [Float], gemm: [Float]) {
        var rng = SeededGenerator(seed: seed)
        let fmap1 = Tensor.random([channels, height, width], using: &rng)
        let fmap2 = Tensor.random([channels, height, width], using: &rng)
        let levels = CorrelationLevels(height: height, width: width, count: count, radius: 4)
        let n = CorrelationPyramid.storageCount(levels), workspace = Workspace()
        var reversed = [Float](repeating: .nan, count: n), gemm = [Float](repeating: .nan, count: n)
        reversed.withUnsafeMutableBufferPointer { storage in
            _ = CorrelationPyramid(fmap1: fmap1.pointer, fmap2: fmap2.pointer, channels: channels, levels: levels,
                                   storage: storage.baseAddress!, workspace: workspace)
        }
        let forward = reversed
        reversed.withUnsafeMutableBufferPointer { storage in
            _ = CorrelationPyramid(reversing: storage.baseAddress!, levels: levels)
        }
        gemm.withUnsafeMutableBufferPointer { storage in
            _ = CorrelationPyramid(fmap1: fmap2.pointer, fmap2: fmap1.pointer, channels: channels, levels: levels,
                                   storage: storage.baseAddress!, workspace: workspace)
        }
        return (levels, forward, reversed, gemm)
    }

    static let shapes = [(16, 11, 13), (32, 8, 8), (64, 24, 40), (128, 33, 70)]

    @Test("level 0 is the forward level 0 transposed, bit for bit; every coarser level is its 2×2 average pooling",
          arguments: shapes)
    func transposesAndPools(shape: (channels: Int, height: Int, width: Int)) {
        let (levels, forward, reversed, _) = Self.pyramids(channels: shape.channels, height: shape.height, width: shape.width)
        let (pixels, row) = (levels.pixels, levels.rowLength)
        var transposeMismatches = 0, poolMismatches = 0
        for q in 0..<pixels {
            for p in 0..<pixels where reversed[q * row + p].bitPattern != forward[p * row + q].bitPattern {
                transposeMismatches += 1
            }
            for i in 1..<levels.count {
                let (source, target) = (levels.sizes[i - 1], levels.sizes[i])
                let (s, t) = (q * row + levels.offsets[i - 1], q * row + levels.offsets[i])
                for y in 0..<target.height {
                    for x in 0..<target.width {
                        let a = reversed[s + 2 * y * source.width + 2 * x], b = reversed[s + 2 * y * source.width + 2 * x + 1]
                        let c = reversed[s + (2 * y + 1) * source.width + 2 * x], d = reversed[s + (2 * y + 1) * source.width + 2 * x + 1]
                        if ((((a + b) + c) + d) * 0.25).bitPattern != reversed[t + y * target.width + x].bitPattern { poolMismatches += 1 }
                    }
                }
            }
        }
        #expect(transposeMismatches == 0 && poolMismatches == 0, "\(shape)")
    }

    /// The transpose holds the same products as the reversed pair's GEMM, which OpenBLAS sums in another order
    /// for the other operand layout: equal up to Float rounding of the D-term dot products.
    @Test("every level equals the reversed pair's GEMM pyramid up to rounding", arguments: shapes)
    func matchesReversedGEMM(shape: (channels: Int, height: Int, width: Int)) {
        let (_, _, reversed, gemm) = Self.pyramids(channels: shape.channels, height: shape.height, width: shape.width)
        let largest = zip(reversed, gemm).map { abs($0 - $1) }.max() ?? .nan
        let scale = gemm.map(abs).max() ?? 0
        #expect(largest <= 1e-6 * max(1, scale), "\(shape): differ by up to \(largest), values up to \(scale)")
    }

    @Test("a single-level pyramid is the plain transpose")
    func singleLevel() {
        let (levels, forward, reversed, _) = Self.pyramids(channels: 8, height: 5, width: 9, levels: 1)
        let n = levels.pixels
        #expect((0..<n).allSatisfy { q in (0..<n).allSatisfy { p in reversed[q * n + p].bitPattern == forward[p * n + q].bitPattern } })
    }
}

/// Time of the backward pyramid: in-place transpose and pooling against its own GEMM, alternated round by round
/// at the Sintel 1/8 grid (55×128). Opt-in: `RAFTKIT_TIMINGS=1 swift test -c release --filter ReversedPyramidTimingTests`.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["RAFTKIT_TIMINGS"] != nil))
struct ReversedPyramidTimingTests {
    static func milliseconds(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) * 1e-15
    }

    @Test(arguments: [256, 128])
    func transposeAgainstGEMM(channels: Int) {
        let (height, width, rounds) = (55, 128, 7)
        var rng = SeededGenerator(seed: 3)
        let fmap1 = Tensor.random([channels, height, width], using: &rng)
        let fmap2 = Tensor.random([channels, height, width], using: &rng)
        let levels = CorrelationLevels(height: height, width: width, count: 4, radius: 4)
        let n = CorrelationPyramid.storageCount(levels), workspace = Workspace()
        let forward = UnsafeMutablePointer<Float>.allocate(capacity: n), backward = UnsafeMutablePointer<Float>.allocate(capacity: n)
        defer { forward.deallocate(); backward.deallocate() }
        let clock = ContinuousClock()
        var gemm: [Double] = [], transpose: [Double] = []
        for round in 0..<rounds {
            _ = CorrelationPyramid(fmap1: fmap1.pointer, fmap2: fmap2.pointer, channels: channels, levels: levels,
                                   storage: forward, workspace: workspace)
            for order in (round % 2 == 0 ? [0, 1] : [1, 0]) {
                let start = clock.now
                if order == 0 {
                    _ = CorrelationPyramid(fmap1: fmap2.pointer, fmap2: fmap1.pointer, channels: channels, levels: levels,
                                           storage: backward, workspace: workspace)
                    gemm.append(Self.milliseconds(clock.now - start))
                } else {
                    _ = CorrelationPyramid(reversing: forward, levels: levels)
                    transpose.append(Self.milliseconds(clock.now - start))
                }
            }
        }
        let median = { (xs: [Double]) in xs.sorted()[xs.count / 2] }
        print("backward pyramid 55x128, D = \(channels), \(BLAS.threads) threads, \(rounds) alternated rounds: "
              + "GEMM median \(String(format: "%.1f", median(gemm))) ms (all: \(gemm.map { String(format: "%.1f", $0) })), "
              + "transpose + pool median \(String(format: "%.1f", median(transpose))) ms (all: \(transpose.map { String(format: "%.1f", $0) }))")
    }
}
