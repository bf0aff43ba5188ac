/// A sequence of gated ``ConvGRU`` steps that all read the same input x, each with its own geometry and
/// weights: `h ← step_k(h, x)` for k = 1…n.
///
/// RAFT's `SepConvGRU` is the two-step sequence `[1×5 p(0,2), 5×1 p(2,0)]`
/// (``SeqConvGRU/separable(hiddenChannels:inputChannels:)``): a horizontal then a vertical GRU, which
/// reaches a 9×9 window of the previous hidden state per iteration at the cost of two 5-tap steps. A
/// one-step sequence is a plain ``ConvGRU`` (RAFT-S), so ``UpdateBlock`` holds a `SeqConvGRU` for both
/// variants.
public struct SeqConvGRU: Sendable {
    /// The gated steps, applied in order.
    public let steps: [ConvGRU]

    /// A sequence of steps that agree on hidden and input channels. No steps, or steps that disagree, are a
    /// programmer error and trap; ``init(validatingSteps:)`` throws instead.
    public init(steps: [ConvGRU]) {
        if let problem = Self.mismatch(steps) { preconditionFailure("\(problem)") }
        self.steps = steps
    }

    /// ``init(steps:)`` with its contract checked.
    /// - Throws: ``LayerError/mismatch(layer:expected:found:)`` for no steps or steps that differ in hidden or
    ///   input channels.
    public init(validatingSteps steps: [ConvGRU]) throws(LayerError) {
        if let problem = Self.mismatch(steps) { throw problem }
        self.init(steps: steps)
    }

    static func mismatch(_ steps: [ConvGRU]) -> LayerError? {
        guard let first = steps.first else {
            return .mismatch(layer: "SeqConvGRU", expected: "at least one step", found: "none")
        }
        for s in steps where s.hiddenChannels != first.hiddenChannels || s.inputChannels != first.inputChannels {
            return .mismatch(layer: "SeqConvGRU",
                             expected: "steps of hidden \(first.hiddenChannels), input \(first.inputChannels)",
                             found: "hidden \(s.hiddenChannels), input \(s.inputChannels)")
        }
        return nil
    }

    /// A sequence with zero weights for the given geometries (to be replaced, or for shape and cost queries).
    public init(hiddenChannels: Int, inputChannels: Int, geometries: [ConvGeometry]) {
        self.init(steps: geometries.map { ConvGRU(hiddenChannels: hiddenChannels, inputChannels: inputChannels, geometry: $0) })
    }

    /// Reads step k (1-based) from `prefix.convz{k}`, `prefix.convr{k}`, `prefix.convq{k}`, as RAFT's
    /// `SepConvGRU` names them (`update_block.gru.convz1` … `convq2`).
    package init(parameters: ParameterReader, prefix: String, hiddenChannels: Int, inputChannels: Int,
                 geometries: [ConvGeometry]) throws(WeightsError) {
        var steps: [ConvGRU] = []
        for (k, g) in geometries.enumerated() {
            steps.append(try ConvGRU(parameters: parameters, prefix: prefix, suffix: "\(k + 1)",
                                     hiddenChannels: hiddenChannels, inputChannels: inputChannels, geometry: g))
        }
        self.init(steps: steps)
    }

    /// RAFT's SepConvGRU geometries: 1×5 with padding (0, 2), then 5×1 with padding (2, 0).
    public static let separableGeometries = [ConvGeometry(kernel: (1, 5), padding: (0, 2)),
                                             ConvGeometry(kernel: (5, 1), padding: (2, 0))]

    /// RAFT's SepConvGRU (hidden 128, input 128 context + 128 motion = 256), zero weights.
    public static func separable(hiddenChannels: Int = 128, inputChannels: Int = 256) -> SeqConvGRU {
        SeqConvGRU(hiddenChannels: hiddenChannels, inputChannels: inputChannels, geometries: separableGeometries)
    }

    /// Channels of the hidden state h.
    public var hiddenChannels: Int { steps[0].hiddenChannels }
    /// Channels of the input x.
    public var inputChannels: Int { steps[0].inputChannels }
    /// The kernel geometry of each step, in order (for receptive-field analysis).
    public var geometries: [ConvGeometry] { steps.map(\.geometry) }

    /// Learnable parameters of all steps (RAFT: 1,475,328; RAFT-S's single 3×3 step: 627,552).
    public var parameterCount: Int { steps.reduce(0) { $0 + $1.parameterCount } }

    /// Multiply-accumulates of all gate convolutions for one sample on an `height × width` grid.
    public func multiplyAccumulates(height: Int, width: Int) -> Int {
        steps.reduce(0) { $0 + $1.multiplyAccumulates(height: height, width: width) }
    }

    /// How far h' reaches into the previous h per axis, in grid cells (the sum over steps of ``ConvGRU/reach``):
    /// ±4 on both axes for RAFT's 1×5→5×1 (a 9×9 window), ±2 for a 3×3 step. After n iterations the hidden
    /// state at a cell depends on a `(2·n·reach + 1)²` window of the initial hidden state and context.
    public var reach: (y: Int, x: Int) {
        steps.reduce((0, 0)) { ($0.0 + $1.reach.y, $0.1 + $1.reach.x) }
    }

    /// One application of every step on one sample, updating `hidden` in place; allocation-free once the
    /// workspace's "gru.*" buffers have grown to the largest step.
    /// - Parameters:
    ///   - hidden: `[hiddenChannels, height, width]`, replaced by h'.
    ///   - input: x, `[inputChannels, height, width]`.
    package func step(hidden: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                     height: Int, width: Int, workspace: Workspace) {
        for s in steps { s.step(hidden: hidden, input: input, height: height, width: width, workspace: workspace) }
    }

    /// One application on a batch (allocating convenience).
    /// - Parameters:
    ///   - hidden: `[N, hiddenChannels, h, w]`.
    ///   - input: `[N, inputChannels, h, w]`.
    /// - Returns: h', `[N, hiddenChannels, h, w]`.
    /// - Throws: ``TensorError/shapeMismatch(argument:expected:found:)`` for another shape of `hidden` or `input`.
    public func callAsFunction(hidden: Tensor, input: Tensor) throws(TensorError) -> Tensor {
        var h = hidden
        for s in steps { h = try s(hidden: h, input: input) }
        return h
    }
}
