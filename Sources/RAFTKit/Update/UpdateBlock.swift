/// RAFT's recurrent update operator (core/update.py, `BasicUpdateBlock` / `SmallUpdateBlock`), one iteration:
///
///     motion = MotionEncoder(flow, corr)              128 (basic) / 82 (small) channels, flow last
///     x      = [context, motion]                      256 / 146 channels
///     hidden = GRU(hidden, x)                         SepConvGRU 1×5→5×1 (basic) / ConvGRU 3×3 (small)
///     Δflow  = FlowHead(hidden)
///     mask   = 0.25 · MaskHead(hidden)                basic only
///
/// The concatenation `x = [context, motion]` is never formed: the context's share of every GRU gate is
/// computed once per image pair (``prepareContext(_:height:width:cache:workspace:)``) and each iteration
/// multiplies only `[h, motion]`.
public struct UpdateBlock: Sendable {
    public let configuration: RAFTConfiguration
    /// `update_block.encoder`.
    public let encoder: MotionEncoder
    /// `update_block.gru`: two steps (1×5, 5×1) for basic, one 3×3 step for small. Its steps also hold their
    /// weights split at the context channels, so that the context's share of every gate is computed once per
    /// image pair (``ConvGRU/splittingStaticInput(channels:)``).
    public let gru: SeqConvGRU
    /// `update_block.flow_head`.
    public let flowHead: FlowHead
    /// `update_block.mask` (basic only).
    public let maskHead: MaskHead?

    /// Builds the update block of `configuration` from official parameter names under `prefix`:
    /// `encoder.convc1 …`, `gru.convz1 …` (basic) or `gru.convz …` (small), `flow_head.conv1/2`, `mask.0/2`.
    /// - Throws: ``WeightsError/missingKey(file:key:)`` or ``WeightsError/shapeMismatch(file:key:expected:found:)``
    ///   naming the offending key. (`package`, because ``ParameterReader`` is; the public door is
    ///   ``init(configuration:stateDict:prefix:)``.)
    package init(configuration: RAFTConfiguration, parameters: ParameterReader,
                prefix: String = "update_block") throws(WeightsError) {
        let c = configuration
        let p = prefix.isEmpty ? "" : prefix + "."
        let layout: MotionEncoder.Layout = c.variant == .basic ? .basic : .small
        let encoder = try MotionEncoder(layout: layout, correlationChannels: c.correlationChannels,
                                        parameters: parameters, prefix: p + "encoder")
        let gruInput = c.contextChannels + encoder.outputChannels
        let gru: SeqConvGRU
        let flowHead: FlowHead
        var maskHead: MaskHead?
        switch c.variant {
        case .basic:
            gru = try SeqConvGRU(parameters: parameters, prefix: p + "gru", hiddenChannels: c.hiddenChannels,
                                 inputChannels: gruInput, geometries: SeqConvGRU.separableGeometries)
            flowHead = try FlowHead(parameters: parameters, prefix: p + "flow_head", inputChannels: c.hiddenChannels,
                                    hiddenChannels: 256)
            maskHead = try MaskHead(parameters: parameters, prefix: p + "mask", inputChannels: c.hiddenChannels)
        case .small:
            gru = SeqConvGRU(steps: [try ConvGRU(parameters: parameters, prefix: p + "gru", hiddenChannels: c.hiddenChannels,
                                                 inputChannels: gruInput, geometry: ConvGeometry(square: 3))])
            flowHead = try FlowHead(parameters: parameters, prefix: p + "flow_head", inputChannels: c.hiddenChannels,
                                    hiddenChannels: 128)
        }
        self.init(configuration: c, encoder: encoder, gru: gru, flowHead: flowHead, maskHead: maskHead)
    }

    /// Builds the update block from a state dict holding official parameter names under `prefix`, and checks
    /// that no other key under `prefix` is left unused.
    /// - Throws: ``WeightsError`` naming the missing, misshapen or unexpected key.
    public init(configuration: RAFTConfiguration, stateDict: StateDict, prefix: String = "update_block") throws(WeightsError) {
        let reader = ParameterReader(stateDict)
        try self.init(configuration: configuration, parameters: reader, prefix: prefix)
        try reader.finish(under: prefix.isEmpty ? "" : prefix + ".")
    }

