import Foundation
import Testing
@testable import RAFTKit

/// Damaged, hostile and unusual weight files: each must give a descriptive ``WeightsError``, never a crash.
@Suite("Weights: corrupt and hostile files")
struct WeightsCorruptionTests {
    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: Fixtures.url(name)))
    }

    /// Decodes and returns the error, or `nil` when decoding succeeded.
    static func error(_ bytes: [UInt8]) -> WeightsError? {
        do { _ = try WeightsLoader.decode(bytes, source: "test.bin"); return nil } catch { return error }
    }

    /// Expects a `corrupt` error whose reason contains `fragment`.
    static func expectCorrupt(_ bytes: [UInt8], _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let e = error(bytes)
        guard case let .corrupt(file, reason)? = e else {
            Issue.record("expected corrupt(…\(fragment)…), got \(String(describing: e))", sourceLocation: sourceLocation)
            return
        }
        #expect(file == "test.bin", sourceLocation: sourceLocation)
        #expect(reason.contains(fragment), "reason: \(reason)", sourceLocation: sourceLocation)
    }


    // MARK: - Files and formats

    @Test func missingFileNamesThePath() {
        let url = URL(fileURLWithPath: "/nonexistent/raft-things.pth")
        #expect(throws: WeightsError.unreadable(file: url.path, reason: "no such file")) {
            try WeightsLoader.load(contentsOf: url)
        }
        let dir = FileManager.default.temporaryDirectory
        #expect(throws: WeightsError.unreadable(file: dir.path, reason: "is a directory")) {
            try WeightsLoader.load(contentsOf: dir)
        }
    }

    /// `FileAccess.bytes`, which weight loading reads with: the whole file, empty files, size limits, devices.
    @Test func wholeFileReads() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("raftkit-bytes-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = SeededGenerator(seed: 11)
        let content = (0..<200_003).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let file = dir.appendingPathComponent("w.bin"), empty = dir.appendingPathComponent("empty.bin")
        try Data(content).write(to: file)
        try Data().write(to: empty)
        #expect(try FileAccess.bytes(file) == content)
        #expect(try FileAccess.bytes(empty) == [])
        #expect(try FileAccess.bytes(file, maxBytes: content.count) == content)
        #expect(throws: FileAccess.Failure.self) { try FileAccess.bytes(file, maxBytes: content.count - 1) }
        #expect(throws: FileAccess.Failure.self) { try FileAccess.bytes(URL(fileURLWithPath: "/dev/null")) }
        #expect(throws: FileAccess.Failure.self) { try FileAccess.bytes(dir.appendingPathComponent("missing")) }
    }

    @Test func emptyAndGarbage() {
        Self.expectCorrupt([], "empty")
        var rng = SeededGenerator(seed: 5)
        let garbage = [UInt8(0x13)] + (0..<999).map { _ in UInt8.random(in: 0...255, using: &rng) }
        Self.expectCorrupt(garbage, "unrecognised format")
    }

    @Test func forbiddenGlobalsAreRefusedByName() throws {
        for (name, global) in [("checkpoint_malicious.pth", "os.system"), ("checkpoint_malicious_legacy.pth", "builtins.eval")] {
            let url = Fixtures.url(name)
            #expect(throws: WeightsError.forbiddenGlobal(file: url.path, name: global)) {
                try WeightsLoader.load(contentsOf: url)
            }
        }
        #expect(WeightsError.forbiddenGlobal(file: "f", name: "os.system").description.contains("'os.system'"))
    }

    // MARK: - Zip

    @Test func damagedZipArchives() throws {
        let good = try Self.bytes("checkpoint_subset_torchvision.pth")
        #expect(Self.error(good) == nil)
        Self.expectCorrupt(Array(good.prefix(good.count / 2)), "end-of-central-directory")
        Self.expectCorrupt(Array(good.dropLast()), "end-of-central-directory")
        Self.expectCorrupt(Array(good.prefix(10)), "too short")

        let archive = try ZipArchive(ByteReader(bytes: good, source: "test.bin"))
        let eocd = good.count - 22
        let cdOffset = Int(try ByteReader(bytes: good, source: "").uint32(at: eocd + 16, ""))

        var badSignature = good
        badSignature[cdOffset] ^= 0xFF
        Self.expectCorrupt(badSignature, "central directory entry 0")

        var deflated = good
        deflated[cdOffset + 10] = 8
        Self.expectCorrupt(deflated, "deflate-compressed")

        var farHeader = good
        farHeader.replaceSubrange(cdOffset + 42..<cdOffset + 46, with: le32(0x7FFF_FFF0))
        Self.expectCorrupt(farHeader, "lies inside or after the central directory")

        var flipped = good
        let storage = try #require(archive.entries.first { $0.name.contains("/data/") })
        flipped[try archive.dataRange(of: storage).lowerBound + 3] ^= 0x01
        Self.expectCorrupt(flipped, "CRC-32")

        var movedLocal = good
        movedLocal[storage.localHeaderOffset] = 0
        Self.expectCorrupt(movedLocal, "local header of entry")
    }

    @Test func damagedZip64Records() throws {
        let good = try Self.bytes("checkpoint_small_official_f16.pth")  // torch writes ZIP64 records
        let eocd = good.count - 22
        let locator = eocd - 20
        #expect(try ByteReader(bytes: good, source: "").uint32(at: locator, "") == 0x0706_4B50)
        var badPointer = good
        badPointer.replaceSubrange(locator + 8..<locator + 16, with: le64(UInt64.max))
        Self.expectCorrupt(badPointer, "too large")
        var disagreeing = good
        disagreeing[eocd + 10] ^= 0x01  // entry count no longer matches the zip64 record
        Self.expectCorrupt(disagreeing, "disagree")

        var noEntries = try Self.bytes("checkpoint_basic_bn.pth")  // Python zipfile: classic records only
        let e = noEntries.count - 22
        noEntries[e + 10] &+= 1
        noEntries[e + 8] &+= 1
        #expect(Self.error(noEntries) != nil)
    }

    /// A stored zip with one entry; `zip64Extra` saturates the central sizes and offset and moves them
    /// to a ZIP64 extended-information field.
    static func tinyZip(name: String, content: [UInt8], zip64Extra: Bool = false) -> [UInt8] {
        let nameBytes = Array(name.utf8)
        let crc = CRC32.checksum(content[...])
        let size = UInt32(content.count)
        var zip: [UInt8] = [0x50, 0x4B, 0x03, 0x04, 45, 0, 0, 0, 0, 0, 0, 0, 0, 0] + le32(crc)
            + le32(size) + le32(size) + [UInt8(nameBytes.count), 0, 0, 0] + nameBytes + content
        let cd = zip.count
        let extra: [UInt8] = zip64Extra ? [1, 0, 24, 0] + le64(UInt64(size)) + le64(UInt64(size)) + le64(0) : []
        let (cSize, cOffset) = zip64Extra ? (UInt32.max, UInt32.max) : (size, 0)
        zip += [0x50, 0x4B, 0x01, 0x02, 45, 0, 45, 0, 0, 0, 0, 0, 0, 0, 0, 0] + le32(crc)
            + le32(cSize) + le32(cSize) + [UInt8(nameBytes.count), 0, UInt8(extra.count), 0, 0, 0, 0, 0]
            + [0, 0, 0, 0, 0, 0] + le32(cOffset) + nameBytes + extra
        let cdSize = zip.count - cd
        zip += [0x50, 0x4B, 0x05, 0x06, 0, 0, 0, 0, 1, 0, 1, 0] + le32(UInt32(cdSize)) + le32(UInt32(cd)) + [0, 0]
        return zip
    }

    @Test func zipWithoutPickleOrStorage() throws {
        let zip = Self.tinyZip(name: "archive/version", content: Array("3\n".utf8))
        #expect(try ZipArchive(ByteReader(bytes: zip, source: "t")).entries.map(\.name) == ["archive/version"])
        Self.expectCorrupt(zip, "data.pkl")
    }

    @Test func zip64ExtendedInformation() throws {
        let content = Array("little".utf8)
        let zip = Self.tinyZip(name: "archive/byteorder", content: content, zip64Extra: true)
        let archive = try ZipArchive(ByteReader(bytes: zip, source: "t"))
        let entry = try #require(archive.entry(named: "archive/byteorder"))
        #expect(entry.size == content.count && entry.localHeaderOffset == 0)
        #expect(Array(zip[try archive.dataRange(of: entry)]) == content)
        var short = zip  // extra field claims 24 bytes but holds 16
        let extraAt = zip.count - 22 - 28
        short[extraAt + 2] = 16
        #expect(throws: WeightsError.self) { try ZipArchive(ByteReader(bytes: short, source: "t")) }
    }

    // MARK: - Legacy

    @Test func damagedLegacyCheckpoints() throws {
        let good = try Self.bytes("checkpoint_subset_legacy.pth")
        #expect(Self.error(good) == nil)
        Self.expectCorrupt(Array(good.dropLast(100)), "truncated")
        Self.expectCorrupt(Array(good.prefix(300)), "pickle: truncated")
        var magic = good
        magic[6] ^= 0xFF
        Self.expectCorrupt(magic, "magic number")
    }

    // MARK: - Hand-built pickles (legacy container)

    /// Builds pickle bytes, protocol 2 unless told.
    struct Pickle {
        var bytes: [UInt8]
        init(protocol p: UInt8 = 2) { bytes = [0x80, p] }
        mutating func op(_ b: UInt8...) { bytes += b }
        mutating func string(_ s: String) { let u = Array(s.utf8); bytes += [0x58] + le32(UInt32(u.count)) + u }
        mutating func int(_ i: Int32) { bytes += [0x4A] + le32(UInt32(bitPattern: i)) }
        mutating func global(_ module: String, _ name: String) { bytes += [0x63] + Array("\(module)\n\(name)\n".utf8) }
        mutating func ints(_ values: [Int32]) { op(0x28); for v in values { int(v) }; op(0x74) }
        mutating func orderedDict() { global("collections", "OrderedDict"); op(0x29, 0x52) }
        /// `_rebuild_tensor_v2(storage '0' (FloatStorage, numel), offset, size, stride, False, OrderedDict())`.
        mutating func tensor(numel: Int32, offset: Int32, size: [Int32], stride: [Int32], type: String = "FloatStorage") {
            global("torch._utils", "_rebuild_tensor_v2")
            op(0x28)
            op(0x28); string("storage"); global("torch", type); string("0"); string("cpu"); int(numel); op(0x4E, 0x74, 0x51)
            int(offset); ints(size); ints(stride); op(0x89); orderedDict()
            op(0x74, 0x52)
        }
        mutating func stop() { op(0x2E) }
    }

    /// A legacy checkpoint: header pickles, `object`, the key list ['0'] (or none), then storage '0'.
    static func legacy(_ object: Pickle, storage: [Float]?, recordedCount: UInt64? = nil) -> [UInt8] {
        var out: [UInt8] = [0x80, 0x02, 0x8A, 0x0A] + PyTorchCheckpoint.legacyMagic + [0x2E]
        out += [0x80, 0x02, 0x4D, 0xE9, 0x03, 0x2E]  // 1001
        out += [0x80, 0x02, 0x7D, 0x2E]  // sys_info {}
        out += object.bytes
        var keys = Pickle()
        keys.op(0x5D)
        if storage != nil { keys.op(0x28); keys.string("0"); keys.op(0x65) }
        keys.stop()
        out += keys.bytes
        if let storage {
            out += le64(recordedCount ?? UInt64(storage.count))
            for v in storage { out += le32(v.bitPattern) }
        }
        return out
    }

    static func oneTensor(numel: Int32 = 6, offset: Int32 = 0, size: [Int32] = [2, 3], stride: [Int32] = [3, 1]) -> Pickle {
        var p = Pickle()
        p.orderedDict()
        p.op(0x28)
        p.string("update_block.flow_head.conv2.bias")
        p.tensor(numel: numel, offset: offset, size: size, stride: stride)
        p.op(0x75)
        p.stop()
        return p
    }

    @Test func handBuiltLegacyTensors() throws {
        let values: [Float] = [1, 2, 3, 4, 5, 6]
        let w = try WeightsLoader.decode(Self.legacy(Self.oneTensor(), storage: values), source: "test.bin")
        #expect(w.stateDict["update_block.flow_head.conv2.bias"]!.scalars == values)
        // transposed view [3, 2] with strides (1, 3) and a storage offset
        let t = try WeightsLoader.decode(Self.legacy(Self.oneTensor(size: [3, 2], stride: [1, 3]), storage: values), source: "t")
        #expect(t.stateDict["update_block.flow_head.conv2.bias"]!.scalars == [1, 4, 2, 5, 3, 6])
        let o = try WeightsLoader.decode(Self.legacy(Self.oneTensor(offset: 4, size: [2], stride: [1]), storage: values), source: "t")
        #expect(o.stateDict["update_block.flow_head.conv2.bias"]!.scalars == [5, 6])
        let b = try WeightsLoader.decode(Self.legacy(Self.oneTensor(size: [2, 3], stride: [0, 1]), storage: values), source: "t")
        #expect(b.stateDict["update_block.flow_head.conv2.bias"]!.scalars == [1, 2, 3, 1, 2, 3])  // broadcast stride 0
    }

    @Test func tensorsOutsideTheirStorage() {
        let values: [Float] = [1, 2, 3, 4, 5, 6]
        Self.expectCorrupt(Self.legacy(Self.oneTensor(size: [3, 3], stride: [3, 1]), storage: values), "reach element")
        Self.expectCorrupt(Self.legacy(Self.oneTensor(offset: 5, size: [2], stride: [1]), storage: values), "reach element")
        Self.expectCorrupt(Self.legacy(Self.oneTensor(size: [2, 3], stride: [Int32.max, 1]), storage: values), "reach element")
        Self.expectCorrupt(Self.legacy(Self.oneTensor(size: [-1, 3], stride: [3, 1]), storage: values), "negative")
        Self.expectCorrupt(Self.legacy(Self.oneTensor(numel: 7), storage: values), "records 6 elements")
        Self.expectCorrupt(Self.legacy(Self.oneTensor(), storage: values, recordedCount: UInt64.max), "records")
        Self.expectCorrupt(Self.legacy(Self.oneTensor(numel: 1_000_000), storage: values, recordedCount: 1_000_000), "truncated")
        Self.expectCorrupt(Self.legacy(Self.oneTensor(), storage: nil), "has no data")
        // a stride-0 broadcast of one storage element to 10⁸ elements would allocate 400 MB
        Self.expectCorrupt(Self.legacy(Self.oneTensor(size: [100_000_000], stride: [0]), storage: values), "more elements than")
        Self.expectCorrupt(Self.legacy(Self.oneTensor(size: [Int32.max, Int32.max, Int32.max], stride: [1, 1, 1]), storage: values), "too large")
    }

    @Test func malformedPickles() {
        var unknown = Pickle(); unknown.op(0x01); unknown.stop()
        Self.expectCorrupt(Self.legacy(unknown, storage: nil), "unsupported opcode 0x1")
        var memo = Pickle(); memo.op(0x68, 7); memo.stop()
        Self.expectCorrupt(Self.legacy(memo, storage: nil), "memo entry 7")
        var underflow = Pickle(); underflow.op(0x73); underflow.stop()
        Self.expectCorrupt(Self.legacy(underflow, storage: nil), "stack underflow")
        var noMark = Pickle(); noMark.op(0x74); noMark.stop()
        Self.expectCorrupt(Self.legacy(noMark, storage: nil), "MARK")
        var longLine = Pickle(); longLine.bytes += [0x63] + Array(repeating: 0x41, count: 1000); longLine.stop()
        Self.expectCorrupt(Self.legacy(longLine, storage: nil), "newline")
        var hugeString = Pickle(); hugeString.bytes += [0x8D] + le64(UInt64.max); hugeString.stop()
        Self.expectCorrupt(Self.legacy(hugeString, storage: nil), "too large")
        var callNonGlobal = Pickle(); callNonGlobal.int(1); callNonGlobal.op(0x29, 0x52); callNonGlobal.stop()
        Self.expectCorrupt(Self.legacy(callNonGlobal, storage: nil), "REDUCE")
        var callStorage = Pickle(); callStorage.global("torch", "FloatStorage"); callStorage.op(0x29, 0x52); callStorage.stop()
        Self.expectCorrupt(Self.legacy(callStorage, storage: nil), "cannot be called")
        var stackGlobal = Pickle(protocol: 4)
        stackGlobal.string("posix"); stackGlobal.string("system"); stackGlobal.op(0x93); stackGlobal.stop()
        #expect(Self.error(Self.legacy(stackGlobal, storage: nil)) == .forbiddenGlobal(file: "test.bin", name: "posix.system"))
        var badPid = Pickle(); badPid.int(3); badPid.op(0x51); badPid.stop()
        Self.expectCorrupt(Self.legacy(badPid, storage: nil), "persistent id")
    }

    @Test func nonStateDictObjects() {
        var list = Pickle(); list.op(0x5D); list.stop()
        #expect(Self.isUnknownModel(Self.error(Self.legacy(list, storage: nil))))
        // {'epoch': 3, 'lr': 0.5, 'note': None}: a dict without tensors
        var dict = Pickle(); dict.op(0x7D, 0x28); dict.string("epoch"); dict.int(3); dict.string("lr")
        dict.op(0x47, 0x3F, 0xE0, 0, 0, 0, 0, 0, 0); dict.string("note"); dict.op(0x4E, 0x75); dict.stop()
        #expect(Self.isUnknownModel(Self.error(Self.legacy(dict, storage: nil))))
        // integer-only state dict: everything skipped
        var ints = Pickle(); ints.orderedDict(); ints.op(0x28); ints.string("cnet.norm1.num_batches_tracked")
        ints.tensor(numel: 1, offset: 0, size: [], stride: [], type: "LongStorage"); ints.op(0x75); ints.stop()
        var data = Self.legacy(ints, storage: nil)
        data.removeLast(4)  // replace the empty key list by ['0'] and one int64 element
        var keys = Pickle(); keys.op(0x5D, 0x28); keys.string("0"); keys.op(0x65); keys.stop()
        data += keys.bytes + le64(1) + le64(42)
        #expect(Self.isUnknownModel(Self.error(data)))
    }

    static func isUnknownModel(_ e: WeightsError?) -> Bool {
        if case .unknownModel? = e { true } else { false }
    }

    @Test func deepNestingDoesNotOverflowTheStack() {
        var deep = Pickle()
        deep.op(0x29)
        deep.bytes += [UInt8](repeating: 0x85, count: 1_000_000)  // TUPLE1 a million times
        deep.stop()
        #expect(Self.isUnknownModel(Self.error(Self.legacy(deep, storage: nil))))
        var cycle = Pickle()  // l = []; l.append(l)
        cycle.op(0x5D, 0x94, 0x68, 0x00, 0x61); cycle.stop()
        #expect(Self.isUnknownModel(Self.error(Self.legacy(cycle, storage: nil))))
    }

    @Test func protocolFourAndFiveOpcodes() throws {
        var p = Pickle(protocol: 5)
        p.op(0x95); p.bytes += le64(100)  // FRAME
        p.op(0x8C, 11); p.bytes += Array("collections".utf8); p.op(0x94)
        p.op(0x8C, 11); p.bytes += Array("OrderedDict".utf8); p.op(0x94, 0x93, 0x94, 0x29, 0x81, 0x94)  // NEWOBJ
        p.op(0x28)
        p.string("update_block.flow_head.conv2.bias")
        p.tensor(numel: 2, offset: 0, size: [2], stride: [1])
        p.op(0x8C, 4); p.bytes += Array("step".utf8); p.op(0x8A, 2, 0x00, 0xFF)  // LONG1 -256
        p.op(0x8C, 3); p.bytes += Array("raw".utf8); p.op(0x43, 2, 1, 2)  // SHORT_BINBYTES
        p.op(0x75)
        p.op(0x7D, 0x62)  // BUILD with an empty state
        p.stop()
        let w = try WeightsLoader.decode(Self.legacy(p, storage: [0.25, -8]), source: "t")
        #expect(w.stateDict["update_block.flow_head.conv2.bias"]!.scalars == [0.25, -8])
        #expect(w.droppedKeys == ["raw", "step"])
    }

    // MARK: - Safetensors

    static func safetensors(_ header: String, data: [UInt8] = []) -> [UInt8] {
        let json = Array(header.utf8)
        return le64(UInt64(json.count)) + json + data
    }

    @Test func damagedSafetensors() throws {
        let good = try Self.bytes("checkpoint_subset_f32.safetensors")
        #expect(Self.error(good) == nil)
        Self.expectCorrupt(Array(good.dropLast(10)), "outside the")
        var length = good
        length.replaceSubrange(0..<8, with: le64(UInt64(good.count)))
        Self.expectCorrupt(length, "header length")
        Self.expectCorrupt(Array(good.prefix(5)), "unrecognised format")
        Self.expectCorrupt(Self.safetensors(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,80]}}"#, data: [UInt8](repeating: 0, count: 8)), "outside the")
        Self.expectCorrupt(Self.safetensors(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: [UInt8](repeating: 0, count: 8)), "needs 12")
        Self.expectCorrupt(Self.safetensors(#"{"a":{"dtype":"F32","shape":[4294967296,4294967296,4],"data_offsets":[0,0]}}"#), "does not fit")
        Self.expectCorrupt(Self.safetensors(#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}"#), "invalid shape")
        Self.expectCorrupt(Self.safetensors(#"{"a":{"dtype":"F32"}}"#), "lacks dtype")
        Self.expectCorrupt(Self.safetensors(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}"#, data: [0, 0, 0, 0]), "not valid JSON")
        #expect(Self.error(Self.safetensors("{[1, 2]")) != nil)
        let array = Self.safetensors("[1, 2]")
        #expect(Self.error(array) != nil)  // not recognised as safetensors ('{' expected)
        #expect(throws: WeightsError.corrupt(file: "t", reason: "header is not a JSON object")) {
            try SafeTensors.decode(Data(array), source: "t")
        }
        #expect(Self.error(Self.safetensors(#"{"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}"#, data: [UInt8](repeating: 0, count: 8)))
                == .unsupportedDataType(file: "test.bin", key: "a", dataType: "C64"))
    }

    @Test func hostileSafetensorsHeaders() {
        // 100 tensors all viewing the same 80 kB: more elements than the file can hold
        let entries = (0..<100).map { #""t\#($0)":{"dtype":"F32","shape":[20000],"data_offsets":[0,80000]}"# }
        Self.expectCorrupt(Self.safetensors("{" + entries.joined(separator: ",") + "}", data: [UInt8](repeating: 0, count: 80_000)), "overlap")
        // deeply nested JSON must fail cleanly, not overflow the parser's stack
        let deep = Self.safetensors(#"{"a":"# + String(repeating: "[", count: 200_000))
        #expect(Self.error(deep) != nil)
        #expect(throws: WeightsError.self) { try SafeTensors.decode(Data(Self.safetensors(String(repeating: "[", count: 200_000))), source: "t") }
    }

    // MARK: - Fuzzing by truncation and byte flips

    /// Debug builds are slow at converting tensors: they flip every 4th byte with two masks; release
    /// builds every byte with three.
    #if DEBUG
    static let (fuzzStep, fuzzMasks): (Int, [UInt8]) = (4, [0x01, 0xFF])
    #else
    static let (fuzzStep, fuzzMasks): (Int, [UInt8]) = (1, [0x01, 0x80, 0xFF])
    #endif

    /// Every variant must decode or throw; counts outcomes so the test shows it exercised both.
    static func mutate(_ good: [UInt8], flipsIn region: Range<Int>) -> (failed: Int, decoded: Int, fraction: Double) {
        var failed = 0, decoded = 0
        func run(_ b: [UInt8]) { if error(b) == nil { decoded += 1 } else { failed += 1 } }
        for cut in stride(from: 0, to: good.count, by: max(1, good.count / 64)) { run(Array(good.prefix(cut))) }
        for i in stride(from: region.lowerBound, to: min(region.upperBound, good.count), by: fuzzStep) {
            for mask in fuzzMasks {
                var b = good
                b[i] ^= mask
                run(b)
            }
        }
        return (failed, decoded, Double(failed) / Double(failed + decoded))
    }

    @Test func fuzzLegacyPickle() throws {
        let good = try Self.bytes("checkpoint_subset_legacy.pth")
        let r = Self.mutate(good, flipsIn: 0..<2200)  // header, object and key-list pickles, some data
        print("legacy fuzz: \(r)")
        #expect(r.fraction > 0.25 && r.decoded > 0, "\(r)")  // flips in key names and data still decode
    }

    @Test func fuzzZipContainer() throws {
        let good = try Self.bytes("checkpoint_subset_torchvision.pth")
        let r1 = Self.mutate(good, flipsIn: 0..<1600)  // local header and data.pkl
        let r2 = Self.mutate(good, flipsIn: good.count - 1400..<good.count)  // directory and EOCD records
        print("zip fuzz: \(r1) \(r2)")
        #expect(r1.fraction > 0.5 && r2.fraction > 0.5, "\(r1) \(r2)")
    }

    @Test func fuzzSafetensorsHeader() throws {
        let good = try Self.bytes("checkpoint_subset_f32.safetensors")
        let r = Self.mutate(good, flipsIn: 0..<1200)
        print("safetensors fuzz: \(r)")
        #expect(r.fraction > 0.3, "\(r)")
    }
}

private func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * UInt32($0))) } }
private func le64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
