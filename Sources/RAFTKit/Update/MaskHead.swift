/// Predicts the convex-upsampling weights from the GRU hidden state (core/update.py, `BasicUpdateBlock.mask`):
/// `mask = 0.25 · conv2(ReLU(conv1(h)))` with conv1 3×3 (128→256, `mask.0`) and conv2 1×1 (256→576,
/// `mask.2`). The 576 = 9·8·8 channels are the logits of ``ConvexUpsampler`` (channel `64·k + 8·a + b`).
/// The 0.25 is part of the released models (only a gradient-balancing trick in training, princeton-vl/RAFT issue #24).
/// 443,200 parameters; RAFT-S has no mask head.
public struct MaskHead: Sendable, ConvolutionHead {
    /// `mask.0`, hidden → intermediate, 3×3 padding 1, followed by ReLU.
    public let conv1: Conv2d
    /// `mask.2`, intermediate → 576, 1×1.
    public let conv2: Conv2d
    /// Factor applied to the logits (0.25 in RAFT).
    public let scale: Float

    /// Output channels: 9 neighbours × 8 × 8 sub-pixels.
    public static let outputChannels = 576
    static let geometry1 = ConvGeometry(square: 3)
    static let geometry2 = ConvGeometry(square: 1)

    /// A head from its two convolutions: 3×3 with padding 1, then 1×1, chaining to 576 outputs. Parts that do
    /// not fit are a programmer error and trap; ``init(validatingConv1:conv2:scale:)`` throws instead.
    public init(conv1: Conv2d, conv2: Conv2d, scale: Float = 0.25) {
        if let problem = Self.mismatch(conv1, conv2) { preconditionFailure("\(problem)") }
        self.conv1 = conv1
        self.conv2 = conv2
        self.scale = scale
    }

    /// ``init(conv1:conv2:scale:)`` with its contract checked.
    /// - Throws: ``LayerError/mismatch(layer:expected:found:)`` for convolutions that are not 3×3 (padding 1) then
    ///   1×1, or do not chain to 576 outputs.
    public init(validatingConv1 conv1: Conv2d, conv2: Conv2d, scale: Float = 0.25) throws(LayerError) {
        if let problem = Self.mismatch(conv1, conv2) { throw problem }
        self.init(conv1: conv1, conv2: conv2, scale: scale)
    }

    static func mismatch(_ conv1: Conv2d, _ conv2: Conv2d) -> LayerError? {
        if conv1.geometry != geometry1 || conv2.geometry != geometry2 {
            return .mismatch(layer: "MaskHead", expected: "\(geometry1) then \(geometry2)",
                             found: "\(conv1.geometry), \(conv2.geometry)")
        }
        if conv1.outputChannels != conv2.inputChannels || conv2.outputChannels != outputChannels {
            return .mismatch(layer: "MaskHead", expected: "conv1 → conv2 → \(outputChannels) channels",
                             found: "\(conv1.inputChannels) → \(conv1.outputChannels), \(conv2.inputChannels) → \(conv2.outputChannels)")
        }
        return nil
    }

    /// A head with zero weights.
    public init(inputChannels: Int = 128, hiddenChannels: Int = 256) {
        self.init(conv1: Conv2d(inputChannels: inputChannels, outputChannels: hiddenChannels, geometry: Self.geometry1),
                  conv2: Conv2d(inputChannels: hiddenChannels, outputChannels: Self.outputChannels, geometry: Self.geometry2))
    }

    /// Reads `prefix.0` and `prefix.2` (official names: `update_block.mask.0`, `update_block.mask.2`).
    package init(parameters: ParameterReader, prefix: String, inputChannels: Int, hiddenChannels: Int = 256) throws(WeightsError) {
        self.init(conv1: try parameters.conv("\(prefix).0", inputChannels: inputChannels, outputChannels: hiddenChannels,
                                             geometry: Self.geometry1),
                  conv2: try parameters.conv("\(prefix).2", inputChannels: hiddenChannels, outputChannels: Self.outputChannels,
                                             geometry: Self.geometry2))
    }

    /// One sample (``ConvolutionHead``'s scratch).
    /// - Parameters:
    ///   - hidden: `[inputChannels, height, width]`.
    ///   - output: scaled logits `[576, height, width]`.
    package func forward(_ hidden: UnsafePointer<Float>, height: Int, width: Int,
                         output: UnsafeMutablePointer<Float>, workspace: Workspace) {
        applyConvolutions(hidden, height: height, width: width, output: output, workspace: workspace)
        let count = Self.outputChannels * height * width
        let s = scale
        for i in 0..<count { output[i] *= s }
    }

    /// A batch (allocating convenience).
    /// - Parameter hidden: `[N, inputChannels, h, w]`.
    /// - Returns: scaled mask logits `[N, 576, h, w]`.
    /// - Throws: ``TensorError/shapeMismatch(argument:expected:found:)`` for another shape of `hidden`.
    public func callAsFunction(_ hidden: Tensor) throws(TensorError) -> Tensor {
        try Tensor.check(hidden, "MaskHead hidden", [nil, inputChannels, nil, nil])
        var out = conv2(conv1(hidden, activation: .relu))
        let s = scale
        out.withUnsafeMutableBufferPointer { for i in $0.indices { $0[i] *= s } }
        return out
    }
}
