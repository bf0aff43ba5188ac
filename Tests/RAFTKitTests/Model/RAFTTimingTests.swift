import Foundation
import Testing
@testable import RAFTKit

/// Stage timings at the fixture size and at Sintel size (436×1024), both correlation strategies.
/// Opt-in (slow on 2 cores): `RAFTKIT_TIMINGS=1 swift test -c release --filter RAFTTimingTests`.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["RAFTKIT_TIMINGS"] != nil))
struct RAFTTimingTests {
    @Test(arguments: [RAFTVariant.basic, .small])
    func stageTimings(variant: RAFTVariant) throws {
        let model = try ModelFixtures.model(variant)
        let (image1, image2) = try ModelFixtures.frames()
        var rng = SeededGenerator(seed: 1)
        let sintel1 = Tensor.random([1, 3, 436, 1024], in: 0...255, using: &rng)
        let sintel2 = Tensor.random([1, 3, 436, 1024], in: 0...255, using: &rng)
        for (name, a, b) in [("150x203", image1, image2), ("436x1024", sintel1, sintel2)] {
            for mode in [CorrelationMode.allPairs, .onDemand] {
                let workspace = Workspace()
                _ = try model(a, b, options: RAFTOptions(iterations: 1, correlation: mode), workspace: workspace)   // warm-up
                let out = try model(a, b, options: RAFTOptions(iterations: 12, correlation: mode), workspace: workspace)
                print("RAFT \(variant) \(name) \(mode), 12 iterations, \(BLAS.threads) BLAS threads: \(out.timings); workspace \(workspace.bytes >> 20) MiB")
            }
        }
    }

    /// Forward interpolation at the Sintel 1/8 grid (55×128) with a smooth flow that moves points out.
    @Test func forwardInterpolationTiming() throws {
        var flow = Tensor(shape: [1, 2, 55, 128])
        for y in 0..<55 { for x in 0..<128 {
            flow[0, 0, y, x] = 6 * Float(x) / 128 + 2 * sinf(Float(y) / 5)
            flow[0, 1, y, x] = 3 * cosf(Float(x) / 9) - 1
        } }
        _ = try RAFT.forwardInterpolate(flow)
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<20 { _ = try RAFT.forwardInterpolate(flow) }
        print("forwardInterpolate 55x128: \(RAFTTimings.milliseconds((clock.now - start) / 20)) per call")
    }
}