    /// An update block from its parts (channel counts must agree with `configuration`). Parts that disagree
    /// are a programmer error and trap; ``init(validatingConfiguration:encoder:gru:flowHead:maskHead:)`` throws
    /// instead.
    public init(configuration: RAFTConfiguration, encoder: MotionEncoder, gru: SeqConvGRU, flowHead: FlowHead,
                maskHead: MaskHead?) {
        if let problem = Self.mismatch(configuration, encoder, gru, flowHead, maskHead) { preconditionFailure("\(problem)") }
        self.configuration = configuration
        self.encoder = encoder
        self.gru = gru.splittingStaticInput(channels: configuration.contextChannels)
        self.flowHead = flowHead
        self.maskHead = maskHead
    }

    /// Whether the block predicts a convex-upsampling mask (basic true, small false).
    public var hasMaskHead: Bool { maskHead != nil }

    /// Learnable parameters: basic 902,654 + 1,475,328 + 299,778 + 443,200 = 3,120,960; small
    /// 135,952 + 627,552 + 113,026 = 876,530.
    public var parameterCount: Int {
        encoder.parameterCount + gru.parameterCount + flowHead.parameterCount + (maskHead?.parameterCount ?? 0)
    }

    /// Multiply-accumulates of one iteration for one sample on an `height × width` grid (mask head included
    /// when present; convolutions only).
    public func multiplyAccumulates(height: Int, width: Int) -> Int {
        encoder.multiplyAccumulates(height: height, width: width) + gru.multiplyAccumulates(height: height, width: width)
            + flowHead.multiplyAccumulates(height: height, width: width)
            + (maskHead?.multiplyAccumulates(height: height, width: width) ?? 0)
    }

    /// Floats of the per-sample context cache: the context's share of every GRU gate (3·hidden channels per
    /// GRU step).
    public func contextCacheCount(height: Int, width: Int) -> Int {
        gru.staticContributionCount(height: height, width: width)
    }

    /// Computes the context's share of every GRU gate once per image pair (RAFT's context does not change
    /// between iterations).
    /// - Parameters:
    ///   - context: `[contextChannels, h, w]`.
    ///   - cache: `[contextCacheCount(height:width:)]` out.
    package func prepareContext(_ context: UnsafePointer<Float>, height: Int, width: Int,
                                cache: UnsafeMutablePointer<Float>, workspace: Workspace) {
        gru.prepareStaticInput(context, height: height, width: width, output: cache, workspace: workspace)
    }

    /// One sample on an h×w grid, allocation-free once the workspace has grown.
    /// - Parameters:
    ///   - hidden: `[hiddenChannels, h, w]`, updated in place.
    ///   - context: `[contextChannels, h, w]`.
    ///   - correlation: `[correlationChannels, h, w]`.
    ///   - flow: `[2, h, w]` = coords1 − coords0.
    ///   - deltaFlow: `[2, h, w]` out.
    ///   - mask: `[576, h, w]` out, already ×0.25; nil skips the mask head (ignored for small).
    package func step(hidden: UnsafeMutablePointer<Float>,
                      context: UnsafePointer<Float>,
                      correlation: UnsafePointer<Float>,
                      flow: UnsafePointer<Float>,
                      height: Int, width: Int,
                      deltaFlow: UnsafeMutablePointer<Float>,
                      mask: UnsafeMutablePointer<Float>?,
                      workspace: Workspace) {
        let cache = scratch(height: height, width: width, contextCache: true, workspace: workspace).contextCache
        prepareContext(context, height: height, width: width, cache: cache, workspace: workspace)
        step(hidden: hidden, contextCache: cache, correlation: correlation, flow: flow, height: height, width: width,
             deltaFlow: deltaFlow, mask: mask, workspace: workspace)
    }

