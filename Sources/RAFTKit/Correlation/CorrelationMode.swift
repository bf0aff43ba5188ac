/// How RAFT's correlation look-ups are computed (core/corr.py: `CorrBlock` or `AlternateCorrBlock`).
///
/// Both strategies give the same features up to float rounding (≤ 1e-4). The stored volume costs time and memory that
/// grow with the square of the pixel count; on-demand look-ups cost time linear in it at every iteration. So
/// all-pairs is the faster at Sintel's size and on-demand at 1080p, where it also needs about a quarter of the
/// memory (measurements: `Benchmarks/README.md`, "Design choices and their measurements").
public enum CorrelationMode: Sendable, Hashable, CustomStringConvertible {
    /// The all-pairs volume `[h·w, h·w]` and its pooled levels are computed once per image pair with one
    /// GEMM and stored (`≈ N·(h·w)²·4·4/3` bytes: 264 MB per Sintel-sized pair, 5.6 GB at 1080p). Look-ups
    /// then only read memory. The official default.
    case allPairs
    /// Stores only the feature maps (fmap2 average-pooled per level) and computes each looked-up dot
    /// product when it is needed (the official `AlternateCorrBlock`). Memory grows like `h·w·D`, but
    /// every iteration recomputes `L·(2r+2)²` dot products per pixel.
    case onDemand
    /// ``allPairs`` while the stored volume would fit in `memoryBudget` bytes, ``onDemand`` above it.
    case automatic(memoryBudget: Int)

    /// 2 GiB: the budget of ``automatic``.
    public static let defaultMemoryBudget = 2 << 30
    /// ``automatic(memoryBudget:)`` with ``defaultMemoryBudget``.
    public static var automatic: CorrelationMode { .automatic(memoryBudget: defaultMemoryBudget) }

    /// The concrete strategy (``allPairs`` or ``onDemand``) for `samples` pairs of `height × width` feature maps.
    /// ``allPairs`` itself falls back to ``onDemand`` only when one sample's volume would exceed BLAS's
    /// 32-bit sizes (`h·w·Σ hᵢ·wᵢ ≥ 2³¹` floats, e.g. a 4K frame).
    /// Sizes without a volume (a side or `levels` below 1) resolve to ``allPairs`` unless this is ``onDemand``.
    public func resolved(samples: Int, height: Int, width: Int, levels: Int = 4) -> CorrelationMode {
        guard height > 0 && width > 0 && levels > 0 else { return self == .onDemand ? .onDemand : .allPairs }
        let geometry = CorrelationLevels(height: height, width: width, count: levels, radius: 0)
        switch self {
        case .allPairs, .onDemand:
            return geometry.allPairsFitsBLAS || self == .onDemand ? self : .onDemand
        case let .automatic(budget):
            return geometry.allPairsFitsBLAS && samples * geometry.allPairsBytes <= budget ? .allPairs : .onDemand
        }
    }

    /// Bytes of the stored all-pairs pyramid (all levels) for `samples` pairs of `height × width` feature maps;
    /// 0 when a side or `levels` is below 1.
    public static func allPairsBytes(samples: Int, height: Int, width: Int, levels: Int = 4) -> Int {
        guard height > 0 && width > 0 && levels > 0 else { return 0 }
        return samples * CorrelationLevels(height: height, width: width, count: levels, radius: 0).allPairsBytes
    }

    public var description: String {
        switch self {
        case .allPairs: "all-pairs"
        case .onDemand: "on-demand"
        case let .automatic(budget): "automatic (budget \(budget / (1 << 20)) MiB)"
        }
    }
}

/// Sizes of the correlation pyramid for an `height × width` feature grid: level `i` is
/// `⌊h/2^i⌋ × ⌊w/2^i⌋` (2×2 average pooling with floor), and a look-up of radius `r` gives
/// `count·(2r+1)²` channels.
package struct CorrelationLevels: Sendable, Equatable {
    package let height: Int
    package let width: Int
    package let count: Int
    package let radius: Int
    /// `(height, width)` of each level.
    package let sizes: [Size]
    /// Offset of each level within a source pixel's row of the stored pyramid.
    package let offsets: [Int]
    /// `Σ_i h_i·w_i`: the length of one source pixel's row (all levels).
    package let rowLength: Int

    package struct Size: Sendable, Equatable { package let height: Int, width: Int }

    package init(height: Int, width: Int, count: Int, radius: Int) {
        precondition(height > 0 && width > 0 && count > 0 && radius >= 0, "invalid correlation geometry")
        self.height = height
        self.width = width
        self.count = count
        self.radius = radius
        var sizes: [Size] = [], offsets: [Int] = []
        var h = height, w = width, offset = 0
        for _ in 0..<count {
            sizes.append(Size(height: h, width: w))
            offsets.append(offset)
            offset += h * w
            h /= 2
            w /= 2
        }
        self.sizes = sizes
        self.offsets = offsets
        rowLength = offset
    }

    /// Source pixels `h·w`.
    package var pixels: Int { height * width }
    /// Look-up side `2r+1`.
    package var side: Int { 2 * radius + 1 }
    /// Channels of one look-up, `count·(2r+1)²`.
    package var channels: Int { count * side * side }
    /// Bytes of one sample's stored pyramid.
    package var allPairsBytes: Int { pixels * rowLength * MemoryLayout<Float>.stride }
    /// Whether one sample's volume GEMM fits BLAS's 32-bit sizes.
    package var allPairsFitsBLAS: Bool { pixels * rowLength < Int(Int32.max) }
}
