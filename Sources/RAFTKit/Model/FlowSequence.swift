import Foundation

/// Optical flow along a video: frame by frame, each pair warm-started from the previous pair's result, and each
/// frame's feature maps computed once.
///
/// Like the official Sintel submission (evaluate.py, `create_sintel_submission`), the warm start for pair `(t, t+1)` is the
/// ``RAFT/forwardInterpolate(_:)`` of pair `(t−1, t)`'s low-resolution flow, passed as `flowInit`. Frame `t` is the
/// second frame of pair `(t−1, t)` and the first of `(t, t+1)`; the feature encoder (`fnet`) runs on it once and
/// the next pair takes its features from the sequence, so a pair costs one `fnet` pass instead of two. The
/// results are bit for bit those of calling the model on each pair. Scratch memory is kept between pairs, so
/// after the first pair nothing is reallocated. Calls on one sequence run one at a time (see below).
///
/// ```swift
/// let sequence = FlowSequence(model: model)
/// for frame in frames {                           // [1, 3, H, W] each
///     if let result = try sequence.append(frame) { use(result.flow) }
/// }
/// ```
///
/// With images, ``FlowEstimator/sequence(iterations:padding:correlation:warmStart:)`` makes one and
/// ``append(_:)-(RGBImage)`` takes ``RGBImage`` frames; ``estimate(pairs:frame:result:)`` also overlaps loading
/// the frames and handling the results with the computation.
///
/// `FlowSequence` is `Sendable`: it can be handed to another task or thread, and calls from several threads are
/// safe, but they are serialised by an internal lock, one call at a time (a sequence is a chain of frames, so
/// concurrent appends would have no meaningful order anyway). For parallel pairs, use one sequence per thread.
public final class FlowSequence: @unchecked Sendable {
    // @unchecked: every mutable stored property below (and the workspace and feature buffers, which the model
    // writes) is only touched while `lock` is held; `model` is an immutable Sendable value.
    private let lock = NSRecursiveLock()
    public let model: RAFT
    private var storedOptions: RAFTOptions
    private var storedWarmStart: Bool
    /// Iterations, padding and correlation strategy of the next pairs.
    public var options: RAFTOptions {
        get { lock.withLock { storedOptions } }
        set { lock.withLock { storedOptions = newValue } }
    }
    /// Warm-start each pair from the previous one (official evaluation: on for Sintel test submissions).
    public var warmStart: Bool {
        get { lock.withLock { storedWarmStart } }
        set { lock.withLock { storedWarmStart = newValue } }
    }
    /// The workspace reused by every pair.
    package let workspace = Workspace()
    private var previousFrame: Tensor?
    var previousLowResolutionFlow: Tensor?
    /// Two frames' feature maps, `[N, D, h, w]` each, used alternately: the previous pair's second frame is the
    /// next pair's first.
    private let features = (ScratchBuffer(), ScratchBuffer())
    /// Which of ``features`` holds the previous frame's maps, and for which frames; nil when none is valid.
    private var carried: (inFirst: Bool, key: FeatureKey)?
    /// What feature maps were computed for: another batch size, frame size or padding recomputes them.
    private struct FeatureKey: Equatable {
        var shape: [Int]
        var padding: InputPadder.Mode
    }
    /// Frames the feature encoder has run on so far (one per sample of each frame when the features are reused).
    package var featureEncoderRuns: Int { lock.withLock { encoderRuns } }
    private var encoderRuns = 0

    public init(model: RAFT, options: RAFTOptions = RAFTOptions(), warmStart: Bool = true) {
        self.model = model
        self.storedOptions = options
        self.storedWarmStart = warmStart
    }

