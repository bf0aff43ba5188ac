import Foundation
import RAFTKit

/// What the fuzz targets share. A target's contract: every input either decodes or throws the parser's typed
/// error; a trap, an AddressSanitizer report, a leak or an allocation over libFuzzer's `-malloc_limit_mb` is a
/// finding.
public enum Fuzz {
    /// The image and flow limits the targets decode under: 4096 per side and 2²⁰ pixels, so that a header
    /// claiming a large (but, under ``ImageLimits/standard``, legitimate) image costs megabytes, not the
    /// gigabytes that would slow every execution down. The limit checks themselves are exercised all the same.
    public static let limits = ImageLimits(maxWidth: 4096, maxHeight: 4096, maxPixels: 1 << 20)

    /// The input as bytes.
    public static func bytes(_ start: UnsafeRawPointer, _ count: Int) -> [UInt8] {
        Array(UnsafeRawBufferPointer(start: start, count: count))
    }

    /// The bytes as two `Data` values that the public decoders must treat alike: one of its own (indices from 0)
    /// and a slice of a larger `Data` (indices from 1), as a caller's `data[offset...]` would be.
    public static func dataViews(_ bytes: [UInt8]) -> (whole: Data, slice: Data) {
        (Data(bytes), Data([0xA5] + bytes).dropFirst())
    }

    /// The image targets' contract on `bytes`: `RasterImage(data:)` decodes or throws, a `Data` slice decodes as a
    /// `Data` of its own does, the samples match the announced size, and the conversion to ``RGBImage`` runs.
    public static func checkRasterImage(_ bytes: [UInt8], source: String) {
        let (whole, slice) = dataViews(bytes)
        let raster = try? RasterImage(data: whole, source: source, limits: limits)
        precondition(raster == (try? RasterImage(data: slice, source: source, limits: limits)))
        if let raster {
            precondition(raster.samples.count == raster.width * raster.height * raster.channels)
            _ = RGBImage(raster)
        }
    }

    // MARK: - CRC-32 (ISO-HDLC, as PNG chunks and zip entries use it)

    private static let crcTable: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    public static func crc32<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = crcTable[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    // MARK: - PNG

    /// The input with every complete chunk's CRC recomputed, so that mutations of chunk contents reach the
    /// decoder instead of stopping at libpng's CRC check. Anything that is not a well-formed chunk sequence
    /// (a bad signature, a length past the end) is left as it is.
    public static func repairingPNGChunkCRCs(_ input: [UInt8]) -> [UInt8] {
        var bytes = input
        var p = 8
        while p + 12 <= bytes.count {
            let length = Int(bytes[p]) << 24 | Int(bytes[p + 1]) << 16 | Int(bytes[p + 2]) << 8 | Int(bytes[p + 3])
            guard length <= bytes.count - p - 12 else { break }
            let crc = crc32(bytes[(p + 4)..<(p + 8 + length)])
            let at = p + 8 + length
            for i in 0..<4 { bytes[at + i] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * UInt32(i))) }
            p = at + 4
        }
        return bytes
    }

    // MARK: - PyTorch checkpoints around a fuzzed pickle

    /// The first three pickles of a legacy (torch < 1.6) checkpoint: the magic number, protocol version 1001 and
    /// `sys_info` (little-endian), as torch writes them. What follows them in a file is the object pickle, the
    /// storage-key list and the storages.
    public static let legacyHeader: [UInt8] = [
        0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E, 0x80,
        0x02, 0x4D, 0xE9, 0x03, 0x2E, 0x80, 0x02, 0x7D, 0x71, 0x00, 0x28, 0x58, 0x10, 0x00, 0x00, 0x00,
    ] + Array("protocol_version".utf8) + [
        0x71, 0x01, 0x4D, 0xE9, 0x03, 0x58, 0x0D, 0x00, 0x00, 0x00,
    ] + Array("little_endian".utf8) + [
        0x71, 0x02, 0x88, 0x58, 0x0A, 0x00, 0x00, 0x00,
    ] + Array("type_sizes".utf8) + [
        0x71, 0x03, 0x7D, 0x71, 0x04, 0x28, 0x58, 0x05, 0x00, 0x00, 0x00,
    ] + Array("short".utf8) + [
        0x71, 0x05, 0x4B, 0x02, 0x58, 0x03, 0x00, 0x00, 0x00,
    ] + Array("int".utf8) + [
        0x71, 0x06, 0x4B, 0x04, 0x58, 0x04, 0x00, 0x00, 0x00,
    ] + Array("long".utf8) + [
        0x71, 0x07, 0x4B, 0x04, 0x75, 0x75, 0x2E,
    ]

    /// Storages `archive/data/0` … `archive/data/7` of the zip wrapper: 4096 bytes each (1024 float32, or 2048
    /// 16-bit elements), enough for the seed pickles' tensors.
    static let zipStorageCount = 8
    static let zipStorageBytes = 4096
    static let zipStorage: [UInt8] = (0..<zipStorageBytes).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
    static let zipStorageCRC = crc32(zipStorage)

    /// A torch ≥ 1.6 zip checkpoint whose `archive/data.pkl` is `pickle`, with `archive/byteorder` "little" and
    /// the fixed storages above: the container is well formed, so the fuzzer's bytes reach the unpickler.
    public static func zipCheckpoint(pickle: ArraySlice<UInt8>) -> [UInt8] {
        var entries: [(name: String, data: ArraySlice<UInt8>, crc: UInt32)] = [
            ("archive/data.pkl", pickle, crc32(pickle)),
            ("archive/byteorder", ArraySlice("little".utf8), crc32(Array("little".utf8))),
        ]
        for k in 0..<zipStorageCount { entries.append(("archive/data/\(k)", zipStorage[...], zipStorageCRC)) }

        var out: [UInt8] = []
        out.reserveCapacity(pickle.count + zipStorageCount * (zipStorageBytes + 100) + 512)
        func u16(_ v: Int) { out += [UInt8(truncatingIfNeeded: v), UInt8(truncatingIfNeeded: v >> 8)] }
        func u32(_ v: UInt32) { for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) } }
        var offsets: [Int] = []
        for e in entries {  // local headers and data, method 0 (stored), no data descriptors
            offsets.append(out.count)
            u32(0x0403_4B50); u16(20); u16(0); u16(0); u16(0); u16(0)
            u32(e.crc); u32(UInt32(e.data.count)); u32(UInt32(e.data.count))
            u16(e.name.utf8.count); u16(0)
            out += Array(e.name.utf8)
            out += e.data
        }
        let directory = out.count
        for (e, offset) in zip(entries, offsets) {
            u32(0x0201_4B50); u16(20); u16(20); u16(0); u16(0); u16(0); u16(0)
            u32(e.crc); u32(UInt32(e.data.count)); u32(UInt32(e.data.count))
            u16(e.name.utf8.count); u16(0); u16(0); u16(0); u16(0); u32(0); u32(UInt32(offset))
            out += Array(e.name.utf8)
        }
        let directorySize = out.count - directory
        u32(0x0605_4B50); u16(0); u16(0); u16(entries.count); u16(entries.count)
        u32(UInt32(directorySize)); u32(UInt32(directory)); u16(0)
        return out
    }
}
