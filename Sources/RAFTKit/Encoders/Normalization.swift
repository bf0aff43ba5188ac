/// The normalisation used inside a ``FeatureEncoder`` (core/extractor.py, the `norm_fn` of `BasicEncoder`,
/// `SmallEncoder` and their blocks).
public enum Normalization: String, Sendable, CaseIterable, Codable {
    /// `InstanceNorm2d`: per sample and channel, mean and biased variance over H×W, eps 1e-5, no parameters
    /// (the feature encoder of both variants).
    case instance
    /// `BatchNorm2d` in eval mode: running statistics, eps 1e-5, `weight`/`bias` (the basic context encoder).
    case batch
    /// `GroupNorm`, eps 1e-5, `weight`/`bias` (offered by the official code, unused by released weights).
    case group
    /// Identity (the small context encoder).
    case none
}

/// One normalisation layer, optionally fused with the ReLU that follows it. Holds folded parameters only.
package struct NormLayer: Sendable {
    package let kind: Normalization
    package let channels: Int
    /// Groups of a group norm (1 otherwise).
    package let groups: Int
    /// Batch norm: `weight/√(running_var + eps)`; group norm: `weight`. Empty otherwise.
    private let scale: [Float]
    /// Batch norm: `bias − running_mean·scale`; group norm: `bias`. Empty otherwise.
    private let shift: [Float]

    package static let epsilon: Float = 1e-5

    /// Reads `prefix.weight`, `prefix.bias` (batch, group) and `prefix.running_mean`, `prefix.running_var`
    /// (batch; a `prefix.num_batches_tracked` is accepted and ignored).
    package init(_ kind: Normalization, channels: Int, groups: Int = 1, parameters: ParameterReader,
                 prefix: String) throws(WeightsError) {
        precondition(channels > 0 && groups > 0 && channels % groups == 0, "\(channels) channels in \(groups) groups")
        self.kind = kind
        self.channels = channels
        self.groups = kind == .group ? groups : 1
        switch kind {
        case .instance, .none:
            scale = []
            shift = []
        case .batch:
            let w = try parameters.tensor(prefix + ".weight", shape: [channels])
            let b = try parameters.tensor(prefix + ".bias", shape: [channels])
            let mean = try parameters.tensor(prefix + ".running_mean", shape: [channels])
            let variance = try parameters.tensor(prefix + ".running_var", shape: [channels])
            parameters.ignore { $0 == prefix + ".num_batches_tracked" }
            // PyTorch's eval kernel folds the same way, in float: alpha = w/√(var+eps), beta = b − mean·alpha.
            let alpha = (0..<channels).map { w.pointer[$0] / (variance.pointer[$0] + Self.epsilon).squareRoot() }
            scale = alpha
            shift = (0..<channels).map { b.pointer[$0] - mean.pointer[$0] * alpha[$0] }
        case .group:
            scale = try parameters.tensor(prefix + ".weight", shape: [channels]).scalars
            shift = try parameters.tensor(prefix + ".bias", shape: [channels]).scalars
        }
    }

    /// Learnable parameters (batch and group: weight + bias; running statistics are buffers).
    package var parameterCount: Int { kind == .batch || kind == .group ? 2 * channels : 0 }

    /// Normalises one sample `x` `[channels, pixels]` in place, then applies ReLU if asked. Allocation-free.
    package func apply(_ x: UnsafeMutablePointer<Float>, pixels: Int, relu: Bool) {
        switch kind {
        case .none:
            if relu { Activations.relu(x, count: channels * pixels) }
        case .batch:
            Parallel.forEach(channels, minimumChunk: 4, context: (self, x, pixels, relu)) { norm, part in
                let (layer, x, pixels, relu) = norm
                for c in part {
                    Self.affine(x + c * pixels, count: pixels, scale: layer.scale[c], shift: layer.shift[c], relu: relu)
                }
            }
        case .instance:
            Parallel.forEach(channels, minimumChunk: 4, context: (x, pixels, relu)) { norm, part in
                let (x, pixels, relu) = norm
                for c in part {
                    let plane = x + c * pixels
                    let (mean, invStd) = Self.statistics(plane, count: pixels)
                    Self.affine(plane, count: pixels, scale: Float(invStd), shift: Float(-mean * invStd), relu: relu)
                }
            }
        case .group:
            let perGroup = channels / groups
            Parallel.forEach(groups, context: (self, x, pixels, relu, perGroup)) { norm, part in
                let (layer, x, pixels, relu, perGroup) = norm
                for g in part {
                    let (mean, invStd) = Self.statistics(x + g * perGroup * pixels, count: perGroup * pixels)
                    for c in g * perGroup..<(g + 1) * perGroup {
                        let s = Double(layer.scale[c]) * invStd
                        Self.affine(x + c * pixels, count: pixels, scale: Float(s),
                                    shift: Float(Double(layer.shift[c]) - mean * s), relu: relu)
                    }
                }
            }
        }
    }

    /// `x = max?(x·scale + shift, 0)` over `count` elements.
    @inline(__always)
    private static func affine(_ x: UnsafeMutablePointer<Float>, count: Int, scale: Float, shift: Float, relu: Bool) {
        if relu {
            for i in 0..<count { x[i] = max(x[i] * scale + shift, 0) }
        } else {
            for i in 0..<count { x[i] = x[i] * scale + shift }
        }
    }

    /// Mean and `1/√(biased variance + eps)` of `count` values, two passes; float partial sums over blocks
    /// of 2048 (eight independent lanes, so the loops vectorise) accumulated in Double.
    package static func statistics(_ x: UnsafePointer<Float>, count: Int) -> (mean: Double, invStd: Double) {
        var sum = 0.0
        var start = 0
        while start < count {
            let n = min(2048, count - start)
            sum += Double(blockSum(x + start, count: n, centre: 0, squared: false))
            start += n
        }
        let mean = sum / Double(count)
        var squares = 0.0
        start = 0
        while start < count {
            let n = min(2048, count - start)
            squares += Double(blockSum(x + start, count: n, centre: Float(mean), squared: true))
            start += n
        }
        let variance = squares / Double(count)
        return (mean, 1 / (variance + Double(epsilon)).squareRoot())
    }

    @inline(__always)
    private static func blockSum(_ x: UnsafePointer<Float>, count: Int, centre: Float, squared: Bool) -> Float {
        var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
        var s4: Float = 0, s5: Float = 0, s6: Float = 0, s7: Float = 0
        var i = 0
        if squared {
            while i + 8 <= count {
                let d0 = x[i] - centre, d1 = x[i + 1] - centre, d2 = x[i + 2] - centre, d3 = x[i + 3] - centre
                let d4 = x[i + 4] - centre, d5 = x[i + 5] - centre, d6 = x[i + 6] - centre, d7 = x[i + 7] - centre
                s0 += d0 * d0; s1 += d1 * d1; s2 += d2 * d2; s3 += d3 * d3
                s4 += d4 * d4; s5 += d5 * d5; s6 += d6 * d6; s7 += d7 * d7
                i += 8
            }
            while i < count { let d = x[i] - centre; s0 += d * d; i += 1 }
        } else {
            while i + 8 <= count {
                s0 += x[i]; s1 += x[i + 1]; s2 += x[i + 2]; s3 += x[i + 3]
                s4 += x[i + 4]; s5 += x[i + 5]; s6 += x[i + 6]; s7 += x[i + 7]
                i += 8
            }
            while i < count { s0 += x[i]; i += 1 }
        }
        return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
    }
}
