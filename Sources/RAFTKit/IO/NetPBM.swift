import Foundation

/// Binary netpbm images: PGM (`P5`, gray) and PPM (`P6`, RGB), 8-bit (maxval ≤ 255) or 16-bit
/// (maxval > 255, samples big-endian), as specified at netpbm.sourceforge.net.
///
/// Header parsing follows the specification rather than a fixed layout: magic, width, height and maxval
/// are separated by any whitespace, `#` starts a comment that runs to the end of the line (anywhere
/// before the raster), and exactly one whitespace byte separates maxval from the samples. Samples are
/// returned exactly when maxval is 255 or 65535; another maxval is rescaled to the full 8- or 16-bit range
/// (`round(s · 255 / maxval)` or `round(s · 65535 / maxval)`), so ``RasterImage/maxSample`` keeps its
/// meaning. A sample above maxval is an error. Bytes after the raster (a second image) are ignored.
enum NetPBM {
    static func decode(_ data: Data, file: String, limits: ImageLimits) throws(ImageError) -> RasterImage {
        let bytes = [UInt8](data.prefix(4096))   // any real header fits; the raster is read from `data`
        guard bytes.count >= 2, bytes[0] == UInt8(ascii: "P") else {
            throw .notAnImage(file: file, detail: "no netpbm magic number")
        }
        let channels: Int
        switch bytes[1] {
        case UInt8(ascii: "5"): channels = 1
        case UInt8(ascii: "6"): channels = 3
        case UInt8(ascii: "1"), UInt8(ascii: "2"), UInt8(ascii: "3"):
            throw .unsupported(file: file, reason: "plain (ASCII) netpbm P\(Character(UnicodeScalar(bytes[1]))) is not supported; use binary P5 or P6")
        case UInt8(ascii: "4"): throw .unsupported(file: file, reason: "PBM bitmaps (P4) are not supported")
        case UInt8(ascii: "7"): throw .unsupported(file: file, reason: "PAM (P7) is not supported")
        default: throw .notAnImage(file: file, detail: "unknown netpbm magic number")
        }
        var position = 2
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x0B || b == 0x0C }
        func skipComment() {
            while position < bytes.count, bytes[position] != 0x0A, bytes[position] != 0x0D { position += 1 }
        }
        // Reads the next decimal field after whitespace and comments.
        func field(_ name: String) throws(ImageError) -> Int {
            while position < bytes.count {
                if isSpace(bytes[position]) { position += 1 } else if bytes[position] == UInt8(ascii: "#") { skipComment() } else { break }
            }
            guard position < bytes.count else {
                throw data.count > bytes.count ? .corrupt(file: file, reason: "netpbm header is longer than \(bytes.count) bytes")
                                               : .truncated(file: file, detail: "file ends before the \(name) in the header")
            }
            var value = 0, digits = 0
            while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) {
                value = value * 10 + Int(bytes[position] - UInt8(ascii: "0"))
                digits += 1
                position += 1
                guard digits <= 9 else { throw .corrupt(file: file, reason: "the \(name) in the header has too many digits") }
            }
            guard digits > 0 else {
                throw .corrupt(file: file, reason: "expected the \(name) in the header, found byte 0x\(String(bytes[position], radix: 16))")
            }
            return value
        }
        let width = try field("width"), height = try field("height"), maxval = try field("maxval")
        guard width > 0, height > 0 else { throw .corrupt(file: file, reason: "image size \(width)x\(height) is empty") }
        guard (1...65535).contains(maxval) else {
            throw .corrupt(file: file, reason: "maxval \(maxval) is outside 1…65535")
        }
        // Exactly one whitespace byte (possibly after a comment) ends the header.
        if position < bytes.count, bytes[position] == UInt8(ascii: "#") { skipComment() }
        guard position < bytes.count else { throw .truncated(file: file, detail: "file ends after the header") }
        guard isSpace(bytes[position]) else {
            throw .corrupt(file: file, reason: "expected whitespace after maxval, found byte 0x\(String(bytes[position], radix: 16))")
        }
        position += 1
        if let violation = limits.violation(width: width, height: height) {
            throw .tooLarge(file: file, width: width, height: height, reason: violation)
        }
        let bytesPerSample = maxval > 255 ? 2 : 1
        let count = width * height * channels
        guard data.count - position >= count * bytesPerSample else {
            throw .truncated(file: file, detail: "raster needs \(count * bytesPerSample) bytes, the file holds \(data.count - position)")
        }
        let bitDepth = bytesPerSample * 8
        let fullScale = (1 << bitDepth) - 1
        var samples = [UInt16](repeating: 0, count: count)
        var overflow = false
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let base = raw.baseAddress! + position
            samples.withUnsafeMutableBufferPointer { out in
                for i in 0..<count {
                    let s = bytesPerSample == 2 ? UInt16(base.load(fromByteOffset: 2 * i, as: UInt8.self)) << 8
                                                    | UInt16(base.load(fromByteOffset: 2 * i + 1, as: UInt8.self))
                                                : UInt16(base.load(fromByteOffset: i, as: UInt8.self))
                    if Int(s) > maxval { overflow = true }
                    out[i] = maxval == fullScale ? s
                                                 : UInt16(min(fullScale, (Int(s) * fullScale + maxval / 2) / maxval))
                }
            }
        }
        if overflow { throw .corrupt(file: file, reason: "a sample exceeds maxval \(maxval)") }
        return RasterImage(unchecked: width, height, channels: channels, bitDepth: bitDepth, samples: samples)
    }

    /// P5 for one channel, P6 for three; 16-bit rasters are written with maxval 65535 (big-endian).
    static func encode(_ image: RasterImage, file: String) throws(ImageError) -> Data {
        guard image.channels == 1 || image.channels == 3 else {
            throw .unsupported(file: file, reason: "netpbm stores gray (P5) or RGB (P6), not \(image.channels) channels")
        }
        guard image.width > 0, image.height > 0 else {
            throw .unsupported(file: file, reason: "netpbm cannot store an empty \(image.width)x\(image.height) image")
        }
        var data = Data("P\(image.channels == 1 ? 5 : 6)\n\(image.width) \(image.height)\n\(image.maxSample)\n".utf8)
        if image.bitDepth == 16 {
            var raster = [UInt8](repeating: 0, count: image.samples.count * 2)
            for (i, s) in image.samples.enumerated() {
                raster[2 * i] = UInt8(s >> 8)
                raster[2 * i + 1] = UInt8(s & 0xFF)
            }
            data.append(contentsOf: raster)
        } else {
            data.append(contentsOf: image.samples.map { UInt8(truncatingIfNeeded: $0) })
        }
        return data
    }
}
