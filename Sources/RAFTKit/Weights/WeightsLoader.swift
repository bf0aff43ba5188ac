import Foundation

/// The container a weight file uses, recognised from its content (not its extension).
public enum WeightFileFormat: String, Sendable, CaseIterable {
    /// Hugging Face safetensors (`.safetensors`).
    case safetensors
    /// PyTorch ≥ 1.6 `torch.save` (a zip archive, `.pth`/`.pt`).
    case pytorchZip
    /// PyTorch < 1.6 `torch.save` (or `_use_new_zipfile_serialization=False`): pickles + raw storages.
    case pytorchLegacy

    /// A short human-readable name.
    public var displayName: String {
        switch self {
        case .safetensors: "safetensors"
        case .pytorchZip: "PyTorch checkpoint (zip, torch ≥ 1.6)"
        case .pytorchLegacy: "PyTorch checkpoint (legacy, torch < 1.6)"
        }
    }
}

/// RAFT weights loaded from a file, with canonical (official RAFT) parameter names.
public struct LoadedWeights: Sendable {
    /// The parameters under canonical names: official RAFT keys without `module.`, no
    /// `num_batches_tracked`, each stride-2 block's shortcut norm only as `…downsample.1.*`.
    public var stateDict: StateDict
    public var format: WeightFileFormat
    /// The naming convention the file used (the state dict is always canonical).
    public var keyScheme: KeyScheme
    /// The architecture the parameters belong to; `nil` for a partial set that does not tell.
    public var variant: RAFTVariant?
    /// Unique learnable parameters (5,257,536 basic, 990,162 small; BatchNorm running statistics excluded).
    public var parameterCount: Int
    /// Element types found in the file (e.g. `["F16"]`), sorted.
    public var storedDataTypes: [String]
    /// Whether the names carried `nn.DataParallel`'s `module.` prefix.
    public var hadModulePrefix: Bool
    /// Stored entries left out of the state dict: integer tensors, `num_batches_tracked`, duplicated
    /// norm aliases.
    public var droppedKeys: [String]

    /// A summary for `raftflow info` and logs.
    public var summary: WeightsSummary {
        var largest: (magnitude: Float, key: String) = (0, ""), nonFinite = 0
        for key in stateDict.keys {
            stateDict.tensors[key]!.withUnsafeBufferPointer { values in
                for v in values {
                    if !v.isFinite { nonFinite += 1 } else if abs(v) > largest.magnitude { largest = (abs(v), key) }
                }
            }
        }
        return WeightsSummary(file: stateDict.source, format: format, keyScheme: keyScheme,
                              hadModulePrefix: hadModulePrefix, variant: variant, parameterCount: parameterCount,
                              tensorCount: stateDict.tensors.count, storedDataTypes: storedDataTypes,
                              droppedCount: droppedKeys.count, largestMagnitude: largest.magnitude,
                              largestMagnitudeKey: largest.key, nonFiniteCount: nonFinite)
    }
}

/// What a weight file holds, in a few lines (see ``LoadedWeights/summary``).
public struct WeightsSummary: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var format: WeightFileFormat
    public var keyScheme: KeyScheme
    public var hadModulePrefix: Bool
    public var variant: RAFTVariant?
    public var parameterCount: Int
    /// Tensors in the canonical state dict.
    public var tensorCount: Int
    public var storedDataTypes: [String]
    public var droppedCount: Int
    /// The largest finite `|w|` of any parameter, and the parameter that holds it.
    public var largestMagnitude: Float
    public var largestMagnitudeKey: String
    /// NaN and infinite values (the model refuses to build from such weights).
    public var nonFiniteCount: Int

    /// `|w|` from which a parameter counts as extreme: trained RAFT weights are of order 1 (the bundled model's
    /// largest is 1.6), while values far beyond that, up to Float's limit (3.4e38), overflow the activations to NaN.
    public static let extremeMagnitude: Float = 1e4

    /// Whether the flow computed with these weights is likely to overflow: a NaN/infinite or extreme parameter.
    public var hasSuspiciousValues: Bool { nonFiniteCount > 0 || largestMagnitude >= Self.extremeMagnitude }

    /// Label/value pairs in display order.
    public var fields: [(label: String, value: String)] {
        let variantText = switch variant {
        case .basic?: "basic (RAFT)"
        case .small?: "small (RAFT-S)"
        case nil: "unknown (partial parameter set)"
        }
        return [
            ("file", file),
            ("format", format.displayName),
            ("key scheme", keyScheme.rawValue + (hadModulePrefix ? " (with 'module.' prefix)" : "")),
            ("variant", variantText),
            ("parameters", Self.grouped(parameterCount)),
            ("tensors", "\(tensorCount)" + (droppedCount > 0 ? " (\(droppedCount) stored entries dropped: counters, duplicate norms)" : "")),
            ("dtype", storedDataTypes.joined(separator: ", ")),
            ("largest |w|", String(format: "%.4g", largestMagnitude) + " (\(largestMagnitudeKey))"
                + (largestMagnitude >= Self.extremeMagnitude ? " — EXTREME: the flow will likely overflow to NaN" : "")),
        ] + (nonFiniteCount > 0 ? [("non-finite", "\(nonFiniteCount) NaN or infinite values — the model cannot be built from these weights")] : [])
    }

    public var description: String {
        let width = fields.map(\.label.count).max() ?? 0
        return fields.map { $0.label + ":" + String(repeating: " ", count: width - $0.label.count + 1) + $0.value }
            .joined(separator: "\n")
    }

    static func grouped(_ n: Int) -> String {
        let digits = Array(String(n))
        var out = ""
        for (i, d) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(d)
        }
        return out
    }
}

