import Foundation
import Testing
import RAFTKit

/// `FlowEstimator` is a `Sendable` value whose `estimate` keeps its scratch per call (or in a caller's
/// `Workspace`, one per thread), and RAFTKit's worker pool runs a busy caller's chunks inline with the same
/// partition: so estimates run from several tasks at once, on one shared estimator or on separate ones, give the
/// sequential result bit for bit. `Scripts/sanitize` also runs this suite under ThreadSanitizer.
@Suite struct ConcurrentEstimateTests {
    static let size = 128
    static let tasks = 4
    static let iterations = 3

    /// A smooth textured frame, and the same texture moved by (3, 2) pixels.
    static func frames() -> (RGBImage, RGBImage) {
        func frame(dx: Float, dy: Float) -> RGBImage {
            var pixels = [Float](repeating: 0, count: size * size * 3)
            for y in 0..<size {
                for x in 0..<size {
                    let u = Float(x) - dx, v = Float(y) - dy
                    for c in 0..<3 {
                        let phase = Float(c) * 1.7
                        pixels[(y * size + x) * 3 + c] = 127.5 + 60 * sin(0.21 * u + phase) + 60 * cos(0.17 * v - phase)
                    }
                }
            }
            return try! RGBImage(width: size, height: size, pixels: pixels)
        }
        return (frame(dx: 0, dy: 0), frame(dx: 3, dy: 2))
    }

    @Test("tasks sharing one estimator, and tasks with their own estimator and Workspace, match a sequential run bit for bit")
    func concurrentEstimatesMatchTheSequentialResult() async throws {
        let (a, b) = Self.frames()
        let shared = try FlowEstimator.bundled()
        let reference = try await shared.estimate(from: a, to: b, iterations: Self.iterations)
        let finite = reference.flow.uv.allSatisfy { $0.isFinite }
        #expect(finite && reference.flow.uv.contains { $0 != 0 })

        let sharedResults = try await withThrowingTaskGroup(of: FlowField.self) { group in
            for _ in 0..<Self.tasks {
                group.addTask { try await shared.estimate(from: a, to: b, iterations: Self.iterations).flow }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let separateResults = try await withThrowingTaskGroup(of: FlowField.self) { group in
            for _ in 0..<Self.tasks {
                group.addTask {
                    let own = try FlowEstimator.bundled()
                    let workspace = Workspace()
                    var last = try own.estimate(from: a, to: b, iterations: Self.iterations, workspace: workspace)
                    last = try own.estimate(from: a, to: b, iterations: Self.iterations, workspace: workspace)  // reused scratch
                    return last.flow
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(sharedResults.count == Self.tasks && separateResults.count == Self.tasks)
        for flow in sharedResults + separateResults {
            #expect(flow == reference.flow)
        }
    }
}
