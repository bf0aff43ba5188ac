/// RAFT: Recurrent All-Pairs Field Transforms for optical flow (Teed & Deng, ECCV 2020), inference on the CPU.
///
/// ```swift
/// let model = try RAFT(stateDict: weights)              // basic or small, detected from the shapes
/// let result = try model(frame1, frame2)                // [N, 3, H, W] RGB in 0…255
/// result.flow                                           // [N, 2, H, W] pixels
/// ```
///
/// The forward pass follows core/raft.py's `RAFT.forward(test_mode=True)`: pad to a
/// multiple of 8, normalise `2·(x/255) − 1`, encode both frames with fnet and frame 1 with cnet
/// (`tanh` hidden state, `ReLU` context), build the correlation pyramid, then iterate look-up → update
/// block → `coords1 += Δflow`, and upsample the final flow 8× (convex for basic, bilinear for small).
///
/// `RAFT` holds only weights and is `Sendable`: every call works in its own ``Workspace`` (or one the caller
/// passes in to reuse buffers between calls on one thread). Apart from the first iteration, which sizes
/// every scratch buffer, the iteration loop does not allocate.
public struct RAFT: Sendable {
    public let configuration: RAFTConfiguration
    /// `fnet`: instance-normalised features `[D, h, w]`.
    public let featureEncoder: FeatureEncoder
    /// `cnet`: hidden state and context `[hidden + context, h, w]`.
    public let contextEncoder: FeatureEncoder
    /// `update_block`.
    public let updateBlock: UpdateBlock

    /// The smallest padded image side the correlation pyramid supports: its coarsest level must keep a side of at
    /// least 2 (a side of 1 gives NaN in core/utils/utils.py's `bilinear_sampler`, and 0 makes the `avg_pool2d`
    /// of core/corr.py's `CorrBlock` raise). Smaller frames are replicate-padded up to it (``InputPadder``) and the
    /// flow is cropped back, so frames of any size run.
    public static let minimumSize = 128

    /// Builds RAFT from its parts. Parts that disagree with `configuration` are a programmer error and trap;
    /// ``init(validatingConfiguration:featureEncoder:contextEncoder:updateBlock:)`` throws instead.
    public init(configuration: RAFTConfiguration, featureEncoder: FeatureEncoder, contextEncoder: FeatureEncoder,
                updateBlock: UpdateBlock) {
        if let problem = Self.mismatch(configuration, featureEncoder, contextEncoder, updateBlock) { preconditionFailure("\(problem)") }
        self.configuration = configuration
        self.featureEncoder = featureEncoder
        self.contextEncoder = contextEncoder
        self.updateBlock = updateBlock
    }

    /// ``init(configuration:featureEncoder:contextEncoder:updateBlock:)`` with its contract checked.
    /// - Throws: ``LayerError/mismatch(layer:expected:found:)`` for a configuration outside 1…4 correlation levels
    ///   or with a negative radius, an update block of another configuration, a feature encoder without
    ///   `featureChannels` outputs or a context encoder without `hiddenChannels + contextChannels` outputs.
    public init(validatingConfiguration configuration: RAFTConfiguration, featureEncoder: FeatureEncoder,
                contextEncoder: FeatureEncoder, updateBlock: UpdateBlock) throws(LayerError) {
        if let problem = Self.mismatch(configuration, featureEncoder, contextEncoder, updateBlock) { throw problem }
        self.init(configuration: configuration, featureEncoder: featureEncoder, contextEncoder: contextEncoder,
                  updateBlock: updateBlock)
    }

    static func mismatch(_ c: RAFTConfiguration, _ fnet: FeatureEncoder, _ cnet: FeatureEncoder,
                         _ update: UpdateBlock) -> LayerError? {
        if !(1...4).contains(c.correlationLevels) || c.correlationRadius < 0 {
            return .mismatch(layer: "RAFT", expected: "1…4 correlation levels (minimumSize keeps the coarsest side ≥ 2) and a radius ≥ 0",
                             found: "\(c.correlationLevels) levels, radius \(c.correlationRadius)")
        }
        if update.configuration != c {
            return .mismatch(layer: "RAFT", expected: "an update block of the same configuration",
                             found: "\(update.configuration) for \(c)")
        }
        if fnet.outputChannels != c.featureChannels {
            return .mismatch(layer: "RAFT", expected: "a feature encoder with \(c.featureChannels) outputs",
                             found: "\(fnet.outputChannels)")
        }
        if cnet.outputChannels != c.hiddenChannels + c.contextChannels {
            return .mismatch(layer: "RAFT", expected: "a context encoder with \(c.hiddenChannels) + \(c.contextChannels) outputs",
                             found: "\(cnet.outputChannels)")
        }
        return nil
    }

