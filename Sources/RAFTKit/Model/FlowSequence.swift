/// Optical flow along a video: frame by frame, each pair warm-started from the previous pair's result.
///
/// Like the official Sintel submission (raft-spec §4.5), the warm start for pair `(t, t+1)` is the
/// ``RAFT/forwardInterpolate(_:)`` of pair `(t−1, t)`'s low-resolution flow, passed as `flowInit`. Scratch memory
/// is kept between pairs, so after the first pair nothing is reallocated. One sequence per thread.
///
/// ```swift
/// let sequence = FlowSequence(model: model)
/// for frame in frames {                           // [1, 3, H, W] each
///     if let result = try sequence.append(frame) { use(result.flow) }
/// }
/// ```
public final class FlowSequence {
    public let model: RAFT
    public var options: RAFTOptions
    /// Warm-start each pair from the previous one (official evaluation: on for Sintel test submissions).
    public var warmStart: Bool
    /// The workspace reused by every pair.
    public let workspace = Workspace()
    private var previousFrame: Tensor?
    private var previousLowResolutionFlow: Tensor?

    public init(model: RAFT, options: RAFTOptions = RAFTOptions(), warmStart: Bool = true) {
        self.model = model
        self.options = options
        self.warmStart = warmStart
    }

    /// Adds the next frame.
    /// - Parameters:
    ///   - frame: `[N, 3, H, W]` RGB in 0…255, the same size as the previous frames.
    ///   - onIteration: forwarded to ``RAFT/callAsFunction(_:_:flowInit:options:workspace:onIteration:)``.
    /// - Returns: the flow from the previous frame to `frame`, or nil for the first frame.
    /// - Throws: ``RAFTError`` (e.g. when the frame size changes; call ``reset()`` to start a new sequence).
    @discardableResult
    public func append(_ frame: Tensor, onIteration: ((RAFTIteration) -> Void)? = nil) throws(RAFTError) -> RAFTOutput? {
        guard let previous = previousFrame else {
            guard frame.rank == 4, frame.shape[1] == 3, frame.count > 0 else {
                throw .invalidShape(input: "frame", shape: frame.shape, expected: "[N, 3, H, W] with N, H, W ≥ 1")
            }
            previousFrame = frame
            return nil
        }
        let initial = warmStart ? previousLowResolutionFlow.map { RAFT.forwardInterpolate($0) } : nil
        let result = try model(previous, frame, flowInit: initial, options: options, workspace: workspace,
                               onIteration: onIteration)
        previousFrame = frame
        previousLowResolutionFlow = result.lowResolutionFlow
        return result
    }

    /// Forgets the previous frame and flow (a new shot or sequence starts).
    public func reset() {
        previousFrame = nil
        previousLowResolutionFlow = nil
    }
}
