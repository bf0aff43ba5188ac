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
/// Cost per step: the im2col of `[h, x]` is written once into a column buffer; z and r come from one GEMM
/// of the stacked `[Conv_z; Conv_r]` weights (`2·hidden` rows); q then re-uses the same column buffer after
/// only its hidden-state rows are overwritten with im2col(r⊙h).
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

    /// Floats of workspace this step uses on an `height × width` grid (column buffer and gate buffers).
    public func workspaceCount(height: Int, width: Int) -> Int {
        let pixels = height * width
        return z.patchSize * pixels + 4 * hiddenChannels * pixels
    }

    /// One step on one sample, updating `hidden` in place. Allocation-free once `workspace` holds
    /// "gru.columns", "gru.zr", "gru.rh" and "gru.q" of this size.
    /// - Parameters:
    ///   - hidden: `[hiddenChannels, height, width]`, replaced by h'.
    ///   - input: x, `[inputChannels, height, width]`.
    public func step(hidden: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                     height: Int, width: Int, workspace: Workspace) {
        let pixels = height * width
        let hid = hiddenChannels
        let taps = geometry.kernelHeight * geometry.kernelWidth
        let hiddenRows = hid * taps
        let columns = workspace.buffer("gru.columns", z.patchSize * pixels)
        let zr = workspace.buffer("gru.zr", 2 * hid * pixels)
        let rh = workspace.buffer("gru.rh", hid * pixels)
        let qBuffer = workspace.buffer("gru.q", hid * pixels)

        // im2col([h, x]) once: hidden rows first, then the input rows.
        Im2col.write(input: hidden, channels: hid, height: height, width: width, geometry: geometry, columns: columns)
        Im2col.write(input: input, channels: inputChannels, height: height, width: width, geometry: geometry,
                     columns: columns + hiddenRows * pixels)

        // [z; r] = σ([W_z; W_r] · cols + b) in one GEMM.
        self.zr.gemm(columns: columns, pixels: pixels, output: zr, ldc: pixels)
        Activations.sigmoid(zr, count: 2 * hid * pixels)

        // r⊙h, then refresh only the hidden-state rows of the column matrix.
        let r = UnsafePointer(zr + hid * pixels)
        for i in 0..<(hid * pixels) { rh[i] = r[i] * hidden[i] }
        Im2col.write(input: rh, channels: hid, height: height, width: width, geometry: geometry, columns: columns)

        // q = tanh(W_q · [im2col(r⊙h); im2col(x)] + b).
        q.gemm(columns: columns, pixels: pixels, output: qBuffer, ldc: pixels)
        Activations.tanh(qBuffer, count: hid * pixels)

        // h' = (1 − z)⊙h + z⊙q.
        for i in 0..<(hid * pixels) {
            let zi = zr[i]
            hidden[i] = (1 - zi) * hidden[i] + zi * qBuffer[i]
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
