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

    /// A flow from its interleaved components.
    /// - Throws: ``FlowFileError/invalidArgument(name:reason:)`` for a negative size, or `uv` / `valid` counts other
    ///   than `width × height × 2` / `width × height`.
    public init(width: Int, height: Int, uv: [Float], valid: [Float]? = nil) throws(FlowFileError) {
        guard width >= 0, height >= 0 else { throw .invalidArgument(name: "size", reason: "negative size \(width)x\(height)") }
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        guard !overflow, uv.count == pixels &* 2 else {
            throw .invalidArgument(name: "uv", reason: "a \(width)x\(height) flow needs width × height × 2 components, got \(uv.count)")
        }
        if let valid, valid.count != pixels {
            throw .invalidArgument(name: "valid", reason: "a \(width)x\(height) flow needs \(pixels) validity values, got \(valid.count)")
        }
        self.init(unchecked: width, height, uv: uv, valid: valid)
    }

    /// A flow whose parts the caller has checked.
    package init(unchecked width: Int, _ height: Int, uv: [Float], valid: [Float]? = nil) {
        (self.width, self.height, self.uv, self.valid) = (width, height, uv, valid)
    }

    /// A zero flow of the given size.
    /// - Throws: ``FlowFileError/invalidArgument(name:reason:)`` for a negative or overflowing size.
    public init(width: Int, height: Int) throws(FlowFileError) {
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        guard width >= 0, height >= 0, !overflow, !pixels.multipliedReportingOverflow(by: 2).overflow else {
            throw .invalidArgument(name: "size", reason: "\(width)x\(height) is not a flow size")
        }
        self.init(unchecked: width, height, uv: [Float](repeating: 0, count: pixels * 2))
    }

    /// The flow at `batchIndex` of a tensor [N, 2, H, W] (channel 0 = u, 1 = v), as RAFT returns it.
    /// - Throws: ``FlowFileError/invalidArgument(name:reason:)`` for another shape or a batch index out of range.
    public init(tensor: Tensor, batchIndex: Int = 0) throws(FlowFileError) {
        guard tensor.rank == 4, tensor.c == 2 else {
            throw .invalidArgument(name: "tensor", reason: "FlowField needs a [N, 2, H, W] tensor, got \(tensor.shape)")
        }
        guard batchIndex >= 0, batchIndex < tensor.n else {
            throw .invalidArgument(name: "batch index", reason: "\(batchIndex) is outside 0..<\(tensor.n)")
        }
        self.init(unchecked: tensor)
    }

    /// Sample 0 of a `[N, 2, H, W]` tensor the caller has checked (RAFT's output).
    package init(unchecked tensor: Tensor) {
        self.init(unchecked: tensor.w, tensor.h, uv: tensor.interleaved(sample: 0))
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
