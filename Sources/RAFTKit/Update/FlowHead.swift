/// Predicts the flow update from the GRU hidden state (core/update.py, `FlowHead`):
/// `Δflow = conv2(ReLU(conv1(h)))`, both 3×3 with padding 1, no output activation.
/// RAFT: 128→256→2 (299,778 parameters); RAFT-S: 96→128→2 (113,026).
public struct FlowHead: Sendable, ConvolutionHead {
    /// `conv1`, hidden → intermediate, 3×3.
    public let conv1: Conv2d
    /// `conv2`, intermediate → 2, 3×3.
    public let conv2: Conv2d

    static let geometry = ConvGeometry(square: 3)

    /// A head from its two convolutions: 3×3, padding 1, chaining to 2 outputs. Parts that do not fit are a
    /// programmer error and trap; ``init(validatingConv1:conv2:)`` throws instead.
    public init(conv1: Conv2d, conv2: Conv2d) {
        if let problem = Self.mismatch(conv1, conv2) { preconditionFailure("\(problem)") }
        self.conv1 = conv1
        self.conv2 = conv2
    }

    /// ``init(conv1:conv2:)`` with its contract checked.
    /// - Throws: ``LayerError/mismatch(layer:expected:found:)`` for convolutions that are not 3×3 with padding 1
    ///   or do not chain to 2 outputs.
    public init(validatingConv1 conv1: Conv2d, conv2: Conv2d) throws(LayerError) {
        if let problem = Self.mismatch(conv1, conv2) { throw problem }
        self.init(conv1: conv1, conv2: conv2)
    }

    static func mismatch(_ conv1: Conv2d, _ conv2: Conv2d) -> LayerError? {
        if conv1.geometry != geometry || conv2.geometry != geometry {
            return .mismatch(layer: "FlowHead", expected: "two \(geometry) convolutions",
                             found: "\(conv1.geometry), \(conv2.geometry)")
        }
        if conv1.outputChannels != conv2.inputChannels || conv2.outputChannels != 2 {
            return .mismatch(layer: "FlowHead", expected: "conv1 → conv2 → 2 channels",
                             found: "\(conv1.inputChannels) → \(conv1.outputChannels), \(conv2.inputChannels) → \(conv2.outputChannels)")
        }
        return nil
    }

    /// A head with zero weights.
    public init(inputChannels: Int, hiddenChannels: Int) {
        self.init(conv1: Conv2d(inputChannels: inputChannels, outputChannels: hiddenChannels, geometry: Self.geometry),
                  conv2: Conv2d(inputChannels: hiddenChannels, outputChannels: 2, geometry: Self.geometry))
    }

    /// Reads `prefix.conv1` and `prefix.conv2` (official names, e.g. `update_block.flow_head`).
    package init(parameters: ParameterReader, prefix: String, inputChannels: Int, hiddenChannels: Int) throws(WeightsError) {
        self.init(conv1: try parameters.conv("\(prefix).conv1", inputChannels: inputChannels, outputChannels: hiddenChannels,
                                             geometry: Self.geometry),
                  conv2: try parameters.conv("\(prefix).conv2", inputChannels: hiddenChannels, outputChannels: 2,
                                             geometry: Self.geometry))
    }

    /// One sample (``ConvolutionHead``'s scratch).
    /// - Parameters:
    ///   - hidden: `[inputChannels, height, width]`.
    ///   - output: Δflow `[2, height, width]`.
    package func forward(_ hidden: UnsafePointer<Float>, height: Int, width: Int,
                         output: UnsafeMutablePointer<Float>, workspace: Workspace) {
        applyConvolutions(hidden, height: height, width: width, output: output, workspace: workspace)
    }

    /// A batch (allocating convenience).
    /// - Parameter hidden: `[N, inputChannels, h, w]`.
    /// - Returns: Δflow `[N, 2, h, w]`.
    /// - Throws: ``TensorError/shapeMismatch(argument:expected:found:)`` for another shape of `hidden`.
    public func callAsFunction(_ hidden: Tensor) throws(TensorError) -> Tensor {
        try Tensor.check(hidden, "FlowHead hidden", [nil, inputChannels, nil, nil])
        return conv2(conv1(hidden, activation: .relu))
    }
}
