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
        guard data.count >= 8 else { throw .corrupt(file: source, reason: "file is \(data.count) bytes, shorter than the 8-byte header length") }
        var headerLength: UInt64 = 0
        for i in 0..<8 { headerLength |= UInt64(data[data.startIndex + i]) << (8 * UInt64(i)) }
        guard headerLength <= UInt64(maxHeaderBytes), headerLength <= UInt64(data.count - 8) else {
            throw .corrupt(file: source, reason: "header length \(headerLength) exceeds the file size \(data.count)")
        }
        let headerStart = data.startIndex + 8, dataStart = headerStart + Int(headerLength)
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: data[headerStart..<dataStart]) } catch {
            throw .corrupt(file: source, reason: "header is not valid JSON")
        }
        guard let header = json as? [String: Any] else { throw .corrupt(file: source, reason: "header is not a JSON object") }
        let dataSize = data.count - 8 - Int(headerLength)
        var tensors: [String: Tensor] = [:]
        var metadata: [String: String] = [:]
        for (key, value) in header {
            if key == "__metadata__" {
                if let m = value as? [String: Any] { for (k, v) in m { metadata[k] = "\(v)" } }
                continue
            }
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shapeAny = entry["shape"] as? [Any], let offsetsAny = entry["data_offsets"] as? [Any],
                  offsetsAny.count == 2 else {
                throw .corrupt(file: source, reason: "entry '\(key)' lacks dtype, shape or data_offsets")
            }
            let shape = shapeAny.compactMap { ($0 as? NSNumber)?.intValue }
            let offsets = offsetsAny.compactMap { ($0 as? NSNumber)?.intValue }
            guard shape.count == shapeAny.count, shape.allSatisfy({ $0 >= 0 && $0 < 1 << 31 }), offsets.count == 2 else {
                throw .corrupt(file: source, reason: "entry '\(key)' has an invalid shape or offsets")
            }
            let count = shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).partialValue }
            guard offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= dataSize else {
                throw .corrupt(file: source, reason: "tensor '\(key)' offsets \(offsets) lie outside the \(dataSize)-byte data section")
            }
            let width: Int
            switch dtype {
            case "F32": width = 4
            case "F16", "BF16": width = 2
            case "F64": width = 8
            case "I64", "I32", "I16", "I8", "U8", "BOOL", "U16", "U32", "U64": continue
            default: throw .unsupportedDataType(file: source, key: key, dataType: dtype)
            }
            guard offsets[1] - offsets[0] == count * width else {
                throw .corrupt(file: source, reason: "tensor '\(key)' holds \(offsets[1] - offsets[0]) bytes, but \(dtype) \(shape) needs \(count * width)")
            }
            var t = Tensor(shape: shape)
            let dst = t.mutablePointer()
            data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                let base = raw.baseAddress! + 8 + Int(headerLength) + offsets[0]
                switch dtype {
                case "F32":
                    for i in 0..<count { dst[i] = Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
                case "F16":
                    for i in 0..<count { dst[i] = HalfPrecision.float(fromHalf: UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
                case "BF16":
                    for i in 0..<count { dst[i] = HalfPrecision.float(fromBFloat16: UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
                default:
                    for i in 0..<count { dst[i] = Float(Double(bitPattern: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))) }
                }
            }
            tensors[key] = t
        }
        return (StateDict(tensors, source: source), metadata)
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