/// Loads RAFT weights from safetensors or PyTorch `.pth` files, recognising the format by content and
/// the naming scheme by key, and exports them as safetensors.
///
/// ```swift
/// let weights = try WeightsLoader.load(contentsOf: URL(fileURLWithPath: "raft-things.pth"))
/// print(weights.summary)   // variant basic, 5,257,536 parameters, …
/// ```
public enum WeightsLoader {
    /// Reads, decodes and canonicalises a weight file.
    ///
    /// - Throws: ``WeightsError/unreadable(file:reason:)`` when the file cannot be read,
    ///   ``WeightsError/corrupt(file:reason:)`` for a damaged or unknown container,
    ///   ``WeightsError/forbiddenGlobal(file:name:)`` for pickles that reference code,
    ///   ``WeightsError/unknownModel(file:reason:)`` when the tensors are not RAFT's.
    public static func load(contentsOf url: URL) throws(WeightsError) -> LoadedWeights {
        try decode(readBytes(url), source: url.path)
    }

    /// Decodes weight-file bytes held in memory; `source` names them in errors.
    public static func decode(_ bytes: [UInt8], source: String) throws(WeightsError) -> LoadedWeights {
        let (raw, format) = try decodeRaw(bytes, source: source)
        let canonical = try CanonicalKeys.canonicalize(raw.tensors, source: source)
        let types = Set(raw.dataTypes.values.map(\.rawValue)).sorted()
        return LoadedWeights(stateDict: StateDict(canonical.tensors, source: source), format: format,
                             keyScheme: canonical.scheme, variant: canonical.variant,
                             parameterCount: CanonicalKeys.parameterCount(canonical.tensors),
                             storedDataTypes: types, hadModulePrefix: canonical.hadModulePrefix,
                             droppedKeys: (raw.skipped + canonical.dropped).sorted())
    }

    /// The format of weight-file bytes, from their first bytes.
    public static func sniff(_ bytes: [UInt8], source: String) throws(WeightsError) -> WeightFileFormat {
        guard !bytes.isEmpty else { throw .corrupt(file: source, reason: "the file is empty") }
        if bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) || bytes.starts(with: [0x50, 0x4B, 0x05, 0x06]) { return .pytorchZip }
        // safetensors: an 8-byte little-endian header length, then a JSON object (checked before the
        // pickle test: a 128-byte header starts with 0x80 too)
        if bytes.count >= 9, bytes[8] == UInt8(ascii: "{") { return .safetensors }
        if bytes[0] == 0x80 { return .pytorchLegacy }  // pickle PROTO opcode
        let head = bytes.prefix(8).map { String($0, radix: 16) }.joined(separator: " ")
        throw .corrupt(file: source, reason: "unrecognised format (first bytes \(head)); expected safetensors or a PyTorch .pth")
    }

    /// Decodes without canonicalising names.
    package static func decodeRaw(_ bytes: [UInt8], source: String) throws(WeightsError) -> (RawWeights, WeightFileFormat) {
        switch try sniff(bytes, source: source) {
        case .safetensors:
            return (try SafeTensors.decodeRaw(bytes, source: source).weights, .safetensors)
        case .pytorchZip, .pytorchLegacy:
            return try PyTorchCheckpoint.decode(bytes, source: source)
        }
    }

    /// Writes canonical weights as safetensors (keys sorted; F32, or F16 to halve the size) with
    /// metadata recording the variant and key scheme.
    public static func write(_ weights: LoadedWeights, to url: URL,
                             storage: SafeTensors.StorageType = .float32) throws(WeightsError) {
        var metadata = ["format": "pt", "raftkit.key_scheme": KeyScheme.official.rawValue]
        if let v = weights.variant { metadata["raftkit.variant"] = v.rawValue }
        metadata["raftkit.parameters"] = String(weights.parameterCount)
        try SafeTensors.write(weights.stateDict, to: url, storage: storage, metadata: metadata)
    }

    /// Reads a whole file, reporting failures as ``WeightsError/unreadable(file:reason:)`` with the path.
    package static func readBytes(_ url: URL) throws(WeightsError) -> [UInt8] {
        do { return try FileAccess.bytes(url) } catch {
            throw .unreadable(file: url.path, reason: error.reason)
        }
    }
}
