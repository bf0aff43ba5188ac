/// Throwing forms of ``Conv2d``'s initialiser and forward passes, for parameters and inputs from outside the
/// program. The non-throwing forms keep their contracts (documented there) and trap when they are broken.
extension Conv2d {
    /// ``init(weight:bias:geometry:algorithm:)`` with its contract checked.
    /// - Throws: ``LayerError/parameterShape(layer:parameter:expected:found:)`` for a weight that is not
    ///   `[outputChannels, inputChannels, kh, kw]` with the geometry's kernel, or a bias without one value per
    ///   output channel; ``LayerError/unsupportedAlgorithm(_:_:)`` for an `algorithm` that cannot compute `geometry`.
    public init(validatingWeight weight: Tensor, bias: Tensor? = nil, geometry: ConvGeometry,
                algorithm: ConvolutionAlgorithm? = nil) throws(LayerError) {
        let (kh, kw) = (geometry.kernelHeight, geometry.kernelWidth)
        guard weight.rank == 4 && weight.shape[2] == kh && weight.shape[3] == kw else {
            throw .parameterShape(layer: "Conv2d", parameter: "weight",
                                  expected: "[outputChannels, inputChannels, \(kh), \(kw)]", found: weight.shape)
        }
        if let bias, bias.count != weight.shape[0] {
            throw .parameterShape(layer: "Conv2d", parameter: "bias", expected: "[\(weight.shape[0])]", found: bias.shape)
        }
        if let algorithm, !algorithm.supports(geometry) { throw .unsupportedAlgorithm(algorithm, geometry) }
        self.init(weight: weight, bias: bias, geometry: geometry, algorithm: algorithm)
    }

    /// ``callAsFunction(_:activation:)`` with the input's shape checked.
    /// - Throws: ``TensorError/shapeMismatch(argument:expected:found:)`` unless `x` is `[N, inputChannels, H, W]`.
    public func callAsFunction(checking x: Tensor, activation: Activation = .identity) throws(TensorError) -> Tensor {
        try Tensor.check(x, "Conv2d input", [nil, inputChannels, nil, nil])
        return self(x, activation: activation)
    }

    /// ``forward(_:into:workspace:activation:)`` with the input's shape checked.
    /// - Throws: ``TensorError/shapeMismatch(argument:expected:found:)`` unless `input` is
    ///   `[N, inputChannels, H, W]`.
    public func forward(checking input: Tensor, into output: inout Tensor, workspace: Workspace,
                        activation: Activation = .identity) throws(TensorError) {
        try Tensor.check(input, "Conv2d input", [nil, inputChannels, nil, nil])
        forward(input, into: &output, workspace: workspace, activation: activation)
    }

    /// ``stacked(_:)`` with its contract checked.
    /// - Throws: ``LayerError/mismatch(layer:expected:found:)`` for no convolutions, or convolutions that differ
    ///   in geometry or input channels.
    public static func stacking(_ convs: [Conv2d]) throws(LayerError) -> Conv2d {
        guard let first = convs.first else {
            throw .mismatch(layer: "Conv2d.stacked", expected: "at least one convolution", found: "none")
        }
        for c in convs where c.geometry != first.geometry || c.inputChannels != first.inputChannels {
            throw .mismatch(layer: "Conv2d.stacked",
                            expected: "\(first.geometry), \(first.inputChannels) input channels",
                            found: "\(c.geometry), \(c.inputChannels) input channels")
        }
        return stacked(convs)
    }
}