    /// Builds RAFT from a state dict with the official parameter names (those of core/raft.py's modules; a `module.` prefix,
    /// `num_batches_tracked` entries and the duplicated shortcut norms are accepted). The variant is
    /// detected from `fnet.conv1.weight` (`[64, 3, 7, 7]` basic, `[32, 3, 7, 7]` small); fnet uses instance
    /// norm, cnet batch norm (basic) or none (small), as officially; an encoder whose `norm1` has running
    /// statistics is read as batch norm, one with only `norm1.weight` as group norm. Every key must be used.
    /// - Throws: ``WeightsError/unknownModel(file:reason:)`` for another network, or the missing, misshapen,
    ///   non-finite or unexpected key.
    public init(stateDict: StateDict) throws(WeightsError) {
        var sd = stateDict
        if !sd.tensors.isEmpty && sd.tensors.keys.allSatisfy({ $0.hasPrefix("module.") }) {
            sd.tensors = Dictionary(uniqueKeysWithValues: sd.tensors.map { (String($0.key.dropFirst(7)), $0.value) })
        }
        let configuration = try Self.detectConfiguration(sd)
        let reader = ParameterReader(sd)
        let layout: FeatureEncoder.Layout = configuration.variant == .basic ? .basic : .small
        // Norms are told apart by their parameters: running statistics → batch, weight only → group,
        // none → the official choice (fnet instance; cnet batch for basic, whose keys are then missing, or none).
        func normalization(_ prefix: String, otherwise: Normalization) -> Normalization {
            sd[prefix + ".norm1.running_mean"] != nil ? .batch : sd[prefix + ".norm1.weight"] != nil ? .group : otherwise
        }
        let fnet = try FeatureEncoder(layout: layout, normalization: normalization("fnet", otherwise: .instance),
                                      outputChannels: configuration.featureChannels, parameters: reader, prefix: "fnet")
        let cnet = try FeatureEncoder(layout: layout,
                                      normalization: normalization("cnet", otherwise: configuration.variant == .basic ? .batch : .none),
                                      outputChannels: configuration.hiddenChannels + configuration.contextChannels,
                                      parameters: reader, prefix: "cnet")
        let update = try UpdateBlock(configuration: configuration, parameters: reader, prefix: "update_block")
        try reader.finish()
        self.init(configuration: configuration, featureEncoder: fnet, contextEncoder: cnet, updateBlock: update)
    }

    private static func detectConfiguration(_ sd: StateDict) throws(WeightsError) -> RAFTConfiguration {
        guard let stem = sd["fnet.conv1.weight"] else {
            throw .unknownModel(file: sd.source, reason: "no 'fnet.conv1.weight' (found \(sd.tensors.count) keys, e.g. \(sd.keys.prefix(3)))")
        }
        switch stem.shape {
        case [64, 3, 7, 7]: return .basic
        case [32, 3, 7, 7]: return .small
        default:
            throw .unknownModel(file: sd.source,
                                reason: "'fnet.conv1.weight' has shape \(stem.shape), expected [64, 3, 7, 7] (RAFT) or [32, 3, 7, 7] (RAFT-S)")
        }
    }

    public var variant: RAFTVariant { configuration.variant }

    /// Learnable parameters: 5,257,536 basic, 990,162 small.
    public var parameterCount: Int {
        featureEncoder.parameterCount + contextEncoder.parameterCount + updateBlock.parameterCount
    }

    // MARK: - Inference

