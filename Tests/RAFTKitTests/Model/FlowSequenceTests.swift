import Foundation
import Testing
@testable import RAFTKit

/// `FlowSequence` reuses each frame's feature maps between consecutive pairs: the flow must be bit for bit that of
/// independent calls, and the feature encoder must run once per frame.
@Suite(.serialized) struct FlowSequenceTests {
    /// The smallest frames RAFT accepts (128 rows), a little wider.
    static let height = 128, width = 160

    /// A smooth texture moved by `k` px to the right and `k/2` px down; `samples` differently-phased copies.
    static func frame(_ k: Int, samples: Int = 1, height: Int = height, width: Int = width) -> Tensor {
        var t = Tensor(shape: [samples, 3, height, width])
        for s in 0..<samples {
            for c in 0..<3 {
                for y in 0..<height {
                    for x in 0..<width {
                        let u = Float(x - k) + Float(7 * s), v = Float(y) - Float(k) / 2
                        t[s, c, y, x] = 128 + 60 * sinf(0.21 * u + 0.05 * v + Float(c)) + 40 * cosf(0.11 * v - 0.07 * u + Float(s))
                    }
                }
            }
        }
        return t
    }

    /// The reference: every pair computed on its own, warm-started like the sequence.
    static func independent(_ model: RAFT, _ frames: [Tensor], options: RAFTOptions, warmStart: Bool) throws -> [RAFTOutput] {
        var outputs: [RAFTOutput] = []
        for (a, b) in zip(frames, frames.dropFirst()) {
            let initial = try warmStart ? outputs.last.map { try RAFT.forwardInterpolate($0.lowResolutionFlow) } : nil
            outputs.append(try model(a, b, flowInit: initial, options: options))
        }
        return outputs
    }

    @Test(arguments: [(1, true, CorrelationMode.allPairs), (2, false, .allPairs), (2, true, .onDemand)])
    func fourFramesMatchIndependentPairsBitForBit(samples: Int, warmStart: Bool, correlation: CorrelationMode) throws {
        let model = try ModelFixtures.model(.small)
        let frames = (0..<4).map { Self.frame($0, samples: samples) }
        let options = RAFTOptions(iterations: 3, correlation: correlation)
        let expected = try Self.independent(model, frames, options: options, warmStart: warmStart)

        let sequence = FlowSequence(model: model, options: options, warmStart: warmStart)
        #expect(try sequence.append(frames[0]) == nil)
        for (k, frame) in frames.enumerated().dropFirst() {
            let output = try #require(try sequence.append(frame))
            #expect(output.flow == expected[k - 1].flow, "pair \(k - 1)→\(k): \(FlowDifference(output.flow, expected[k - 1].flow))")
            #expect(output.lowResolutionFlow == expected[k - 1].lowResolutionFlow)
            // fnet ran on both frames of the first pair, then on the new frame only.
            #expect(sequence.featureEncoderRuns == samples * (k + 1))
            #expect(output.timings.featureEncoder > .zero)
        }
        #expect(sequence.featureEncoderRuns == 4 * samples)   // 6 · samples without the reuse
    }

    /// `FlowSequence` is Sendable: a sequence handed to other tasks gives the same flows, its calls serialised.
    @Test func sendableAcrossTasks() async throws {
        let model = try ModelFixtures.model(.small)
        let frames = (0..<3).map { Self.frame($0) }
        let options = RAFTOptions(iterations: 1)
        let expected = try Self.independent(model, frames, options: options, warmStart: true)
        let sequence = FlowSequence(model: model, options: options, warmStart: true)
        let first = try await Task.detached { try sequence.append(frames[0]) }.value
        #expect(first == nil)
        // Two tasks race to read the options while one appends: the lock serialises them.
        async let reader = Task.detached { (0..<100).map { _ in sequence.options.iterations } }.value
        let second = try await Task.detached { try sequence.append(frames[1]) }.value
        let third = try await Task.detached { try sequence.append(frames[2]) }.value
        #expect(await reader.allSatisfy { $0 == 1 })
        #expect(second?.flow == expected[0].flow && third?.flow == expected[1].flow)
    }

