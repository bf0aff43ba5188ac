/// Encodes the current flow and its correlation look-up into motion features (core/update.py,
/// `BasicMotionEncoder` / `SmallMotionEncoder`):
///
///     cor = ReLU(convc1(corr)) [→ ReLU(convc2(cor))]      correlation branch
///     flo = ReLU(convf2(ReLU(convf1(flow))))               flow branch (7×7 then 3×3)
///     out = [ReLU(conv([cor, flo])), flow]                 the raw flow is appended last
///
/// | layout | convc1 | convc2 | convf1 | convf2 | conv | output |
/// |---|---|---|---|---|---|---|
/// | basic | 324→256 1×1 | 256→192 3×3 | 2→128 7×7 | 128→64 3×3 | 256→126 3×3 | 128 |
/// | small | 196→96 1×1 | — | 2→64 7×7 | 64→32 3×3 | 128→80 3×3 | 82 |
public struct MotionEncoder: Sendable {
    /// The two layouts of the official models.
    public enum Layout: Sendable, Hashable {
        /// RAFT's `BasicMotionEncoder`: two correlation convolutions, 128 output channels.
        case basic
        /// RAFT-S's `SmallMotionEncoder`: one correlation convolution, 82 output channels.
        case small
    }

    public let layout: Layout
    /// `convc1` (1×1) and, for `.basic`, `convc2` (3×3), each followed by ReLU.
    public let correlationConvs: [Conv2d]
    /// `convf1` (7×7) and `convf2` (3×3), each followed by ReLU.
    public let flowConvs: [Conv2d]
    /// `conv` (3×3) over `[cor, flo]`, followed by ReLU.
    public let conv: Conv2d

    /// Correlation channels read, `L·(2r+1)²`.
    public var correlationChannels: Int { correlationConvs[0].inputChannels }
    /// Output channels: `conv`'s outputs plus the 2 flow channels (128 basic, 82 small).
    public var outputChannels: Int { conv.outputChannels + 2 }

    /// Channel widths `(corr, flow, out)` of a layout: basic `([256, 192], [128, 64], 126)`, small `([96], [64, 32], 80)`.
    public static func widths(_ layout: Layout) -> (correlation: [Int], flow: [Int], output: Int) {
        switch layout {
        case .basic: ([256, 192], [128, 64], 126)
        case .small: ([96], [64, 32], 80)
        }
    }

    static let convGeometry = ConvGeometry(square: 3)
    static let flowGeometries = [ConvGeometry(square: 7), ConvGeometry(square: 3)]
    static func correlationGeometries(_ layout: Layout) -> [ConvGeometry] {
        layout == .basic ? [ConvGeometry(square: 1), ConvGeometry(square: 3)] : [ConvGeometry(square: 1)]
    }

    /// An encoder from its convolutions (shapes must chain as in the table above). Parts that do not fit are a
    /// programmer error and trap; ``init(validatingLayout:correlationConvs:flowConvs:conv:)`` throws instead.
    public init(layout: Layout, correlationConvs: [Conv2d], flowConvs: [Conv2d], conv: Conv2d) {
        if let problem = Self.mismatch(correlationConvs, flowConvs, conv) { preconditionFailure("\(problem)") }
        self.layout = layout
        self.correlationConvs = correlationConvs
        self.flowConvs = flowConvs
        self.conv = conv
    }

    /// ``init(layout:correlationConvs:flowConvs:conv:)`` with its contract checked.
    /// - Throws: ``LayerError/mismatch(layer:expected:found:)`` for an empty branch, a flow branch that does not
    ///   read 2 channels, a branch that does not chain, a `conv` that does not read both branches, or a
    ///   convolution that changes the grid size.
    public init(validatingLayout layout: Layout, correlationConvs: [Conv2d], flowConvs: [Conv2d],
                conv: Conv2d) throws(LayerError) {
        if let problem = Self.mismatch(correlationConvs, flowConvs, conv) { throw problem }
        self.init(layout: layout, correlationConvs: correlationConvs, flowConvs: flowConvs, conv: conv)
    }

