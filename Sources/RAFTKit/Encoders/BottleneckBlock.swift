/// The bottleneck block of RAFT's `SmallEncoder` (core/extractor.py, `BottleneckBlock`):
///
///     y   = ReLU(norm3(conv3(ReLU(norm2(conv2(ReLU(norm1(conv1(x)))))))))   1×1 → 3×3 stride s → 1×1, width planes/4
///     out = ReLU(shortcut(x) + y)                                           shortcut = x, or norm4(1×1 conv stride s)
///
/// Parameter names: `conv1…3`, `norm1…3`, and for stride 2 `downsample.0` / `downsample.1` (official
/// checkpoints may repeat the latter as `norm4`, accepted and ignored).
public struct BottleneckBlock: Sendable {
    public let inputChannels: Int
    public let planes: Int
    public let stride: Int
    let conv1: Conv2d, norm1: NormLayer
    let conv2: Conv2d, norm2: NormLayer
    let conv3: Conv2d, norm3: NormLayer
    let shortcut: Shortcut

    package init(parameters: ParameterReader, prefix: String, inputChannels: Int, planes: Int, stride: Int,
                 normalization: Normalization) throws(WeightsError) {
        let mid = planes / 4, groups = max(planes / 8, 1)
        self.inputChannels = inputChannels
        self.planes = planes
        self.stride = stride
        conv1 = try parameters.conv(prefix + ".conv1", inputChannels: inputChannels, outputChannels: mid,
                                    geometry: ConvGeometry(square: 1, padding: 0))
        norm1 = try NormLayer(normalization, channels: mid, groups: groups, parameters: parameters, prefix: prefix + ".norm1")
        conv2 = try parameters.conv(prefix + ".conv2", inputChannels: mid, outputChannels: mid,
                                    geometry: ConvGeometry(square: 3, stride: stride, padding: 1))
        norm2 = try NormLayer(normalization, channels: mid, groups: groups, parameters: parameters, prefix: prefix + ".norm2")
        conv3 = try parameters.conv(prefix + ".conv3", inputChannels: mid, outputChannels: planes,
                                    geometry: ConvGeometry(square: 1, padding: 0))
        norm3 = try NormLayer(normalization, channels: planes, groups: groups, parameters: parameters, prefix: prefix + ".norm3")
        shortcut = try Shortcut(parameters: parameters, prefix: prefix, inputChannels: inputChannels, planes: planes,
                                stride: stride, normalization: normalization, groups: groups, alias: "norm4")
    }

    /// Output extent for an `height × width` input (`⌈·/stride⌉`).
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        conv2.outputSize(height: height, width: width)
    }

    /// Learnable parameters.
    public var parameterCount: Int {
        conv1.parameterCount + conv2.parameterCount + conv3.parameterCount
            + norm1.parameterCount + norm2.parameterCount + norm3.parameterCount
            + shortcut.parameterCount
    }

    /// One sample, allocation-free once the workspace has grown. Scratch (the workspace's encoder-block block):
    /// `ReLU(norm1(conv1(x)))` `[planes/4, height, width]`, `ReLU(norm2(conv2(·)))` `[planes/4, oh, ow]` and the
    /// downsampled shortcut `[planes, oh, ow]`.
    /// - Parameters:
    ///   - input: `[inputChannels, height, width]`.
    ///   - output: `[planes, ⌈height/stride⌉, ⌈width/stride⌉]` (must not alias `input`).
    package func forward(_ input: UnsafePointer<Float>, height: Int, width: Int, output: UnsafeMutablePointer<Float>,
                         workspace: Workspace) {
        let (oh, ow) = outputSize(height: height, width: width)
        let pixels = oh * ow
        let mid = conv1.outputChannels
        let (y1, y2, shortcutScratch) = workspace.encoderBlock.carve {
            ($0.take(mid * height * width), $0.take(mid * pixels), $0.take(shortcut.isIdentity ? 0 : planes * pixels))
        }
        conv1.forward(input, height: height, width: width, output: y1, workspace: workspace)
        norm1.apply(y1, pixels: height * width, relu: true)
        conv2.forward(y1, height: height, width: width, output: y2, workspace: workspace)
        norm2.apply(y2, pixels: pixels, relu: true)
        conv3.forward(y2, height: oh, width: ow, output: output, workspace: workspace)
        norm3.apply(output, pixels: pixels, relu: true)
        shortcut.add(input, height: height, width: width, to: output, channels: planes, pixels: pixels,
                     scratch: shortcutScratch, workspace: workspace)
    }
}