    /// Estimates the optical flow from `image1` to `image2`.
    /// - Parameters:
    ///   - image1, image2: `[N, 3, H, W]` RGB frames with values in 0…255, any size from 1×1: replicate-padded to
    ///     a multiple of 8 and at least ``minimumSize`` on each side, and the flow cropped back.
    ///   - flowInit: optional warm start `[N, 2, h, w]` at 1/8 of the padded size, in 1/8-resolution pixels
    ///     (e.g. ``forwardInterpolate(_:)`` of the previous pair's ``RAFTOutput/lowResolutionFlow``).
    ///   - options: iterations, padding mode, correlation strategy, per-iteration upsampling.
    ///   - workspace: scratch memory to reuse between calls (one thread at a time); a new one by default.
    ///   - onIteration: called after every iteration with copies of the current flow.
    /// - Returns: full-resolution and 1/8-resolution flow, plus per-stage timings.
    /// - Throws: ``RAFTError`` for inputs of the wrong shape, mismatched frames, non-finite values, fewer than
    ///   one iteration, or a non-finite output (``RAFTError/nonFiniteOutput``).
    public func callAsFunction(_ image1: Tensor, _ image2: Tensor, flowInit: Tensor? = nil,
                               options: RAFTOptions = RAFTOptions(), workspace: Workspace? = nil,
                               onIteration: ((RAFTIteration) -> Void)? = nil) throws(RAFTError) -> RAFTOutput {
        let padder = try validate(image1, image2, flowInit: flowInit, options: options)
        let output = forward(image1, image2, flowInit: flowInit, options: options, padder: padder,
                             workspace: workspace ?? Workspace(), features: nil, onIteration: onIteration)
        guard Self.firstNonFinite(output.flow) == nil else { throw .nonFiniteOutput }
        return output
    }

    /// The flow in both directions, image1 → image2 and image2 → image1, as two calls of
    /// ``callAsFunction(_:_:flowInit:options:workspace:onIteration:)`` would give them, with each frame through
    /// the feature encoder once: the backward pass takes both frames' feature maps from the forward pass and runs
    /// the context encoder on image2. `flowInit` warm-starts the forward direction only.
    /// The forward flow is bit for bit the single call's. With the all-pairs correlation, the backward pass takes
    /// its correlation volume as the transpose of the forward one, in place
    /// (``CorrelationPyramid/init(reversing:levels:)``), and pools it again. Its flow then equals the reversed
    /// pair's up to Float rounding, because the reversed pair's GEMM sums the same products in another order. On
    /// demand, the backward pass pools its own feature maps and is bit for bit the reversed pair's.
    /// - Parameters:
    ///   - onIteration: called after every iteration of each direction, forward first.
    ///   - shouldStop: asked before every iteration (and between the directions); when it returns true the
    ///     computation stops and the result is nil.
    /// - Returns: (forward, backward), or nil when stopped.
    /// - Throws: ``RAFTError`` as ``callAsFunction(_:_:flowInit:options:workspace:onIteration:)`` does.
    package func bidirectional(_ image1: Tensor, _ image2: Tensor, flowInit: Tensor?, options: RAFTOptions,
                               workspace: Workspace,
                               onIteration: ((_ backward: Bool, RAFTIteration) -> Void)? = nil,
                               shouldStop: (() -> Bool)? = nil) throws(RAFTError) -> (forward: RAFTOutput, backward: RAFTOutput)? {
        let padder = try validate(image1, image2, flowInit: flowInit, options: options)
        let count = featureCount(samples: image1.n, padder: padder)
        let (maps1, maps2) = (workspace.bidirectionalFeatures.0.reserve(count), workspace.bidirectionalFeatures.1.reserve(count))
        guard let forward = forward(image1, image2, flowInit: flowInit, options: options, padder: padder,
                                    workspace: workspace,
                                    features: FeatureMaps(first: maps1, firstIsComputed: false, second: maps2),
                                    onIteration: onIteration.map { f in { f(false, $0) } }, shouldStop: shouldStop),
              shouldStop?() != true,
              let backward = self.forward(image2, image1, flowInit: nil, options: options, padder: padder,
                                          workspace: workspace,
                                          features: FeatureMaps(first: maps2, firstIsComputed: true, second: maps1,
                                                                secondIsComputed: true,
                                                                holdsReversedPyramid: forward.correlation == .allPairs),
                                          onIteration: onIteration.map { f in { f(true, $0) } }, shouldStop: shouldStop)
        else { return nil }
        return (forward, backward)
    }

