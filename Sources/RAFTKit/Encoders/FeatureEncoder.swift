/// RAFT's convolutional encoder at 1/8 resolution, used as the feature net (`fnet`) and the context net
/// (`cnet`) (core/extractor.py, `BasicEncoder` / `SmallEncoder`):
///
///     conv1 7×7 stride 2 → norm1 → ReLU → layer1 (2 blocks) → layer2 (stride 2) → layer3 (stride 2) → conv2 1×1
///
/// - ``Layout/basic`` (`BasicEncoder`): stem 64, residual blocks 64/96/128.
/// - ``Layout/small`` (`SmallEncoder`): stem 32, bottleneck blocks 32/64/96.
///
/// Every stride-2 convolution is padded symmetrically, so an `H × W` input gives `⌈⌈⌈H/2⌉/2⌉/2⌉` rows.
public struct FeatureEncoder: Sendable {
    /// Block type and widths.
    public enum Layout: String, Sendable, CaseIterable, Codable {
        /// `BasicEncoder`: stem 64, residual blocks 64, 96, 128.
        case basic
        /// `SmallEncoder`: stem 32, bottleneck blocks 32, 64, 96.
        case small

        /// Stem width followed by the widths of layer1…3.
        public var widths: [Int] { self == .basic ? [64, 64, 96, 128] : [32, 32, 64, 96] }
    }

    enum Block: Sendable {
        case residual(ResidualBlock)
        case bottleneck(BottleneckBlock)

        func forward(_ input: UnsafePointer<Float>, height: Int, width: Int, output: UnsafeMutablePointer<Float>,
                     workspace: Workspace) {
            switch self {
            case let .residual(b): b.forward(input, height: height, width: width, output: output, workspace: workspace)
            case let .bottleneck(b): b.forward(input, height: height, width: width, output: output, workspace: workspace)
            }
        }

        func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
            switch self {
            case let .residual(b): b.outputSize(height: height, width: width)
            case let .bottleneck(b): b.outputSize(height: height, width: width)
            }
        }

        var planes: Int {
            switch self {
            case let .residual(b): b.planes
            case let .bottleneck(b): b.planes
            }
        }

        var parameterCount: Int {
            switch self {
            case let .residual(b): b.parameterCount
            case let .bottleneck(b): b.parameterCount
            }
        }
    }

    public let layout: Layout
    public let normalization: Normalization
    /// Channels of the output (`conv2`): fnet 256/128, cnet hidden + context = 256/160.
    public let outputChannels: Int
    let stem: Conv2d
    let stemNorm: NormLayer
    let blocks: [Block]
    let head: Conv2d

    /// Builds the encoder from official parameter names under `prefix` (e.g. `fnet`, `cnet`).
    package init(layout: Layout, normalization: Normalization, outputChannels: Int,
                 parameters: ParameterReader, prefix: String) throws(WeightsError) {
        let widths = layout.widths
        self.layout = layout
        self.normalization = normalization
        self.outputChannels = outputChannels
        stem = try parameters.conv(prefix + ".conv1", inputChannels: 3, outputChannels: widths[0],
                                   geometry: ConvGeometry(square: 7, stride: 2, padding: 3))
        stemNorm = try NormLayer(normalization, channels: widths[0], groups: 8, parameters: parameters, prefix: prefix + ".norm1")
        var blocks: [Block] = []
        var channels = widths[0]
        for (layer, planes) in widths.dropFirst().enumerated() {
            for index in 0..<2 {
                let blockPrefix = "\(prefix).layer\(layer + 1).\(index)"
                let stride = layer > 0 && index == 0 ? 2 : 1
                switch layout {
                case .basic:
                    blocks.append(.residual(try ResidualBlock(parameters: parameters, prefix: blockPrefix, inputChannels: channels,
                                                              planes: planes, stride: stride, normalization: normalization)))
                case .small:
                    blocks.append(.bottleneck(try BottleneckBlock(parameters: parameters, prefix: blockPrefix, inputChannels: channels,
                                                                  planes: planes, stride: stride, normalization: normalization)))
                }
                channels = planes
            }
        }
        self.blocks = blocks
        head = try parameters.conv(prefix + ".conv2", inputChannels: channels, outputChannels: outputChannels,
                                   geometry: ConvGeometry(square: 1, padding: 0))
    }

    /// Builds the encoder from a state dict with official names under `prefix`; every key under `prefix.`
    /// must be used.
    /// - Throws: ``WeightsError`` naming a missing, misshapen, non-finite or unexpected parameter.
    public init(layout: Layout, normalization: Normalization, outputChannels: Int, stateDict: StateDict,
                prefix: String) throws(WeightsError) {
        let reader = ParameterReader(stateDict)
        try self.init(layout: layout, normalization: normalization, outputChannels: outputChannels,
                      parameters: reader, prefix: prefix)
        try reader.finish(under: prefix + ".")
    }

    /// Output extent `(h, w)` for an `height × width` image.
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        var size = stem.outputSize(height: height, width: width)
        for b in blocks { size = b.outputSize(height: size.height, width: size.width) }
        return size
    }

    /// Learnable parameters (fnet basic 1,066,848; cnet basic 1,069,728; small 55,264 / 58,368).
    public var parameterCount: Int {
        stem.parameterCount + stemNorm.parameterCount + blocks.reduce(0) { $0 + $1.parameterCount } + head.parameterCount
    }

    /// Encodes one image, allocation-free once the workspace has grown.
    /// - Parameters:
    ///   - image: `[3, height, width]`, normalised to [−1, 1].
    ///   - output: `[outputChannels, h, w]` with `(h, w) = outputSize(height:width:)`.
    package func forward(_ image: UnsafePointer<Float>, height: Int, width: Int, output: UnsafeMutablePointer<Float>,
                         workspace: Workspace) {
        var (h, w) = stem.outputSize(height: height, width: width)
        // Two ping-pong activations sized for the largest (the stem / layer1 at 1/2 resolution).
        let capacity = blocks.reduce(stem.outputChannels) { max($0, $1.planes) } * h * w
        var (x, y) = workspace.encoder.carve { ($0.take(capacity), $0.take(capacity)) }
        stem.forward(image, height: height, width: width, output: x, workspace: workspace)
        stemNorm.apply(x, pixels: h * w, relu: true)
        for block in blocks {
            block.forward(x, height: h, width: w, output: y, workspace: workspace)
            (h, w) = block.outputSize(height: h, width: w)
            swap(&x, &y)
        }
        head.forward(x, height: h, width: w, output: output, workspace: workspace)
    }

    /// Encodes a batch (allocating convenience).
    /// - Parameter images: `[N, 3, H, W]`, normalised to [−1, 1].
    /// - Returns: `[N, outputChannels, h, w]`.
    /// - Throws: ``TensorError/shapeMismatch(argument:expected:found:)`` unless `images` is `[N, 3, H, W]`.
    public func callAsFunction(_ images: Tensor) throws(TensorError) -> Tensor {
        try Tensor.check(images, "images", [nil, 3, nil, nil])
        let (oh, ow) = outputSize(height: images.h, width: images.w)
        var out = Tensor(shape: [images.n, outputChannels, oh, ow])
        let dst = out.mutablePointer()
        let workspace = Workspace()
        for b in 0..<images.n {
            forward(images.pointer + b * 3 * images.h * images.w, height: images.h, width: images.w,
                    output: dst + b * outputChannels * oh * ow, workspace: workspace)
        }
        return out
    }
}
