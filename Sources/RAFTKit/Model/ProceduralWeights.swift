/// Procedural RAFT weights, bit-identical to `Scripts/fixtures/procedural.py` (see its docstring): every
/// parameter value is a counter-based hash of (seed, key, flat index), so the 21 MB basic model needs no
/// committed weights. Canonical names are the official ones without `module.` and `num_batches_tracked`.
///
/// Besides the parity fixtures, benchmarks and experiments use it for a reproducible randomly initialised
/// network with PyTorch-default-like scales (conv weights and biases uniform in ±1/√fan_in).
public enum ProceduralWeights {
    /// `s_i ∈ [−1, 1)` for `i ∈ 0..<count` (exact in Double).
    static func unitValues(seed: UInt64, key: String, count: Int) -> [Double] {
        let base = SplitMix64.fnv1a64(key) ^ SplitMix64.mix(seed)
        return (0..<count).map { i in
            let bits = SplitMix64.mix(base &+ UInt64(i + 1) &* SplitMix64.increment)
            return 2 * (Double(bits >> 40) * 0x1p-24) - 1
        }
    }

    /// `(centre, half)` of the uniform range of `key` given every key's shape: a convolution's (4-D `weight`)
    /// parameters are uniform in ±1/√fan_in, norm layers' parameters by leaf name; nil for any other key.
    static func range(of key: String, shapes: [String: [Int]]) -> (centre: Double, half: Double)? {
        guard let dot = key.lastIndex(of: ".") else { return nil }
        let prefix = String(key[..<dot]), leaf = String(key[key.index(after: dot)...])
        if let w = shapes[prefix + ".weight"], w.count == 4, leaf == "weight" || leaf == "bias" {
            return (0, 1 / (Double(w[1]) * Double(w[2]) * Double(w[3])).squareRoot())
        }
        switch leaf {
        case "weight": return (1, 0.5)
        case "bias", "running_mean": return (0, 0.2)
        case "running_var": return (1.25, 0.75)
        default: return nil
        }
    }

    /// The generated tensor for `key` of `shape` in `range`.
    static func tensor(seed: UInt64, key: String, shape: [Int], count: Int, range: (centre: Double, half: Double)) -> Tensor {
        let values = unitValues(seed: seed, key: key, count: count).map { Float(range.centre + range.half * $0) }
        return Tensor(uncheckedShape: shape, values: values)
    }

    /// A state dict for every key of `shapes`.
    /// - Throws: ``WeightsError/unexpectedKeys(file:keys:)`` (file `source`) for keys that name no parameter with
    ///   a procedural range (`….weight`, `….bias`, `….running_mean`, `….running_var`),
    ///   ``WeightsError/invalidShape(file:key:shape:)`` for a negative dimension or an overflowing element count,
    ///   and for a convolution weight with a zero or overflowing fan-in.
    public static func stateDict(shapes: [String: [Int]], seed: UInt64,
                                 source: String = "<procedural>") throws(WeightsError) -> StateDict {
        var tensors: [String: Tensor] = [:]
        let unknown = shapes.keys.filter { range(of: $0, shapes: shapes) == nil }.sorted()
        guard unknown.isEmpty else { throw .unexpectedKeys(file: source, keys: unknown) }
        for (key, shape) in shapes.sorted(by: { $0.key < $1.key }) {
            guard let count = Tensor.product(shape), let range = range(of: key, shapes: shapes), range.half.isFinite
            else { throw .invalidShape(file: source, key: key, shape: shape) }
            tensors[key] = tensor(seed: seed, key: key, shape: shape, count: count, range: range)
        }
        return StateDict(tensors, source: source)
    }

    /// The full canonical RAFT state dict of `variant` (seeds used by the fixtures: basic 1, small 2).
    public static func raft(_ variant: RAFTVariant, seed: UInt64) -> StateDict {
        let shapes = canonicalShapes(variant)
        var tensors: [String: Tensor] = [:]
        for (key, shape) in shapes {
            // Every canonical key has a range and a valid shape (ProceduralWeightsTests).
            guard let range = range(of: key, shapes: shapes) else { continue }
            tensors[key] = tensor(seed: seed, key: key, shape: shape, count: shape.reduce(1, *), range: range)
        }
        return StateDict(tensors, source: "<procedural \(variant) seed \(seed)>")
    }

    // MARK: - Canonical names and shapes (the official checkpoints' state dict)

