import Testing
@testable import RAFTKit

/// The ZIP checksum that `.pth` archives are verified with.
@Suite("Weights: CRC-32")
struct CRC32Tests {
    /// The byte-at-a-time definition (reflected polynomial 0xEDB88320), as reference.
    static func reference(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
        }
        return crc ^ 0xFFFF_FFFF
    }

    @Test("check value of \"123456789\" and the empty input")
    func checkValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)[...]) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()[...]) == 0)
    }

    @Test("every length 0-80 and every start 0-7 of a slice agree with the definition")
    func lengthsAndOffsets() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let bytes: [UInt8] = (0..<96).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        for start in 0..<8 {
            for length in 0...80 {
                let slice = bytes[start..<start + length]
                #expect(CRC32.checksum(slice) == Self.reference(Array(slice)), "start \(start), length \(length)")
            }
        }
    }
}
