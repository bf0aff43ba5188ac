/// One gated convolutional GRU step (raft-spec §5): with `[a, b]` the channel concatenation,
///
///     z = σ(Conv_z([h, x]))     r = σ(Conv_r([h, x]))
///     q = tanh(Conv_q([r⊙h, x]))
///     h' = (1 − z)⊙h + z⊙q
///
/// The three convolutions read `hiddenChannels + inputChannels` channels and write `hiddenChannels`, and share
/// one ``ConvGeometry`` (any kernel, padding and dilation that keeps the spatial size: stride 1 and
/// `2·padding = dilation·(kernel − 1)` on both axes). RAFT-S uses a single 3×3 step (``ConvGRU/small(hiddenChannels:inputChannels:)``);
/// RAFT chains a 1×5 and a 5×1 step (``SeqConvGRU``).
///
/// Cost per step: `[h, x]` is copied once into zero-padded planes and the gates are computed by shifted GEMMs
/// (one per kernel tap, ``ShiftedGEMM``, no im2col); z and r come from the same GEMMs of the stacked
/// `[Conv_z; Conv_r]` weights (`2·hidden` rows). The pass that applies σ writes r⊙h straight into the hidden
/// planes of the padded buffer, so q re-uses it with only those planes changed, and the last pass applies tanh
/// and the blend.
public struct ConvGRU: Sendable {
    /// Channels of the hidden state h.
    public let hiddenChannels: Int
    /// Channels of the input x.
    public let inputChannels: Int
    /// Kernel, padding and dilation shared by the three gates.
    public let geometry: ConvGeometry
    /// Update gate `convz`, `[hidden, hidden + input, kh, kw]`.
    public let z: Conv2d
    /// Reset gate `convr`, `[hidden, hidden + input, kh, kw]`.
    public let r: Conv2d
    /// Candidate `convq`, `[hidden, hidden + input, kh, kw]`.
    public let q: Conv2d
    /// `[z; r]` stacked into one convolution with `2·hidden` outputs (one GEMM for both gates).
    let zr: Conv2d
    /// `[W_z; W_r]` tap-major, `[taps, 2·hidden, hidden + input]`, for the shifted GEMMs.
    let zrTaps: Tensor
    /// `W_q` tap-major, `[taps, hidden, hidden + input]`.
    let qTaps: Tensor
    /// Weights split for a constant leading part of x, if requested (``splittingStaticInput(channels:)``).
    public private(set) var staticSplit: StaticInputSplit?

    /// A step from the three gate convolutions (PyTorch `convz`, `convr`, `convq`).
    public init(z: Conv2d, r: Conv2d, q: Conv2d) {
        let g = z.geometry
        precondition(r.geometry == g && q.geometry == g, "ConvGRU gates must share one geometry")
        precondition(z.outputChannels == r.outputChannels && z.outputChannels == q.outputChannels,
                     "ConvGRU gates must have the same number of outputs")
        precondition(z.inputChannels == r.inputChannels && z.inputChannels == q.inputChannels
                     && z.inputChannels > z.outputChannels,
                     "ConvGRU gates must read [hidden, input] = the same channels, more than hidden")
        precondition(Self.preservesSize(g),
                     "ConvGRU geometry \(g) must keep the spatial size (stride 1, 2·padding = dilation·(kernel−1))")
        hiddenChannels = z.outputChannels
        inputChannels = z.inputChannels - z.outputChannels
        geometry = g
        self.z = z
        self.r = r
        self.q = q
        zr = Conv2d.stacked([z, r])
        let all = [0..<z.inputChannels]
        zrTaps = ShiftedGEMM.tapMajor(zr.weight, channels: all)
        qTaps = ShiftedGEMM.tapMajor(q.weight, channels: all)
    }

    /// The same step, also prepared to take its first `channels` input channels as a precomputed, constant
    /// contribution (see ``StaticInputSplit``).
    public func splittingStaticInput(channels: Int) -> ConvGRU {
        var copy = self
        copy.staticSplit = StaticInputSplit(gru: self, staticChannels: channels)
        return copy
    }

    /// A step with zero weights (to be replaced, or for shape and cost queries).
    public init(hiddenChannels: Int, inputChannels: Int, geometry: ConvGeometry) {
        let make = { Conv2d(inputChannels: hiddenChannels + inputChannels, outputChannels: hiddenChannels, geometry: geometry) }
        self.init(z: make(), r: make(), q: make())
    }