    /// ``callAsFunction(_:_:flowInit:options:workspace:onIteration:)`` that asks `shouldStop` before every
    /// iteration and returns nil as soon as it answers true.
    package func callAsFunction(_ image1: Tensor, _ image2: Tensor, flowInit: Tensor?, options: RAFTOptions,
                                workspace: Workspace, onIteration: ((RAFTIteration) -> Void)?,
                                shouldStop: @escaping () -> Bool) throws(RAFTError) -> RAFTOutput? {
        let padder = try validate(image1, image2, flowInit: flowInit, options: options)
        return forward(image1, image2, flowInit: flowInit, options: options, padder: padder, workspace: workspace,
                       features: nil, onIteration: onIteration, shouldStop: shouldStop)
    }

    /// The same as ``callAsFunction(_:_:flowInit:options:workspace:onIteration:)`` (bit for bit), with the
    /// feature maps in caller memory (``FlowSequence`` keeps them between pairs): `features.first` is used as it is
    /// when `features.firstIsComputed`, else computed; `features.second` is always computed. The caller has
    /// validated the inputs (``validate(_:_:flowInit:options:)``) and sized both buffers
    /// (``featureCount(samples:padder:)``).
    package func callAsFunction(_ image1: Tensor, _ image2: Tensor, flowInit: Tensor?, options: RAFTOptions,
                                padder: InputPadder, workspace: Workspace, features: FeatureMaps,
                                onIteration: ((RAFTIteration) -> Void)? = nil) -> RAFTOutput {
        forward(image1, image2, flowInit: flowInit, options: options, padder: padder, workspace: workspace,
                features: features, onIteration: onIteration)
    }

    /// Feature maps of every sample in caller memory, `[N, D, h, w]` each.
    package struct FeatureMaps {
        /// fmap1, already computed when `firstIsComputed`.
        package var first: UnsafeMutablePointer<Float>
        package var firstIsComputed: Bool
        /// fmap2, already computed when `secondIsComputed` (the backward pass of a bidirectional estimate).
        package var second: UnsafeMutablePointer<Float>
        package var secondIsComputed: Bool
        /// The workspace's correlation storage holds every sample's all-pairs pyramid of the reversed pair
        /// (second, first), as the forward pass of a bidirectional estimate leaves it: an all-pairs pass takes
        /// its volume as the transpose (``CorrelationPyramid/init(reversing:levels:)``) instead of a GEMM.
        package var holdsReversedPyramid: Bool

        package init(first: UnsafeMutablePointer<Float>, firstIsComputed: Bool, second: UnsafeMutablePointer<Float>,
                     secondIsComputed: Bool = false, holdsReversedPyramid: Bool = false) {
            (self.first, self.firstIsComputed, self.second, self.secondIsComputed) = (first, firstIsComputed, second, secondIsComputed)
            self.holdsReversedPyramid = holdsReversedPyramid
        }
    }

    /// Floats of one frame's feature maps for `samples` frames padded by `padder`: `N·D·h·w`.
    package func featureCount(samples: Int, padder: InputPadder) -> Int {
        let (h, w) = featureEncoder.outputSize(height: padder.paddedHeight, width: padder.paddedWidth)
        return samples * configuration.featureChannels * h * w
    }

    /// `RAFT.forward(test_mode=True)` of core/raft.py, stage by stage: for each sample, encode both frames'
    /// features and the first frame's context, and build the correlation pyramid; set coords1 to the grid (plus
    /// the warm start); refine; upsample. Without `shouldStop` the result is never nil.
    private func forward(_ image1: Tensor, _ image2: Tensor, flowInit: Tensor?, options: RAFTOptions,
                         padder: InputPadder, workspace: Workspace, features: FeatureMaps?,
                         onIteration: ((RAFTIteration) -> Void)?) -> RAFTOutput {
        guard let output = forward(image1, image2, flowInit: flowInit, options: options, padder: padder,
                                   workspace: workspace, features: features, onIteration: onIteration, shouldStop: nil)
        else { preconditionFailure("a forward pass without a stop condition always finishes") }
        return output
    }