    /// Every canonical parameter name of `variant` with its shape, as in the official checkpoints
    /// (the parameters of core/raft.py's `RAFT`, without `module.`).
    public static func canonicalShapes(_ variant: RAFTVariant) -> [String: [Int]] {
        var s: [String: [Int]] = [:]
        switch variant {
        case .basic:
            s.merge(encoderShapes(prefix: "fnet", layout: .basic, normalization: .instance, outputChannels: 256)) { a, _ in a }
            s.merge(encoderShapes(prefix: "cnet", layout: .basic, normalization: .batch, outputChannels: 256)) { a, _ in a }
            let u = "update_block."
            conv(&s, u + "encoder.convc1", 256, 324, 1, 1)
            conv(&s, u + "encoder.convc2", 192, 256, 3, 3)
            conv(&s, u + "encoder.convf1", 128, 2, 7, 7)
            conv(&s, u + "encoder.convf2", 64, 128, 3, 3)
            conv(&s, u + "encoder.conv", 126, 256, 3, 3)
            for g in ["z", "r", "q"] {
                conv(&s, u + "gru.conv\(g)1", 128, 384, 1, 5)
                conv(&s, u + "gru.conv\(g)2", 128, 384, 5, 1)
            }
            conv(&s, u + "flow_head.conv1", 256, 128, 3, 3)
            conv(&s, u + "flow_head.conv2", 2, 256, 3, 3)
            conv(&s, u + "mask.0", 256, 128, 3, 3)
            conv(&s, u + "mask.2", 576, 256, 1, 1)
        case .small:
            s.merge(encoderShapes(prefix: "fnet", layout: .small, normalization: .instance, outputChannels: 128)) { a, _ in a }
            s.merge(encoderShapes(prefix: "cnet", layout: .small, normalization: .none, outputChannels: 160)) { a, _ in a }
            let u = "update_block."
            conv(&s, u + "encoder.convc1", 96, 196, 1, 1)
            conv(&s, u + "encoder.convf1", 64, 2, 7, 7)
            conv(&s, u + "encoder.convf2", 32, 64, 3, 3)
            conv(&s, u + "encoder.conv", 80, 128, 3, 3)
            for g in ["z", "r", "q"] { conv(&s, u + "gru.conv\(g)", 96, 242, 3, 3) }
            conv(&s, u + "flow_head.conv1", 128, 96, 3, 3)
            conv(&s, u + "flow_head.conv2", 2, 128, 3, 3)
        }
        return s
    }

    static func encoderShapes(prefix: String, layout: FeatureEncoder.Layout, normalization: Normalization,
                              outputChannels: Int) -> [String: [Int]] {
        var s: [String: [Int]] = [:]
        let widths = layout.widths
        conv(&s, prefix + ".conv1", widths[0], 3, 7, 7)
        norm(&s, prefix + ".norm1", widths[0], normalization)
        var channels = widths[0]
        for (layer, planes) in widths.dropFirst().enumerated() {
            for index in 0..<2 {
                let p = "\(prefix).layer\(layer + 1).\(index)"
                let strided = layer > 0 && index == 0
                switch layout {
                case .basic:
                    conv(&s, p + ".conv1", planes, channels, 3, 3)
                    norm(&s, p + ".norm1", planes, normalization)
                    conv(&s, p + ".conv2", planes, planes, 3, 3)
                    norm(&s, p + ".norm2", planes, normalization)
                case .small:
                    conv(&s, p + ".conv1", planes / 4, channels, 1, 1)
                    norm(&s, p + ".norm1", planes / 4, normalization)
                    conv(&s, p + ".conv2", planes / 4, planes / 4, 3, 3)
                    norm(&s, p + ".norm2", planes / 4, normalization)
                    conv(&s, p + ".conv3", planes, planes / 4, 1, 1)
                    norm(&s, p + ".norm3", planes, normalization)
                }
                if strided {
                    conv(&s, p + ".downsample.0", planes, channels, 1, 1)
                    norm(&s, p + ".downsample.1", planes, normalization)
                }
                channels = planes
            }
        }
        conv(&s, prefix + ".conv2", outputChannels, channels, 1, 1)
        return s
    }

    private static func conv(_ s: inout [String: [Int]], _ prefix: String, _ out: Int, _ inp: Int, _ kh: Int, _ kw: Int) {
        s[prefix + ".weight"] = [out, inp, kh, kw]
        s[prefix + ".bias"] = [out]
    }

    private static func norm(_ s: inout [String: [Int]], _ prefix: String, _ channels: Int, _ kind: Normalization) {
        switch kind {
        case .batch:
            for leaf in ["weight", "bias", "running_mean", "running_var"] { s[prefix + "." + leaf] = [channels] }
        case .group:
            for leaf in ["weight", "bias"] { s[prefix + "." + leaf] = [channels] }
        case .instance, .none:
            break
        }
    }
}
