/// A minimal, strict reader for the ZIP container of PyTorch ≥ 1.6 checkpoints.
///
/// PyTorch writes uncompressed ("stored") entries, usually with data descriptors and ZIP64 records. This
/// reader finds the end-of-central-directory record (and the ZIP64 one when present), walks the central
/// directory, and checks each used entry's local header against it. Every offset and length is validated
/// against the file size before use; compressed or encrypted entries, multi-disk archives, overlapping
/// data and CRC mismatches are reported as ``WeightsError/corrupt(file:reason:)`` naming the problem.
struct ZipArchive {
    struct Entry {
        let name: String
        /// Offset of the local file header.
        let localHeaderOffset: Int
        let size: Int
        let crc32: UInt32
        let method: UInt16
        let flags: UInt16
    }

    let reader: ByteReader
    /// Entries in central-directory order.
    let entries: [Entry]
    private let index: [String: Int]
    /// Where the central directory starts: every entry's data must end before it.
    private let centralDirectoryOffset: Int

    private static let eocdSignature: UInt32 = 0x0605_4B50
    private static let zip64LocatorSignature: UInt32 = 0x0706_4B50
    private static let zip64EOCDSignature: UInt32 = 0x0606_4B50
    private static let centralSignature: UInt32 = 0x0201_4B50
    private static let localSignature: UInt32 = 0x0403_4B50

    init(_ reader: ByteReader) throws(WeightsError) {
        self.reader = reader
        let source = reader.source
        func corrupt(_ reason: String) -> WeightsError { .corrupt(file: source, reason: reason) }

        // End of central directory: 22 bytes + a comment of up to 65535 bytes at the very end.
        guard reader.count >= 22 else { throw corrupt("zip archive of \(reader.count) bytes is too short for an end-of-central-directory record") }
        var eocd = -1
        var candidate = reader.count - 22
        let lowest = max(0, reader.count - 22 - 65_535)
        while candidate >= lowest {
            if try reader.uint32(at: candidate, "end-of-central-directory signature") == Self.eocdSignature,
               try candidate + 22 + Int(reader.uint16(at: candidate + 20, "zip comment length")) == reader.count {
                eocd = candidate
                break
            }
            candidate -= 1
        }
        guard eocd >= 0 else { throw corrupt("no end-of-central-directory record: the zip archive is truncated or damaged") }

        let disk = try reader.uint16(at: eocd + 4, "disk number"), cdDisk = try reader.uint16(at: eocd + 6, "central directory disk")
        var entriesOnDisk = Int(try reader.uint16(at: eocd + 8, "entry count"))
        var entryCount = Int(try reader.uint16(at: eocd + 10, "entry count"))
        var cdSize = Int(try reader.uint32(at: eocd + 12, "central directory size"))
        var cdOffset = Int(try reader.uint32(at: eocd + 16, "central directory offset"))
        var cdEnd = eocd  // the central directory must end before this offset

        // ZIP64: a locator just before the EOCD record points to the ZIP64 end of central directory.
        let locator = eocd - 20
        if locator >= 0, try reader.uint32(at: locator, "zip64 locator signature") == Self.zip64LocatorSignature {
            let record = try reader.length64(at: locator + 8, "zip64 end-of-central-directory offset")
            guard record <= locator - 56, try reader.uint32(at: record, "zip64 end-of-central-directory signature") == Self.zip64EOCDSignature else {
                throw corrupt("zip64 end-of-central-directory record at offset \(record) is missing or out of place")
            }
            let disk64 = try reader.uint32(at: record + 16, "zip64 disk number")
            let cdDisk64 = try reader.uint32(at: record + 20, "zip64 central directory disk")
            let onDisk64 = try reader.length64(at: record + 24, "zip64 entry count")
            let count64 = try reader.length64(at: record + 32, "zip64 entry count")
            let size64 = try reader.length64(at: record + 40, "zip64 central directory size")
            let offset64 = try reader.length64(at: record + 48, "zip64 central directory offset")
            guard disk64 == 0, cdDisk64 == 0 else { throw corrupt("multi-disk zip archives are not supported") }
            // 32-bit fields that are not saturated must agree with the 64-bit ones.
            guard entriesOnDisk == 0xFFFF || entriesOnDisk == onDisk64, entryCount == 0xFFFF || entryCount == count64,
                  cdSize == 0xFFFF_FFFF || cdSize == size64, cdOffset == 0xFFFF_FFFF || cdOffset == offset64 else {
                throw corrupt("the zip64 and classic end-of-central-directory records disagree")
            }
            (entriesOnDisk, entryCount, cdSize, cdOffset, cdEnd) = (onDisk64, count64, size64, offset64, record)
        } else if entryCount == 0xFFFF || cdSize == 0xFFFF_FFFF || cdOffset == 0xFFFF_FFFF {
            throw corrupt("the end-of-central-directory record needs a zip64 record, which is missing")
        }
        guard disk == 0, cdDisk == 0, entriesOnDisk == entryCount else { throw corrupt("multi-disk zip archives are not supported") }
        guard cdOffset <= cdEnd, cdSize <= cdEnd - cdOffset else {
            throw corrupt("central directory (offset \(cdOffset), \(cdSize) bytes) overlaps the end-of-central-directory record at \(cdEnd)")
        }
        guard entryCount <= cdSize / 46 else { throw corrupt("\(entryCount) entries cannot fit in a \(cdSize)-byte central directory") }

        var entries: [Entry] = []
        var index: [String: Int] = [:]
        var p = cdOffset
        let limit = cdOffset + cdSize
        for i in 0..<entryCount {
            guard p + 46 <= limit, try reader.uint32(at: p, "central directory entry") == Self.centralSignature else {
                throw corrupt("central directory entry \(i) at offset \(p) has no valid signature")
            }
            let flags = try reader.uint16(at: p + 8, "entry flags")
            let method = try reader.uint16(at: p + 10, "compression method")
            let crc = try reader.uint32(at: p + 16, "entry CRC")
            var compressed = Int(try reader.uint32(at: p + 20, "compressed size"))
            var uncompressed = Int(try reader.uint32(at: p + 24, "uncompressed size"))
            let nameLength = Int(try reader.uint16(at: p + 28, "name length"))
            let extraLength = Int(try reader.uint16(at: p + 30, "extra field length"))
            let commentLength = Int(try reader.uint16(at: p + 32, "comment length"))
            let diskStart = try reader.uint16(at: p + 34, "entry disk")
            var localOffset = Int(try reader.uint32(at: p + 42, "local header offset"))
            let next = p + 46 + nameLength + extraLength + commentLength
            guard next <= limit else { throw corrupt("central directory entry \(i) runs past the end of the central directory") }
            let name = String(decoding: try reader.slice(p + 46, nameLength, "entry name"), as: UTF8.self)

            // ZIP64 extended information: the saturated fields, in this order.
            var e = p + 46 + nameLength
            let extraEnd = e + extraLength
            while e + 4 <= extraEnd {
                let id = try reader.uint16(at: e, "extra field id"), size = Int(try reader.uint16(at: e + 2, "extra field size"))
                guard e + 4 + size <= extraEnd else { throw corrupt("extra field of entry '\(name)' runs past its end") }
                if id == 0x0001 {
                    var q = e + 4
                    func next64(_ what: String) throws(WeightsError) -> Int {
                        guard q + 8 <= e + 4 + size else { throw corrupt("zip64 extra field of entry '\(name)' lacks the \(what)") }
                        defer { q += 8 }
                        return try reader.length64(at: q, "zip64 \(what) of '\(name)'")
                    }
                    if uncompressed == 0xFFFF_FFFF { uncompressed = try next64("uncompressed size") }
                    if compressed == 0xFFFF_FFFF { compressed = try next64("compressed size") }
                    if localOffset == 0xFFFF_FFFF { localOffset = try next64("local header offset") }
                }
                e += 4 + size
            }
            guard diskStart == 0 || diskStart == 0xFFFF else { throw corrupt("entry '\(name)' lies on another disk") }
            guard flags & 1 == 0 else { throw corrupt("entry '\(name)' is encrypted") }
            guard method == 0 else {
                throw corrupt("entry '\(name)' is \(method == 8 ? "deflate-compressed" : "compressed (method \(method))"); PyTorch checkpoints store entries uncompressed — re-save it with torch.save")
            }
            guard compressed == uncompressed else {
                throw corrupt("stored entry '\(name)' has compressed size \(compressed) ≠ uncompressed size \(uncompressed)")
            }
            guard localOffset < cdOffset else { throw corrupt("local header of '\(name)' at offset \(localOffset) lies inside or after the central directory") }
            guard index[name] == nil else { throw corrupt("duplicate entry '\(name)'") }
            index[name] = entries.count
            entries.append(Entry(name: name, localHeaderOffset: localOffset, size: compressed, crc32: crc, method: method, flags: flags))
            p = next
        }
        self.entries = entries
        self.index = index
        centralDirectoryOffset = cdOffset
    }

