/// Pads images to a multiple of 8 by repeating edge pixels, and crops results back (core/utils/utils.py,
/// `InputPadder`), optionally up to a minimum size.
///
/// `pad = (8 − H mod 8) mod 8` rows and likewise columns; with `minimumSize` m, a side below m is padded to
/// m rounded up to a multiple of 8 instead (``RAFT`` uses m = 128, so frames of any size from 1×1 run).
/// Columns are always split evenly (`left = pw/2`, `right = pw − pw/2`); rows are split evenly in
/// ``Mode/sintel`` mode and all go to the bottom in ``Mode/kitti`` mode. Examples: 436×1024 → sintel
/// (0, 0, 2, 2), kitti (0, 0, 0, 4); 375×1242 → (3, 3, 0, 1) in both modes (left, right, top, bottom);
/// 33×47 with minimum 128, sintel → (40, 41, 47, 48).
public struct InputPadder: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Where the padding rows go.
    public enum Mode: String, Sendable, Hashable, CaseIterable, Codable {
        /// Rows centred (top `ph/2`, bottom `ph − ph/2`): the official default (Sintel, Chairs, demo).
        case sintel
        /// All rows at the bottom: the official KITTI evaluation.
        case kitti
    }

    /// Unpadded image size.
    public let height: Int, width: Int
    public let mode: Mode
    public let left: Int, right: Int, top: Int, bottom: Int

    /// The padding of a `height × width` image.
    /// - Parameters:
    ///   - height, width: the image size, at least 1.
    ///   - mode: where the padding rows go.
    ///   - minimumSize: the smallest padded side (0: the official padder, a multiple of 8 only).
    /// - Throws: ``RAFTError/invalidShape(input:shape:expected:)`` when a side is not positive or the minimum size
    ///   is negative.
    public init(height: Int, width: Int, mode: Mode = .sintel, minimumSize: Int = 0) throws(RAFTError) {
        guard height > 0, width > 0, minimumSize >= 0 else {
            throw .invalidShape(input: "image", shape: [height, width], expected: "[H, W] with H, W ≥ 1 (minimum size ≥ 0)")
        }
        self.init(unchecked: height, width, mode: mode, minimumSize: minimumSize)
    }

    /// The padding of an image whose sides the caller has checked to be positive.
    package init(unchecked height: Int, _ width: Int, mode: Mode, minimumSize: Int = 0) {
        self.height = height
        self.width = width
        self.mode = mode
        let floor = (minimumSize + 7) / 8 * 8
        func padding(_ side: Int) -> Int { max((side + 7) / 8 * 8, floor) - side }
        let ph = padding(height), pw = padding(width)
        left = pw / 2
        right = pw - pw / 2
        top = mode == .sintel ? ph / 2 : 0
        bottom = ph - top
    }

    /// Padded size, a multiple of 8 in both directions.
    public var paddedHeight: Int { height + top + bottom }
    public var paddedWidth: Int { width + left + right }

    public var description: String {
        "\(height)x\(width) → \(paddedHeight)x\(paddedWidth) (\(mode): left \(left), right \(right), top \(top), bottom \(bottom))"
    }

    /// Replicate-pads a batch.
    /// - Parameter x: `[N, C, height, width]`.
    /// - Returns: `[N, C, paddedHeight, paddedWidth]`.
    /// - Throws: ``RAFTError/invalidShape(input:shape:expected:)`` for any other shape of `x`.
    public func pad(_ x: Tensor) throws(RAFTError) -> Tensor {
        guard x.rank == 4 && x.h == height && x.w == width else {
            throw .invalidShape(input: "pad input", shape: x.shape, expected: "[N, C, \(height), \(width)]")
        }
        return pad(unchecked: x)
    }

    /// ``pad(_:)`` of a tensor whose shape matches by construction.
    package func pad(unchecked x: Tensor) -> Tensor {
        var out = Tensor(shape: [x.n, x.c, paddedHeight, paddedWidth])
        let dst = out.mutablePointer()
        for b in 0..<x.n {
            pad(x.pointer + b * x.c * height * width, channels: x.c,
                into: dst + b * x.c * paddedHeight * paddedWidth) { $0 }
        }
        return out
    }

    /// Crops a padded batch back to the original size.
    /// - Parameter x: `[N, C, paddedHeight, paddedWidth]`.
    /// - Returns: `[N, C, height, width]`.
    /// - Throws: ``RAFTError/invalidShape(input:shape:expected:)`` for any other shape of `x`.
    public func unpad(_ x: Tensor) throws(RAFTError) -> Tensor {
        guard x.rank == 4 && x.h == paddedHeight && x.w == paddedWidth else {
            throw .invalidShape(input: "unpad input", shape: x.shape, expected: "[N, C, \(paddedHeight), \(paddedWidth)]")
        }
        var out = Tensor(shape: [x.n, x.c, height, width])
        let dst = out.mutablePointer()
        for b in 0..<x.n {
            unpad(x.pointer + b * x.c * paddedHeight * paddedWidth, channels: x.c, into: dst + b * x.c * height * width)
        }
        return out
    }

    /// One sample `[channels, height, width]` → `[channels, paddedHeight, paddedWidth]`, replicating edges and
    /// mapping every value through `transform` (e.g. RAFT's input normalisation). Allocation-free.
    @inline(__always)
    package func pad(_ src: UnsafePointer<Float>, channels: Int, into dst: UnsafeMutablePointer<Float>,
                     transform: (Float) -> Float) {
        let (ph, pw) = (paddedHeight, paddedWidth)
        for c in 0..<channels {
            let plane = src + c * height * width
            for y in 0..<ph {
                let row = plane + min(max(y - top, 0), height - 1) * width
                let out = dst + (c * ph + y) * pw
                let first = transform(row[0]), last = transform(row[width - 1])
                for x in 0..<left { out[x] = first }
                for x in 0..<width { out[left + x] = transform(row[x]) }
                for x in 0..<right { out[left + width + x] = last }
            }
        }
    }

    /// One sample `[channels, paddedHeight, paddedWidth]` → `[channels, height, width]`. Allocation-free.
    package func unpad(_ src: UnsafePointer<Float>, channels: Int, into dst: UnsafeMutablePointer<Float>) {
        for c in 0..<channels {
            for y in 0..<height {
                (dst + (c * height + y) * width).update(from: src + (c * paddedHeight + y + top) * paddedWidth + left,
                                                        count: width)
            }
        }
    }
}
