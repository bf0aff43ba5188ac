import Dispatch
import Foundation

extension FlowSequence {
    /// Computes the flow of the frame pairs `(i, i+1)` for every `i` in `pairs`, overlapping input and output with
    /// the computation: while pair `i` runs on the calling thread, the next frame is loaded on one background
    /// thread and pair `i−1`'s result is handed to `result` on another.
    ///
    /// The sequence is ``reset()`` first. Pairs that follow each other (`i`, then `i+1`) share the features of
    /// their common frame and, with ``warmStart``, the warm start; a gap in `pairs` starts afresh, as after
    /// ``reset()``. The flows are the same as those of ``append(_:)-(RGBImage)`` on the frames in order.
    ///
    /// Work ahead is bounded: at most one frame is loaded ahead of the pair being computed, and at most one pair's
    /// result waits for `result` (a pair that finishes earlier waits until the previous one has been handled).
    ///
    /// ```swift
    /// let sequence = estimator.sequence(iterations: 12)
    /// try sequence.estimate(pairs: Array(0..<(urls.count - 1)),
    ///                       frame: { k in try RGBImage(contentsOf: urls[k]) },
    ///                       result: { i, estimate in try estimate.flow.write(to: flowURLs[i]) })
    /// ```
    /// - Parameters:
    ///   - pairs: the first frame of each pair, in increasing order.
    ///   - frame: loads frame `k`. Called on a background thread, once per frame needed, in increasing order, one
    ///     call at a time.
    ///   - previousFlow: with ``warmStart``, for a chain of pairs that starts at pair `i > 0`, pair `i − 1`'s
    ///     ``FlowEstimate/lowResolution`` (kept by an earlier run that computed it), so that the chain continues
    ///     bit for bit as an uninterrupted run would; nil (or a nil result) starts the chain cold.
    ///   - result: receives pair `i`'s estimate. Called on a background thread, in the order of `pairs`, one call
    ///     at a time; it has returned for every pair before this method returns.
    /// - Throws: ``FlowSequenceError`` naming the earliest pair that failed and how: one of its frames could not be
    ///   loaded, the model refused it, or `result` threw. Every pair before it went through `result`; no pair after
    ///   it did. Neither closure runs after this method has returned or thrown.
    /// The sequence's lock is held for the whole run: other calls on the sequence wait until it returns.
    public func estimate(pairs: [Int], frame: @escaping @Sendable (Int) throws -> RGBImage,
                         previousFlow: (@Sendable (Int) -> Tensor?)? = nil,
                         result: @escaping @Sendable (Int, FlowEstimate) throws -> Void) throws(FlowSequenceError) {
        try locked { () throws(FlowSequenceError) in
            try estimateLocked(pairs: pairs, frame: frame, previousFlow: previousFlow, result: result)
        }
    }

