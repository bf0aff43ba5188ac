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
/// Cost per step: `[h, x]` is copied once into zero-padded planes and the gates are computed without im2col —
/// by Winograd F(m×m, 3×3) for a 3×3 step and F(4, 5) for RAFT's 1×5 and 5×1 steps with enough channels
/// (``Winograd``, ``Winograd1D``), otherwise by shifted GEMMs (one
/// per kernel tap, ``ShiftedGEMM``); z and r come from the same GEMMs of the stacked `[Conv_z; Conv_r]` weights
/// (`2·hidden` rows). The pass that applies σ writes r⊙h into the hidden planes of the padded buffer (directly, or
/// through a compact buffer for the phase-split rows of F(4×4) and of a 1×5 step), so q re-uses it with only those
/// planes changed.
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
    /// How the gate convolutions are computed: Winograd (``ConvolutionAlgorithm/winograd4x4`` or
    /// ``ConvolutionAlgorithm/winograd`` for a 3×3 step, ``ConvolutionAlgorithm/winograd1D`` for a 1×5 or 5×1 step)
    /// with enough channels, otherwise ``ConvolutionAlgorithm/shiftedGEMM``.
    public let gateAlgorithm: ConvolutionAlgorithm
    /// `[W_z; W_r]` prepared for the gate algorithm: `[P, 2·hidden, hidden + input]` with P the Winograd positions
    /// (16, 36 or 8) or the kernel taps.
    let zrPrepared: Tensor
    /// `W_q` prepared the same way, `[P, hidden, hidden + input]`.
    let qPrepared: Tensor
    /// Weights split for a constant leading part of x, if requested (``splittingStaticInput(channels:)``).
    public private(set) var staticSplit: StaticInputSplit?

    /// A step from the three gate convolutions (PyTorch `convz`, `convr`, `convq`).
    /// - Parameter gateAlgorithm: how the gates are computed: a Winograd algorithm that supports the geometry, else
    ///   shifted GEMMs. Default: ``ConvolutionAlgorithm/preferred(inputChannels:outputChannels:geometry:)``.
    public init(z: Conv2d, r: Conv2d, q: Conv2d, gateAlgorithm requested: ConvolutionAlgorithm? = nil) {
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
        let choice = requested ?? ConvolutionAlgorithm.preferred(inputChannels: z.inputChannels,
                                                                 outputChannels: z.outputChannels, geometry: g)
        switch choice {
        case .winograd, .winograd4x4, .winograd1D: gateAlgorithm = choice.supports(g) ? choice : .shiftedGEMM
        default: gateAlgorithm = .shiftedGEMM
        }
        (zrPrepared, qPrepared) = Self.prepare(zr: zr.weight, q: q.weight, channels: [0..<z.inputChannels],
                                               algorithm: gateAlgorithm)
    }

    /// Gate weights restricted to `channels`, in the layout of the gate algorithm.
    static func prepare(zr: Tensor, q: Tensor, channels: [Range<Int>],
                        algorithm: ConvolutionAlgorithm) -> (zr: Tensor, q: Tensor) {
        if algorithm == .shiftedGEMM {
            return (ShiftedGEMM.tapMajor(zr, channels: channels), ShiftedGEMM.tapMajor(q, channels: channels))
        }
        return (WinogradPlan.transformWeights(zr, channels: channels, algorithm: algorithm),
                WinogradPlan.transformWeights(q, channels: channels, algorithm: algorithm))
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

    /// Floats of workspace this step uses on an `height × width` grid (padded `[h, x]`, transformed or wide gate
    /// buffers, z, r and q).
    public func workspaceCount(height: Int, width: Int) -> Int {
        let k = z.inputChannels, hid = hiddenChannels, pixels = height * width
        if let plan = WinogradPlan(gateAlgorithm, height: height, width: width, geometry: geometry) {
            let bandSize = plan.bandSize(channels: max(k, 2 * hid))
            return k * plan.planeCount + plan.bandCount(channels: k, bandSize: bandSize)
                + plan.bandCount(channels: 2 * hid, bandSize: bandSize)
                + (plan.inPlaceRowStride == nil ? 6 : 5) * hid * pixels
        }
        let layout = ShiftedGEMM.Layout(height: height, width: width, geometry: geometry)
        return layout.paddedCount(channels: k) + 2 * hid * layout.wideCount + 3 * hid * pixels
    }

    /// One step on one sample, updating `hidden` in place. Allocation-free once the workspace's "gru.*" buffers
    /// have grown.
    /// - Parameters:
    ///   - hidden: `[hiddenChannels, height, width]`, replaced by h'.
    ///   - input: x, `[inputChannels, height, width]`.
    public func step(hidden: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                     height: Int, width: Int, workspace: Workspace) {
        let (zGate, _, qGate) = gates(hidden: hidden, input: input, inputChannels: inputChannels, zrWeights: zrPrepared,
                                      qWeights: qPrepared, preactivation: nil, height: height, width: width,
                                      workspace: workspace)
        Self.blend(hidden: hidden, z: zGate, q: qGate, count: hiddenChannels * height * width)
    }

    /// `h' = (1 − z)⊙h + z⊙q`, in place.
    @inline(__always)
    static func blend(hidden: UnsafeMutablePointer<Float>, z: UnsafePointer<Float>, q: UnsafePointer<Float>, count: Int) {
        Parallel.forEach(count, minimumChunk: 4096, context: (hidden, z, q)) { blend, part in
            let (hidden, z, q) = blend
            for i in part { hidden[i] = (1 - z[i]) * hidden[i] + z[i] * q[i] }
        }
    }

    /// z = σ(·), r = σ(·) and q = tanh(·) of one step on `[h, input]`, into the workspace buffers "gru.z", "gru.r",
    /// "gru.q" (each `[hidden, height, width]`), which it returns. The weights are ``zrPrepared``/``qPrepared`` or
    /// a restriction of them to `hidden + inputChannels` channels; `preactivation`, if given, is added to the three
    /// gates' pre-activations (`[3·hidden, height, width]`, biases included), otherwise the gates' biases are.
    func gates(hidden: UnsafePointer<Float>, input: UnsafePointer<Float>, inputChannels: Int,
               zrWeights: Tensor, qWeights: Tensor, preactivation: UnsafePointer<Float>?,
               height: Int, width: Int, workspace: Workspace)
        -> (z: UnsafePointer<Float>, r: UnsafePointer<Float>, q: UnsafePointer<Float>) {
        let hid = hiddenChannels, pixels = height * width
        let k = hid + inputChannels
        let zOut = workspace.buffer("gru.z", hid * pixels)
        let rOut = workspace.buffer("gru.r", hid * pixels)
        let qOut = workspace.buffer("gru.q", hid * pixels)

        // Pre-activations of `outputs` gates land in `pre` (plane stride, row stride); r⊙h is written through
        // `rhOrigin` (interior pixel (0, 0) of hidden plane 0 of the padded input) with (plane stride, row stride).
        let pre: UnsafeMutablePointer<Float>, prePlane: Int, preRow: Int
        let rhOrigin: UnsafeMutablePointer<Float>, rhPlane: Int, rhRow: Int
        // What the q stage needs from the gate algorithm (no closure: nothing may allocate here).
        var winograd: (plan: WinogradPlan, padded: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
                       m: UnsafeMutablePointer<Float>, bandSize: Int)?
        var shifted: (layout: ShiftedGEMM.Layout, padded: UnsafeMutablePointer<Float>)?
        if let plan = WinogradPlan(gateAlgorithm, height: height, width: width, geometry: geometry) {
            let bandSize = plan.bandSize(channels: max(k, 2 * hid))
            let padded = workspace.buffer("gru.padded", k * plan.planeCount)
            let v = workspace.buffer("gru.winograd.v", plan.bandCount(channels: k, bandSize: bandSize))
            let m = workspace.buffer("gru.winograd.m", plan.bandCount(channels: 2 * hid, bandSize: bandSize))
            pre = workspace.buffer("gru.gates", 2 * hid * pixels)
            (prePlane, preRow) = (pixels, width)
            plan.pad(hidden, channels: hid, into: padded)
            plan.pad(input, channels: inputChannels, into: padded + hid * plan.planeCount)
            plan.convolve(padded: padded, channels: k, u: zrWeights.pointer, outputs: 2 * hid, bias: nil, output: pre,
                          v: v, m: m, bandSize: bandSize)
            if let rowStride = plan.inPlaceRowStride {
                rhOrigin = plan.interior(padded)
                (rhPlane, rhRow) = (plan.planeCount, rowStride)
            } else {
                // Phase-split rows: r⊙h goes to a compact buffer and is padded into the hidden planes below.
                rhOrigin = workspace.buffer("gru.rh", hid * pixels)
                (rhPlane, rhRow) = (pixels, width)
            }
            winograd = (plan, padded, v, m, bandSize)
        } else {
            let layout = ShiftedGEMM.Layout(height: height, width: width, geometry: geometry)
            let padded = workspace.buffer("gru.padded", layout.paddedCount(channels: k))
            pre = workspace.buffer("gru.gates", 2 * hid * layout.wideCount)
            (prePlane, preRow) = (layout.wideCount, layout.phaseWidth)
            ShiftedGEMM.pad(hidden, channels: hid, layout: layout, into: padded)
            ShiftedGEMM.pad(input, channels: inputChannels, layout: layout, into: padded + hid * layout.channelStride)
            ShiftedGEMM.multiply(weights: zrWeights.pointer, outputs: 2 * hid, inputChannels: k, lda: k, padded: padded,
                                 layout: layout, wide: pre, ldc: layout.wideCount, accumulate: false)
            rhOrigin = ShiftedGEMM.interior(padded, layout: layout, y: 0, x: 0)
            (rhPlane, rhRow) = (layout.channelStride, layout.phaseWidth)
            shifted = (layout, padded)
        }

        // z = σ(·), r = σ(·); r⊙h overwrites the hidden planes of the padded input (their zero border stays).
        let activation = GateActivation(
            hidden: hidden, hiddenChannels: hid, height: height, width: width,
            pre: UnsafePointer(pre), prePlane: prePlane, preRow: preRow, rh: rhOrigin, rhPlane: rhPlane, rhRow: rhRow,
            preactivation: preactivation, zBias: z.bias.pointer, rBias: r.bias.pointer, qBias: q.bias.pointer,
            z: zOut, r: rOut, q: qOut)
        Parallel.forEach(hid, context: activation) { activation, channels in activation.activateZR(channels) }

        // q = tanh(W_q ∗ [r⊙h, x] + ·), its pre-activation in the first planes of `pre`.
        if let (plan, padded, v, m, bandSize) = winograd {
            if plan.inPlaceRowStride == nil { plan.pad(rhOrigin, channels: hid, into: padded) }
            // In one band (RAFT's grids), x's transform is still in `v` from the z/r gates: only r⊙h is transformed.
            plan.convolve(padded: padded, channels: k, u: qWeights.pointer, outputs: hid, bias: nil, output: pre,
                          v: v, m: m, bandSize: bandSize, freshChannels: plan.isSingleBand(bandSize) ? hid : nil)
        } else if let (layout, padded) = shifted {
            ShiftedGEMM.multiply(weights: qWeights.pointer, outputs: hid, inputChannels: k, lda: k, padded: padded,
                                 layout: layout, wide: pre, ldc: layout.wideCount, accumulate: false)
        }
        Parallel.forEach(hid, context: activation) { activation, channels in activation.activateQ(channels) }
        return (UnsafePointer(zOut), UnsafePointer(rOut), UnsafePointer(qOut))
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
