/// One gated convolutional GRU step (core/update.py, `ConvGRU`; `SepConvGRU` is two such steps): with `[a, b]` the channel concatenation,
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
    package let zr: Conv2d
    /// How the gate convolutions are computed: Winograd (``ConvolutionAlgorithm/winograd4x4`` or
    /// ``ConvolutionAlgorithm/winograd`` for a 3×3 step, ``ConvolutionAlgorithm/winograd1D`` for a 1×5 or 5×1 step)
    /// with enough channels, otherwise ``ConvolutionAlgorithm/shiftedGEMM``.
    public let gateAlgorithm: ConvolutionAlgorithm
    /// `[W_z; W_r]` prepared for the gate algorithm: `[P, 2·hidden, hidden + input]` with P the Winograd positions
    /// (16, 36 or 8) or the kernel taps.
    package let zrPrepared: Tensor
    /// `W_q` prepared the same way, `[P, hidden, hidden + input]`.
    package let qPrepared: Tensor
    /// Weights split for a constant leading part of x, if requested (``splittingStaticInput(channels:)``).
    package private(set) var staticSplit: StaticInputSplit?

    /// A step from the three gate convolutions (PyTorch `convz`, `convr`, `convq`).
    /// - Parameter gateAlgorithm: how the gates are computed: a Winograd algorithm that supports the geometry, else
    ///   shifted GEMMs. Default: ``ConvolutionAlgorithm/preferred(inputChannels:outputChannels:geometry:)``.
    ///
    /// Gates that do not fit (see ``init(validatingZ:r:q:gateAlgorithm:)``) are a programmer error and trap.
    public init(z: Conv2d, r: Conv2d, q: Conv2d, gateAlgorithm requested: ConvolutionAlgorithm? = nil) {
        let g = z.geometry
        if let problem = Self.mismatch(z, r, q) { preconditionFailure("\(problem)") }
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

    /// ``init(z:r:q:gateAlgorithm:)`` with its contract checked.
    /// - Throws: ``LayerError/mismatch(layer:expected:found:)`` unless the gates share one size-preserving
    ///   geometry (stride 1, `2·padding = dilation·(kernel − 1)`), their output count (hidden) and their input count
    ///   (hidden + input, more than hidden).
    public init(validatingZ z: Conv2d, r: Conv2d, q: Conv2d, gateAlgorithm: ConvolutionAlgorithm? = nil) throws(LayerError) {
        if let problem = Self.mismatch(z, r, q) { throw problem }
        self.init(z: z, r: r, q: q, gateAlgorithm: gateAlgorithm)
    }

    static func mismatch(_ z: Conv2d, _ r: Conv2d, _ q: Conv2d) -> LayerError? {
        let g = z.geometry
        if r.geometry != g || q.geometry != g || !preservesSize(g) {
            return .mismatch(layer: "ConvGRU", expected: "gates of one size-preserving geometry",
                             found: "\(z.geometry), \(r.geometry), \(q.geometry)")
        }
        let shapes = [z, r, q].map { "\($0.inputChannels) → \($0.outputChannels)" }.joined(separator: ", ")
        if z.outputChannels != r.outputChannels || z.outputChannels != q.outputChannels
            || z.inputChannels != r.inputChannels || z.inputChannels != q.inputChannels || z.inputChannels <= z.outputChannels {
            return .mismatch(layer: "ConvGRU", expected: "gates reading hidden + input channels into hidden, alike",
                             found: shapes)
        }
        return nil
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
    package func splittingStaticInput(channels: Int) -> ConvGRU {
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

    /// One step on one sample, updating h in place (core/update.py, `ConvGRU.forward`):
    ///
    ///     z = σ(convz([h, x]))    r = σ(convr([h, x]))    q = tanh(convq([r⊙h, x]))    h = (1 − z)⊙h + z⊙q
    ///
    /// Allocation-free once the workspace's GRU block has grown.
    /// - Parameters:
    ///   - hidden: h, `[hiddenChannels, height, width]`, replaced by h'.
    ///   - input: x, `[inputChannels, height, width]`.
    package func step(hidden: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                     height: Int, width: Int, workspace: Workspace) {
        let (z, _, q) = gates(hidden: hidden, input: input, inputChannels: inputChannels, zrWeights: zrPrepared,
                              qWeights: qPrepared, preactivation: nil, height: height, width: width, workspace: workspace)
        Self.blend(hidden: hidden, z: z, q: q, count: hiddenChannels * height * width)
    }

    /// `h' = (1 − z)⊙h + z⊙q`, in place.
    @inline(__always)
    static func blend(hidden: UnsafeMutablePointer<Float>, z: UnsafePointer<Float>, q: UnsafePointer<Float>, count: Int) {
        Parallel.forEach(count, minimumChunk: 4096, context: (hidden, z, q)) { blend, part in
            let (hidden, z, q) = blend
            for i in part { hidden[i] = (1 - z[i]) * hidden[i] + z[i] * q[i] }
        }
    }

    /// z, r and q of one step on `[h, x]`, in this step's scratch. The weights are ``zrPrepared``/``qPrepared``
    /// or their restriction to `hidden + inputChannels` channels (``StaticInputSplit``); `preactivation`, if
    /// given, is added to the three gates' pre-activations (`[3·hidden, height, width]`, biases included),
    /// otherwise the gates' biases are.
    /// - Returns: z, r, q, `[hiddenChannels, height, width]` each, valid until the next step on `workspace`.
    package func gates(hidden h: UnsafePointer<Float>, input x: UnsafePointer<Float>, inputChannels: Int,
               zrWeights: Tensor, qWeights: Tensor, preactivation: UnsafePointer<Float>?,
               height: Int, width: Int, workspace: Workspace)
        -> (z: UnsafePointer<Float>, r: UnsafePointer<Float>, q: UnsafePointer<Float>) {
        let kernel = GateConvolution(gateAlgorithm, geometry: geometry, height: height, width: width,
                                     hiddenChannels: hiddenChannels, inputChannels: inputChannels)
        let s = scratch(kernel, workspace: workspace)
        let plane = kernel.preactivationPlane
        let rh = kernel.resetHiddenTarget(padded: s.padded, compact: s.resetHidden)
        let activation = GateActivation(
            hidden: h, hiddenChannels: hiddenChannels, height: height, width: width,
            pre: UnsafePointer(s.preactivations), prePlane: plane.count, preRow: plane.row,
            rh: rh.origin, rhPlane: rh.plane, rhRow: rh.row, preactivation: preactivation,
            zBias: z.bias.pointer, rBias: r.bias.pointer, qBias: q.bias.pointer, z: s.z, r: s.r, q: s.q)

        // z = σ(W_z ∗ [h, x]) and r = σ(W_r ∗ [h, x]), both from one product of the stacked [W_z; W_r];
        // the same pass writes r⊙h over h in the padded planes.
        kernel.load(hidden: h, input: x, into: s.padded)
        kernel.convolve(s.padded, weights: zrWeights.pointer, outputs: 2 * hiddenChannels, output: s.preactivations,
                        transformedInput: s.transformedInput, products: s.products, arithmetic: workspace.arithmetic)
        Parallel.forEach(hiddenChannels, context: activation) { activation, channels in activation.activateZR(channels) }

        // q = tanh(W_q ∗ [r⊙h, x]): x is still in place, only the hidden planes changed.
        kernel.storeResetHidden(s.resetHidden, into: s.padded)
        kernel.convolve(s.padded, weights: qWeights.pointer, outputs: hiddenChannels, output: s.preactivations,
                        transformedInput: s.transformedInput, products: s.products, onlyHidden: true,
                        arithmetic: workspace.arithmetic)
        Parallel.forEach(hiddenChannels, context: activation) { activation, channels in activation.activateQ(channels) }
        return (UnsafePointer(s.z), UnsafePointer(s.r), UnsafePointer(s.q))
    }

    /// What one step needs besides h and x (``scratch(_:workspace:)`` sizes it).
    struct Scratch {
        /// σ(W_z ∗ [h, x]), σ(W_r ∗ [h, x]) and tanh(W_q ∗ [r⊙h, x]), `[hidden, height, width]` each.
        var z: UnsafeMutablePointer<Float>, r: UnsafeMutablePointer<Float>, q: UnsafeMutablePointer<Float>
        /// The gates' pre-activations, one ``GateConvolution/preactivationPlane`` per gate: z and r in planes
        /// `0..<2·hidden`, then q in planes `0..<hidden`.
        var preactivations: UnsafeMutablePointer<Float>
        /// `[h, x]`, then `[r⊙h, x]`, zero-padded in the gate layout.
        var padded: UnsafeMutablePointer<Float>
        /// r⊙h, `[hidden, height, width]`, when it cannot be written into `padded` in place; else empty.
        var resetHidden: UnsafeMutablePointer<Float>
        /// One Winograd band of the transformed `[h, x]` and of the products; empty for shifted GEMMs.
        var transformedInput: UnsafeMutablePointer<Float>, products: UnsafeMutablePointer<Float>
    }

    /// This step's scratch on `kernel`'s grid, laid out in the workspace's GRU block.
    func scratch(_ kernel: GateConvolution, workspace: Workspace) -> Scratch {
        let gate = hiddenChannels * kernel.height * kernel.width
        let bands = kernel.bandCounts
        return workspace.gru.carve { c in
            Scratch(z: c.take(gate), r: c.take(gate), q: c.take(gate),
                    preactivations: c.take(2 * hiddenChannels * kernel.preactivationPlane.count),
                    padded: c.take(kernel.paddedCount),
                    resetHidden: c.take(kernel.needsCompactResetHidden ? gate : 0),
                    transformedInput: c.take(bands.transformedInput), products: c.take(bands.products))
        }
    }

    /// One step on a batch (allocating convenience).
    /// - Parameters:
    ///   - hidden: `[N, hiddenChannels, h, w]`.
    ///   - input: `[N, inputChannels, h, w]`.
    /// - Returns: h', `[N, hiddenChannels, h, w]`.
    /// - Throws: ``TensorError/shapeMismatch(argument:expected:found:)`` for another shape of `hidden` or `input`.
    public func callAsFunction(hidden: Tensor, input: Tensor) throws(TensorError) -> Tensor {
        try Tensor.check(hidden, "ConvGRU hidden", [nil, hiddenChannels, nil, nil])
        try Tensor.check(input, "ConvGRU input", [hidden.n, inputChannels, hidden.h, hidden.w])
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