    private func estimateLocked(pairs: [Int], frame: @escaping @Sendable (Int) throws -> RGBImage,
                                previousFlow: (@Sendable (Int) -> Tensor?)?,
                                result: @escaping @Sendable (Int, FlowEstimate) throws -> Void) throws(FlowSequenceError) {
        if let bad = pairs.indices.first(where: { pairs[$0] < 0 || ($0 > 0 && pairs[$0] <= pairs[$0 - 1]) }) {
            throw FlowSequenceError(pair: pairs[bad], stage: .invalidPairs,
                                    underlying: FlowEstimatorError.invalidArgument(
                                        name: "pairs", reason: "pairs[\(bad)] = \(pairs[bad]); pairs must be increasing non-negative frame indices"))
        }
        reset()
        // The frames in the order they are needed; `pair` is the pair computed when the frame arrives, nil for
        // the first frame of a chain.
        var plan: [(frame: Int, pair: Int?)] = []
        for i in pairs {
            if plan.last?.frame != i { plan.append((i, nil)) }
            plan.append((i + 1, i))
        }

        let loader = DispatchQueue(label: "RAFTKit.FlowSequence.frames")
        let handler = DispatchQueue(label: "RAFTKit.FlowSequence.results")
        let handlerSlot = DispatchSemaphore(value: 1)   // one pair's result pending at most
        let handlerFailure = FirstFailure()
        func load(_ k: Int) -> Pending<(tensor: Tensor, width: Int, height: Int)> {
            let pending = Pending<(tensor: Tensor, width: Int, height: Int)>()
            loader.async {
                pending.fulfil(Result { let image = try frame(k); return (image.tensor, image.width, image.height) })
            }
            return pending
        }

        var failure: FlowSequenceError?
        var next = plan.first.map { load($0.frame) }
        for (k, step) in plan.enumerated() {
            let pair = step.pair ?? step.frame
            let outcome = next!.wait()
            next = nil
            let loaded: (tensor: Tensor, width: Int, height: Int)
            do { loaded = try outcome.get() } catch {
                failure = FlowSequenceError(pair: pair, stage: .loadingFrame(step.frame), underlying: error)
                break
            }
            next = k + 1 < plan.count ? load(plan[k + 1].frame) : nil
            if step.pair == nil {
                reset()
                if warmStart, step.frame > 0 { previousLowResolutionFlow = previousFlow?(step.frame - 1) }
            }
            // A result that failed stops the run: nothing after it is computed.
            if handlerFailure.error != nil { break }
            let output: RAFTOutput?
            do { output = try appendFrame(loaded.tensor, width: loaded.width, height: loaded.height) } catch {
                failure = FlowSequenceError(pair: pair, stage: .estimating, underlying: error)
                break
            }
            guard let output else { continue }
            handlerSlot.wait()
            handler.async {
                defer { handlerSlot.signal() }
                guard handlerFailure.error == nil else { return }
                do { try result(pair, FlowEstimate(output)) } catch {
                    handlerFailure.record(FlowSequenceError(pair: pair, stage: .handlingResult, underlying: error))
                }
            }
        }
        // Wait for both background threads: the closures never run after this method returns.
        if let next { _ = next.wait() }
        handler.sync {}
        // The handler only ever holds pairs before the one the calling thread was at: its failure is the earlier.
        if let error = handlerFailure.error ?? failure { throw error }
    }
}

/// Why ``FlowSequence/estimate(pairs:frame:result:)`` stopped: the earliest pair that failed, and how.
public struct FlowSequenceError: Error, CustomStringConvertible {
    /// What failed.
    public enum Stage: Sendable, Equatable {
        /// The `frame` closure threw for this frame (the pair's first or second).
        case loadingFrame(Int)
        /// The model refused the pair; ``FlowSequenceError/underlying`` is a ``FlowEstimatorError``.
        case estimating
        /// The `result` closure threw for the pair.
        case handlingResult
        /// `pairs` is not increasing or holds a negative index (nothing was computed); ``FlowSequenceError/pair``
        /// is the first offending entry.
        case invalidPairs
    }

    /// The first frame of the pair that failed.
    public var pair: Int
    public var stage: Stage
    /// The error thrown by the closure or the model.
    public var underlying: any Error

    public var description: String {
        switch stage {
        case let .loadingFrame(k): "pair \(pair): cannot load frame \(k): \(underlying)"
        case .estimating: "pair \(pair): \(underlying)"
        case .handlingResult: "pair \(pair): \(underlying)"
        case .invalidPairs: "\(underlying)"
        }
    }
}

/// The value of a job running on another thread.
///
/// `@unchecked Sendable` is safe: `value` is written once, by the job, before `done.signal()`, and read only after
/// `done.wait()`, which orders the two accesses; `wait()` is called once.
private final class Pending<Value>: @unchecked Sendable {
    private var value: Result<Value, any Error>?
    private let done = DispatchSemaphore(value: 0)

    func fulfil(_ result: Result<Value, any Error>) {
        value = result
        done.signal()
    }

    func wait() -> Result<Value, any Error> {
        done.wait()
        return value!
    }
}

/// The first error recorded by the result handler.
///
/// `@unchecked Sendable` is safe: every access to `stored` holds `lock`.
private final class FirstFailure: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: FlowSequenceError?

    var error: FlowSequenceError? { lock.withLock { stored } }

    func record(_ error: FlowSequenceError) {
        lock.withLock { if stored == nil { stored = error } }
    }
}