    static func mismatch(_ correlationConvs: [Conv2d], _ flowConvs: [Conv2d], _ conv: Conv2d) -> LayerError? {
        let layer = "MotionEncoder"
        guard let lastCorrelation = correlationConvs.last, let firstFlow = flowConvs.first, let lastFlow = flowConvs.last else {
            return .mismatch(layer: layer, expected: "non-empty correlation and flow branches",
                             found: "\(correlationConvs.count) and \(flowConvs.count) convolutions")
        }
        if firstFlow.inputChannels != 2 {
            return .mismatch(layer: layer, expected: "a flow branch reading 2 channels", found: "\(firstFlow.inputChannels)")
        }
        for branch in [correlationConvs, flowConvs] {
            for (a, b) in zip(branch, branch.dropFirst()) where a.outputChannels != b.inputChannels {
                return .mismatch(layer: layer, expected: "a branch whose convolutions chain",
                                 found: "\(a.outputChannels) outputs into \(b.inputChannels) inputs")
            }
        }
        if conv.inputChannels != lastCorrelation.outputChannels + lastFlow.outputChannels {
            return .mismatch(layer: layer, expected: "conv reading \(lastCorrelation.outputChannels) + \(lastFlow.outputChannels) channels",
                             found: "\(conv.inputChannels)")
        }
        for c in correlationConvs + flowConvs + [conv] where c.outputSize(height: 16, width: 16) != (16, 16) {
            return .mismatch(layer: layer, expected: "convolutions that keep the grid size", found: "\(c.geometry)")
        }
        return nil
    }

    /// An encoder of the given layout with zero weights.
    public init(layout: Layout, correlationChannels: Int) {
        let w = Self.widths(layout)
        var cin = correlationChannels
        var cor: [Conv2d] = []
        for (cout, g) in zip(w.correlation, Self.correlationGeometries(layout)) {
            cor.append(Conv2d(inputChannels: cin, outputChannels: cout, geometry: g)); cin = cout
        }
        cin = 2
        var flo: [Conv2d] = []
        for (cout, g) in zip(w.flow, Self.flowGeometries) {
            flo.append(Conv2d(inputChannels: cin, outputChannels: cout, geometry: g)); cin = cout
        }
        let conv = Conv2d(inputChannels: w.correlation.last! + w.flow.last!, outputChannels: w.output, geometry: Self.convGeometry)
        self.init(layout: layout, correlationConvs: cor, flowConvs: flo, conv: conv)
    }

    /// Reads `prefix.convc1`, [`prefix.convc2`,] `prefix.convf1`, `prefix.convf2`, `prefix.conv` (official names).
    package init(layout: Layout, correlationChannels: Int, parameters: ParameterReader, prefix: String) throws(WeightsError) {
        let w = Self.widths(layout)
        var cin = correlationChannels
        var cor: [Conv2d] = []
        for (i, (cout, g)) in zip(w.correlation, Self.correlationGeometries(layout)).enumerated() {
            cor.append(try parameters.conv("\(prefix).convc\(i + 1)", inputChannels: cin, outputChannels: cout, geometry: g))
            cin = cout
        }
        cin = 2
        var flo: [Conv2d] = []
        for (i, (cout, g)) in zip(w.flow, Self.flowGeometries).enumerated() {
            flo.append(try parameters.conv("\(prefix).convf\(i + 1)", inputChannels: cin, outputChannels: cout, geometry: g))
            cin = cout
        }
        let conv = try parameters.conv("\(prefix).conv", inputChannels: w.correlation.last! + w.flow.last!,
                                       outputChannels: w.output, geometry: Self.convGeometry)
        self.init(layout: layout, correlationConvs: cor, flowConvs: flo, conv: conv)
    }

    /// Learnable parameters (basic 902,654; small 135,952).
    public var parameterCount: Int { (correlationConvs + flowConvs + [conv]).reduce(0) { $0 + $1.parameterCount } }

    /// Multiply-accumulates for one sample on an `height × width` grid.
    public func multiplyAccumulates(height: Int, width: Int) -> Int {
        (correlationConvs + flowConvs + [conv]).reduce(0) { $0 + $1.multiplyAccumulates(height: height, width: width) }
    }