    /// The forward pass; asks `shouldStop` before every iteration and returns nil as soon as it answers true.
    private func forward(_ image1: Tensor, _ image2: Tensor, flowInit: Tensor?, options: RAFTOptions,
                         padder: InputPadder, workspace: Workspace, features: FeatureMaps?,
                         onIteration: ((RAFTIteration) -> Void)?, shouldStop: (() -> Bool)?) -> RAFTOutput? {
        let start = ContinuousClock.now
        var timings = RAFTTimings()
        let arithmetic = workspace.arithmetic
        workspace.arithmetic = options.arithmetic
        defer { workspace.arithmetic = arithmetic }
        let grid = Grid(self, samples: image1.n, padder: padder, options: options)
        let s = scratch(grid, ownFeatures: features == nil, workspace: workspace)
        // fmap1 and fmap2 of sample b: at b·featureStride from these (a single call reuses one sample's buffers).
        let fmaps = features ?? FeatureMaps(first: s.fmap1, firstIsComputed: false, second: s.fmap2)
        if shouldStop?() == true { return nil }
        let featureStride = features == nil ? 0 : grid.featureCount
        var samplers: [CorrelationSampler] = []
        samplers.reserveCapacity(grid.samples)

        for b in 0..<grid.samples {
            let fmap1 = fmaps.first + b * featureStride, fmap2 = fmaps.second + b * featureStride
            timings.measure(\.preprocessing) { normalize(image1, sample: b, padder: padder, into: s.image) }
            if !fmaps.firstIsComputed {
                timings.measure(\.featureEncoder) { encodeFeatures(s.image, grid, into: fmap1, workspace: workspace) }
            }
            timings.measure(\.contextEncoder) { encodeContext(s.image, grid, sample: b, scratch: s, workspace: workspace) }
            timings.measure(\.preprocessing) { normalize(image2, sample: b, padder: padder, into: s.image) }
            if !fmaps.secondIsComputed {
                timings.measure(\.featureEncoder) { encodeFeatures(s.image, grid, into: fmap2, workspace: workspace) }
            }
            samplers.append(timings.measure(\.correlationVolume) {
                let storage = s.correlation + b * grid.correlationCount
                if fmaps.holdsReversedPyramid && grid.correlationMode == .allPairs {
                    return .allPairs(CorrelationPyramid(reversing: storage, levels: grid.levels))
                }
                return buildCorrelationPyramid(fmap1, fmap2, grid, storage: storage, workspace: workspace)
            })
        }
        initializeCoordinates(s.coords, grid, flowInit: flowInit)
        var flow = Tensor(shape: [grid.samples, 2, image1.h, image1.w])
        let finished = refine(samplers, grid, options: options, padder: padder, scratch: s, flow: &flow,
                              timings: &timings, workspace: workspace, onIteration: onIteration, shouldStop: shouldStop)
        guard finished else { return nil }
        timings.total = ContinuousClock.now - start
        return RAFTOutput(flow: flow, lowResolutionFlow: lowResolution(s.coords, grid), padder: padder,
                          correlation: grid.correlationMode, iterations: options.iterations, timings: timings)
    }

    /// fnet: `[3, Hp, Wp]` → `[D, h, w]`.
    private func encodeFeatures(_ image: UnsafePointer<Float>, _ grid: Grid, into fmap: UnsafeMutablePointer<Float>,
                                workspace: Workspace) {
        featureEncoder.forward(image, height: grid.paddedHeight, width: grid.paddedWidth, output: fmap, workspace: workspace)
    }

    /// cnet on frame 1, split into the initial hidden state `tanh(·)` and the context `ReLU(·)`; the context
    /// does not change between iterations, so its share of every GRU gate is computed here, once.
    private func encodeContext(_ image: UnsafePointer<Float>, _ grid: Grid, sample b: Int, scratch s: Scratch,
                               workspace: Workspace) {
        let (hid, ctx, pixels) = (configuration.hiddenChannels, configuration.contextChannels, grid.pixels)
        contextEncoder.forward(image, height: grid.paddedHeight, width: grid.paddedWidth, output: s.contextEncoderOutput,
                               workspace: workspace)
        let hidden = s.hidden + b * hid * pixels, cnet = s.contextEncoderOutput
        for i in 0..<(hid * pixels) { hidden[i] = Activations.tanh(cnet[i]) }
        for i in 0..<(ctx * pixels) { s.context[i] = max(cnet[hid * pixels + i], 0) }
        updateBlock.prepareContext(s.context, height: grid.height, width: grid.width,
                                   cache: s.contextCache + b * grid.contextCacheCount, workspace: workspace)
    }

