import Foundation

/// An RGB image with Float samples on the 0…255 scale, the form RAFT's encoders take.
///
/// `pixels` is interleaved, rows top to bottom: `pixels[(y·width + x)·3 + c]`, c = 0 red, 1 green, 2 blue.
/// Reading follows the datasets of the reference implementation: gray is replicated to three channels and
/// alpha is dropped (never composited); 16-bit samples are scaled by 255/65535, so they keep their
/// fractional precision instead of being truncated to 8 bits.
public struct RGBImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// `height × width × 3` samples, nominally in 0…255.
    public var pixels: [Float]

    /// An image from its interleaved samples.
    /// - Throws: ``ImageError/invalidArgument(name:reason:)`` for a negative size or a sample count other than
    ///   `width × height × 3`.
    public init(width: Int, height: Int, pixels: [Float]) throws(ImageError) {
        guard width >= 0, height >= 0 else { throw .invalidArgument(name: "size", reason: "negative size \(width)x\(height)") }
        guard width.multipliedReportingOverflow(by: height).overflow == false, pixels.count == width * height * 3 else {
            throw .invalidArgument(name: "pixels", reason: "a \(width)x\(height) RGB image needs width × height × 3 samples, got \(pixels.count)")
        }
        self.init(unchecked: width, height, pixels)
    }

    /// An image whose sizes the caller has checked (`pixels.count == width · height · 3`).
    package init(unchecked width: Int, _ height: Int, _ pixels: [Float]) {
        (self.width, self.height, self.pixels) = (width, height, pixels)
    }

    /// An image filled with one colour.
    /// - Throws: ``ImageError/invalidArgument(name:reason:)`` for a negative or overflowing size.
    public init(width: Int, height: Int, color: (Float, Float, Float) = (0, 0, 0)) throws(ImageError) {
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        guard width >= 0, height >= 0, !overflow, !pixels.multipliedReportingOverflow(by: 3).overflow else {
            throw .invalidArgument(name: "size", reason: "\(width)x\(height) is not an image size")
        }
        self = .filled(width: width, height: height, color: color)
    }

    /// An image of a size the caller has checked, filled with one colour.
    package static func filled(width: Int, height: Int, color: (Float, Float, Float) = (0, 0, 0)) -> RGBImage {
        var pixels = [Float](repeating: 0, count: width * height * 3)
        for i in 0..<width * height {
            pixels[3 * i] = color.0
            pixels[3 * i + 1] = color.1
            pixels[3 * i + 2] = color.2
        }
        return RGBImage(unchecked: width, height, pixels)
    }

    /// Converts exact samples: gray is replicated, alpha dropped, 16-bit scaled by 255/65535.
    public init(_ raster: RasterImage) {
        let scale: Float = raster.bitDepth == 16 ? 255 / 65535 : 1
        let n = raster.width * raster.height
        var pixels = [Float](repeating: 0, count: n * 3)
        raster.samples.withUnsafeBufferPointer { s in
            pixels.withUnsafeMutableBufferPointer { p in
                let ch = raster.channels
                for i in 0..<n {
                    if ch >= 3 {
                        p[3 * i] = Float(s[i * ch]) * scale
                        p[3 * i + 1] = Float(s[i * ch + 1]) * scale
                        p[3 * i + 2] = Float(s[i * ch + 2]) * scale
                    } else {
                        let g = Float(s[i * ch]) * scale
                        p[3 * i] = g
                        p[3 * i + 1] = g
                        p[3 * i + 2] = g
                    }
                }
            }
        }
        self.init(unchecked: raster.width, raster.height, pixels)
    }

    /// Reads a PNG, JPEG, PPM or PGM file (chosen by content); see the type's conversion rules.
    public init(contentsOf url: URL, limits: ImageLimits = .standard) throws(ImageError) {
        self.init(try RasterImage(contentsOf: url, limits: limits))
    }

    /// Decodes PNG, JPEG, PPM or PGM bytes; `source` names them in errors.
    public init(data: Data, source: String = "<memory>", limits: ImageLimits = .standard) throws(ImageError) {
        self.init(try RasterImage(data: data, source: source, limits: limits))
    }

    /// The image quantised to 8 bits per sample: rounded to nearest, clamped to 0…255, NaN written as 0.
    public var raster: RasterImage {
        RasterImage(unchecked: width, height, channels: 3, bitDepth: 8, samples: pixels.map(Self.byte))
    }

    /// A sample rounded and clamped to 0…255 (NaN becomes 0).
    static func byte(_ value: Float) -> UInt16 {
        guard value > 0 else { return 0 }               // also NaN
        return value >= 255 ? 255 : UInt16(value + 0.5)
    }

    /// Writes an 8-bit RGB PNG (binary PPM for a `.ppm`/`.pnm` name, JPEG at quality 95 for `.jpg`/`.jpeg`)
    /// atomically: the bytes go to a temporary file in the same directory, which is then renamed over `url`.
    /// Samples are rounded and clamped as in ``raster``.
    public func write(to url: URL) throws(ImageError) {
        let ext = url.pathExtension.lowercased()
        try raster.write(to: url, format: ext == "pgm" ? .png : ImageFileFormat(pathExtension: ext))
    }

    /// The image as a tensor [1, 3, H, W] (planar RGB, 0…255).
    public var tensor: Tensor {
        pixels.withUnsafeBufferPointer { Tensor(interleaved: $0, channels: 3, height: height, width: width) }
    }

    /// The image at `batchIndex` of a tensor [N, 3, H, W].
    /// - Throws: ``ImageError/invalidArgument(name:reason:)`` for another shape or a batch index out of range.
    public init(tensor: Tensor, batchIndex: Int = 0) throws(ImageError) {
        guard tensor.rank == 4, tensor.c == 3 else {
            throw .invalidArgument(name: "tensor", reason: "RGBImage needs a [N, 3, H, W] tensor, got \(tensor.shape)")
        }
        guard batchIndex >= 0, batchIndex < tensor.n else {
            throw .invalidArgument(name: "batch index", reason: "\(batchIndex) is outside 0..<\(tensor.n)")
        }
        self.init(unchecked: tensor.w, tensor.h, tensor.interleaved(sample: batchIndex))
    }

    /// The colour of pixel (`x`, `y`).
    public subscript(x x: Int, y y: Int) -> (r: Float, g: Float, b: Float) {
        get {
            let i = (y * width + x) * 3
            return (pixels[i], pixels[i + 1], pixels[i + 2])
        }
        set {
            let i = (y * width + x) * 3
            pixels[i] = newValue.r
            pixels[i + 1] = newValue.g
            pixels[i + 2] = newValue.b
        }
    }
}
