import Foundation

/// Reads and writes the safetensors format: an 8-byte little-endian header length, a JSON header
/// `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {…}}`, then the raw data.
///
/// Every field is validated before use: header length within the file, offsets inside the data section
/// and consistent with dtype × shape, no overlaps past the end. F32, F16, BF16 and F64 are converted to
/// Float32; integer tensors (e.g. `num_batches_tracked`) are skipped.
public enum SafeTensors {
    /// Largest accepted JSON header (the format's own limit is 100 MB).
    static let maxHeaderBytes = 100_000_000

    /// Loads all floating-point tensors of a `.safetensors` file.
    public static func read(contentsOf url: URL) throws(WeightsError) -> StateDict {
        let path = url.path
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw .unreadable(file: path, reason: (error as NSError).localizedDescription)
        }
        return try decode(data, source: path).stateDict
    }

    /// Decodes safetensors bytes; also returns the `__metadata__` strings.
    public static func decode(_ data: Data, source: String) throws(WeightsError)
        -> (stateDict: StateDict, metadata: [String: String]) {
        let (raw, metadata) = try decodeRaw([UInt8](data), source: source)
        return (StateDict(raw.tensors, source: source), metadata)
    }

    /// Deepest JSON nesting accepted in a header (a valid one nests 3 levels: header, entry, shape).
    static let maxHeaderNesting = 64

    /// Whether `json`'s arrays and objects (outside strings) nest more than `limit` levels deep.
    private static func nests(_ json: ArraySlice<UInt8>, deeperThan limit: Int) -> Bool {
        var depth = 0, inString = false, escaped = false
        for byte in json {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > limit { return true }
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
        return false
    }

    /// Decodes safetensors bytes, recording each tensor's stored element type.
    package static func decodeRaw(_ bytes: [UInt8], source: String) throws(WeightsError)
        -> (weights: RawWeights, metadata: [String: String]) {
        guard bytes.count >= 8 else { throw .corrupt(file: source, reason: "file is \(bytes.count) bytes, shorter than the 8-byte header length") }
        var headerLength: UInt64 = 0
        for i in 0..<8 { headerLength |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard headerLength <= UInt64(maxHeaderBytes), headerLength <= UInt64(bytes.count - 8) else {
            throw .corrupt(file: source, reason: "header length \(headerLength) exceeds the file size \(bytes.count)")
        }
        let dataStart = 8 + Int(headerLength)
        if Self.nests(bytes[8..<dataStart], deeperThan: maxHeaderNesting) {
            throw .corrupt(file: source, reason: "header nests JSON more than \(maxHeaderNesting) levels deep (a safetensors header needs 3)")
        }
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: Data(bytes[8..<dataStart])) } catch {
            throw .corrupt(file: source, reason: "header is not valid JSON")
        }
        guard let header = json as? [String: Any] else { throw .corrupt(file: source, reason: "header is not a JSON object") }
        let dataSize = bytes.count - dataStart
        var raw = RawWeights()
        var metadata: [String: String] = [:]
        var budget = ByteReader(bytes: bytes, source: source).elementBudget  // bounds overlapping ranges
        for key in header.keys.sorted() {
            let value = header[key]!
            if key == "__metadata__" {
                guard let m = value as? [String: Any] else { throw .corrupt(file: source, reason: "__metadata__ is not an object") }
                for (k, v) in m { metadata[k] = "\(v)" }
                continue
            }
            guard let entry = value as? [String: Any], let dtypeName = entry["dtype"] as? String,
                  let shapeAny = entry["shape"] as? [Any], let offsetsAny = entry["data_offsets"] as? [Any],
                  offsetsAny.count == 2 else {
                throw .corrupt(file: source, reason: "entry '\(key)' lacks dtype, shape or data_offsets")
            }
            // Exact integers only: NSNumber's intValue wraps 2⁶⁴ to 0 and truncates 2.5 to 2.
            func integer(_ value: Any) -> Int? {
                guard let number = value as? NSNumber, let exact = Int64(exactly: number.doubleValue),
                      exact < 1 << 53 else { return nil }
                return Int(exact)
            }
            let shape = shapeAny.compactMap(integer)
            let offsets = offsetsAny.compactMap(integer)
            guard shape.count == shapeAny.count, shape.count <= 16, shape.allSatisfy({ $0 >= 0 }), offsets.count == 2 else {
                throw .corrupt(file: source, reason: "entry '\(key)' has an invalid shape or offsets")
            }
            guard offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= dataSize else {
                throw .corrupt(file: source, reason: "tensor '\(key)' offsets \(offsets) lie outside the \(dataSize)-byte data section")
            }
            if ["U16", "U32", "U64"].contains(dtypeName) { raw.skipped.append(key); continue }  // integers: skipped
            guard let dtype = StorageDataType(rawValue: dtypeName) else {
                throw .unsupportedDataType(file: source, key: key, dataType: dtypeName)
            }
            guard dtype.isFloatingPoint else { raw.skipped.append(key); continue }
            // element count, overflow-checked: it must match the byte range, which the file bounds
            var count = 1
            for d in shape {
                let (c, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow, c <= dataSize else {
                    throw .corrupt(file: source, reason: "tensor '\(key)' shape \(shape) does not fit in the \(dataSize)-byte data section")
                }
                count = c
            }
            guard offsets[1] - offsets[0] == count * dtype.elementSize else {
                throw .corrupt(file: source, reason: "tensor '\(key)' holds \(offsets[1] - offsets[0]) bytes, but \(dtypeName) \(shape) needs \(count * dtype.elementSize)")
            }
            guard count <= budget else {
                throw .corrupt(file: source, reason: "tensors overlap: they add up to more elements than the file can hold")
            }
            budget -= count
            var t = Tensor(uninitializedShape: shape)
            let dst = t.mutablePointer()
            bytes.withUnsafeBytes { (all: UnsafeRawBufferPointer) in
                let base = all.baseAddress! + dataStart + offsets[0]
                dtype.convert(base, count: count, into: dst, bigEndian: false)
            }
            raw.tensors[key] = t
            raw.dataTypes[key] = dtype
        }
        return (raw, metadata)
    }

    /// Storage precision when writing.
    public enum StorageType: String, Sendable { case float32 = "F32", float16 = "F16" }

    /// Encodes tensors (keys sorted, data 8-byte aligned) with optional string metadata.
    public static func encode(_ stateDict: StateDict, storage: StorageType = .float32,
                              metadata: [String: String] = [:]) -> Data {
        let keys = stateDict.keys
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        let width = storage == .float32 ? 4 : 2
        for k in keys {
            let t = stateDict.tensors[k]!
            header[k] = ["dtype": storage.rawValue, "shape": t.shape, "data_offsets": [offset, offset + t.count * width]]
            offset += t.count * width
        }
        var json = (try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) ?? Data("{}".utf8)
        while (json.count + 8) % 8 != 0 { json.append(0x20) }
        var out = Data(capacity: 8 + json.count + offset)
        var len = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &len) { out.append(contentsOf: $0) }
        out.append(json)
        for k in keys {
            let t = stateDict.tensors[k]!
            t.withUnsafeBufferPointer { buf in
                if storage == .float32 {
                    var le = buf.map { $0.bitPattern.littleEndian }
                    le.withUnsafeMutableBytes { out.append(contentsOf: $0) }
                } else {
                    var le = buf.map { HalfPrecision.half(from: $0).littleEndian }
                    le.withUnsafeMutableBytes { out.append(contentsOf: $0) }
                }
            }
        }
        return out
    }

    /// Writes a state dict atomically (temporary file, then rename).
    public static func write(_ stateDict: StateDict, to url: URL, storage: StorageType = .float32,
                             metadata: [String: String] = [:]) throws(WeightsError) {
        do { try encode(stateDict, storage: storage, metadata: metadata).write(to: url, options: .atomic) } catch {
            throw .unreadable(file: url.path, reason: "cannot write: \((error as NSError).localizedDescription)")
        }
    }
}
