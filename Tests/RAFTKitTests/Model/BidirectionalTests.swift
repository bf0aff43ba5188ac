import Foundation
import Testing
@testable import RAFTKit

/// Bidirectional estimates, cancellation and progress of ``FlowEstimator``.
@Suite(.serialized) struct BidirectionalTests {
    static func images() throws -> (RGBImage, RGBImage) {
        let (a, b) = (FlowSequenceTests.frame(0), FlowSequenceTests.frame(3))
        return (try RGBImage(tensor: a), try RGBImage(tensor: b))
    }

    /// How far the all-pairs backward flow may be from the reversed pair's, in full-resolution pixels. The backward
    /// volume is the transpose of the forward one (no second GEMM): the same products, but OpenBLAS sums them in
    /// another order than the reversed pair's own GEMM, so the volumes differ by Float rounding (≤ 1e-6 relative,
    /// ReversedPyramidTests), which the iterations carry into the flows.
    static let transposeTolerance: Float = 5e-5

    /// On demand, the backward pass pools its own feature maps, so its flow is bit for bit the reversed pair's.
    @Test("the backward flow is the reversed pair's (bit for bit on demand, to rounding all-pairs), with one feature-encoder pass per frame",
          arguments: [CorrelationMode.allPairs, .onDemand])
    func backwardMatchesReversedPair(correlation: CorrelationMode) throws {
        let estimator = FlowEstimator(model: try ModelFixtures.model(.small))
        let (frame1, frame2) = try Self.images()
        let both = try estimator.estimate(from: frame1, to: frame2, iterations: 3, correlation: correlation, bidirectional: true)
        let forward = try estimator.estimate(from: frame1, to: frame2, iterations: 3, correlation: correlation)
        let reversed = try estimator.estimate(from: frame2, to: frame1, iterations: 3, correlation: correlation)
        #expect(both.flow == forward.flow)
        #expect(both.lowResolution == forward.lowResolution)
        let backward = try #require(both.backward), backwardLowResolution = try #require(both.backwardLowResolution)
        let difference = backward.tensor.maxAbsDifference(reversed.flow.tensor)
        let lowResolutionDifference = backwardLowResolution.maxAbsDifference(reversed.lowResolution)
        if correlation == .onDemand {
            #expect(backward == reversed.flow)
            #expect(backwardLowResolution == reversed.lowResolution)
        } else {
            let magnitude = reversed.flow.tensor.maxAbsDifference(Tensor(shape: reversed.flow.tensor.shape))
            #expect(difference <= Self.transposeTolerance && lowResolutionDifference <= Self.transposeTolerance / 8,
                    "backward vs reversed pair: max |Δ| \(difference) px (flow components up to \(magnitude) px), 1/8 resolution \(lowResolutionDifference)")
        }
        let occlusion = try #require(both.occlusion)
        #expect(occlusion == (try FlowOcclusion.forwardBackward(forward: both.flow, backward: backward)))
        // A plain estimate has none of these.
        #expect(forward.backward == nil && forward.occlusion == nil)
    }

    @Test("the backward pass reuses both frames' feature maps: fnet runs in the forward pass only")
    func featureEncoderRunsOncePerFrame() throws {
        let model = try ModelFixtures.model(.small)
        let (a, b) = (FlowSequenceTests.frame(0), FlowSequenceTests.frame(3))
        let (forward, backward) = try #require(try model.bidirectional(a, b, flowInit: nil, options: RAFTOptions(iterations: 2),
                                                                       workspace: Workspace()))
        #expect(forward.timings.featureEncoder > .zero && forward.timings.contextEncoder > .zero)
        #expect(backward.timings.featureEncoder == .zero && backward.timings.contextEncoder > .zero)
        let reversed = try model(b, a, options: RAFTOptions(iterations: 2))
        #expect(backward.flow.maxAbsDifference(reversed.flow) <= Self.transposeTolerance)
        #expect(backward.correlation == .allPairs)
    }

    /// The transposed backward volume on a batch: each sample's volume is transposed on its own (a transpose of
    /// the whole batch's buffer would mix samples), so every sample's backward flow is its reversed pair's.
    @Test("on a batch of two pairs, each sample's backward flow is its reversed pair's")
    func batchedBackwardMatchesReversedPairs() throws {
        let model = try ModelFixtures.model(.small)
        let (a, b) = (FlowSequenceTests.frame(0, samples: 2), FlowSequenceTests.frame(3, samples: 2))
        let (forward, backward) = try #require(try model.bidirectional(a, b, flowInit: nil, options: RAFTOptions(iterations: 2),
                                                                       workspace: Workspace()))
        #expect(forward.flow.maxAbsDifference(try model(a, b, options: RAFTOptions(iterations: 2)).flow) == 0)
        let reversed = try model(b, a, options: RAFTOptions(iterations: 2))
        #expect(backward.flow.shape == [2, 2, FlowSequenceTests.height, FlowSequenceTests.width])
        #expect(backward.flow.maxAbsDifference(reversed.flow) <= Self.transposeTolerance)
        // and per sample: the second sample against a batch of one
        let single = try model(Self.sample(b, 1), Self.sample(a, 1), options: RAFTOptions(iterations: 2))
        #expect(Self.sample(backward.flow, 1).maxAbsDifference(single.flow) <= Self.transposeTolerance)
    }

    /// Sample `k` of an NCHW batch, as a batch of one.
    static func sample(_ t: Tensor, _ k: Int) -> Tensor {
        let per = t.count / t.shape[0]
        var out = Tensor(shape: [1] + t.shape.dropFirst())
        out.withUnsafeMutableBufferPointer { dst in
            t.withUnsafeBufferPointer { src in
                for i in 0..<per { dst[i] = src[k * per + i] }
            }
        }
        return out
    }

    @Test("a cancelled task stops before its next iteration and throws CancellationError")
    func cancellation() async throws {
        let estimator = FlowEstimator(model: try ModelFixtures.model(.small))
        let (frame1, frame2) = try Self.images()
        let seen = IterationLog()
        let started = AsyncStream<Void>.makeStream()
        let task = Task {
            try await estimator.estimate(from: frame1, to: frame2, iterations: 1000, progress: { progress in
                if seen.record(progress) == 1 { started.continuation.yield() }
            })
        }
        for await _ in started.stream { break }
        task.cancel()
        let atCancel = seen.count
        await #expect(throws: CancellationError.self) { try await task.value }
        // At most the iteration in flight when cancel() was called finishes (the waiting test task may itself have
        // been scheduled late, so the count at cancel() is the reference, not 1).
        #expect(seen.count - atCancel <= 1 && seen.count < 1000, "\(atCancel) iterations before cancel(), \(seen.count) in all")

        // Cancelled from its own progress callback after iteration 3 (both directions): exactly 3 iterations ran.
        let log = IterationLog()
        let selfCancelled = Task {
            try await estimator.estimate(from: frame1, to: frame2, iterations: 50, bidirectional: true, progress: { progress in
                if log.record(progress) == 3 { withUnsafeCurrentTask { $0?.cancel() } }
            })
        }
        await #expect(throws: CancellationError.self) { try await selfCancelled.value }
        #expect(log.reports.map(\.iteration) == [1, 2, 3])

        // Already cancelled: nothing runs.
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await estimator.estimate(from: frame1, to: frame2, iterations: 2, progress: { seen.record($0) })
        }
        let before = seen.count
        await #expect(throws: CancellationError.self) { try await early.value }
        #expect(seen.count == before)
    }

    @Test("progress reports every iteration of both directions, ending at 1, and the result equals the synchronous one")
    func progressAndAsyncResult() async throws {
        let estimator = FlowEstimator(model: try ModelFixtures.model(.small))
        let (frame1, frame2) = try Self.images()
        let log = IterationLog()
        let result = try await estimator.estimate(from: frame1, to: frame2, iterations: 3, bidirectional: true,
                                                  progress: { log.record($0) })
        let reports = log.reports
        #expect(reports.map(\.direction) == [.forward, .forward, .forward, .backward, .backward, .backward])
        #expect(reports.map(\.iteration) == [1, 2, 3, 1, 2, 3])
        #expect(reports.last?.fractionCompleted == 1)
        let sync = try Self.synchronous(estimator, frame1, frame2)
        #expect(result.flow == sync.flow && result.backward == sync.backward && result.occlusion == sync.occlusion)
    }
}

extension BidirectionalTests {
    /// The synchronous `estimate` (in an async function the async overload is chosen).
    static func synchronous(_ estimator: FlowEstimator, _ frame1: RGBImage, _ frame2: RGBImage) throws -> FlowEstimate {
        try estimator.estimate(from: frame1, to: frame2, iterations: 3, bidirectional: true)
    }
}

/// Progress reports collected from the computing thread.
final class IterationLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [FlowProgress] = []

    @discardableResult
    func record(_ progress: FlowProgress) -> Int { lock.withLock { stored.append(progress); return stored.count } }
    var reports: [FlowProgress] { lock.withLock { stored } }
    var count: Int { reports.count }
}