    /// Runs `body` holding the sequence's lock (recursive: ``estimate(pairs:frame:result:)`` holds it while it
    /// appends).
    func locked<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// Adds the next frame.
    /// - Parameters:
    ///   - frame: `[N, 3, H, W]` RGB in 0…255, the same size as the previous frames.
    ///   - onIteration: forwarded to ``RAFT/callAsFunction(_:_:flowInit:options:workspace:onIteration:)``.
    /// - Returns: the flow from the previous frame to `frame`, or nil for the first frame.
    /// - Throws: ``RAFTError`` (e.g. when the frame size changes; call ``reset()`` to start a new sequence). The
    ///   sequence is unchanged then: the next frame pairs with the last accepted one.
    @discardableResult
    public func append(_ frame: Tensor, onIteration: ((RAFTIteration) -> Void)? = nil) throws(RAFTError) -> RAFTOutput? {
        try locked { () throws(RAFTError) -> RAFTOutput? in try appendLocked(frame, onIteration: onIteration) }
    }

    private func appendLocked(_ frame: Tensor, onIteration: ((RAFTIteration) -> Void)?) throws(RAFTError) -> RAFTOutput? {
        let (options, warmStart) = (storedOptions, storedWarmStart)
        guard let previous = previousFrame else {
            guard frame.rank == 4, frame.shape[1] == 3, frame.count > 0 else {
                throw .invalidShape(input: "frame", shape: frame.shape, expected: "[N, 3, H, W] with N, H, W ≥ 1")
            }
            previousFrame = frame
            return nil
        }
        let initial = warmStart ? previousLowResolutionFlow.map { ForwardInterpolation.interpolate($0) } : nil
        let padder = try model.validate(previous, frame, flowInit: initial, options: options)
        let count = model.featureCount(samples: frame.n, padder: padder)
        let key = FeatureKey(shape: frame.shape, padding: options.padding)
        let reuse = carried?.key == key
        // The previous frame's maps stay where they are; this frame's go to the other buffer.
        let inFirst = carried?.inFirst ?? false
        let (previousMaps, maps) = inFirst ? features : (features.1, features.0)
        let output = model(previous, frame, flowInit: initial, options: options, padder: padder, workspace: workspace,
                           features: RAFT.FeatureMaps(first: previousMaps.reserve(count), firstIsComputed: reuse,
                                                      second: maps.reserve(count)),
                           onIteration: onIteration)
        guard RAFT.firstNonFinite(output.flow) == nil else { throw .nonFiniteOutput }
        previousFrame = frame
        previousLowResolutionFlow = output.lowResolutionFlow
        carried = (inFirst: !inFirst, key: key)
        encoderRuns += reuse ? frame.n : 2 * frame.n
        return output
    }

    /// Adds the next frame as an image.
    /// - Parameter image: RGB on the 0…255 scale, the same size as the previous frames.
    /// - Returns: the flow from the previous frame to `image`, or nil for the first frame.
    /// - Throws: ``FlowEstimatorError/sizeMismatch(first:firstSize:second:secondSize:)`` when the size changes,
    ///   ``FlowEstimatorError/model(_:)`` when the network refuses the frames (non-finite values).
    @discardableResult
    public func append(_ image: RGBImage) throws(FlowEstimatorError) -> FlowEstimate? {
        try appendFrame(image.tensor, width: image.width, height: image.height).map(FlowEstimate.init)
    }

    /// ``append(_:)-(Tensor)`` for a `[1, 3, height, width]` frame, with image-level errors.
    func appendFrame(_ frame: Tensor, width: Int, height: Int) throws(FlowEstimatorError) -> RAFTOutput? {
        try locked { () throws(FlowEstimatorError) -> RAFTOutput? in
            if let previous = previousFrame, previous.shape != frame.shape {
                throw .sizeMismatch(first: "previous frame", firstSize: (previous.w, previous.h),
                                    second: "frame", secondSize: (width, height))
            }
            do throws(RAFTError) { return try appendLocked(frame, onIteration: nil) } catch { throw .model(error) }
        }
    }

    /// Forgets the previous frame, its features and the flow (a new shot or sequence starts).
    public func reset() {
        lock.withLock {
            previousFrame = nil
            previousLowResolutionFlow = nil
            carried = nil
        }
    }
}

extension FlowEstimate {
    /// The estimate of a single-sample output.
    init(_ output: RAFTOutput) {
        self.init(flow: FlowField(unchecked: output.flow), lowResolution: output.lowResolutionFlow, timings: output.timings)
    }
}
