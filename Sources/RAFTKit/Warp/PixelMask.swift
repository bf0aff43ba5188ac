import Foundation

/// A per-pixel yes/no map of an image: which pixels of a warped frame are valid (``FlowWarp``), or which pixels
/// of the first frame are occluded in the second (``FlowOcclusion``).
///
/// `values` holds one flag per pixel, rows top to bottom: `values[y·width + x]`. As a picture (``raster``,
/// ``write(to:)``) a set pixel is white (255) and a clear one black (0), in an 8-bit gray PNG.
public struct PixelMask: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// `height × width` flags.
    public let values: [Bool]

    /// A mask from its flags.
    /// - Throws: ``FlowWarpError/invalidArgument(name:reason:)`` when the size is negative or `values` does not
    ///   hold `width × height` flags.
    public init(width: Int, height: Int, values: [Bool]) throws(FlowWarpError) {
        guard width >= 0, height >= 0 else {
            throw .invalidArgument(name: "width, height", reason: "negative mask size \(width)x\(height)")
        }
        guard values.count == width * height else {
            throw .invalidArgument(name: "values", reason: "a \(width)x\(height) mask needs \(width * height) flags, got \(values.count)")
        }
        self.init(unchecked: width, height, values)
    }

    init(unchecked width: Int, _ height: Int, _ values: [Bool]) {
        (self.width, self.height, self.values) = (width, height, values)
    }

    /// Whether pixel (`x`, `y`) is set.
    public subscript(x x: Int, y y: Int) -> Bool { values[y * width + x] }

    /// The number of set pixels.
    public var count: Int { values.reduce(0) { $0 + ($1 ? 1 : 0) } }

    /// The fraction of set pixels (0 for an empty mask).
    public var fraction: Double { values.isEmpty ? 0 : Double(count) / Double(values.count) }

    /// The mask as an 8-bit gray image: 255 where set, 0 elsewhere.
    public var raster: RasterImage {
        RasterImage(unchecked: width, height, channels: 1, bitDepth: 8, samples: values.map { $0 ? 255 : 0 })
    }

    /// Writes the mask as an 8-bit gray PNG (255 where set) atomically (temporary file, then rename).
    /// - Throws: ``ImageError/unwritable(file:reason:)`` naming the file.
    public func write(to url: URL) throws(ImageError) {
        try raster.write(to: url, format: .png)
    }
}
