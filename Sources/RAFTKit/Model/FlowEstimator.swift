import Foundation

/// The few-lines API for vision pipelines: weights in, images in, a ``FlowField`` out.
///
/// ```swift
/// let raft = try FlowEstimator.bundled()           // or FlowEstimator(contentsOf: url) for raft-things.pth …
/// let result = try raft.estimate(from: frame1, to: frame2, iterations: 12)
/// try result.flow.write(to: URL(fileURLWithPath: "flow.flo"))
/// ```
///
/// `FlowEstimator` is an immutable value (`Sendable`): share it between threads; each call uses its own
/// scratch memory unless you pass a ``Workspace`` to reuse (one per thread).
public struct FlowEstimator: Sendable, CustomStringConvertible {
    /// The network.
    public let model: RAFT
    /// Where the weights came from and what they are.
    public let weights: WeightsSummary?
    /// The convolutions' arithmetic for every estimate: ``Precision/float32`` (default) or ``Precision/bfloat16``,
    /// which runs where the CPU has AVX512_BF16 and falls back to float32 elsewhere (``Precision/effective``).
    public var precision: Precision = .float32

    /// RAFT (basic) or RAFT-S (small), as detected from the weights.
    public var variant: RAFTVariant { model.variant }

    /// Wraps a model built elsewhere.
    public init(model: RAFT, weights: WeightsSummary? = nil) {
        self.model = model
        self.weights = weights
    }

    /// Loads weights from an official `.pth` checkpoint (zip or legacy), a torchvision state dict or a
    /// safetensors file; the architecture is detected from the parameter shapes.
    /// - Throws: ``WeightsError`` naming the file and the problem (unreadable, corrupt, not RAFT, a missing,
    ///   unexpected or misshapen parameter, NaN).
    public init(contentsOf url: URL) throws(WeightsError) {
        let loaded = try WeightsLoader.load(contentsOf: url)
        try self.init(loaded)
    }

    /// A model from already loaded weights.
    public init(_ loaded: LoadedWeights) throws(WeightsError) {
        guard loaded.variant != nil else {
            throw .unknownModel(file: loaded.stateDict.source,
                                reason: "its parameters are neither RAFT's nor RAFT-S's (\(loaded.stateDict.tensors.count) tensors)")
        }
        self.init(model: try RAFT(stateDict: loaded.stateDict), weights: loaded.summary)
    }

    /// The bundled default model (RAFT-small trained by this project; see `Models/README.md`).
    public static func bundled() throws(WeightsError) -> FlowEstimator {
        try FlowEstimator(WeightsLoader.bundled())
    }

    public var description: String {
        let name = variant == .basic ? "RAFT" : "RAFT-S"
        guard let weights else { return "\(name), \(model.parameterCount) parameters" }
        return "\(name), \(model.parameterCount) parameters, \((weights.file as NSString).lastPathComponent) (\(weights.format.displayName))"
    }

    /// Estimates the optical flow from `image1` to `image2` (and, with `bidirectional`, back, with the occlusion
    /// mask).
    /// - Parameters:
    ///   - image1, image2: frames of the same size (RGB on the 0…255 scale), any size from 1×1 (smaller than
    ///     128 on a side: replicate-padded to 128 for the network, the flow cropped back).
    ///   - iterations: recurrent refinement steps (12 by default; the paper evaluates 24–32).
    ///   - padding: ``InputPadder/Mode/sintel`` (centred) or ``InputPadder/Mode/kitti`` (bottom).
    ///   - warmStart: an initial full-resolution flow (e.g. the previous pair's), averaged down to 1/8.
    ///   - lowResolutionWarmStart: an initial flow `[1, 2, h, w]` at 1/8 of the padded size, in 1/8-resolution
    ///     pixels (e.g. ``forwardInterpolate(_:)`` of the previous ``FlowEstimate/lowResolution``); takes
    ///     precedence over `warmStart`.
    ///   - correlation: all-pairs, on-demand, or automatic by memory budget.
    ///   - bidirectional: also estimate the flow `image2 → image1` (``FlowEstimate/backward``: estimating the
    ///     reversed pair without warm start, up to Float rounding with the all-pairs correlation, whose backward
    ///     volume is the forward one transposed) and the occlusion mask of `image1`
    ///     (``FlowEstimate/occlusion``, ``FlowOcclusion`` with its default tolerances). Each frame goes through the
    ///     feature encoder once; the context encoder runs on each frame.
    ///   - workspace: scratch memory to reuse between calls on one thread.
    ///   - onIteration: called after each iteration with the current 1/8-resolution flow (of each direction, the
    ///     forward one first).
    /// - Returns: the flow `image1 → image2` at full resolution, the 1/8-resolution flow and stage timings.
    /// - Throws: ``FlowEstimatorError`` for mismatched sizes or non-finite values.
    public func estimate(from image1: RGBImage, to image2: RGBImage, iterations: Int = 12,
                         padding: InputPadder.Mode = .sintel, warmStart: FlowField? = nil,
                         lowResolutionWarmStart: Tensor? = nil, correlation: CorrelationMode = .automatic,
                         bidirectional: Bool = false, workspace: Workspace? = nil,
                         onIteration: ((RAFTIteration) -> Void)? = nil) throws(FlowEstimatorError) -> FlowEstimate {
        let estimate = try run(image1, image2, iterations: iterations, padding: padding, warmStart: warmStart,
                               lowResolutionWarmStart: lowResolutionWarmStart, correlation: correlation,
                               bidirectional: bidirectional, workspace: workspace ?? Workspace(),
                               onIteration: onIteration.map { f in { _, iteration in f(iteration) } }, shouldStop: nil)
        guard let estimate else { preconditionFailure("an estimate without a stop condition always finishes") }
        return estimate
    }

