/// A dense optical-flow field: for each pixel of the first frame, its displacement (u, v) in pixels to the
/// second frame (u to the right, v downwards).
///
/// `uv` is interleaved, rows top to bottom: `uv[2·(y·width + x)]` is u and `uv[2·(y·width + x) + 1]` is v.
/// `valid`, when present, holds one value per pixel as KITTI stores it (its third PNG channel); a pixel is
/// valid when its value is ≥ 0.5, as in the reference evaluation. A field without `valid` is valid everywhere.
public struct FlowField: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// `height × width × 2` components (u, v) in pixels.
    public var uv: [Float]
    /// `height × width` validity values (≥ 0.5 means valid), or nil when every pixel is valid.
    public var valid: [Float]?

    public init(width: Int, height: Int, uv: [Float], valid: [Float]? = nil) {
        precondition(width >= 0 && height >= 0, "negative flow size \(width)x\(height)")
        precondition(uv.count == width * height * 2,
                     "\(width)x\(height) flow needs \(width * height * 2) components, got \(uv.count)")
        precondition(valid == nil || valid!.count == width * height,
                     "\(width)x\(height) flow needs \(width * height) validity values, got \(valid!.count)")
        self.width = width
        self.height = height
        self.uv = uv
        self.valid = valid
    }

    /// A zero flow of the given size.
    public init(width: Int, height: Int) {
        self.init(width: width, height: height, uv: [Float](repeating: 0, count: width * height * 2))
    }

    /// The flow at `batchIndex` of a tensor [N, 2, H, W] (channel 0 = u, 1 = v), as RAFT returns it.
    public init(tensor: Tensor, batchIndex: Int = 0) {
        precondition(tensor.rank == 4 && tensor.c == 2, "FlowField needs a [N, 2, H, W] tensor, got \(tensor.shape)")
        precondition(batchIndex >= 0 && batchIndex < tensor.n, "batch index \(batchIndex) outside 0..<\(tensor.n)")
        self.init(width: tensor.w, height: tensor.h, uv: tensor.interleaved(sample: batchIndex))
    }

    /// The flow as a tensor [1, 2, H, W] (the validity mask is not included).
    public var tensor: Tensor {
        uv.withUnsafeBufferPointer { Tensor(interleaved: $0, channels: 2, height: height, width: width) }
    }

    /// The displacement of pixel (`x`, `y`).
    public subscript(x x: Int, y y: Int) -> (u: Float, v: Float) {
        get {
            let i = 2 * (y * width + x)
            return (uv[i], uv[i + 1])
        }
        set {
            let i = 2 * (y * width + x)
            uv[i] = newValue.u
            uv[i + 1] = newValue.v
        }
    }

    /// Whether pixel (`x`, `y`) is valid (`valid` ≥ 0.5, or no mask at all).
    public func isValid(x: Int, y: Int) -> Bool {
        guard let valid else { return true }
        return valid[y * width + x] >= 0.5
    }

    /// The number of valid pixels.
    public var validCount: Int {
        guard let valid else { return width * height }
        return valid.reduce(0) { $0 + ($1 >= 0.5 ? 1 : 0) }
    }

    /// The largest displacement length √(u² + v²) over valid pixels with finite components (0 if none).
    public var maxMagnitude: Float {
        var m: Float = 0
        for i in 0..<width * height where valid == nil || valid![i] >= 0.5 {
            let u = uv[2 * i], v = uv[2 * i + 1]
            if u.isFinite && v.isFinite { m = max(m, (u * u + v * v).squareRoot()) }
        }
        return m
    }

    /// Whether any component (valid or not) is NaN or infinite.
    public var hasNonFinite: Bool { uv.contains { !$0.isFinite } }
}
