@testable import RAFTKit

/// The synthetic weights and inputs of `Scripts/fixtures/update.py`, regenerated bit for bit: value i of
/// `key` is `lo + (hi − lo)·(splitmix64(fnv1a64(key) + (i+1)·φ) >> 40)·2⁻²⁴` in Float32. The fixtures store
/// only outputs (and the first 16 values of each input as `probe.<kind>`, checked by the tests).
enum Synthetic {
    /// The 1/8 grid of the update fixtures.
    static let height = 13, width = 17

    static func uniform(_ key: String, count: Int, _ lo: Float, _ hi: Float) -> [Float] {
        let seed = SplitMix64.fnv1a64(key)
        let span = hi - lo
        return (0..<count).map { i in
            let z = SplitMix64.mix(seed &+ UInt64(i + 1) &* SplitMix64.increment)
            return lo + span * (Float(z >> 40) * 0x1p-24)
        }
    }

    enum Input: String { case hidden, context, correlation, flow, mask }

    /// A synthetic input of `shape` (same distributions as the Python generator).
    static func input(_ kind: Input, _ shape: [Int]) -> Tensor {
        let n = shape.reduce(1, *)
        let values: [Float]
        switch kind {
        case .hidden: values = uniform("input.hidden", count: n, -1, 1)
        case .context: values = uniform("input.context", count: n, -1, 2).map { max($0, 0) }
        case .correlation:
            let u = uniform("input.correlation", count: 4 * n, -1, 1)
            values = (0..<n).map { j in (((u[4 * j] + u[4 * j + 1]) + u[4 * j + 2]) + u[4 * j + 3]) * 3 }
        case .flow: values = uniform("input.flow", count: n, -4, 4)
        case .mask: values = uniform("input.mask", count: n, -5, 5)
        }
        return Tensor(uncheckedShape: shape, values: values)
    }

    /// Conv weight `[O, I, kh, kw]` and bias `[O]` under `key`, U(±√(6/fan_in)).
    static func conv(_ key: String, _ shape: [Int], into dict: inout StateDict) {
        let fanIn = shape[1] * shape[2] * shape[3]
        let bound = (Float(6) / Float(fanIn)).squareRoot()
        dict[key + ".weight"] = Tensor(uncheckedShape: shape, values: uniform(key + ".weight", count: shape.reduce(1, *), -bound, bound))
        dict[key + ".bias"] = Tensor(uncheckedShape: [shape[0]], values: uniform(key + ".bias", count: shape[0], -bound, bound))
    }

    /// Official update-block conv keys and weight shapes (core/update.py's modules, as in the
    /// official checkpoints), without the prefix.
    static func updateBlockShapes(_ variant: RAFTVariant) -> [(String, [Int])] {
        switch variant {
        case .basic:
            return [("encoder.convc1", [256, 324, 1, 1]), ("encoder.convc2", [192, 256, 3, 3]),
                    ("encoder.convf1", [128, 2, 7, 7]), ("encoder.convf2", [64, 128, 3, 3]),
                    ("encoder.conv", [126, 256, 3, 3]),
                    ("gru.convz1", [128, 384, 1, 5]), ("gru.convr1", [128, 384, 1, 5]), ("gru.convq1", [128, 384, 1, 5]),
                    ("gru.convz2", [128, 384, 5, 1]), ("gru.convr2", [128, 384, 5, 1]), ("gru.convq2", [128, 384, 5, 1]),
                    ("flow_head.conv1", [256, 128, 3, 3]), ("flow_head.conv2", [2, 256, 3, 3]),
                    ("mask.0", [256, 128, 3, 3]), ("mask.2", [576, 256, 1, 1])]
        case .small:
            return [("encoder.convc1", [96, 196, 1, 1]), ("encoder.convf1", [64, 2, 7, 7]),
                    ("encoder.convf2", [32, 64, 3, 3]), ("encoder.conv", [80, 128, 3, 3]),
                    ("gru.convz", [96, 242, 3, 3]), ("gru.convr", [96, 242, 3, 3]), ("gru.convq", [96, 242, 3, 3]),
                    ("flow_head.conv1", [128, 96, 3, 3]), ("flow_head.conv2", [2, 128, 3, 3])]
        }
    }

    /// Synthetic weights for the update-block keys whose name starts with `prefix + "." + part` (all when `part` is
    /// empty), e.g. `updateBlock(.basic, only: "gru")`.
    static func updateBlock(_ variant: RAFTVariant, only part: String = "", prefix: String = "update_block") -> StateDict {
        var dict = StateDict(source: "synthetic-\(variant)")
        for (k, shape) in updateBlockShapes(variant) where k.hasPrefix(part) { conv("\(prefix).\(k)", shape, into: &dict) }
        return dict
    }

    /// A tensor flipped along H and W (the second sample of the batched small-update-block fixture).
    static func flippedSpatially(_ t: Tensor) -> Tensor {
        var out = t
        let (n, c, h, w) = (t.n, t.c, t.h, t.w)
        let src = t.pointer, dst = out.mutablePointer()
        for i in 0..<(n * c) {
            for y in 0..<h { for x in 0..<w { dst[(i * h + y) * w + x] = src[(i * h + (h - 1 - y)) * w + (w - 1 - x)] } }
        }
        return out
    }

    /// Two samples: `t` and `t` flipped (batch concatenation of `[1, C, H, W]` tensors).
    static func withFlippedSecondSample(_ t: Tensor) -> Tensor {
        let f = flippedSpatially(t)
        var out = Tensor(shape: [2, t.c, t.h, t.w])
        let dst = out.mutablePointer()
        dst.update(from: t.pointer, count: t.count)
        (dst + t.count).update(from: f.pointer, count: t.count)
        return out
    }
}