    /// Estimates the optical flow from `image1` to `image2` in a task: the same result as the synchronous
    /// ``estimate(from:to:iterations:padding:warmStart:lowResolutionWarmStart:correlation:bidirectional:workspace:onIteration:)``,
    /// computed on the calling task's thread (the kernels use RAFTKit's worker threads), checking for cancellation
    /// before every iteration.
    ///
    /// ```swift
    /// let task = Task { try await raft.estimate(from: frame1, to: frame2, progress: { print($0.fractionCompleted) }) }
    /// task.cancel()            // the estimate stops before its next iteration and throws CancellationError
    /// ```
    /// - Parameters:
    ///   - image1: the first frame (RGB on the 0…255 scale); any size whose padded size is at least 128×128.
    ///   - image2: the second frame, of the same size.
    ///   - iterations: recurrent refinement steps per direction.
    ///   - padding: ``InputPadder/Mode/sintel`` (centred) or ``InputPadder/Mode/kitti`` (bottom).
    ///   - warmStart: an initial full-resolution flow, averaged down to 1/8 (forward direction only).
    ///   - correlation: all-pairs, on-demand, or automatic by memory budget.
    ///   - bidirectional: also estimate the backward flow and the occlusion mask.
    ///   - progress: called on the computing thread after every iteration.
    /// - Throws: `CancellationError` when the task is cancelled (before the next iteration starts), otherwise
    ///   ``FlowEstimatorError`` as the synchronous `estimate`.
    public func estimate(from image1: RGBImage, to image2: RGBImage, iterations: Int = 12,
                         padding: InputPadder.Mode = .sintel, warmStart: FlowField? = nil,
                         correlation: CorrelationMode = .automatic, bidirectional: Bool = false,
                         progress: (@Sendable (FlowProgress) -> Void)? = nil) async throws -> FlowEstimate {
        try Task.checkCancellation()
        let passes = bidirectional ? 2 : 1
        let estimate = try run(image1, image2, iterations: iterations, padding: padding, warmStart: warmStart,
                               lowResolutionWarmStart: nil, correlation: correlation, bidirectional: bidirectional,
                               workspace: Workspace(),
                               onIteration: progress.map { report in { backward, iteration in
                                   report(FlowProgress(direction: backward ? .backward : .forward,
                                                       iteration: iteration.index, iterations: iterations, passes: passes))
                               } },
                               shouldStop: { Task.isCancelled })
        guard let estimate else { throw CancellationError() }
        return estimate
    }