    /// Reads `prefix.convz{suffix}`, `prefix.convr{suffix}`, `prefix.convq{suffix}` (weights and biases).
    package init(parameters: ParameterReader, prefix: String, suffix: String = "",
                 hiddenChannels: Int, inputChannels: Int, geometry: ConvGeometry) throws(WeightsError) {
        precondition(Self.preservesSize(geometry), "ConvGRU geometry \(geometry) must keep the spatial size")
        let cin = hiddenChannels + inputChannels
        func gate(_ name: String) throws(WeightsError) -> Conv2d {
            try parameters.conv("\(prefix).\(name)\(suffix)", inputChannels: cin, outputChannels: hiddenChannels,
                                geometry: geometry)
        }
        self.init(z: try gate("convz"), r: try gate("convr"), q: try gate("convq"))
    }

    /// RAFT-S's GRU: one 3×3 step, padding 1 (hidden 96, input 64 context + 82 motion = 146), zero weights.
    public static func small(hiddenChannels: Int = 96, inputChannels: Int = 146) -> ConvGRU {
        ConvGRU(hiddenChannels: hiddenChannels, inputChannels: inputChannels, geometry: ConvGeometry(square: 3))
    }

    static func preservesSize(_ g: ConvGeometry) -> Bool {
        g.strideY == 1 && g.strideX == 1
            && 2 * g.paddingY == g.dilationY * (g.kernelHeight - 1)
            && 2 * g.paddingX == g.dilationX * (g.kernelWidth - 1)
    }

    /// Learnable parameters of the three gates: `3·(hidden·(hidden+input)·kh·kw + hidden)`.
    public var parameterCount: Int { z.parameterCount + r.parameterCount + q.parameterCount }

    /// Multiply-accumulates of the three gate convolutions for one sample on an `height × width` grid
    /// (the element-wise gate arithmetic, about 6 operations per hidden value, is not included).
    public func multiplyAccumulates(height: Int, width: Int) -> Int {
        z.multiplyAccumulates(height: height, width: width) + r.multiplyAccumulates(height: height, width: width)
            + q.multiplyAccumulates(height: height, width: width)
    }

    /// How far h' reaches into the previous h (and into x) per axis, in grid cells: ±e through z and the direct
    /// term, ±2e through r inside q, with e = dilation·(kernel−1)/2. A 3×3 step reaches ±2 (a 5×5 window).
    public var reach: (y: Int, x: Int) { (2 * geometry.paddingY, 2 * geometry.paddingX) }

    /// Floats of workspace this step uses on an `height × width` grid (padded `[h, x]`, gate and z buffers).
    public func workspaceCount(height: Int, width: Int) -> Int {
        let layout = ShiftedGEMM.Layout(height: height, width: width, geometry: geometry)
        return layout.paddedCount(channels: z.inputChannels) + 2 * hiddenChannels * layout.wideCount
            + hiddenChannels * height * width
    }

    /// One step on one sample, updating `hidden` in place. Allocation-free once `workspace` holds
    /// "gru.padded", "gru.gates" and "gru.z" of this size.
    /// - Parameters:
    ///   - hidden: `[hiddenChannels, height, width]`, replaced by h'.
    ///   - input: x, `[inputChannels, height, width]`.
    public func step(hidden: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                     height: Int, width: Int, workspace: Workspace) {
        gatedStep(hidden: hidden, input: input, inputChannels: inputChannels, zrWeights: zrTaps.pointer,
                  qWeights: qTaps.pointer, preactivation: nil, height: height, width: width, workspace: workspace)
    }

