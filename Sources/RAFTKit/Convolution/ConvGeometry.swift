/// Kernel size, stride, symmetric zero padding and dilation of a 2-D convolution.
public struct ConvGeometry: Sendable, Hashable, CustomStringConvertible {
    public var kernelHeight: Int, kernelWidth: Int
    public var strideY: Int, strideX: Int
    public var paddingY: Int, paddingX: Int
    public var dilationY: Int, dilationX: Int

    /// A geometry written in the program (RAFT's layers are literals). Like `a..<b` with `a > b`, a non-positive
    /// kernel side, stride or dilation or a negative padding is a programmer error and traps; values from outside
    /// the program go through ``init(validatingKernel:stride:padding:dilation:)``.
    public init(kernel: (height: Int, width: Int), stride: (y: Int, x: Int) = (1, 1),
                padding: (y: Int, x: Int) = (0, 0), dilation: (y: Int, x: Int) = (1, 1)) {
        precondition(Self.isValid(kernel: kernel, stride: stride, padding: padding, dilation: dilation),
                     "invalid convolution geometry")
        kernelHeight = kernel.height; kernelWidth = kernel.width
        strideY = stride.y; strideX = stride.x
        paddingY = padding.y; paddingX = padding.x
        dilationY = dilation.y; dilationX = dilation.x
    }

    /// Square kernel with "same"-style padding `dilation·(k−1)/2` unless given.
    public init(square k: Int, stride: Int = 1, padding: Int? = nil, dilation: Int = 1) {
        let p = padding ?? dilation * (k - 1) / 2
        self.init(kernel: (k, k), stride: (stride, stride), padding: (p, p), dilation: (dilation, dilation))
    }

    /// Output extent for an input of `height × width` (PyTorch's floor rule).
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        let oh = (height + 2 * paddingY - dilationY * (kernelHeight - 1) - 1) / strideY + 1
        let ow = (width + 2 * paddingX - dilationX * (kernelWidth - 1) - 1) / strideX + 1
        return (max(oh, 0), max(ow, 0))
    }

    /// True when the convolution is a plain matrix product over channels (1×1, stride 1, no padding).
    public var isPointwise: Bool {
        kernelHeight == 1 && kernelWidth == 1 && strideY == 1 && strideX == 1 && paddingY == 0 && paddingX == 0
    }

    public var description: String {
        "\(kernelHeight)x\(kernelWidth) s\(strideY),\(strideX) p\(paddingY),\(paddingX) d\(dilationY),\(dilationX)"
    }
}
