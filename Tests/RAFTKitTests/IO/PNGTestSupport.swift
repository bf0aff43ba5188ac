import Foundation
@testable import RAFTKit

/// Byte-level PNG helpers for tests: CRC-32, chunk lists, inserting and rewriting chunks.
enum PNGBytes {
    static func crc32(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

    /// A complete chunk (length, type, data, CRC).
    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return be32(UInt32(data.count)) + body + be32(crc32(body))
    }

    /// (type, offset of the length field, data length) of every chunk.
    static func chunks(_ png: [UInt8]) -> [(type: String, offset: Int, length: Int)] {
        var result: [(String, Int, Int)] = []
        var p = 8
        while p + 8 <= png.count {
            let length = Int(png[p]) << 24 | Int(png[p + 1]) << 16 | Int(png[p + 2]) << 8 | Int(png[p + 3])
            result.append((String(decoding: png[p + 4..<p + 8], as: UTF8.self), p, length))
            p += 12 + length
        }
        return result
    }

    /// `png` with `extra` chunks inserted right after IHDR (where gAMA, sRGB, cHRM must go).
    static func inserting(_ extra: [[UInt8]], into png: [UInt8]) -> [UInt8] {
        let afterIHDR = 8 + 12 + 13
        return Array(png[..<afterIHDR]) + extra.flatMap { $0 } + Array(png[afterIHDR...])
    }

    /// `png` with its IHDR width and height replaced (CRC recomputed).
    static func withHeaderSize(_ png: [UInt8], width: UInt32, height: UInt32) -> [UInt8] {
        var out = png
        out.replaceSubrange(16..<24, with: be32(width) + be32(height))
        out.replaceSubrange(29..<33, with: be32(crc32(out[12..<29])))
        return out
    }
}

/// A fresh empty directory under the system temporary directory.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("raftkit-io-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

extension Tensor {
    /// The scalars of an expected-value tensor rounded to integers (exact for stored samples).
    var integerValues: [Int] { scalars.map { Int($0) } }
}