    /// Both estimates; nil when `shouldStop` (asked before every iteration) answered true.
    private func run(_ image1: RGBImage, _ image2: RGBImage, iterations: Int, padding: InputPadder.Mode,
                     warmStart: FlowField?, lowResolutionWarmStart: Tensor?, correlation: CorrelationMode,
                     bidirectional: Bool, workspace: Workspace,
                     onIteration: ((_ backward: Bool, RAFTIteration) -> Void)?,
                     shouldStop: (() -> Bool)?) throws(FlowEstimatorError) -> FlowEstimate? {
        guard image1.width == image2.width, image1.height == image2.height else {
            throw .sizeMismatch(first: "image1", firstSize: (image1.width, image1.height),
                                second: "image2", secondSize: (image2.width, image2.height))
        }
        guard image1.width > 0, image1.height > 0 else {
            throw .model(.invalidShape(input: "image1", shape: [1, 3, image1.height, image1.width],
                                       expected: "[N, 3, H, W] with N, H, W ≥ 1"))
        }
        var initial = lowResolutionWarmStart
        if initial == nil, let warmStart {
            guard warmStart.width == image1.width, warmStart.height == image1.height else {
                throw .sizeMismatch(first: "image1", firstSize: (image1.width, image1.height),
                                    second: "warm-start flow", secondSize: (warmStart.width, warmStart.height))
            }
            guard !warmStart.hasNonFinite else { throw .model(.nonFinite(input: "warm-start flow", index: [])) }
            initial = Self.lowResolution(warmStart, padding: padding)
        }
        let options = RAFTOptions(iterations: iterations, padding: padding, correlation: correlation, precision: precision)
        do throws(RAFTError) {
            if bidirectional {
                guard let (forward, backward) = try model.bidirectional(image1.tensor, image2.tensor, flowInit: initial,
                                                                        options: options, workspace: workspace,
                                                                        onIteration: onIteration, shouldStop: shouldStop)
                else { return nil }
                guard RAFT.firstNonFinite(forward.flow) == nil, RAFT.firstNonFinite(backward.flow) == nil else {
                    throw RAFTError.nonFiniteOutput
                }
                var estimate = FlowEstimate(forward)
                let backwardFlow = FlowField(unchecked: backward.flow)
                estimate.backward = backwardFlow
                estimate.backwardLowResolution = backward.lowResolutionFlow
                estimate.timings = forward.timings + backward.timings
                estimate.occlusion = try? FlowOcclusion.forwardBackward(forward: estimate.flow, backward: backwardFlow)
                return estimate
            }
            let iterationHandler = onIteration.map { f in { (iteration: RAFTIteration) in f(false, iteration) } }
            if let shouldStop {
                let output = try model(image1.tensor, image2.tensor, flowInit: initial, options: options, workspace: workspace,
                                       onIteration: iterationHandler, shouldStop: shouldStop)
                if let output, RAFT.firstNonFinite(output.flow) != nil { throw RAFTError.nonFiniteOutput }
                return output.map(FlowEstimate.init)
            }
            return FlowEstimate(try model(image1.tensor, image2.tensor, flowInit: initial, options: options,
                                          workspace: workspace, onIteration: iterationHandler))
        } catch .nonFiniteOutput {
            throw .nonFiniteFlow(weights: weights)
        } catch {
            throw .model(error)
        }
    }

    /// A ``FlowSequence`` on this model, for the frames of a video: feed it ``RGBImage`` frames one by one with
    /// ``FlowSequence/append(_:)-(RGBImage)`` (or let ``FlowSequence/estimate(pairs:frame:result:)`` load them and
    /// handle the results on background threads). Consecutive pairs share the feature maps of their common
    /// frame, so each frame goes through the feature encoder once; the flow is the same as
    /// ``estimate(from:to:iterations:padding:warmStart:lowResolutionWarmStart:correlation:bidirectional:workspace:onIteration:)``
    /// on each pair with the same settings (and, with `warmStart`, the previous pair's forward-interpolated
    /// ``FlowEstimate/lowResolution`` as `lowResolutionWarmStart`).
    /// - Parameters:
    ///   - iterations: recurrent refinement steps per pair.
    ///   - padding: ``InputPadder/Mode/sintel`` (centred) or ``InputPadder/Mode/kitti`` (bottom).
    ///   - correlation: all-pairs, on-demand, or automatic by memory budget.
    ///   - warmStart: start each pair from the previous pair's forward-interpolated flow (RAFT's video mode).
    /// - Returns: a new sequence with its own workspace (`Sendable`; concurrent calls on it are serialised).
    public func sequence(iterations: Int = 12, padding: InputPadder.Mode = .sintel, correlation: CorrelationMode = .automatic,
                         warmStart: Bool = true) -> FlowSequence {
        FlowSequence(model: model, options: RAFTOptions(iterations: iterations, padding: padding, correlation: correlation,
                                                        precision: precision),
                     warmStart: warmStart)
    }

    /// The official video warm start: forward-splats a 1/8-resolution flow `[N, 2, h, w]` (core/utils/utils.py,
    /// `forward_interpolate`).
    /// - Throws: ``RAFTError/invalidShape(input:shape:expected:)`` for another shape.
    public static func forwardInterpolate(_ lowResolution: Tensor) throws(RAFTError) -> Tensor {
        try RAFT.forwardInterpolate(lowResolution)
    }

