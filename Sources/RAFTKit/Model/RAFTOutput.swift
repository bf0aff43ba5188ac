/// Settings of one ``RAFT`` inference.
public struct RAFTOptions: Sendable, Hashable {
    /// Update iterations (official: 12 by default, 20 in the demo, 24 for KITTI, 32 for Sintel).
    public var iterations: Int
    /// Where padding to a multiple of 8 goes.
    public var padding: InputPadder.Mode
    /// All-pairs volume, on-demand dot products, or automatic by memory budget.
    public var correlation: CorrelationMode
    /// Upsample every iteration's flow (for ``RAFTIteration/flow``), not only the last one. Costs the mask head
    /// and the upsampler each iteration.
    public var upsampleEveryIteration: Bool
    /// The convolutions' arithmetic: ``Precision/float32`` (default), or ``Precision/bfloat16`` where the CPU has
    /// AVX512_BF16 (float32 elsewhere; ``Precision/effective``).
    public var precision: Precision
    /// Overrides ``precision`` for tests and accuracy measurements (the bf16 kernel's portable emulation).
    package var arithmeticOverride: GEMMArithmetic? = nil

    public init(iterations: Int = 12, padding: InputPadder.Mode = .sintel, correlation: CorrelationMode = .automatic,
                upsampleEveryIteration: Bool = false, precision: Precision = .float32) {
        self.iterations = iterations
        self.padding = padding
        self.correlation = correlation
        self.upsampleEveryIteration = upsampleEveryIteration
        self.precision = precision
    }

    /// How this pass's convolution GEMMs are computed.
    var arithmetic: GEMMArithmetic { arithmeticOverride ?? precision.arithmetic }
}

/// One update iteration's result, handed to the `onIteration` callback of ``RAFT`` (fresh copies).
public struct RAFTIteration: Sendable {
    /// 1-based iteration number.
    public let index: Int
    /// `[N, 2, h, w]` flow at 1/8 of the padded resolution, in 1/8-resolution pixels.
    public let lowResolutionFlow: Tensor
    /// `[N, 2, H, W]` full-resolution, unpadded flow; only when upsampling every iteration was requested (and
    /// always for the last iteration).
    public let flow: Tensor?
}

/// Wall-clock time of each stage of one inference (all samples together).
public struct RAFTTimings: Sendable, Hashable, CustomStringConvertible {
    /// Input padding and normalisation.
    public var preprocessing: Duration = .zero
    /// fnet on the frames it ran on: both, or only the second when a ``FlowSequence`` reused the first frame's
    /// features from the previous pair.
    public var featureEncoder: Duration = .zero
    /// cnet on the first frame, with the tanh/ReLU split.
    public var contextEncoder: Duration = .zero
    /// All-pairs GEMM and pooling, or preparing the on-demand feature maps.
    public var correlationVolume: Duration = .zero
    /// Correlation look-ups, all iterations.
    public var lookups: Duration = .zero
    /// Update block steps (motion encoder, GRU, heads), all iterations.
    public var updates: Duration = .zero
    /// Convex / bilinear upsampling and unpadding.
    public var upsampling: Duration = .zero
    /// The whole call.
    public var total: Duration = .zero

    public init() {}

    /// Stage by stage, the sum of two calls' timings (both directions of a bidirectional estimate).
    public static func + (a: RAFTTimings, b: RAFTTimings) -> RAFTTimings {
        var t = RAFTTimings()
        for stage in [\RAFTTimings.preprocessing, \.featureEncoder, \.contextEncoder, \.correlationVolume, \.lookups,
                      \.updates, \.upsampling, \.total] {
            t[keyPath: stage] = a[keyPath: stage] + b[keyPath: stage]
        }
        return t
    }

    /// `(name, duration)` pairs in pipeline order.
    public var stages: [(name: String, duration: Duration)] {
        [("preprocessing", preprocessing), ("feature encoder", featureEncoder), ("context encoder", contextEncoder),
         ("correlation volume", correlationVolume), ("look-ups", lookups), ("updates", updates),
         ("upsampling", upsampling), ("total", total)]
    }

    public var description: String {
        stages.map { "\($0.name) \(Self.milliseconds($0.duration))" }.joined(separator: ", ")
    }

    /// `d` in milliseconds with one decimal, e.g. "12.3 ms".
    public static func milliseconds(_ d: Duration) -> String {
        let ms = Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) * 1e-15
        return "\((ms * 10).rounded() / 10) ms"
    }
}

/// The result of one ``RAFT`` inference.
public struct RAFTOutput: Sendable {
    /// `[N, 2, H, W]`: the final flow at the input resolution (padding removed), in pixels, channel 0 = u
    /// (rightwards), 1 = v (downwards).
    public var flow: Tensor
    /// `[N, 2, h, w]` with `h = paddedHeight/8`: the final flow at 1/8 resolution in 1/8-resolution pixels
    /// (the official `flow_low`; feed it to ``RAFT/forwardInterpolate(_:)`` for a video warm start).
    public var lowResolutionFlow: Tensor
    /// The padding that was applied.
    public var padder: InputPadder
    /// The correlation strategy that ran (``CorrelationMode/allPairs`` or ``CorrelationMode/onDemand``).
    public var correlation: CorrelationMode
    /// Iterations run.
    public var iterations: Int
    /// Per-stage wall-clock times.
    public var timings: RAFTTimings
}