    /// The all-pairs correlation pyramid of one sample (core/corr.py, `CorrBlock`), or the pooled feature maps of
    /// the on-demand variant (`AlternateCorrBlock`).
    private func buildCorrelationPyramid(_ fmap1: UnsafePointer<Float>, _ fmap2: UnsafePointer<Float>, _ grid: Grid,
                                         storage: UnsafeMutablePointer<Float>, workspace: Workspace) -> CorrelationSampler {
        CorrelationSampler(fmap1: fmap1, fmap2: fmap2, channels: configuration.featureChannels, levels: grid.levels,
                           mode: grid.correlationMode, storage: storage, workspace: workspace)
    }

    /// coords1 = coords0 = the pixel grid (x in channel 0, y in channel 1), plus `flowInit` when given.
    private func initializeCoordinates(_ coords: UnsafeMutablePointer<Float>, _ grid: Grid, flowInit: Tensor?) {
        let (pixels, w) = (grid.pixels, grid.width)
        for b in 0..<grid.samples {
            let x = coords + b * 2 * pixels, y = x + pixels
            for p in 0..<pixels {
                x[p] = Float(p % w)
                y[p] = Float(p / w)
            }
            if let flowInit {
                let f = flowInit.pointer + b * 2 * pixels
                for p in 0..<pixels { x[p] += f[p]; y[p] += f[pixels + p] }
            }
        }
    }

    /// The update loop: look up the correlation at coords1, run the update operator on flow = coords1 − coords0,
    /// `coords1 += Δflow`; upsample the flow after the last iteration (or after every one, if asked). Returns
    /// false when `shouldStop`, asked before every iteration, answered true.
    private func refine(_ samplers: [CorrelationSampler], _ grid: Grid, options: RAFTOptions, padder: InputPadder,
                        scratch s: Scratch, flow output: inout Tensor, timings: inout RAFTTimings,
                        workspace: Workspace, onIteration: ((RAFTIteration) -> Void)?,
                        shouldStop: (() -> Bool)?) -> Bool {
        let (hid, pixels) = (configuration.hiddenChannels, grid.pixels)
        let outputPointer = output.mutablePointer()
        for iteration in 1...options.iterations {
            if let shouldStop, shouldStop() { return false }
            let upsample = iteration == options.iterations || options.upsampleEveryIteration
            for b in 0..<grid.samples {
                let coords1 = s.coords + b * 2 * pixels
                // corr = corr_fn(coords1), pixel-major (see CorrelationLayout).
                timings.measure(\.lookups) { samplers[b].lookup(coords: coords1, output: s.correlationFeatures, layout: .pixelMajor) }
                timings.measure(\.updates) {
                    Self.flow(coords: coords1, width: grid.width, pixels: pixels, into: s.flow)
                    updateBlock.step(hidden: s.hidden + b * hid * pixels, contextCache: s.contextCache + b * grid.contextCacheCount,
                                     correlation: s.correlationFeatures, correlationLayout: .pixelMajor, flow: s.flow,
                                     height: grid.height, width: grid.width, deltaFlow: s.deltaFlow,
                                     mask: upsample ? s.mask : nil, workspace: workspace)
                    for i in 0..<(2 * pixels) { coords1[i] += s.deltaFlow[i] }
                }
                if upsample {
                    timings.measure(\.upsampling) {
                        upsampleFlow(coords1, grid, scratch: s, padder: padder,
                                     into: outputPointer + b * 2 * padder.height * padder.width)
                    }
                }
            }
            if let onIteration {
                onIteration(RAFTIteration(index: iteration, lowResolutionFlow: lowResolution(s.coords, grid),
                                          flow: upsample ? Tensor(uncheckedShape: output.shape, values: output.scalars) : nil))
            }
        }
        return true
    }

    /// coords1 − coords0 at full resolution: convex upsampling with the mask (basic, core/raft.py
    /// `upsample_flow`) or bilinear ×8 (small, core/utils/utils.py `upflow8`), then unpadded.
    private func upsampleFlow(_ coords1: UnsafePointer<Float>, _ grid: Grid, scratch s: Scratch, padder: InputPadder,
                              into output: UnsafeMutablePointer<Float>) {
        Self.flow(coords: coords1, width: grid.width, pixels: grid.pixels, into: s.flow)
        if updateBlock.hasMaskHead {
            ConvexUpsampler.upsample(flow: s.flow, mask: s.mask, height: grid.height, width: grid.width, output: s.upsampled)
        } else {
            BilinearUpsampler.upflow8(flow: s.flow, height: grid.height, width: grid.width, output: s.upsampled)
        }
        padder.unpad(s.upsampled, channels: 2, into: output)
    }