    /// One iteration with a context cache from ``prepareContext(_:height:width:cache:workspace:)``: the loop
    /// body of ``RAFT``. Allocation-free once the workspace has grown.
    /// - Parameters:
    ///   - hidden: `[hiddenChannels, h, w]`, updated in place.
    ///   - contextCache: this sample's context cache.
    ///   - correlation: `[correlationChannels, h, w]` (or pixel-major, see `correlationLayout`).
    ///   - flow: `[2, h, w]` = coords1 − coords0.
    ///   - deltaFlow: `[2, h, w]` out.
    ///   - mask: `[576, h, w]` out, already ×0.25; nil skips the mask head (ignored for small).
    package func step(hidden: UnsafeMutablePointer<Float>,
                      contextCache: UnsafePointer<Float>,
                      correlation: UnsafePointer<Float>,
                      correlationLayout: CorrelationLayout = .channelMajor,
                      flow: UnsafePointer<Float>,
                      height: Int, width: Int,
                      deltaFlow: UnsafeMutablePointer<Float>,
                      mask: UnsafeMutablePointer<Float>?,
                      workspace: Workspace) {
        let motion = scratch(height: height, width: width, contextCache: false, workspace: workspace).motion
        // motion = MotionEncoder(flow, corr);  hidden = GRU(hidden, [context, motion]);  Δflow = FlowHead(hidden)
        encoder.forward(flow: flow, correlation: correlation, correlationLayout: correlationLayout,
                        height: height, width: width, output: motion, workspace: workspace)
        gru.step(hidden: hidden, dynamicInput: motion, staticContribution: contextCache,
                 height: height, width: width, workspace: workspace)
        flowHead.forward(hidden, height: height, width: width, output: deltaFlow, workspace: workspace)
        // mask = 0.25 · MaskHead(hidden), only when a full-resolution flow is wanted (at inference, after the last
        // iteration); the heads share their scratch, so switching it on never allocates.
        if let mask, let maskHead {
            maskHead.forward(hidden, height: height, width: width, output: mask, workspace: workspace)
        }
    }

    /// What one iteration needs besides its inputs and outputs.
    struct Scratch {
        /// The motion features, `[encoder.outputChannels, h, w]`: the GRU's per-iteration input.
        var motion: UnsafeMutablePointer<Float>
        /// The context's share of the GRU gates, ``contextCacheCount(height:width:)`` floats, for callers that
        /// pass the context instead of a cache; empty otherwise.
        var contextCache: UnsafeMutablePointer<Float>
    }

    /// The scratch for an `height × width` grid, laid out in the workspace's update block. `motion` comes first,
    /// so the layout without a cache (the iteration, called by the one with a cache) never moves the cache.
    func scratch(height: Int, width: Int, contextCache: Bool, workspace: Workspace) -> Scratch {
        let motion = encoder.outputChannels * height * width
        let cache = contextCache ? contextCacheCount(height: height, width: width) : 0
        return workspace.update.carve { Scratch(motion: $0.take(motion), contextCache: $0.take(cache)) }
    }

    /// Batched, allocating convenience.
    /// - Parameters:
    ///   - hidden: `[N, hiddenChannels, h, w]`.
    ///   - context: `[N, contextChannels, h, w]`.
    ///   - correlation: `[N, correlationChannels, h, w]`.
    ///   - flow: `[N, 2, h, w]`.
    ///   - computeMask: run the mask head (basic only); at inference only the last iteration needs it.
    ///   - workspace: scratch to reuse between calls (a new one by default).
    /// - Returns: the new hidden state `[N, hiddenChannels, h, w]`, the mask `[N, 576, h, w]` (basic with
    ///   `computeMask`; nil otherwise) and Δflow `[N, 2, h, w]`.
    /// - Throws: ``TensorError/shapeMismatch(argument:expected:found:)`` for an input of another shape.
    public func callAsFunction(hidden: Tensor, context: Tensor, correlation: Tensor, flow: Tensor,
                               computeMask: Bool = true, workspace: Workspace? = nil)
        throws(TensorError) -> (hidden: Tensor, mask: Tensor?, deltaFlow: Tensor) {
        var newHidden = hidden
        var delta = Tensor(shape: [0])
        var mask: Tensor? = maskHead != nil && computeMask ? Tensor(shape: [0]) : nil
        try step(hidden: &newHidden, context: context, correlation: correlation, flow: flow, deltaFlow: &delta,
                 mask: &mask, workspace: workspace ?? Workspace())
        return (newHidden, mask, delta)
    }
}