    /// Anything that makes the kept features stale recomputes them, and the results stay exact.
    @Test func invalidation() throws {
        let model = try ModelFixtures.model(.small)
        let frames = (0..<6).map { Self.frame($0) }
        let sequence = FlowSequence(model: model, options: RAFTOptions(iterations: 2), warmStart: false)
        func check(_ k: Int, runs: Int, padding: InputPadder.Mode = .sintel, _ comment: Comment) throws {
            let output = try #require(try sequence.append(frames[k]))
            let expected = try model(frames[k - 1], frames[k], options: RAFTOptions(iterations: 2, padding: padding))
            #expect(output.flow == expected.flow, comment)
            #expect(sequence.featureEncoderRuns == runs, comment)
        }
        _ = try sequence.append(frames[0])
        try check(1, runs: 2, "first pair")

        // A call on the sequence's workspace does not touch the kept features: the sequence owns them.
        _ = try model(frames[4], frames[5], options: RAFTOptions(iterations: 1), workspace: sequence.workspace)
        try check(2, runs: 3, "after a call on the same workspace")
        _ = try model(frames[5], frames[4], options: RAFTOptions(iterations: 3, correlation: .onDemand),
                      workspace: sequence.workspace)
        try check(3, runs: 4, "after another call on the same workspace")

        // A refused frame leaves the sequence as it was: the next frame still pairs with frame 3 and reuses it.
        var bad = frames[4]
        bad[0, 1, 2, 3] = .nan
        #expect(throws: RAFTError.nonFinite(input: "image2", index: [0, 1, 2, 3])) { try sequence.append(bad) }
        try check(4, runs: 5, "after a refused frame")

        // Another padding pads the frames differently.
        sequence.options.padding = .kitti
        try check(5, runs: 7, padding: .kitti, "padding changed")
        sequence.options.padding = .sintel

        // Another size is refused; after reset() it starts afresh.
        let larger = Self.frame(6, height: 136, width: 168)
        #expect(throws: RAFTError.self) { try sequence.append(larger) }
        sequence.reset()
        #expect(try sequence.append(larger) == nil)
        let next = try #require(try sequence.append(Self.frame(7, height: 136, width: 168)))
        #expect(next.flow == (try model(larger, Self.frame(7, height: 136, width: 168), options: RAFTOptions(iterations: 2))).flow)
        #expect(sequence.featureEncoderRuns == 9)
    }