    /// Checks shapes, sizes, finiteness and the iteration count; returns the padder.
    package func validate(_ image1: Tensor, _ image2: Tensor, flowInit: Tensor?,
                          options: RAFTOptions) throws(RAFTError) -> InputPadder {
        for (name, image) in [("image1", image1), ("image2", image2)] where image.rank != 4 || image.shape[1] != 3 || image.count == 0 {
            throw .invalidShape(input: name, shape: image.shape, expected: "[N, 3, H, W] with N, H, W ≥ 1")
        }
        guard image1.shape == image2.shape else { throw .frameSizeMismatch(image1: image1.shape, image2: image2.shape) }
        guard options.iterations >= 1 else { throw .invalidIterations(options.iterations) }
        let padder = InputPadder(unchecked: image1.h, image1.w, mode: options.padding, minimumSize: Self.minimumSize)   // H, W ≥ 1: checked above
        for (name, image) in [("image1", image1), ("image2", image2)] {
            if let i = Self.firstNonFinite(image) { throw .nonFinite(input: name, index: Self.index(i, shape: image.shape)) }
        }
        if let flowInit {
            let expected = [image1.n, 2, padder.paddedHeight / 8, padder.paddedWidth / 8]
            guard flowInit.shape == expected else {
                throw .invalidShape(input: "flowInit", shape: flowInit.shape, expected: "\(expected)")
            }
            if let i = Self.firstNonFinite(flowInit) { throw .nonFinite(input: "flowInit", index: Self.index(i, shape: flowInit.shape)) }
        }
        return padder
    }

    package static func firstNonFinite(_ t: Tensor) -> Int? {
        t.withUnsafeBufferPointer { b in
            // Fast check first: x − x is 0 for finite values and NaN otherwise.
            var acc: Float = 0
            for v in b { acc += v - v }
            return acc == 0 ? nil : b.firstIndex { !$0.isFinite }
        }
    }

    private static func index(_ flat: Int, shape: [Int]) -> [Int] {
        var rest = flat
        return Array(shape.reversed().map { d in defer { rest /= d }; return rest % d }.reversed())
    }

    /// Pads sample `b` of `frames` `[N, 3, H, W]` to `[3, Hp, Wp]` and normalises it, `2·(x/255) − 1`.
    private func normalize(_ frames: Tensor, sample b: Int, padder: InputPadder, into image: UnsafeMutablePointer<Float>) {
        padder.pad(frames.pointer + b * 3 * padder.height * padder.width, channels: 3, into: image) { 2 * ($0 / 255) - 1 }
    }

    /// `flow = coords1 − coords0` for one sample.
    @inline(__always)
    private static func flow(coords: UnsafePointer<Float>, width w: Int, pixels: Int, into flow: UnsafeMutablePointer<Float>) {
        for p in 0..<pixels {
            flow[p] = coords[p] - Float(p % w)
            flow[pixels + p] = coords[pixels + p] - Float(p / w)
        }
    }

    /// coords1 − coords0 of every sample, `[N, 2, h, w]`.
    private func lowResolution(_ coords: UnsafePointer<Float>, _ grid: Grid) -> Tensor {
        var out = Tensor(shape: [grid.samples, 2, grid.height, grid.width])
        let dst = out.mutablePointer(), pixels = grid.pixels
        for b in 0..<grid.samples {
            Self.flow(coords: coords + b * 2 * pixels, width: grid.width, pixels: pixels, into: dst + b * 2 * pixels)
        }
        return out
    }
}

extension RAFT {
    /// The sizes of one forward pass: N samples, the padded frame `Hp × Wp` and the 1/8 grid `h × w`.
    struct Grid {
        let samples: Int, paddedHeight: Int, paddedWidth: Int, height: Int, width: Int
        let levels: CorrelationLevels
        let correlationMode: CorrelationMode
        /// Floats per sample of the feature maps `[D, h, w]`, the correlation storage and the context cache.
        let featureCount: Int, correlationCount: Int, contextCacheCount: Int
        var pixels: Int { height * width }

