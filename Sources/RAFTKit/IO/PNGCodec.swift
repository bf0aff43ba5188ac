import CPNGCodec
import Foundation

/// PNG decoding and encoding through libpng's classic API in the `CPNGCodec` C target, which keeps
/// libpng's `setjmp`/`longjmp` error handling inside C. This is the only file that imports it.
///
/// Samples are exact: no gamma or colour-space conversion is applied, whatever gAMA, sRGB, iCCP or
/// cHRM chunks say (libpng's simplified API would convert, and corrupt 16-bit data such as KITTI flow).
/// Palettes become RGB (RGBA with a tRNS chunk) and 1/2/4-bit gray becomes 8-bit gray; every other
/// colour type keeps its channels (gray, gray+alpha, RGB, RGBA) and its bit depth (8 or 16).
package enum PNGCodec {
    /// The 8-byte PNG signature.
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Decodes PNG bytes; `file` names the source in errors.
    package static func decode(_ data: Data, file: String, limits: ImageLimits = .standard) throws(ImageError)
        -> RasterImage {
        var raster = cpng_raster()
        var message = [CChar](repeating: 0, count: 256)
        let cLimits = cpng_limits(max_width: UInt32(clamping: limits.maxWidth),
                                  max_height: UInt32(clamping: limits.maxHeight),
                                  max_pixels: UInt64(clamping: limits.maxPixels))
        let status = data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> Int32 in
            let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
            return message.withUnsafeMutableBufferPointer {
                cpng_decode(base, bytes.count, cLimits, &raster, $0.baseAddress, $0.count)
            }
        }
        defer { cpng_raster_free(&raster) }
        let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        switch cpng_status(rawValue: UInt32(status)) {
        case CPNG_OK: break
        case CPNG_NOT_PNG: throw .notAnImage(file: file, detail: text)
        case CPNG_TRUNCATED: throw .truncated(file: file, detail: text)
        case CPNG_TOO_LARGE:
            let (w, h) = headerSize(data)
            throw .tooLarge(file: file, width: w, height: h, reason: text)
        case CPNG_NO_MEMORY: throw .unsupported(file: file, reason: "out of memory: \(text)")
        case CPNG_UNSUPPORTED: throw .unsupported(file: file, reason: text)
        default: throw .corrupt(file: file, reason: text)
        }
        let width = Int(raster.width), height = Int(raster.height), channels = Int(raster.channels)
        let count = width * height * channels
        var samples = [UInt16](repeating: 0, count: count)
        if raster.bit_depth == 16 {
            let source = raster.data.assumingMemoryBound(to: UInt16.self)
            samples.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: source, count: count) }
        } else {
            let source = raster.data.assumingMemoryBound(to: UInt8.self)
            samples.withUnsafeMutableBufferPointer { for i in 0..<count { $0[i] = UInt16(source[i]) } }
        }
        return RasterImage(unchecked: width, height, channels: channels, bitDepth: Int(raster.bit_depth),
                           samples: samples)
    }

    /// zlib level used when writing: level 3 encodes several times faster than libpng's default 6, for files only
    /// slightly larger (measurements: `Benchmarks/README.md`, "Design choices and their measurements").
    package static let defaultCompressionLevel = 3

    /// Encodes a raster (1–4 channels, 8 or 16 bits) as PNG bytes; `interlaced` writes Adam7.
    package static func encode(_ image: RasterImage, file: String, interlaced: Bool = false,
                               compressionLevel: Int = defaultCompressionLevel) throws(ImageError) -> Data {
        guard image.width > 0, image.height > 0 else {
            throw .unsupported(file: file, reason: "PNG cannot store an empty \(image.width)x\(image.height) image")
        }
        var buffer = cpng_buffer()
        var message = [CChar](repeating: 0, count: 256)
        let status: Int32
        if image.bitDepth == 16 {
            status = image.samples.withUnsafeBufferPointer { samples in
                message.withUnsafeMutableBufferPointer {
                    cpng_encode(samples.baseAddress, UInt32(image.width), UInt32(image.height), UInt32(image.channels),
                                16, Int32(compressionLevel), interlaced ? 1 : 0, &buffer, $0.baseAddress, $0.count)
                }
            }
        } else {
            let bytes = image.samples.map { UInt8(truncatingIfNeeded: $0) }
            status = bytes.withUnsafeBufferPointer { samples in
                message.withUnsafeMutableBufferPointer {
                    cpng_encode(samples.baseAddress, UInt32(image.width), UInt32(image.height), UInt32(image.channels),
                                8, Int32(compressionLevel), interlaced ? 1 : 0, &buffer, $0.baseAddress, $0.count)
                }
            }
        }
        defer { cpng_buffer_free(&buffer) }
        guard status == Int32(CPNG_OK.rawValue) else {
            let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw .unwritable(file: file, reason: "PNG encoding failed: \(text)")
        }
        return Data(bytes: buffer.bytes, count: buffer.length)
    }

    /// Width and height from the IHDR chunk (bytes 16–23), for error messages; zeros when absent.
    private static func headerSize(_ data: Data) -> (Int, Int) {
        guard data.count >= 24 else { return (0, 0) }
        func be32(_ at: Int) -> Int {
            (0..<4).reduce(0) { $0 << 8 | Int(data[data.startIndex + at + $1]) }
        }
        return (be32(16), be32(20))
    }
}
