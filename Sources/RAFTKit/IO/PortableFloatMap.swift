import Foundation

/// Portable float maps (`.pfm`), as FlyingThings3D stores flow: a text header `PF` (three channels) or `Pf`
/// (one), whitespace, `width height`, whitespace, a scale whose sign gives the byte order (negative means
/// little-endian), one whitespace byte, then float32 samples with the **bottom** row first.
///
/// Reading accepts any whitespace between header fields and checks that the data is exactly
/// width·height·channels·4 bytes (the reference reshape fails otherwise). A three-channel map is read as
/// flow (u, v) and its third channel dropped, as the reference `read_gen` does; a one-channel map holds
/// disparity or depth and is refused as flow. Writing produces `PF`, scale −1 (little-endian), third
/// channel 0; the validity mask is not stored. NaN or infinite values are refused in both directions.
enum PortableFloatMap {
    struct Header { var width: Int, height: Int, channels: Int, littleEndian: Bool, dataOffset: Int }

    static func header(_ data: Data, file: String, limits: ImageLimits) throws(FlowFileError) -> Header {
        let bytes = [UInt8](data.prefix(256))
        guard bytes.count >= 3, bytes[0] == UInt8(ascii: "P"),
              bytes[1] == UInt8(ascii: "F") || bytes[1] == UInt8(ascii: "f") else {
            throw .badMagic(file: file, detail: "a PFM file starts with \"PF\" or \"Pf\"")
        }
        let channels = bytes[1] == UInt8(ascii: "F") ? 3 : 1
        var position = 2
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
        guard isSpace(bytes[position]) else { throw .badMagic(file: file, detail: "no whitespace after \"P\(Character(UnicodeScalar(bytes[1])))\"") }
        func token(_ name: String) throws(FlowFileError) -> String {
            while position < bytes.count, isSpace(bytes[position]) { position += 1 }
            let start = position
            while position < bytes.count, !isSpace(bytes[position]) { position += 1 }
            guard position > start, position < bytes.count else {
                throw .invalidHeader(file: file, reason: "missing or unterminated \(name)")
            }
            return String(decoding: bytes[start..<position], as: UTF8.self)
        }
        let widthText = try token("width"), heightText = try token("height"), scaleText = try token("scale")
        guard let width = Int(widthText), let height = Int(heightText), width > 0, height > 0 else {
            throw .invalidHeader(file: file, reason: "dimensions '\(widthText) \(heightText)' are not positive integers")
        }
        guard let scale = Float(scaleText), scale.isFinite, scale != 0 else {
            throw .invalidHeader(file: file, reason: "scale '\(scaleText)' is not a non-zero number")
        }
        if let violation = limits.violation(width: width, height: height) {
            throw .invalidHeader(file: file, reason: "dimensions \(width)x\(height): \(violation)")
        }
        return Header(width: width, height: height, channels: channels, littleEndian: scale < 0,
                      dataOffset: position + 1)
    }

    /// The samples top row first, `channels` interleaved.
    static func samples(_ data: Data, header h: Header, file: String) throws(FlowFileError) -> [Float] {
        let count = h.width * h.height * h.channels
        let expected = h.dataOffset + 4 * count
        guard data.count == expected else { throw .sizeMismatch(file: file, expectedBytes: expected, actualBytes: data.count) }
        var values = [Float](repeating: 0, count: count)
        let rowLength = h.width * h.channels
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let base = raw.baseAddress! + h.dataOffset
            for fileRow in 0..<h.height {
                let y = h.height - 1 - fileRow
                for j in 0..<rowLength {
                    let bits = base.loadUnaligned(fromByteOffset: 4 * (fileRow * rowLength + j), as: UInt32.self)
                    values[y * rowLength + j] = Float(bitPattern: h.littleEndian ? UInt32(littleEndian: bits)
                                                                                  : UInt32(bigEndian: bits))
                }
            }
        }
        return values
    }

    static func decode(_ data: Data, file: String, limits: ImageLimits) throws(FlowFileError) -> FlowField {
        let h = try header(data, file: file, limits: limits)
        guard h.channels == 3 else {
            throw .unsupported(file: file, reason: "a one-channel PFM (\"Pf\") holds disparity or depth, not flow")
        }
        let values = try samples(data, header: h, file: file)
        let pixels = h.width * h.height
        var uv = [Float](repeating: 0, count: 2 * pixels)
        var nonFinite = 0
        for i in 0..<pixels {
            uv[2 * i] = values[3 * i]
            uv[2 * i + 1] = values[3 * i + 1]
            nonFinite += (uv[2 * i].isFinite ? 0 : 1) + (uv[2 * i + 1].isFinite ? 0 : 1)
        }
        guard nonFinite == 0 else { throw .nonFinite(file: file, count: nonFinite) }
        return FlowField(unchecked: h.width, h.height, uv: uv)
    }

    static func encode(_ flow: FlowField, file: String) throws(FlowFileError) -> Data {
        guard flow.width > 0, flow.height > 0 else {
            throw .unsupported(file: file, reason: "cannot store an empty \(flow.width)x\(flow.height) flow")
        }
        let nonFinite = flow.uv.reduce(0) { $0 + ($1.isFinite ? 0 : 1) }
        guard nonFinite == 0 else { throw .nonFinite(file: file, count: nonFinite) }
        var data = Data("PF\n\(flow.width) \(flow.height)\n-1\n".utf8)
        var words = [UInt32](repeating: 0, count: 3 * flow.width * flow.height)
        for fileRow in 0..<flow.height {
            let y = flow.height - 1 - fileRow
            for x in 0..<flow.width {
                let i = y * flow.width + x, o = 3 * (fileRow * flow.width + x)
                words[o] = flow.uv[2 * i].bitPattern.littleEndian
                words[o + 1] = flow.uv[2 * i + 1].bitPattern.littleEndian
            }
        }
        words.withUnsafeBytes { data.append(contentsOf: $0) }
        return data
    }
}