        init(_ model: RAFT, samples: Int, padder: InputPadder, options: RAFTOptions) {
            let c = model.configuration
            self.samples = samples
            (paddedHeight, paddedWidth) = (padder.paddedHeight, padder.paddedWidth)
            (height, width) = model.featureEncoder.outputSize(height: paddedHeight, width: paddedWidth)
            levels = CorrelationLevels(height: height, width: width, count: c.correlationLevels, radius: c.correlationRadius)
            correlationMode = options.correlation.resolved(samples: samples, height: height, width: width,
                                                           levels: c.correlationLevels)
            featureCount = c.featureChannels * height * width
            correlationCount = CorrelationSampler.storageCount(levels, channels: c.featureChannels, mode: correlationMode)
            contextCacheCount = model.updateBlock.contextCacheCount(height: height, width: width)
        }
    }

    /// One forward pass's memory besides what its modules carve for themselves.
    struct Scratch {
        /// One frame, padded and normalised, `[3, Hp, Wp]`.
        var image: UnsafeMutablePointer<Float>
        /// One sample's feature maps when the caller keeps none, `[D, h, w]` each (else empty).
        var fmap1: UnsafeMutablePointer<Float>, fmap2: UnsafeMutablePointer<Float>
        /// cnet's output for one sample, `[hidden + context, h, w]`.
        var contextEncoderOutput: UnsafeMutablePointer<Float>
        /// The GRU hidden state of every sample, `[N, hidden, h, w]`.
        var hidden: UnsafeMutablePointer<Float>
        /// One sample's context, `[context, h, w]`.
        var context: UnsafeMutablePointer<Float>
        /// Every sample's share of the GRU gates from its context, `[N, contextCacheCount]`.
        var contextCache: UnsafeMutablePointer<Float>
        /// Every sample's correlation pyramid (or on-demand pooled feature maps), `[N, correlationCount]`.
        var correlation: UnsafeMutablePointer<Float>
        /// coords1 of every sample, `[N, 2, h, w]`.
        var coords: UnsafeMutablePointer<Float>
        /// One sample's look-up, pixel-major `[h·w, L·(2r+1)²]`.
        var correlationFeatures: UnsafeMutablePointer<Float>
        /// flow = coords1 − coords0 and Δflow, `[2, h, w]` each.
        var flow: UnsafeMutablePointer<Float>, deltaFlow: UnsafeMutablePointer<Float>
        /// The convex-upsampling mask, `[576, h, w]` (basic; empty for small).
        var mask: UnsafeMutablePointer<Float>
        /// One sample's upsampled flow before unpadding, `[2, Hp, Wp]`.
        var upsampled: UnsafeMutablePointer<Float>
    }

    /// The pass's scratch, laid out in the workspace's RAFT block.
    func scratch(_ grid: Grid, ownFeatures: Bool, workspace: Workspace) -> Scratch {
        let c = configuration, n = grid.samples, pixels = grid.pixels, frame = grid.paddedHeight * grid.paddedWidth
        let fmap = ownFeatures ? grid.featureCount : 0
        let mask = updateBlock.hasMaskHead ? MaskHead.outputChannels * pixels : 0
        return workspace.raft.carve { a in
            Scratch(image: a.take(3 * frame), fmap1: a.take(fmap), fmap2: a.take(fmap),
                    contextEncoderOutput: a.take((c.hiddenChannels + c.contextChannels) * pixels),
                    hidden: a.take(n * c.hiddenChannels * pixels), context: a.take(c.contextChannels * pixels),
                    contextCache: a.take(n * grid.contextCacheCount), correlation: a.take(n * grid.correlationCount),
                    coords: a.take(n * 2 * pixels), correlationFeatures: a.take(c.correlationChannels * pixels),
                    flow: a.take(2 * pixels), deltaFlow: a.take(2 * pixels), mask: a.take(mask),
                    upsampled: a.take(2 * frame))
        }
    }
}

extension RAFTTimings {
    /// Runs `body` and adds its wall-clock time to `stage`.
    @inline(__always)
    mutating func measure<T>(_ stage: WritableKeyPath<RAFTTimings, Duration>, _ body: () -> T) -> T {
        let start = ContinuousClock.now
        let result = body()
        self[keyPath: stage] += ContinuousClock.now - start
        return result
    }
}