    /// A full-resolution flow as RAFT's `flow_init`: padded like the frames, 8×8 block means, divided by 8.
    static func lowResolution(_ flow: FlowField, padding: InputPadder.Mode) -> Tensor {
        let padder = InputPadder(unchecked: flow.height, flow.width, mode: padding, minimumSize: RAFT.minimumSize)   // H, W ≥ 1: checked by `run`
        let padded = padder.pad(unchecked: flow.tensor)
        let (h, w) = (padder.paddedHeight / 8, padder.paddedWidth / 8)
        var out = Tensor(shape: [1, 2, h, w])
        let dst = out.mutablePointer(), src = padded.pointer
        let W = padder.paddedWidth, plane = padder.paddedHeight * W
        for c in 0..<2 {
            for y in 0..<h {
                for x in 0..<w {
                    var s: Float = 0
                    for dy in 0..<8 { for dx in 0..<8 { s += src[c * plane + (8 * y + dy) * W + 8 * x + dx] } }
                    dst[(c * h + y) * w + x] = s / (64 * 8)
                }
            }
        }
        return out
    }
}

/// The result of ``FlowEstimator/estimate(from:to:iterations:padding:warmStart:lowResolutionWarmStart:correlation:bidirectional:workspace:onIteration:)``.
public struct FlowEstimate: Sendable {
    /// Flow from the first frame to the second at full resolution, in pixels.
    public var flow: FlowField
    /// The 1/8-resolution flow `[1, 2, h, w]` of the padded frames (for a warm start of the next pair).
    public var lowResolution: Tensor
    /// Where the time went (both directions together for a bidirectional estimate).
    public var timings: RAFTTimings
    /// With `bidirectional`: the flow from the second frame to the first, at full resolution.
    public var backward: FlowField? = nil
    /// With `bidirectional`: the backward direction's 1/8-resolution flow.
    public var backwardLowResolution: Tensor? = nil
    /// With `bidirectional`: the pixels of the first frame that are occluded in the second (or leave it), from the
    /// forward–backward check of ``FlowOcclusion/forwardBackward(forward:backward:alpha1:alpha2:)`` with its
    /// default tolerances.
    public var occlusion: PixelMask? = nil
}

/// How far an asynchronous ``FlowEstimator`` estimate has come, reported after every iteration.
public struct FlowProgress: Sendable, Equatable {
    /// Which flow the iteration refined.
    public enum Direction: Sendable, Equatable {
        /// frame 1 → frame 2
        case forward
        /// frame 2 → frame 1 (bidirectional estimates only, after the forward direction)
        case backward
    }

    public var direction: Direction
    /// The iteration just finished, 1…``iterations``.
    public var iteration: Int
    /// Iterations per direction.
    public var iterations: Int
    /// 1 or 2 (bidirectional).
    public var passes: Int

    public init(direction: Direction, iteration: Int, iterations: Int, passes: Int) {
        (self.direction, self.iteration, self.iterations, self.passes) = (direction, iteration, iterations, passes)
    }

    /// The iterations finished over all of them, 0…1.
    public var fractionCompleted: Double {
        let done = (direction == .backward ? iterations : 0) + iteration
        return Double(done) / Double(max(1, iterations * passes))
    }
}

/// Why ``FlowEstimator`` (or a tool built on it) could not estimate flow.
public enum FlowEstimatorError: Error, Sendable, CustomStringConvertible {
    /// The network refused its inputs (non-finite values, …).
    case model(RAFTError)
    /// Two inputs that must have the same size do not.
    case sizeMismatch(first: String, firstSize: (width: Int, height: Int), second: String, secondSize: (width: Int, height: Int))
    /// An input path does not exist.
    case missingInput(path: String)
    /// A sequence needs at least two frames.
    case sequenceTooShort(count: Int)
    /// No prediction file has a ground-truth file of the same name.
    case noMatchingFiles(predictions: String, groundTruth: String)
    /// The flow came out NaN or infinite from finite frames: the weights overflow Float (see
    /// ``WeightsSummary/hasSuspiciousValues``).
    case nonFiniteFlow(weights: WeightsSummary?)
    /// An argument outside its domain (e.g. pair indices that do not increase).
    case invalidArgument(name: String, reason: String)

    public var description: String {
        switch self {
        case let .model(e): "\(e)"
        case let .sizeMismatch(a, sa, b, sb): "'\(b)' is \(sb.width)x\(sb.height) but '\(a)' is \(sa.width)x\(sa.height); they must be the same size"
        case let .missingInput(p): "\(p): no such file or directory"
        case let .sequenceTooShort(n): "a sequence needs at least 2 frames, found \(n)"
        case let .noMatchingFiles(p, g): "no file in '\(p)' has a ground-truth file of the same name in '\(g)'"
        case let .nonFiniteFlow(weights?):
            "the flow is NaN or infinite: the weights '\(weights.file)' overflow Float arithmetic (largest |w| "
                + String(format: "%.3g", weights.largestMagnitude) + " in '\(weights.largestMagnitudeKey)')"
        case .nonFiniteFlow(nil):
            "the flow is NaN or infinite: the model's weights overflow Float arithmetic"
        case let .invalidArgument(name, reason): "invalid \(name): \(reason)"
        }
    }
}
