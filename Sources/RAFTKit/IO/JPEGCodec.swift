import CJPEGCodec
import Foundation

/// JPEG decoding and encoding through libjpeg-turbo in the `CJPEGCodec` C target, which keeps libjpeg's
/// `setjmp`/`longjmp` error handling inside C. This is the only file that imports it.
///
/// Decoding accepts baseline and progressive files with 8-bit samples. Grayscale files give a 1-channel
/// raster; YCbCr and RGB files a 3-channel one; CMYK and YCCK files (Adobe's inverted convention or plain)
/// are converted to RGB as (1 − C)(1 − K) per channel, without a colour profile. The EXIF orientation tag
/// (APP1, IFD0 tag 0x0112) is applied, so the raster is the image as a viewer shows it. Damaged data that
/// libjpeg would decode with a warning is refused (``ImageError/corrupt(file:reason:)`` or
/// ``ImageError/truncated(file:detail:)``), never returned with grey blocks.
package enum JPEGCodec {
    /// Quality used when writing JPEG images (visualisations): high enough that the colour wheel keeps its hues.
    package static let defaultQuality = 95

    /// Decodes JPEG bytes; `file` names the source in errors.
    package static func decode(_ data: Data, file: String, limits: ImageLimits = .standard) throws(ImageError)
        -> RasterImage {
        var raster = cjpg_raster()
        var message = [CChar](repeating: 0, count: 256)
        let cLimits = cjpg_limits(max_width: UInt32(clamping: limits.maxWidth),
                                  max_height: UInt32(clamping: limits.maxHeight),
                                  max_pixels: UInt64(clamping: limits.maxPixels))
        let status = data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> Int32 in
            let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
            return message.withUnsafeMutableBufferPointer {
                cjpg_decode(base, bytes.count, cLimits, &raster, $0.baseAddress, $0.count)
            }
        }
        defer { cjpg_raster_free(&raster) }
        let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        switch cjpg_status(rawValue: UInt32(status)) {
        case CJPG_OK: break
        case CJPG_NOT_JPEG: throw .notAnImage(file: file, detail: text)
        case CJPG_TRUNCATED: throw .truncated(file: file, detail: text)
        case CJPG_TOO_LARGE: throw .tooLarge(file: file, width: Int(raster.width), height: Int(raster.height), reason: text)
        case CJPG_NO_MEMORY: throw .unsupported(file: file, reason: "out of memory: \(text)")
        case CJPG_UNSUPPORTED: throw .unsupported(file: file, reason: text)
        default: throw .corrupt(file: file, reason: text)
        }
        let width = Int(raster.width), height = Int(raster.height), channels = Int(raster.channels)
        let count = width * height * channels
        var samples = [UInt16](repeating: 0, count: count)
        samples.withUnsafeMutableBufferPointer { out in
            for i in 0..<count { out[i] = UInt16(raster.data[i]) }
        }
        let stored = RasterImage(unchecked: width, height, channels: channels, bitDepth: 8, samples: samples)
        return stored.oriented(exif: Int(raster.orientation))
    }

    /// Encodes a raster as a baseline JPEG of `quality` 1…100. JPEG stores 8-bit gray or RGB, so alpha is
    /// dropped and 16-bit samples are rounded to 8 bits (v·255/65535).
    package static func encode(_ image: RasterImage, file: String, quality: Int = defaultQuality) throws(ImageError) -> Data {
        guard image.width > 0, image.height > 0 else {
            throw .unsupported(file: file, reason: "JPEG cannot store an empty \(image.width)x\(image.height) image")
        }
        let colour = image.channels >= 3 ? 3 : 1
        let n = image.width * image.height
        var bytes = [UInt8](repeating: 0, count: n * colour)
        image.samples.withUnsafeBufferPointer { s in
            let ch = image.channels, sixteen = image.bitDepth == 16
            for i in 0..<n {
                for c in 0..<colour {
                    let v = UInt32(s[i * ch + c])
                    bytes[i * colour + c] = UInt8(sixteen ? (v * 255 + 32767) / 65535 : v)
                }
            }
        }
        var buffer = cjpg_buffer()
        var message = [CChar](repeating: 0, count: 256)
        let status = bytes.withUnsafeBufferPointer { samples in
            message.withUnsafeMutableBufferPointer {
                cjpg_encode(samples.baseAddress, UInt32(image.width), UInt32(image.height), UInt32(colour),
                            Int32(quality), &buffer, $0.baseAddress, $0.count)
            }
        }
        defer { cjpg_buffer_free(&buffer) }
        guard status == Int32(CJPG_OK.rawValue) else {
            let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw .unwritable(file: file, reason: "JPEG encoding failed: \(text)")
        }
        return Data(bytes: buffer.bytes, count: buffer.length)
    }
}

extension RasterImage {
    /// The raster as displayed under EXIF orientation `exif` (1…8; anything else is 1): 2 mirrors left–right,
    /// 3 rotates 180°, 4 mirrors top–bottom, 5 transposes, 6 rotates 90° clockwise, 7 transverses, 8 rotates
    /// 90° counter-clockwise. Orientations 5–8 swap width and height.
    package func oriented(exif: Int) -> RasterImage {
        guard (2...8).contains(exif) else { return self }
        let (W, H) = (width, height)
        let swaps = exif >= 5
        let (outW, outH) = swaps ? (H, W) : (W, H)
        var out = [UInt16](repeating: 0, count: samples.count)
        samples.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { o in
                for y in 0..<outH {
                    for x in 0..<outW {
                        // (sx, sy): the stored pixel shown at (x, y).
                        let (sx, sy): (Int, Int) = switch exif {
                        case 2: (W - 1 - x, y)
                        case 3: (W - 1 - x, H - 1 - y)
                        case 4: (x, H - 1 - y)
                        case 5: (y, x)
                        case 6: (y, H - 1 - x)
                        case 7: (W - 1 - y, H - 1 - x)
                        default: (W - 1 - y, x)      // 8
                        }
                        for c in 0..<channels { o[(y * outW + x) * channels + c] = s[(sy * W + sx) * channels + c] }
                    }
                }
            }
        }
        return RasterImage(unchecked: outW, outH, channels: channels, bitDepth: bitDepth, samples: out)
    }
}