    /// The RGBImage path gives FlowEstimator's per-pair estimate.
    @Test func imagesMatchFlowEstimator() throws {
        let estimator = FlowEstimator(model: try ModelFixtures.model(.small))
        let images = try (0..<3).map { try RGBImage(tensor: Self.frame($0)) }
        let sequence = estimator.sequence(iterations: 2, warmStart: true)
        #expect(try sequence.append(images[0]) == nil)
        let first = try #require(try sequence.append(images[1]))
        let second = try #require(try sequence.append(images[2]))
        let e1 = try estimator.estimate(from: images[0], to: images[1], iterations: 2)
        let e2 = try estimator.estimate(from: images[1], to: images[2], iterations: 2,
                                        lowResolutionWarmStart: try FlowEstimator.forwardInterpolate(e1.lowResolution))
        #expect(first.flow == e1.flow && second.flow == e2.flow)
        #expect(second.lowResolution == e2.lowResolution)
        #expect(sequence.featureEncoderRuns == 3)
        #expect(throws: FlowEstimatorError.self) {
            try sequence.append(try RGBImage(tensor: Self.frame(3, height: 136, width: 168)))
        }
    }

    // MARK: Pipelined estimate(pairs:frame:result:)

    /// Collects what the pipeline hands over (called on background threads, one at a time).
    final class Log: @unchecked Sendable {   // every access holds `lock`
        private let lock = NSLock()
        private var _loaded: [Int] = [], _results: [(Int, FlowEstimate)] = []
        var loaded: [Int] { lock.withLock { _loaded } }
        var results: [(Int, FlowEstimate)] { lock.withLock { _results } }
        func load(_ k: Int) { lock.withLock { _loaded.append(k) } }
        func result(_ i: Int, _ e: FlowEstimate) { lock.withLock { _results.append((i, e)) } }
    }

    @Test func pipelineMatchesAppend() throws {
        let estimator = FlowEstimator(model: try ModelFixtures.model(.small))
        let images = try (0..<6).map { try RGBImage(tensor: Self.frame($0)) }
        // Pairs 0, 1, then a gap (pair 2 skipped), then 3, 4: two chains.
        let pairs = [0, 1, 3, 4]
        let sequence = estimator.sequence(iterations: 2, warmStart: true)
        let log = Log()
        try sequence.estimate(pairs: pairs, frame: { k in log.load(k); return images[k] }, result: log.result)
        #expect(log.loaded == [0, 1, 2, 3, 4, 5])
        #expect(log.results.map(\.0) == pairs)
        #expect(sequence.featureEncoderRuns == 6)   // 2 + 1 for each chain

        let reference = estimator.sequence(iterations: 2, warmStart: true)
        var expected: [Int: FlowEstimate] = [:]
        for chain in [[0, 1, 2], [3, 4, 5]] {
            reference.reset()
            for k in chain { if let e = try reference.append(images[k]) { expected[k - 1] = e } }
        }
        for (i, estimate) in log.results {
            #expect(estimate.flow == expected[i]?.flow, "pair \(i)")
            #expect(estimate.lowResolution == expected[i]?.lowResolution, "pair \(i)")
        }
    }

    struct Refused: Error, Equatable { var what: String }

    @Test func pipelineReportsTheEarliestFailure() throws {
        let estimator = FlowEstimator(model: try ModelFixtures.model(.small))
        let images = try (0..<6).map { try RGBImage(tensor: Self.frame($0)) }
        let sequence = estimator.sequence(iterations: 1, warmStart: false)
        func run(failLoading: Int? = nil, failResult: Int? = nil, tooSmall: Int? = nil) -> (FlowSequenceError?, Log) {
            let log = Log()
            do {
                try sequence.estimate(pairs: Array(0..<5), frame: { k in
                    log.load(k)
                    if k == failLoading { throw Refused(what: "frame \(k)") }
                    return k == tooSmall ? try RGBImage(width: 64, height: 64) : images[k]
                }, result: { i, e in
                    if i == failResult { throw Refused(what: "pair \(i)") }
                    log.result(i, e)
                })
                return (nil, log)
            } catch {
                return (error, log)
            }
        }
        // A frame that cannot be loaded: the pairs before it are all handled, none after.
        var (error, log) = run(failLoading: 3)
        #expect(error?.pair == 2 && error?.stage == .loadingFrame(3) && error?.underlying as? Refused == Refused(what: "frame 3"))
        #expect(log.results.map(\.0) == [0, 1] && log.loaded == [0, 1, 2, 3])
        // A result that fails stops the run; a later frame's failure does not hide it.
        (error, log) = run(failLoading: 4, failResult: 1)
        #expect(error?.pair == 1 && error?.stage == .handlingResult, "\(String(describing: error))")
        #expect(log.results.map(\.0) == [0])
        #expect(error?.description.contains("pair 1") == true)
        // A frame the model refuses.
        (error, log) = run(tooSmall: 2)
        #expect(error?.pair == 1 && error?.stage == .estimating, "\(String(describing: error))")
        #expect(log.results.map(\.0) == [0])
        #expect(error?.underlying is FlowEstimatorError)
    }
}
