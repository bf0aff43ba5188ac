/// Bounds-checked little-endian reads over a byte array, for parsing untrusted weight files.
///
/// Every read checks its range first and reports a failure as ``WeightsError/corrupt(file:reason:)``
/// naming what was being read, so malformed input never traps.
struct ByteReader {
    let bytes: [UInt8]
    /// The file the bytes came from (for error messages).
    let source: String

    var count: Int { bytes.count }

    /// How many Float32 elements a file of this size may decode to in total. Each stored element takes at
    /// least one byte, and tensors rarely share storage; the margin allows tied weights. Bounds memory when
    /// hostile files make many tensors view the same bytes (or broadcast one value with stride 0).
    var elementBudget: Int { 4 * bytes.count + (1 << 20) }

    /// Whether `offset..<offset+length` lies inside the bytes (overflow-safe).
    func contains(_ offset: Int, _ length: Int) -> Bool {
        offset >= 0 && length >= 0 && offset <= bytes.count && length <= bytes.count - offset
    }

    func require(_ offset: Int, _ length: Int, _ what: @autoclosure () -> String) throws(WeightsError) {
        guard contains(offset, length) else {
            throw .corrupt(file: source, reason: "\(what()) (bytes \(offset)..<\(offset &+ length)) lies outside the \(bytes.count)-byte file")
        }
    }

    func uint16(at offset: Int, _ what: @autoclosure () -> String) throws(WeightsError) -> UInt16 {
        try require(offset, 2, what())
        return UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
    }

    func uint32(at offset: Int, _ what: @autoclosure () -> String) throws(WeightsError) -> UInt32 {
        try require(offset, 4, what())
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[offset + i]) << (8 * UInt32(i)) }
        return v
    }

    func uint64(at offset: Int, _ what: @autoclosure () -> String) throws(WeightsError) -> UInt64 {
        try require(offset, 8, what())
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        return v
    }

    /// A 64-bit field as a non-negative `Int`, or a corrupt error when it does not fit.
    func length64(at offset: Int, _ what: @autoclosure () -> String) throws(WeightsError) -> Int {
        let v = try uint64(at: offset, what())
        guard let n = Int(exactly: v) else { throw .corrupt(file: source, reason: "\(what()) is \(v), too large") }
        return n
    }

    func slice(_ offset: Int, _ length: Int, _ what: @autoclosure () -> String) throws(WeightsError) -> ArraySlice<UInt8> {
        try require(offset, length, what())
        return bytes[offset..<offset + length]
    }
}

/// CRC-32 (IEEE 802.3, the ZIP checksum), table-driven, eight bytes per step ("slicing-by-8": table k maps a
/// byte to its CRC contribution k bytes further on).
enum CRC32 {
    /// 8 × 256 entries; `tables[0]` is the classic byte-at-a-time table.
    static let tables: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for n in 0..<256 {
            var c = UInt32(n)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            t[n] = c
        }
        for k in 1..<8 {
            for n in 0..<256 { t[k * 256 + n] = t[(k - 1) * 256 + n] >> 8 ^ t[Int(t[(k - 1) * 256 + n] & 0xFF)] }
        }
        return t
    }()

    static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        tables.withUnsafeBufferPointer { t in
            bytes.withUnsafeBufferPointer { b in
                var i = 0
                while i + 8 <= b.count {
                    let lo = crc ^ (UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24)
                    crc = t[7 * 256 + Int(lo & 0xFF)] ^ t[6 * 256 + Int(lo >> 8 & 0xFF)]
                        ^ t[5 * 256 + Int(lo >> 16 & 0xFF)] ^ t[4 * 256 + Int(lo >> 24)]
                        ^ t[3 * 256 + Int(b[i + 4])] ^ t[2 * 256 + Int(b[i + 5])]
                        ^ t[1 * 256 + Int(b[i + 6])] ^ t[Int(b[i + 7])]
                    i += 8
                }
                while i < b.count {
                    crc = t[Int((crc ^ UInt32(b[i])) & 0xFF)] ^ (crc >> 8)
                    i += 1
                }
            }
        }
        return crc ^ 0xFFFF_FFFF
    }
}

/// Element types of tensor storages in PyTorch checkpoints and safetensors files.
package enum StorageDataType: String, Sendable, CaseIterable {
    case float64 = "F64", float32 = "F32", float16 = "F16", bfloat16 = "BF16"
    case int64 = "I64", int32 = "I32", int16 = "I16", int8 = "I8", uint8 = "U8", bool = "BOOL"

    package var elementSize: Int {
        switch self {
        case .float64, .int64: 8
        case .float32, .int32: 4
        case .float16, .bfloat16, .int16: 2
        case .int8, .uint8, .bool: 1
        }
    }

    package var isFloatingPoint: Bool { [.float64, .float32, .float16, .bfloat16].contains(self) }

    /// The PyTorch storage class name (`torch.FloatStorage` → `FloatStorage`) for each type.
    package init?(torchStorageName name: String) {
        switch name {
        case "DoubleStorage": self = .float64
        case "FloatStorage": self = .float32
        case "HalfStorage": self = .float16
        case "BFloat16Storage": self = .bfloat16
        case "LongStorage": self = .int64
        case "IntStorage": self = .int32
        case "ShortStorage": self = .int16
        case "CharStorage": self = .int8
        case "ByteStorage": self = .uint8
        case "BoolStorage": self = .bool
        default: return nil
        }
    }

    /// Converts `count` consecutive elements of raw storage bytes at `base` (any alignment) to Float32 in `dst`:
    /// one copy for little-endian Float32 on a little-endian host, else a loop per type.
    func convert(_ base: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>, bigEndian: Bool) {
        switch self {
        case .float32 where bigEndian == (UInt32(1).bigEndian == 1):
            UnsafeMutableRawPointer(dst).copyMemory(from: base, byteCount: 4 * count)
        case .float32:
            for i in 0..<count { dst[i] = Self.float32.float(base, i, bigEndian: bigEndian) }
        case .float16:
            for i in 0..<count { dst[i] = Self.float16.float(base, i, bigEndian: bigEndian) }
        case .bfloat16:
            for i in 0..<count { dst[i] = Self.bfloat16.float(base, i, bigEndian: bigEndian) }
        case .float64:
            for i in 0..<count { dst[i] = Self.float64.float(base, i, bigEndian: bigEndian) }
        default:
            dst.update(repeating: 0, count: count)
        }
    }

    /// Converts element `index` of raw storage bytes at `base` to Float32.
    @inline(__always)
    func float(_ base: UnsafeRawPointer, _ index: Int, bigEndian: Bool) -> Float {
        switch self {
        case .float32:
            let raw = base.loadUnaligned(fromByteOffset: 4 * index, as: UInt32.self)
            return Float(bitPattern: bigEndian ? UInt32(bigEndian: raw) : UInt32(littleEndian: raw))
        case .float16:
            let raw = base.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self)
            return HalfPrecision.float(fromHalf: bigEndian ? UInt16(bigEndian: raw) : UInt16(littleEndian: raw))
        case .bfloat16:
            let raw = base.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self)
            return HalfPrecision.float(fromBFloat16: bigEndian ? UInt16(bigEndian: raw) : UInt16(littleEndian: raw))
        case .float64:
            let raw = base.loadUnaligned(fromByteOffset: 8 * index, as: UInt64.self)
            return Float(Double(bitPattern: bigEndian ? UInt64(bigEndian: raw) : UInt64(littleEndian: raw)))
        default:
            return 0
        }
    }
}
