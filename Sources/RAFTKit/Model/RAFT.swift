/// RAFT: Recurrent All-Pairs Field Transforms for optical flow (Teed & Deng, ECCV 2020), inference on the CPU.
///
/// ```swift
/// let model = try RAFT(stateDict: weights)              // basic or small, detected from the shapes
/// let result = try model(frame1, frame2)                // [N, 3, H, W] RGB in 0…255
/// result.flow                                           // [N, 2, H, W] pixels
/// ```
///
/// The forward pass follows the official `RAFT.forward(test_mode=True)` (raft-spec §1.2): pad to a
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

    /// The smallest padded image side the correlation pyramid supports (raft-spec §1.4).
    public static let minimumSize = 128

    /// Builds RAFT from its parts.
    public init(configuration: RAFTConfiguration, featureEncoder: FeatureEncoder, contextEncoder: FeatureEncoder,
                updateBlock: UpdateBlock) {
        precondition(featureEncoder.outputChannels == configuration.featureChannels, "fnet must output \(configuration.featureChannels) channels")
        precondition(contextEncoder.outputChannels == configuration.hiddenChannels + configuration.contextChannels,
                     "cnet must output hidden + context channels")
        self.configuration = configuration
        self.featureEncoder = featureEncoder
        self.contextEncoder = contextEncoder
        self.updateBlock = updateBlock
    }

    /// Builds RAFT from a state dict with the official parameter names (raft-spec §6; a `module.` prefix,
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
    ///   - image1, image2: `[N, 3, H, W]` RGB frames with values in 0…255 (any size whose padded size is at
    ///     least 128×128).
    ///   - flowInit: optional warm start `[N, 2, h, w]` at 1/8 of the padded size, in 1/8-resolution pixels
    ///     (e.g. ``forwardInterpolate(_:)`` of the previous pair's ``RAFTOutput/lowResolutionFlow``).
    ///   - options: iterations, padding mode, correlation strategy, per-iteration upsampling.
    ///   - workspace: scratch memory to reuse between calls (one thread at a time); a new one by default.
    ///   - onIteration: called after every iteration with copies of the current flow.
    /// - Returns: full-resolution and 1/8-resolution flow, plus per-stage timings.
    /// - Throws: ``RAFTError`` for inputs of the wrong shape, mismatched or too-small frames, non-finite
    ///   values, or fewer than one iteration.
    public func callAsFunction(_ image1: Tensor, _ image2: Tensor, flowInit: Tensor? = nil,
                               options: RAFTOptions = RAFTOptions(), workspace: Workspace? = nil,
                               onIteration: ((RAFTIteration) -> Void)? = nil) throws(RAFTError) -> RAFTOutput {
        try run(image1, image2, flowInit: flowInit, options: options, workspace: workspace ?? Workspace(),
                features: .perSample, onIteration: onIteration).output
    }

    /// One pair of a video, reusing the previous pair's work: the same as
    /// ``callAsFunction(_:_:flowInit:options:workspace:onIteration:)`` (bit for bit), except that the feature maps
    /// of `image1` are taken from `carried` when it is still valid, and those of `image2` are kept in `workspace`
    /// for the next pair.
    ///
    /// The features of all N samples live in two workspace buffers, `raft.features.0` and `raft.features.1`
    /// (`[N, D, h, w]` each), used alternately, so nothing is copied. `carried` is valid when it was returned by
    /// the last call of this method on `workspace` (the workspace's feature generation says so) for the same batch size,
    /// frame size and padding; otherwise the features are recomputed. The caller guarantees that `image1` is the
    /// `image2` of the call that returned `carried`, and that the model is the same.
    /// - Returns: the output, the handle for the next pair, and how many frames the feature encoder ran on (`N`
    ///   when the features were reused, `2N` otherwise).
    package func callAsFunction(_ image1: Tensor, _ image2: Tensor, flowInit: Tensor?, options: RAFTOptions,
                                workspace: Workspace, carrying carried: CarriedFeatures?,
                                onIteration: ((RAFTIteration) -> Void)? = nil) throws(RAFTError)
        -> (output: RAFTOutput, carried: CarriedFeatures, featureEncoderRuns: Int) {
        let result = try run(image1, image2, flowInit: flowInit, options: options, workspace: workspace,
                             features: .sequence(carried), onIteration: onIteration)
        return (result.output, result.carried!, result.featureEncoderRuns)
    }

    /// Where the feature maps go: one `[D, h, w]` pair of buffers reused sample by sample (a single call), or
    /// `[N, D, h, w]` buffers that outlive the call (a sequence).
    private enum FeatureStorage {
        case perSample
        case sequence(CarriedFeatures?)
    }

    private func run(_ image1: Tensor, _ image2: Tensor, flowInit: Tensor?, options: RAFTOptions, workspace ws: Workspace,
                     features: FeatureStorage, onIteration: ((RAFTIteration) -> Void)?) throws(RAFTError)
        -> (output: RAFTOutput, carried: CarriedFeatures?, featureEncoderRuns: Int) {
        let clock = ContinuousClock()
        let start = clock.now
        let padder = try validate(image1, image2, flowInit: flowInit, options: options)
        let c = configuration
        let n = image1.n, (H, W) = (image1.h, image1.w), (Hp, Wp) = (padder.paddedHeight, padder.paddedWidth)
        let (h, w) = featureEncoder.outputSize(height: Hp, width: Wp)
        let pixels = h * w, D = c.featureChannels, hid = c.hiddenChannels, ctx = c.contextChannels
        let levels = CorrelationLevels(height: h, width: w, count: c.correlationLevels, radius: c.correlationRadius)
        let mode = options.correlation.resolved(samples: n, height: h, width: w, levels: c.correlationLevels)
        var timings = RAFTTimings()

        // Per-call state (all samples) and per-sample scratch.
        let perSample = CorrelationSampler.storageCount(levels, channels: D, mode: mode)
        let correlationStorage = ws.buffer("raft.correlation", n * perSample)
        let hidden = ws.buffer("raft.hidden", n * hid * pixels)
        let context = ws.buffer("raft.context", ctx * pixels)
        let cacheCount = updateBlock.contextCacheCount(height: h, width: w)
        let contextCache = ws.buffer("raft.contextCache", n * cacheCount)
        let coords = ws.buffer("raft.coords", n * 2 * pixels)
        let image = ws.buffer("raft.image", 3 * Hp * Wp)
        // fmap1 and fmap2 of sample b are at fmap1 + b·stride and fmap2 + b·stride.
        let fmap1: UnsafeMutablePointer<Float>, fmap2: UnsafeMutablePointer<Float>, stride: Int
        var reuse = false
        var carried: CarriedFeatures?
        switch features {
        case .perSample:
            (fmap1, fmap2, stride) = (ws.buffer("raft.fmap1", D * pixels), ws.buffer("raft.fmap2", D * pixels), 0)
        case let .sequence(previous):
            let key = CarriedFeatures.Key(samples: n, height: H, width: W, channels: D, padding: options.padding)
            reuse = previous.map { $0.key == key && $0.workspace === ws && $0.generation == ws.featureGeneration } ?? false
            let first = reuse ? previous!.buffer : 0
            fmap1 = ws.buffer(CarriedFeatures.bufferName(first), n * D * pixels)
            fmap2 = ws.buffer(CarriedFeatures.bufferName(1 - first), n * D * pixels)
            stride = D * pixels
            // A new generation before anything is written: a handle to what these buffers held before is void now.
            ws.featureGeneration += 1
            carried = CarriedFeatures(workspace: ws, buffer: 1 - first, key: key, generation: ws.featureGeneration)
        }
        let contextOut = ws.buffer("raft.cnet", (hid + ctx) * pixels)
        var samplers: [CorrelationSampler] = []
        samplers.reserveCapacity(n)

        // Encoders and correlation, one sample at a time (fmap buffers are reused).
        for b in 0..<n {
            var t = clock.now
            prepare(image1.pointer + b * 3 * H * W, padder: padder, into: image)
            timings.preprocessing += clock.now - t
            if !reuse {
                t = clock.now
                featureEncoder.forward(image, height: Hp, width: Wp, output: fmap1 + b * stride, workspace: ws)
                timings.featureEncoder += clock.now - t
            }
            t = clock.now
            contextEncoder.forward(image, height: Hp, width: Wp, output: contextOut, workspace: ws)
            let hb = hidden + b * hid * pixels
            for i in 0..<(hid * pixels) { hb[i] = Activations.tanh(contextOut[i]) }
            for i in 0..<(ctx * pixels) { context[i] = max(contextOut[hid * pixels + i], 0) }
            // The context is the same at every iteration: its share of the GRU gates is computed once here.
            updateBlock.prepareContext(context, height: h, width: w, cache: contextCache + b * cacheCount, workspace: ws)
            timings.contextEncoder += clock.now - t
            t = clock.now
            prepare(image2.pointer + b * 3 * H * W, padder: padder, into: image)
            timings.preprocessing += clock.now - t
            t = clock.now
            featureEncoder.forward(image, height: Hp, width: Wp, output: fmap2 + b * stride, workspace: ws)
            timings.featureEncoder += clock.now - t
            t = clock.now
            samplers.append(CorrelationSampler(fmap1: fmap1 + b * stride, fmap2: fmap2 + b * stride, channels: D,
                                               levels: levels, mode: mode, storage: correlationStorage + b * perSample,
                                               workspace: ws))
            timings.correlationVolume += clock.now - t
        }

        // coords1 = grid (+ flowInit).
        for b in 0..<n {
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

        let correlation = ws.buffer("raft.correlationFeatures", c.correlationChannels * pixels)
        let flow = ws.buffer("raft.flow", 2 * pixels)
        let delta = ws.buffer("raft.deltaFlow", 2 * pixels)
        let mask: UnsafeMutablePointer<Float>? = updateBlock.hasMaskHead
            ? ws.buffer("raft.mask", MaskHead.outputChannels * pixels) : nil
        let upsampled = ws.buffer("raft.upsampled", 2 * Hp * Wp)
        var output = Tensor(shape: [n, 2, H, W])
        let outputPointer = output.mutablePointer()

        for iteration in 1...options.iterations {
            let final = iteration == options.iterations
            let upsample = final || options.upsampleEveryIteration
            // The mask head (and the upsampler) run only when a full-resolution flow is wanted: at inference,
            // after the last iteration. The mask path needs no scratch beyond the flow head's, so skipping it in
            // earlier iterations never makes the last one allocate (tested).
            let wantMask = upsample
            for b in 0..<n {
                let coordsB = coords + b * 2 * pixels
                var t = clock.now
                // Pixel-major: each pixel's features are written contiguously (see CorrelationLayout).
                samplers[b].lookup(coords: coordsB, output: correlation, layout: .pixelMajor)
                timings.lookups += clock.now - t
                t = clock.now
                Self.flow(coords: coordsB, width: w, pixels: pixels, into: flow)
                updateBlock.step(hidden: hidden + b * hid * pixels, contextCache: contextCache + b * cacheCount,
                                 correlation: correlation, correlationLayout: .pixelMajor, flow: flow, height: h, width: w, deltaFlow: delta,
                                 mask: wantMask ? mask : nil, workspace: ws)
                for i in 0..<(2 * pixels) { coordsB[i] += delta[i] }
                timings.updates += clock.now - t
                if upsample {
                    t = clock.now
                    Self.flow(coords: coordsB, width: w, pixels: pixels, into: flow)
                    if let mask {
                        ConvexUpsampler.upsample(flow: flow, mask: mask, height: h, width: w, output: upsampled)
                    } else {
                        BilinearUpsampler.upflow8(flow: flow, height: h, width: w, output: upsampled)
                    }
                    padder.unpad(upsampled, channels: 2, into: outputPointer + b * 2 * H * W)
                    timings.upsampling += clock.now - t
                }
            }
            if let onIteration {
                onIteration(RAFTIteration(index: iteration, lowResolutionFlow: lowResolution(coords, n: n, height: h, width: w),
                                          flow: upsample ? Tensor(shape: output.shape, values: output.scalars) : nil))
            }
        }
        let low = lowResolution(coords, n: n, height: h, width: w)
        timings.total = clock.now - start
        return (RAFTOutput(flow: output, lowResolutionFlow: low, padder: padder, correlation: mode,
                           iterations: options.iterations, timings: timings),
                carried, reuse ? n : 2 * n)
    }

    /// Checks shapes, sizes, finiteness and the iteration count; returns the padder.
    private func validate(_ image1: Tensor, _ image2: Tensor, flowInit: Tensor?,
                          options: RAFTOptions) throws(RAFTError) -> InputPadder {
        for (name, image) in [("image1", image1), ("image2", image2)] where image.rank != 4 || image.shape[1] != 3 || image.count == 0 {
            throw .invalidShape(input: name, shape: image.shape, expected: "[N, 3, H, W] with N, H, W ≥ 1")
        }
        guard image1.shape == image2.shape else { throw .frameSizeMismatch(image1: image1.shape, image2: image2.shape) }
        guard options.iterations >= 1 else { throw .invalidIterations(options.iterations) }
        let padder = InputPadder(height: image1.h, width: image1.w, mode: options.padding)
        guard padder.paddedHeight >= Self.minimumSize, padder.paddedWidth >= Self.minimumSize else {
            throw .imageTooSmall(height: image1.h, width: image1.w, paddedHeight: padder.paddedHeight,
                                 paddedWidth: padder.paddedWidth, minimum: Self.minimumSize)
        }
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

    private static func firstNonFinite(_ t: Tensor) -> Int? {
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

    /// Pads one `[3, H, W]` frame to `[3, Hp, Wp]` and normalises `2·(x/255) − 1`.
    private func prepare(_ frame: UnsafePointer<Float>, padder: InputPadder, into image: UnsafeMutablePointer<Float>) {
        padder.pad(frame, channels: 3, into: image) { 2 * ($0 / 255) - 1 }
    }

    /// `flow = coords1 − coords0` for one sample.
    @inline(__always)
    private static func flow(coords: UnsafePointer<Float>, width w: Int, pixels: Int, into flow: UnsafeMutablePointer<Float>) {
        for p in 0..<pixels {
            flow[p] = coords[p] - Float(p % w)
            flow[pixels + p] = coords[pixels + p] - Float(p / w)
        }
    }

    private func lowResolution(_ coords: UnsafePointer<Float>, n: Int, height h: Int, width w: Int) -> Tensor {
        var out = Tensor(shape: [n, 2, h, w])
        let dst = out.mutablePointer()
        for b in 0..<n { Self.flow(coords: coords + b * 2 * h * w, width: w, pixels: h * w, into: dst + b * 2 * h * w) }
        return out
    }
}

/// The feature maps of the second frames of one sequence call of ``RAFT``, left in its workspace for the next
/// pair (whose first frame they are). A handle only: it owns no memory and never keeps the workspace alive.
package struct CarriedFeatures {
    /// What the features were computed for; a call with another key recomputes them.
    struct Key: Equatable {
        var samples: Int, height: Int, width: Int, channels: Int
        var padding: InputPadder.Mode
    }

    static func bufferName(_ index: Int) -> String { "raft.features.\(index)" }

    weak var workspace: Workspace?
    /// 0 or 1: which of `raft.features.0`/`raft.features.1` holds the features.
    let buffer: Int
    let key: Key
    /// The workspace's ``Workspace/featureGeneration`` when the features were written.
    let generation: Int
}
