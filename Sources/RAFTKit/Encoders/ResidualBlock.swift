/// The residual block of RAFT's `BasicEncoder` (core/extractor.py, `ResidualBlock`):
///
///     y   = ReLU(norm2(conv2(ReLU(norm1(conv1(x))))))     conv1 3×3 stride s, conv2 3×3
///     out = ReLU(shortcut(x) + y)                          shortcut = x, or norm3(1×1 conv stride s) if s = 2
///
/// Parameter names (official, under `prefix`): `conv1`, `norm1`, `conv2`, `norm2`, and for stride 2
/// `downsample.0` (conv) and `downsample.1` (norm). The official checkpoints also hold the stride-2 norm a
/// second time as `norm3` (the same module registered twice); that copy is accepted and ignored.
public struct ResidualBlock: Sendable {
    public let inputChannels: Int
    public let planes: Int
    public let stride: Int
    let conv1: Conv2d, norm1: NormLayer
    let conv2: Conv2d, norm2: NormLayer
    let shortcut: Shortcut

    package init(parameters: ParameterReader, prefix: String, inputChannels: Int, planes: Int, stride: Int,
                 normalization: Normalization) throws(WeightsError) {
        let groups = max(planes / 8, 1)
        self.inputChannels = inputChannels
        self.planes = planes
        self.stride = stride
        conv1 = try parameters.conv(prefix + ".conv1", inputChannels: inputChannels, outputChannels: planes,
                                    geometry: ConvGeometry(square: 3, stride: stride, padding: 1))
        norm1 = try NormLayer(normalization, channels: planes, groups: groups, parameters: parameters, prefix: prefix + ".norm1")
        conv2 = try parameters.conv(prefix + ".conv2", inputChannels: planes, outputChannels: planes,
                                    geometry: ConvGeometry(square: 3, padding: 1))
        norm2 = try NormLayer(normalization, channels: planes, groups: groups, parameters: parameters, prefix: prefix + ".norm2")
        shortcut = try Shortcut(parameters: parameters, prefix: prefix, inputChannels: inputChannels, planes: planes,
                                stride: stride, normalization: normalization, groups: groups, alias: "norm3")
    }

    /// Output extent for an `height × width` input (`⌈·/stride⌉`).
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        conv1.outputSize(height: height, width: width)
    }

    /// Learnable parameters.
    public var parameterCount: Int {
        conv1.parameterCount + conv2.parameterCount + norm1.parameterCount + norm2.parameterCount
            + shortcut.parameterCount
    }

    /// One sample, allocation-free once the workspace has grown. Scratch (the workspace's encoder-block block):
    /// the branch `ReLU(norm1(conv1(x)))` and the downsampled shortcut, `[planes, oh, ow]` each.
    /// - Parameters:
    ///   - input: `[inputChannels, height, width]`.
    ///   - output: `[planes, ⌈height/stride⌉, ⌈width/stride⌉]` (must not alias `input`).
    package func forward(_ input: UnsafePointer<Float>, height: Int, width: Int, output: UnsafeMutablePointer<Float>,
                         workspace: Workspace) {
        let (oh, ow) = outputSize(height: height, width: width)
        let pixels = oh * ow, count = planes * pixels
        let (y1, shortcutScratch) = workspace.encoderBlock.carve {
            ($0.take(count), $0.take(shortcut.isIdentity ? 0 : count))
        }
        conv1.forward(input, height: height, width: width, output: y1, workspace: workspace)
        norm1.apply(y1, pixels: pixels, relu: true)
        conv2.forward(y1, height: oh, width: ow, output: output, workspace: workspace)
        norm2.apply(output, pixels: pixels, relu: true)
        shortcut.add(input, height: height, width: width, to: output, channels: planes, pixels: pixels,
                     scratch: shortcutScratch, workspace: workspace)
    }
}