extension UpdateBlock {
    /// ``init(configuration:encoder:gru:flowHead:maskHead:)`` with its contract checked.
    /// - Throws: ``LayerError/mismatch(layer:expected:found:)`` for an encoder that reads another number of
    ///   correlation channels, a GRU whose hidden or input channels are not the configuration's hidden and
    ///   context + motion channels, or a head that does not read the hidden state.
    public init(validatingConfiguration configuration: RAFTConfiguration, encoder: MotionEncoder, gru: SeqConvGRU,
                flowHead: FlowHead, maskHead: MaskHead?) throws(LayerError) {
        if let problem = Self.mismatch(configuration, encoder, gru, flowHead, maskHead) { throw problem }
        self.init(configuration: configuration, encoder: encoder, gru: gru, flowHead: flowHead, maskHead: maskHead)
    }

    static func mismatch(_ c: RAFTConfiguration, _ encoder: MotionEncoder, _ gru: SeqConvGRU, _ flowHead: FlowHead,
                         _ maskHead: MaskHead?) -> LayerError? {
        if encoder.correlationChannels != c.correlationChannels {
            return .mismatch(layer: "UpdateBlock", expected: "an encoder reading \(c.correlationChannels) correlation channels",
                             found: "\(encoder.correlationChannels)")
        }
        if gru.hiddenChannels != c.hiddenChannels || gru.inputChannels != c.contextChannels + encoder.outputChannels {
            return .mismatch(layer: "UpdateBlock",
                             expected: "a GRU of hidden \(c.hiddenChannels), input \(c.contextChannels) + \(encoder.outputChannels)",
                             found: "hidden \(gru.hiddenChannels), input \(gru.inputChannels)")
        }
        if flowHead.inputChannels != gru.hiddenChannels || (maskHead.map { $0.inputChannels != gru.hiddenChannels } ?? false) {
            return .mismatch(layer: "UpdateBlock", expected: "heads reading \(gru.hiddenChannels) hidden channels",
                             found: "flow head \(flowHead.inputChannels), mask head \(maskHead.map { "\($0.inputChannels)" } ?? "none")")
        }
        return nil
    }

    /// One iteration on a batch into caller-owned tensors: allocation-free once `workspace` and the outputs
    /// have their sizes (for benchmarks and custom loops).
    /// - Parameters:
    ///   - hidden: `[N, hiddenChannels, h, w]`, updated in place.
    ///   - context: `[N, contextChannels, h, w]`.
    ///   - correlation: `[N, correlationChannels, h, w]`.
    ///   - flow: `[N, 2, h, w]`.
    ///   - deltaFlow: resized to `[N, 2, h, w]` and overwritten.
    ///   - mask: when non-nil (basic), resized to `[N, 576, h, w]` and overwritten; nil skips the mask head.
    /// - Throws: ``TensorError/shapeMismatch(argument:expected:found:)`` for an input of another shape (nothing is written then).
    public func step(hidden: inout Tensor, context: Tensor, correlation: Tensor, flow: Tensor,
                     deltaFlow: inout Tensor, mask: inout Tensor?, workspace: Workspace) throws(TensorError) {
        let c = configuration
        try Tensor.check(hidden, "hidden", [nil, c.hiddenChannels, nil, nil])
        let (n, h, w) = (hidden.n, hidden.h, hidden.w)
        for (t, ch, name) in [(context, c.contextChannels, "context"), (correlation, c.correlationChannels, "correlation"),
                              (flow, 2, "flow")] {
            try Tensor.check(t, name, [n, ch, h, w])
        }
        let pixels = h * w
        deltaFlow.resize(to: [n, 2, h, w])
        if maskHead == nil { mask = nil }
        mask?.resize(to: [n, MaskHead.outputChannels, h, w])
        let hp = hidden.mutablePointer(), dp = deltaFlow.mutablePointer()
        let mp = mask?.mutablePointer()
        for b in 0..<n {
            step(hidden: hp + b * c.hiddenChannels * pixels, context: context.pointer + b * c.contextChannels * pixels,
                 correlation: correlation.pointer + b * c.correlationChannels * pixels, flow: flow.pointer + b * 2 * pixels,
                 height: h, width: w, deltaFlow: dp + b * 2 * pixels,
                 mask: mp.map { $0 + b * MaskHead.outputChannels * pixels }, workspace: workspace)
        }
    }
}