    func entry(named name: String) -> Entry? { index[name].map { entries[$0] } }

    /// The byte range of an entry's data, after checking its local header and CRC-32.
    func dataRange(of entry: Entry) throws(WeightsError) -> Range<Int> {
        let source = reader.source
        let h = entry.localHeaderOffset
        guard h + 30 <= centralDirectoryOffset, try reader.uint32(at: h, "local header of '\(entry.name)'") == Self.localSignature else {
            throw .corrupt(file: source, reason: "local header of entry '\(entry.name)' at offset \(h) is missing")
        }
        let method = try reader.uint16(at: h + 8, "local compression method")
        let nameLength = Int(try reader.uint16(at: h + 26, "local name length"))
        let extraLength = Int(try reader.uint16(at: h + 28, "local extra length"))
        let localName = String(decoding: try reader.slice(h + 30, nameLength, "local entry name"), as: UTF8.self)
        guard localName == entry.name, method == entry.method else {
            throw .corrupt(file: source, reason: "local header of entry '\(entry.name)' does not match the central directory")
        }
        let start = h + 30 + nameLength + extraLength
        guard start <= centralDirectoryOffset, entry.size <= centralDirectoryOffset - start else {
            throw .corrupt(file: source, reason: "data of entry '\(entry.name)' (\(entry.size) bytes at offset \(start)) runs into the central directory")
        }
        let crc = CRC32.checksum(reader.bytes[start..<start + entry.size])
        guard crc == entry.crc32 else {
            throw .corrupt(file: source, reason: "entry '\(entry.name)' fails its CRC-32 check (damaged data)")
        }
        return start..<start + entry.size
    }
}