    /// The step on `[h, input]` with the gate weights given tap-major (`[taps, 2·hidden, hidden + inputChannels]`
    /// and `[taps, hidden, hidden + inputChannels]`). `preactivation`, if given, is added to the three gates'
    /// pre-activations (`[3·hidden, height, width]`, biases included); otherwise the gates' biases are.
    func gatedStep(hidden: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, inputChannels: Int,
                   zrWeights: UnsafePointer<Float>, qWeights: UnsafePointer<Float>,
                   preactivation: UnsafePointer<Float>?, height: Int, width: Int, workspace: Workspace) {
        let hid = hiddenChannels, pixels = height * width
        let k = hid + inputChannels
        let layout = ShiftedGEMM.Layout(height: height, width: width, geometry: geometry)
        let (plane, wideCount, wp) = (layout.planeCount, layout.wideCount, layout.paddedWidth)
        let padded = workspace.buffer("gru.padded", layout.paddedCount(channels: k))
        let gates = workspace.buffer("gru.gates", 2 * hid * wideCount)
        let zBuffer = workspace.buffer("gru.z", hid * pixels)

        // [h, x] into zero-padded planes, once.
        ShiftedGEMM.pad(hidden, channels: hid, layout: layout, into: padded)
        ShiftedGEMM.pad(input, channels: inputChannels, layout: layout, into: padded + hid * plane)

        // [z; r] pre-activations on the wide grid, one GEMM per tap for both gates.
        ShiftedGEMM.multiply(weights: zrWeights, outputs: 2 * hid, inputChannels: k, lda: k, padded: padded,
                             layout: layout, wide: gates, ldc: wideCount, accumulate: false)

        // z = σ(·), r = σ(·); r⊙h overwrites the hidden planes of the padded input (their zero border stays).
        let zBias = z.bias.pointer, rBias = r.bias.pointer, qBias = q.bias.pointer
        for c in 0..<hid {
            for y in 0..<height {
                let zw = gates + c * wideCount + y * wp, rw = gates + (hid + c) * wideCount + y * wp
                let h = hidden + c * pixels + y * width, zOut = zBuffer + c * pixels + y * width
                let rh = ShiftedGEMM.interior(padded + c * plane, layout: layout, y: y, x: 0)
                if let preactivation {
                    let sz = preactivation + c * pixels + y * width, sr = sz + hid * pixels
                    for x in 0..<width {
                        zOut[x] = Activations.sigmoid(zw[x] + sz[x])
                        rh[x] = Activations.sigmoid(rw[x] + sr[x]) * h[x]
                    }
                } else {
                    let bz = zBias[c], br = rBias[c]
                    for x in 0..<width {
                        zOut[x] = Activations.sigmoid(zw[x] + bz)
                        rh[x] = Activations.sigmoid(rw[x] + br) * h[x]
                    }
                }
            }
        }

        // q's pre-activation from [r⊙h, x], into the first half of the gate buffer.
        ShiftedGEMM.multiply(weights: qWeights, outputs: hid, inputChannels: k, lda: k, padded: padded,
                             layout: layout, wide: gates, ldc: wideCount, accumulate: false)

        // q = tanh(·); h' = (1 − z)⊙h + z⊙q.
        for c in 0..<hid {
            for y in 0..<height {
                let qw = gates + c * wideCount + y * wp
                let h = hidden + c * pixels + y * width, zRow = zBuffer + c * pixels + y * width
                if let preactivation {
                    let sq = preactivation + (2 * hid + c) * pixels + y * width
                    for x in 0..<width {
                        let q = Activations.tanh(qw[x] + sq[x]), zx = zRow[x]
                        h[x] = (1 - zx) * h[x] + zx * q
                    }
                } else {
                    let bq = qBias[c]
                    for x in 0..<width {
                        let q = Activations.tanh(qw[x] + bq), zx = zRow[x]
                        h[x] = (1 - zx) * h[x] + zx * q
                    }
                }
            }
        }
    }

    /// One step on a batch (allocating convenience).
    /// - Parameters:
    ///   - hidden: `[N, hiddenChannels, h, w]`.
    ///   - input: `[N, inputChannels, h, w]`.
    /// - Returns: h', `[N, hiddenChannels, h, w]`.
    public func callAsFunction(hidden: Tensor, input: Tensor) -> Tensor {
        precondition(hidden.rank == 4 && hidden.c == hiddenChannels, "ConvGRU hidden must be [N, \(hiddenChannels), h, w], got \(hidden.shape)")
        precondition(input.rank == 4 && input.c == inputChannels && input.n == hidden.n && input.h == hidden.h
                     && input.w == hidden.w, "ConvGRU input must be [N, \(inputChannels), h, w], got \(input.shape)")
        var out = hidden
        let workspace = Workspace()
        let plane = hidden.h * hidden.w
        let h = out.mutablePointer()
        for b in 0..<hidden.n {
            step(hidden: h + b * hiddenChannels * plane, input: input.pointer + b * inputChannels * plane,
                 height: hidden.h, width: hidden.w, workspace: workspace)
        }
        return out
    }
}
