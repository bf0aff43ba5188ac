import Foundation

/// Middlebury `.flo` files (Baker et al.): bytes 0–3 the float32 202021.25 (ASCII "PIEH"), 4–7 int32 width,
/// 8–11 int32 height, then width·height (u, v) float32 pairs, rows top to bottom, all little-endian.
///
/// Reading checks the magic, that the dimensions are positive and within ``ImageLimits``, and that the
/// file holds exactly 12 + 8·width·height bytes, before anything is allocated. Middlebury marks unknown flow
/// with components above 10⁹ (`UNKNOWN_FLOW_THRESH`); such pixels are read into the ``FlowField/valid`` mask
/// as 0 (the mask is nil when there are none), and writing marks invalid pixels with 10¹⁰, so the mask
/// survives a round trip. NaN or infinite components are refused in both directions.
enum MiddleburyFlow {
    static let magic: Float = 202021.25
    static let unknownThreshold: Float = 1e9
    static let unknownValue: Float = 1e10

    static func decode(_ data: Data, file: String, limits: ImageLimits) throws(FlowFileError) -> FlowField {
        guard data.count >= 12 else {
            if data.count >= 4, !data.starts(with: Array("PIEH".utf8)) {
                throw .badMagic(file: file, detail: "expected the float 202021.25 (\"PIEH\")")
            }
            throw .sizeMismatch(file: file, expectedBytes: 12, actualBytes: data.count)
        }
        func word(_ offset: Int) -> UInt32 {
            (0..<4).reduce(UInt32(0)) { $0 | UInt32(data[data.startIndex + offset + $1]) << (8 * UInt32($1)) }
        }
        let found = Float(bitPattern: word(0))
        guard found == magic else {
            throw .badMagic(file: file, detail: Float(bitPattern: word(0).byteSwapped) == magic
                            ? "the file is big-endian; .flo files are little-endian"
                            : "expected the float 202021.25 (\"PIEH\"), found \(found)")
        }
        let width = Int(Int32(bitPattern: word(4))), height = Int(Int32(bitPattern: word(8)))
        guard width > 0, height > 0 else {
            throw .invalidHeader(file: file, reason: "dimensions \(width)x\(height) are not positive")
        }
        if let violation = limits.violation(width: width, height: height) {
            throw .invalidHeader(file: file, reason: "dimensions \(width)x\(height): \(violation)")
        }
        let expected = 12 + 8 * width * height
        guard data.count == expected else {
            throw .sizeMismatch(file: file, expectedBytes: expected, actualBytes: data.count)
        }
        let count = 2 * width * height
        var uv = [Float](repeating: 0, count: count)
        var nonFinite = 0, unknown = 0
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let base = raw.baseAddress!
            for i in 0..<count {
                let x = base.littleEndianFloat(at: 12 + 4 * i)
                uv[i] = x
                if !x.isFinite { nonFinite += 1 } else if abs(x) > unknownThreshold { unknown += 1 }
            }
        }
        guard nonFinite == 0 else { throw .nonFinite(file: file, count: nonFinite) }
        var valid: [Float]?
        if unknown > 0 {
            valid = (0..<width * height).map {
                abs(uv[2 * $0]) > unknownThreshold || abs(uv[2 * $0 + 1]) > unknownThreshold ? 0 : 1
            }
        }
        return FlowField(unchecked: width, height, uv: uv, valid: valid)
    }

    static func encode(_ flow: FlowField, file: String) throws(FlowFileError) -> Data {
        guard flow.width > 0, flow.height > 0, flow.width <= Int(Int32.max), flow.height <= Int(Int32.max) else {
            throw .unsupported(file: file, reason: "cannot store an empty \(flow.width)x\(flow.height) flow")
        }
        let pixels = flow.width * flow.height
        var words = [UInt32](repeating: 0, count: 3 + 2 * pixels)
        words[0] = magic.bitPattern.littleEndian
        words[1] = UInt32(flow.width).littleEndian
        words[2] = UInt32(flow.height).littleEndian
        var nonFinite = 0
        for i in 0..<pixels {
            let isValid = flow.valid.map { $0[i] >= 0.5 } ?? true
            let u = isValid ? flow.uv[2 * i] : unknownValue, v = isValid ? flow.uv[2 * i + 1] : unknownValue
            nonFinite += (u.isFinite ? 0 : 1) + (v.isFinite ? 0 : 1)
            words[3 + 2 * i] = u.bitPattern.littleEndian
            words[4 + 2 * i] = v.bitPattern.littleEndian
        }
        guard nonFinite == 0 else { throw .nonFinite(file: file, count: nonFinite) }
        return words.withUnsafeBytes { Data($0) }
    }
}
