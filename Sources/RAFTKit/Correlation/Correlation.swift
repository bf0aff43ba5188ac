/// One sample's correlation features source: the stored all-pairs pyramid or the on-demand variant.
package enum CorrelationSampler {
    case allPairs(CorrelationPyramid)
    case onDemand(OnDemandCorrelation)

    /// Floats of storage one sample needs in `mode` (``CorrelationMode/allPairs`` or ``CorrelationMode/onDemand``).
    package static func storageCount(_ levels: CorrelationLevels, channels: Int, mode: CorrelationMode) -> Int {
        mode == .allPairs ? CorrelationPyramid.storageCount(levels)
                          : OnDemandCorrelation.storageCount(levels, channels: channels)
    }

    /// Prepares one sample (builds the volume or pools the feature maps) into `storage`, with scratch from
    /// `workspace`. Allocation-free once the workspace holds its buffers.
    package init(fmap1: UnsafePointer<Float>, fmap2: UnsafePointer<Float>, channels: Int,
                 levels: CorrelationLevels, mode: CorrelationMode, storage: UnsafeMutablePointer<Float>,
                 workspace: Workspace) {
        if mode == .allPairs {
            self = .allPairs(CorrelationPyramid(fmap1: fmap1, fmap2: fmap2, channels: channels, levels: levels,
                                                storage: storage, workspace: workspace))
        } else {
            self = .onDemand(OnDemandCorrelation(fmap1: fmap1, fmap2: fmap2, channels: channels, levels: levels, storage: storage))
        }
    }

    /// Correlation features at `coords` `[2, h, w]`, `[L·(2r+1)², h, w]` or pixel-major. Allocation-free.
    package func lookup(coords: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                        layout: CorrelationLayout = .channelMajor) {
        switch self {
        case let .allPairs(pyramid): pyramid.lookup(coords: coords, output: output, layout: layout)
        case let .onDemand(correlation): correlation.lookup(coords: coords, output: output, layout: layout)
        }
    }
}

/// How look-ups lay out the correlation features of the `h·w` source pixels.
package enum CorrelationLayout: Sendable {
    /// `[channels, h, w]`, RAFT's tensor layout.
    case channelMajor
    /// `[h·w, channels]`: each pixel's `L·(2r+1)²` features contiguous, so the look-up writes in order; the
    /// motion encoder's first (1×1) convolution reads it with a transposed GEMM. What the model's loop uses.
    case pixelMajor

    /// Where channel 0 of level `level` of pixel `p` goes, and the distance between consecutive channels.
    @inline(__always)
    func destination(_ output: UnsafeMutablePointer<Float>, pixel p: Int, level: Int, levels: CorrelationLevels)
        -> (pointer: UnsafeMutablePointer<Float>, stride: Int) {
        let perLevel = levels.side * levels.side
        switch self {
        case .channelMajor: return (output + level * perLevel * levels.pixels + p, levels.pixels)
        case .pixelMajor: return (output + p * levels.count * perLevel + level * perLevel, 1)
        }
    }
}

/// Correlation features as a standalone operation (allocating; the model uses the raw-pointer path).
public enum Correlation {
    /// RAFT's correlation look-up (core/corr.py, `CorrBlock`): the all-pairs volume `fmap1ᵀ·fmap2/√D`, `levels`
    /// levels of 2×2 average pooling, and a radius-`radius` bilinear look-up at `coords/2^i` (zero outside),
    /// channels in x-major order `i·(2r+1)² + (dx+r)·(2r+1) + (dy+r)`.
    /// - Parameters:
    ///   - fmap1, fmap2: `[N, D, h, w]`.
    ///   - coords: `[N, 2, h, w]` target positions (x, y) in level-0 pixels.
    ///   - mode: ``CorrelationMode/allPairs``, ``CorrelationMode/onDemand`` or automatic.
    ///   - workspace: scratch to reuse between calls (a new one by default).
    /// - Returns: `[N, levels·(2r+1)², h, w]`.
    /// - Throws: ``TensorError/invalidArgument(_:expected:found:)`` for `levels < 1` or `radius < 0`;
    ///   ``TensorError/shapeMismatch(argument:expected:found:)`` for feature maps that are not 4-D, differ in shape
    ///   or are too small for `levels` (the coarsest level needs a side of at least 1), or for other coords.
    public static func lookup(fmap1: Tensor, fmap2: Tensor, coords: Tensor, levels: Int = 4, radius: Int,
                              mode: CorrelationMode = .allPairs, workspace: Workspace? = nil) throws(TensorError) -> Tensor {
        guard levels >= 1 else { throw .invalidArgument("levels", expected: "at least 1", found: levels) }
        guard radius >= 0 else { throw .invalidArgument("radius", expected: "at least 0", found: radius) }
        try Tensor.check(fmap1, "fmap1", [nil, nil, nil, nil])
        try Tensor.check(fmap2, "fmap2", fmap1.shape)
        let (n, d, h, w) = (fmap1.n, fmap1.c, fmap1.h, fmap1.w)
        guard levels <= Int.bitWidth - 2, h >> (levels - 1) >= 1, w >> (levels - 1) >= 1 else {
            throw .shapeMismatch(argument: "fmap1", expected: "[N, D, h, w] with h, w ≥ 2^(levels − 1) = 2^\(levels - 1)",
                                 found: fmap1.shape)
        }
        try Tensor.check(coords, "coords", [n, 2, h, w])
        let geometry = CorrelationLevels(height: h, width: w, count: levels, radius: radius)
        let concrete = mode.resolved(samples: 1, height: h, width: w, levels: levels)
        var out = Tensor(shape: [n, geometry.channels, h, w])
        let dst = out.mutablePointer()
        let workspace = workspace ?? Workspace()
        let storage = workspace.correlation.carve { $0.take(CorrelationSampler.storageCount(geometry, channels: d, mode: concrete)) }
        for b in 0..<n {
            let sampler = CorrelationSampler(fmap1: fmap1.pointer + b * d * h * w, fmap2: fmap2.pointer + b * d * h * w,
                                             channels: d, levels: geometry, mode: concrete, storage: storage,
                                             workspace: workspace)
            sampler.lookup(coords: coords.pointer + b * 2 * h * w, output: dst + b * geometry.channels * h * w)
        }
        return out
    }
}
