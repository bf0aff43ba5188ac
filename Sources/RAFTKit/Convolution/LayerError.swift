/// Why a building block of the research API could not be assembled from the parts it was given. Every case
/// names the layer and says what was expected and what was found.
public enum LayerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A convolution geometry with a non-positive kernel side, stride or dilation, or a negative padding.
    case invalidGeometry(kernel: [Int], stride: [Int], padding: [Int], dilation: [Int])
    /// A parameter of `layer` has shape `found`; `expected` describes the shape it needs.
    case parameterShape(layer: String, parameter: String, expected: String, found: [Int])
    /// The parts of `layer` do not fit together: `expected` is the condition, `found` what the parts have.
    case mismatch(layer: String, expected: String, found: String)
    /// A convolution algorithm that cannot compute this geometry.
    case unsupportedAlgorithm(ConvolutionAlgorithm, ConvGeometry)

    public var description: String {
        switch self {
        case let .invalidGeometry(kernel, stride, padding, dilation):
            "invalid convolution geometry: kernel \(kernel), stride \(stride), padding \(padding), dilation \(dilation) "
                + "(kernel, stride and dilation must be positive, padding non-negative)"
        case let .parameterShape(layer, parameter, expected, found):
            "\(layer) \(parameter) has shape \(found), expected \(expected)"
        case let .mismatch(layer, expected, found):
            "\(layer): expected \(expected), found \(found)"
        case let .unsupportedAlgorithm(algorithm, geometry):
            "\(algorithm) cannot compute a \(geometry) convolution"
        }
    }
}

extension ConvGeometry {
    /// ``init(kernel:stride:padding:dilation:)`` for values from outside the program.
    /// - Throws: ``LayerError/invalidGeometry(kernel:stride:padding:dilation:)`` unless the kernel sides, strides and
    ///   dilations are positive and the paddings non-negative.
    public init(validatingKernel kernel: (height: Int, width: Int), stride: (y: Int, x: Int) = (1, 1),
                padding: (y: Int, x: Int) = (0, 0), dilation: (y: Int, x: Int) = (1, 1)) throws(LayerError) {
        guard Self.isValid(kernel: kernel, stride: stride, padding: padding, dilation: dilation) else {
            throw .invalidGeometry(kernel: [kernel.height, kernel.width], stride: [stride.y, stride.x],
                                   padding: [padding.y, padding.x], dilation: [dilation.y, dilation.x])
        }
        self.init(kernel: kernel, stride: stride, padding: padding, dilation: dilation)
    }

    static func isValid(kernel: (height: Int, width: Int), stride: (y: Int, x: Int), padding: (y: Int, x: Int),
                        dilation: (y: Int, x: Int)) -> Bool {
        kernel.height > 0 && kernel.width > 0 && stride.y > 0 && stride.x > 0
            && padding.y >= 0 && padding.x >= 0 && dilation.y > 0 && dilation.x > 0
    }
}