    /// One sample, allocation-free once the workspace has grown (``Scratch``, and the convolutions').
    /// - Parameters:
    ///   - flow: `[2, height, width]`, coords1 − coords0.
    ///   - correlation: `[correlationChannels, height, width]`, or `[height·width, correlationChannels]` when
    ///     `correlationLayout` is pixel-major (RAFT's first correlation convolution is 1×1, which reads either).
    ///   - output: `[outputChannels, height, width]` = `[encoded (outputChannels − 2), flow (2)]`; may point
    ///     into a larger buffer, e.g. right after the context channels of the GRU input x.
    package func forward(flow: UnsafePointer<Float>, correlation: UnsafePointer<Float>,
                         correlationLayout: CorrelationLayout = .channelMajor, height: Int, width: Int,
                         output: UnsafeMutablePointer<Float>, workspace: Workspace) {
        let pixels = height * width
        let s = scratch(height: height, width: width, workspace: workspace)
        // cor = convc…(corr), flo = convf…(flow), side by side in `features` so that `conv` reads [cor, flo].
        let corOut = correlationConvs.last!.outputChannels
        if correlationLayout == .pixelMajor {
            // The first convolution reads the pixel-major features with a transposed GEMM; the rest as usual.
            let first = correlationConvs[0]
            let rest = correlationConvs.dropFirst()
            let dst = rest.isEmpty ? s.features : s.ping
            first.forwardPixelMajor(correlation, pixels: pixels, output: dst, activation: .relu,
                                    arithmetic: workspace.arithmetic)
            Self.chain(rest, input: dst, height: height, width: width, output: s.features, ping: s.pong, pong: s.ping,
                       workspace: workspace)
        } else {
            Self.chain(correlationConvs[...], input: correlation, height: height, width: width, output: s.features,
                       ping: s.ping, pong: s.pong, workspace: workspace)
        }
        Self.chain(flowConvs[...], input: flow, height: height, width: width, output: s.features + corOut * pixels,
                   ping: s.ping, pong: s.pong, workspace: workspace)
        // out = [ReLU(conv([cor, flo])), flow]
        conv.forward(s.features, height: height, width: width, output: output, workspace: workspace, activation: .relu)
        (output + conv.outputChannels * pixels).update(from: flow, count: 2 * pixels)
    }

    /// What one ``forward(flow:correlation:correlationLayout:height:width:output:workspace:)`` needs besides its
    /// inputs and output.
    struct Scratch {
        /// `[cor, flo]`, `[conv.inputChannels, height, width]`: the two branches' outputs side by side.
        var features: UnsafeMutablePointer<Float>
        /// Intermediate activations of a branch, `[widest intermediate, height, width]` each; the correlation and
        /// flow branches run one after the other and share them.
        var ping: UnsafeMutablePointer<Float>, pong: UnsafeMutablePointer<Float>
    }

    /// The scratch for an `height × width` grid, laid out in the workspace's motion-encoder block.
    func scratch(height: Int, width: Int, workspace: Workspace) -> Scratch {
        let pixels = height * width
        var intermediate = 0
        for c in correlationConvs.dropLast() { intermediate = max(intermediate, c.outputChannels) }
        for c in flowConvs.dropLast() { intermediate = max(intermediate, c.outputChannels) }
        return workspace.motionEncoder.carve { c in
            Scratch(features: c.take(conv.inputChannels * pixels), ping: c.take(intermediate * pixels),
                    pong: c.take(intermediate * pixels))
        }
    }

    /// Runs `convs` (each + ReLU) in sequence from `input`; the last writes `output`, earlier ones alternate
    /// between `ping` and `pong` (neither may be `input`).
    private static func chain(_ convs: ArraySlice<Conv2d>, input: UnsafePointer<Float>, height: Int, width: Int,
                              output: UnsafeMutablePointer<Float>, ping: UnsafeMutablePointer<Float>,
                              pong: UnsafeMutablePointer<Float>, workspace: Workspace) {
        var source = input
        for (i, c) in convs.enumerated() {
            let dst = i == convs.count - 1 ? output : i % 2 == 0 ? ping : pong
            c.forward(source, height: height, width: width, output: dst, workspace: workspace, activation: .relu)
            source = UnsafePointer(dst)
        }
    }

    /// A batch (allocating convenience).
    /// - Parameters:
    ///   - flow: `[N, 2, h, w]`.
    ///   - correlation: `[N, correlationChannels, h, w]`.
    /// - Returns: motion features `[N, outputChannels, h, w]` (flow in the last 2 channels).
    /// - Throws: ``TensorError/shapeMismatch(argument:expected:found:)`` for another shape of `flow` or `correlation`.
    public func callAsFunction(flow: Tensor, correlation: Tensor) throws(TensorError) -> Tensor {
        try Tensor.check(flow, "flow", [nil, 2, nil, nil])
        try Tensor.check(correlation, "correlation", [flow.n, correlationChannels, flow.h, flow.w])
        let (n, h, w) = (flow.n, flow.h, flow.w)
        var out = Tensor(shape: [n, outputChannels, h, w])
        let workspace = Workspace()
        let dst = out.mutablePointer()
        for b in 0..<n {
            forward(flow: flow.pointer + b * 2 * h * w, correlation: correlation.pointer + b * correlationChannels * h * w,
                    height: h, width: w, output: dst + b * outputChannels * h * w, workspace: workspace)
        }
        return out
    }
}
