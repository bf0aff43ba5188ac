import Foundation

/// Tensors as read from a weight file, before parameter names are made canonical.
package struct RawWeights: Sendable {
    /// Floating-point tensors converted to Float32, by their stored name.
    package var tensors: [String: Tensor] = [:]
    /// The element type each tensor had in the file.
    package var dataTypes: [String: StorageDataType] = [:]
    /// Entries that are not floating-point tensors (e.g. `num_batches_tracked`), skipped.
    package var skipped: [String] = []
}

/// Reads PyTorch `.pth` checkpoints (`torch.save` of a state dict) without Python and without executing
/// anything from the file.
///
/// Both serialisations are understood:
/// - **zip** (torch ≥ 1.6): a ZIP archive `<name>/data.pkl` (the pickled object) + `<name>/data/<key>`
///   (raw storages) + `<name>/byteorder`;
/// - **legacy** (torch < 1.6, or `_use_new_zipfile_serialization=False`): pickles of the magic number,
///   the protocol version and `sys_info`, then the object, then the list of storage keys, then per storage
///   an 8-byte element count and the raw elements.
///
/// The pickle is interpreted by a restricted unpickler that accepts only the globals a state dict needs
/// (``WeightsError/forbiddenGlobal(file:name:)`` otherwise). Tensors may have any strides and storage
/// offset; Float/Half/BFloat16/Double storages become Float32, integer tensors are skipped. A training
/// checkpoint that nests the state dict under `state_dict` or `model` is accepted too.
public enum PyTorchCheckpoint {
    /// The legacy format's magic number 0x1950a86a20f9469cfc6c, little-endian.
    static let legacyMagic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]
    static let legacyProtocolVersion = 1001
    /// Entries under which training scripts commonly nest the state dict.
    static let nestedStateDictKeys = ["state_dict", "model_state_dict", "model", "net", "network"]

    /// Loads all floating-point tensors of a `.pth` file (names as stored; see ``WeightsLoader`` for
    /// canonical RAFT names).
    public static func read(contentsOf url: URL) throws(WeightsError) -> StateDict {
        let bytes = try WeightsLoader.readBytes(url)
        let (raw, _) = try decode(bytes, source: url.path)
        return StateDict(raw.tensors, source: url.path)
    }

    /// Decodes a zip or legacy checkpoint held in memory.
    package static func decode(_ bytes: [UInt8], source: String) throws(WeightsError) -> (RawWeights, WeightFileFormat) {
        let reader = ByteReader(bytes: bytes, source: source)
        if bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) || bytes.starts(with: [0x50, 0x4B, 0x05, 0x06]) {
            return (try decodeZip(reader), .pytorchZip)
        }
        if bytes.first == 0x80 { return (try decodeLegacy(reader), .pytorchLegacy) }
        throw .corrupt(file: source, reason: "not a PyTorch checkpoint (neither a zip archive nor a pickle)")
    }

    // MARK: - Storages

    /// A storage named by a persistent id: a root storage (by key) or a view into one (legacy format).
    private struct StorageView {
        let key: String
        let type: StorageDataType
        /// Element offset and count of the view within its root storage.
        let offset: Int
        let count: Int
    }

    /// Collects the storages that the object pickle names, checking that declarations agree.
    private struct StorageTable {
        var views: [StorageView] = []
        /// Root storages: element type and element count.
        var roots: [String: (type: StorageDataType, count: Int)] = [:]
        let source: String
        let allowViews: Bool

        /// `('storage', torch.XStorage, key, location, numel[, view_metadata])` → a storage value.
        mutating func load(_ u: inout Unpickler, _ pid: Unpickler.Value) throws(WeightsError) -> Unpickler.Value {
            func corrupt(_ reason: String) -> WeightsError { .corrupt(file: source, reason: reason) }
            guard let fields = u.tuple(pid), fields.count >= 5, fields[0] == .string("storage"),
                  case let .global(typeName) = fields[1], case let .string(key) = fields[2],
                  case let .int(count) = fields[4], count >= 0 else {
                throw corrupt("a persistent id is not a ('storage', type, key, location, numel) tuple")
            }
            guard let type = StorageDataType(torchStorageName: String(typeName.split(separator: ".").last ?? "")) else {
                throw corrupt("'\(typeName)' is not a storage type")
            }
            if let previous = roots[key], previous.type != type || previous.count != count {
                throw corrupt("storage '\(key)' is declared twice with different types or sizes")
            }
            roots[key] = (type, count)
            var view = StorageView(key: key, type: type, offset: 0, count: count)
            if fields.count >= 6, fields[5] != .none {
                // legacy view: (view_key, offset, view_size) into the root storage `key`
                guard allowViews, let meta = u.tuple(fields[5]), meta.count == 3, case let .int(offset) = meta[1],
                      case let .int(size) = meta[2], offset >= 0, size >= 0, offset <= count, size <= count - offset else {
                    throw corrupt("storage '\(key)' has an invalid view (offset/size outside the storage)")
                }
                view = StorageView(key: key, type: type, offset: offset, count: size)
            }
            views.append(view)
            return .storage(views.count - 1)
        }
    }

    // MARK: - Zip format

    private static func decodeZip(_ reader: ByteReader) throws(WeightsError) -> RawWeights {
        let source = reader.source
        let archive = try ZipArchive(reader)
        // `<folder>/data.pkl`; the folder is the saved file's stem ("archive" in recent torch versions).
        guard let pickleEntry = archive.entries.first(where: {
            $0.name.hasSuffix("/data.pkl") && !$0.name.dropLast("/data.pkl".count).contains("/")
        }) else {
            throw .corrupt(file: source, reason: "zip archive has no '<name>/data.pkl' entry; not a PyTorch checkpoint")
        }
        let folder = String(pickleEntry.name.dropLast("data.pkl".count))
        if archive.entries.contains(where: { $0.name.hasPrefix(folder + "code/") }) {
            throw .unknownModel(file: source, reason: "this is a TorchScript archive (torch.jit.save), not a state_dict; save model.state_dict() with torch.save")
        }
        var bigEndian = false
        if let order = archive.entry(named: folder + "byteorder") {
            let text = String(decoding: reader.bytes[try archive.dataRange(of: order)], as: UTF8.self)
            switch text.trimmingCharacters(in: .whitespacesAndNewlines) {
            case "little": bigEndian = false
            case "big": bigEndian = true
            default: throw .corrupt(file: source, reason: "unknown byte order '\(text)'")
            }
        }

        let pickle = Array(reader.bytes[try archive.dataRange(of: pickleEntry)])
        var table = StorageTable(source: source, allowViews: false)
        var unpickler = Unpickler(pickle, source: source)
        let top = try unpickler.load { (u, pid) throws(WeightsError) in try table.load(&u, pid) }

        var ranges: [String: Range<Int>] = [:]
        for (key, root) in table.roots {
            guard let entry = archive.entry(named: folder + "data/" + key) else {
                throw .corrupt(file: source, reason: "storage '\(key)' has no entry '\(folder)data/\(key)' in the archive")
            }
            let range = try archive.dataRange(of: entry)
            let (needed, overflow) = root.count.multipliedReportingOverflow(by: root.type.elementSize)
            guard !overflow, range.count >= needed else {
                throw .corrupt(file: source, reason: "storage '\(key)' holds \(range.count) bytes, but \(root.count) \(root.type.rawValue) elements need \(root.count &* root.type.elementSize)")
            }
            ranges[key] = range
        }
        return try stateDict(top, unpickler, table, ranges, reader, bigEndian: bigEndian)
    }

    // MARK: - Legacy format

    private static func decodeLegacy(_ reader: ByteReader) throws(WeightsError) -> RawWeights {
        let source = reader.source
        func noStorages(_ u: inout Unpickler, _ v: Unpickler.Value) throws(WeightsError) -> Unpickler.Value {
            throw .corrupt(file: source, reason: "unexpected persistent id in a header pickle")
        }
        var magic = Unpickler(reader.bytes, source: source)
        guard case let .bigInt(value) = try magic.load(persistentLoad: noStorages), value == legacyMagic else {
            throw .corrupt(file: source, reason: "not a PyTorch checkpoint: the first pickle is not the legacy magic number")
        }
        var version = Unpickler(reader.bytes, at: magic.endOffset, source: source)
        guard case let .int(protocolVersion) = try version.load(persistentLoad: noStorages), protocolVersion == legacyProtocolVersion else {
            throw .corrupt(file: source, reason: "unsupported legacy protocol version (expected \(legacyProtocolVersion))")
        }
        var info = Unpickler(reader.bytes, at: version.endOffset, source: source)
        let sysInfo = try info.load(persistentLoad: noStorages)
        var bigEndian = false
        if let d = info.dict(sysInfo), case let .bool(little)? = d["little_endian"] { bigEndian = !little }

        var table = StorageTable(source: source, allowViews: true)
        var unpickler = Unpickler(reader.bytes, at: info.endOffset, source: source)
        let top = try unpickler.load { (u, pid) throws(WeightsError) in try table.load(&u, pid) }

        var keysPickle = Unpickler(reader.bytes, at: unpickler.endOffset, source: source)
        let keysValue = try keysPickle.load(persistentLoad: noStorages)
        guard let keyValues = keysPickle.list(keysValue) else {
            throw .corrupt(file: source, reason: "the storage key list is missing after the object pickle")
        }
        var ranges: [String: Range<Int>] = [:]
        var p = keysPickle.endOffset
        for keyValue in keyValues {
            guard case let .string(key) = keyValue else { throw .corrupt(file: source, reason: "a storage key is not a string") }
            guard let root = table.roots[key] else {
                throw .corrupt(file: source, reason: "storage '\(key)' is listed but never used by the object pickle")
            }
            var count = try reader.uint64(at: p, "element count of storage '\(key)'")
            if bigEndian { count = count.byteSwapped }
            guard count == UInt64(root.count) else {
                throw .corrupt(file: source, reason: "storage '\(key)' records \(count) elements, but the pickle declares \(root.count)")
            }
            guard root.count <= (reader.count - p - 8) / root.type.elementSize else {
                throw .corrupt(file: source, reason: "storage '\(key)' is truncated: needs \(root.count) \(root.type.rawValue) elements after byte \(p + 8), the file has \(reader.count - p - 8) bytes left")
            }
            guard ranges[key] == nil else { throw .corrupt(file: source, reason: "storage '\(key)' is listed twice") }
            let bytes = root.count * root.type.elementSize  // fits: checked against the file size above
            ranges[key] = p + 8..<p + 8 + bytes
            p += 8 + bytes
        }
        return try stateDict(top, unpickler, table, ranges, reader, bigEndian: bigEndian)
    }

    // MARK: - State dict

    private static func stateDict(_ top: Unpickler.Value, _ u: Unpickler, _ table: StorageTable,
                                  _ ranges: [String: Range<Int>], _ reader: ByteReader,
                                  bigEndian: Bool) throws(WeightsError) -> RawWeights {
        let source = reader.source
        guard var dict = u.dict(top) else {
            throw .unknownModel(file: source, reason: "the pickled object is not a dictionary (state_dict)")
        }
        func holdsTensors(_ d: Unpickler.Dictionary) -> Bool { d.values.contains { u.tensor($0) != nil } }
        if !holdsTensors(dict) {
            guard let nested = nestedStateDictKeys.lazy.compactMap({ dict[$0].flatMap(u.dict) }).first(where: holdsTensors) else {
                let keys = dict.keys.compactMap { if case let .string(s) = $0 { s } else { nil } }.prefix(8)
                throw .unknownModel(file: source, reason: "no tensors at the top level or under \(nestedStateDictKeys.map { "'\($0)'" }.joined(separator: "/")) (keys: \(keys.joined(separator: ", ")))")
            }
            dict = nested
        }
        var raw = RawWeights()
        var budget = reader.elementBudget
        for (keyValue, value) in zip(dict.keys, dict.values) {
            guard case let .string(key) = keyValue else { throw .corrupt(file: source, reason: "a state_dict key is not a string") }
            guard let t = u.tensor(value) else { raw.skipped.append(key); continue }
            let view = table.views[t.storage]
            guard view.type.isFloatingPoint else { raw.skipped.append(key); continue }
            guard let range = ranges[view.key] else {
                throw .corrupt(file: source, reason: "storage '\(view.key)' of tensor '\(key)' has no data")
            }
            raw.tensors[key] = try materialize(t, view, range, reader, bigEndian: bigEndian, key: key, budget: &budget)
            raw.dataTypes[key] = view.type
        }
        return raw
    }

    /// Largest tensor accepted (elements), far above RAFT's largest (884,736).
    static let maxElements = 1 << 31

    /// Gathers a tensor with arbitrary size/stride/offset from its storage into a contiguous Float32 tensor.
    private static func materialize(_ t: Unpickler.TensorDescription, _ view: StorageView, _ range: Range<Int>,
                                    _ reader: ByteReader, bigEndian: Bool, key: String,
                                    budget: inout Int) throws(WeightsError) -> Tensor {
        func corrupt(_ reason: String) -> WeightsError { .corrupt(file: reader.source, reason: "tensor '\(key)': \(reason)") }
        let rank = t.size.count
        guard rank == t.stride.count, rank <= 16 else { throw corrupt("size \(t.size) and stride \(t.stride) do not match") }
        guard t.size.allSatisfy({ $0 >= 0 }), t.stride.allSatisfy({ $0 >= 0 }), t.storageOffset >= 0 else {
            throw corrupt("negative size, stride or offset")
        }
        var count = 1, last = t.storageOffset
        for d in 0..<rank {
            let (c, o1) = count.multipliedReportingOverflow(by: t.size[d])
            guard !o1, c <= maxElements else { throw corrupt("size \(t.size) is too large") }
            count = c
            if t.size[d] > 0 {
                let (span, o2) = (t.size[d] - 1).multipliedReportingOverflow(by: t.stride[d])
                let (l, o3) = last.addingReportingOverflow(span)
                guard !o2, !o3 else { throw corrupt("strides \(t.stride) overflow") }
                last = l
            }
        }
        guard count == 0 || last < view.count else {
            throw corrupt("size \(t.size), stride \(t.stride), offset \(t.storageOffset) reach element \(last) of a \(view.count)-element storage")
        }
        guard count <= budget else {
            throw corrupt("the tensors add up to more elements than a \(reader.count)-byte file can hold (overlapping or broadcast views)")
        }
        budget -= count
        var tensor = Tensor(uninitializedShape: t.size)
        guard count > 0 else { return tensor }
        let type = view.type, sizes = t.size, strides = t.stride
        let dst = tensor.mutablePointer()
        reader.bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress! + range.lowerBound + (view.offset + t.storageOffset) * type.elementSize
            // contiguous (row-major) layouts copy linearly
            var contiguous = true, expected = 1
            for d in stride(from: rank - 1, through: 0, by: -1) where sizes[d] != 1 {
                if strides[d] != expected { contiguous = false }
                expected *= sizes[d]
            }
            if contiguous {
                type.convert(base, count: count, into: dst, bigEndian: bigEndian)
                return
            }
            // odometer over all but the last dimension
            let inner = rank > 0 ? sizes[rank - 1] : 1, innerStride = rank > 0 ? strides[rank - 1] : 0
            var index = [Int](repeating: 0, count: max(rank - 1, 0))
            var source = 0, out = 0
            while out < count {
                for j in 0..<inner { dst[out + j] = type.float(base, source + j * innerStride, bigEndian: bigEndian) }
                out += inner
                var d = rank - 2
                while d >= 0 {
                    index[d] += 1
                    source += strides[d]
                    if index[d] < sizes[d] { break }
                    source -= strides[d] * sizes[d]
                    index[d] = 0
                    d -= 1
                }
            }
        }
        return tensor
    }
}
