/// Which naming convention a weight file uses for RAFT's parameters (the module names of core/raft.py,
/// or of torchvision/models/optical_flow/raft.py).
public enum KeyScheme: String, Sendable, CaseIterable {
    /// princeton-vl/RAFT: `fnet.*`, `cnet.*`, `update_block.{encoder,gru,flow_head,mask}.*`.
    case official
    /// torchvision `raft_large`/`raft_small`: `feature_encoder.*`, `context_encoder.*`,
    /// `update_block.{motion_encoder,recurrent_block,flow_head}.*`, `mask_predictor.*`.
    case torchvision
}

/// Maps parameter names of any supported scheme to RAFTKit's canonical names: the official RAFT names
/// without `module.`, without `num_batches_tracked`, and with each stride-2 block's shortcut norm stored
/// only once, as `…downsample.1.*`.
///
/// The official code registers that norm twice (`norm3` of a residual block / `norm4` of a bottleneck
/// block *is* `downsample.1`), so official state dicts hold identical duplicates; torchvision's hold only
/// `downsample.1`. In bottleneck blocks `norm3` is a real norm (after `conv3`) and is kept.
package enum CanonicalKeys {
    package struct Result {
        var tensors: [String: Tensor]
        var scheme: KeyScheme
        var variant: RAFTVariant?
        /// Whether the names carried the `module.` prefix of `nn.DataParallel`.
        var hadModulePrefix: Bool
        /// Keys removed: `num_batches_tracked` counters and duplicated norm aliases (stored names).
        var dropped: [String]
    }

    static let officialMarkers = ["fnet.", "cnet.", "update_block.encoder.", "update_block.gru.", "update_block.mask."]
    static let torchvisionMarkers = ["feature_encoder.", "context_encoder.", "update_block.motion_encoder.",
                                     "update_block.recurrent_block.", "mask_predictor."]
    /// Top-level modules of a RAFT network in canonical names.
    static let modules = ["fnet.", "cnet.", "update_block."]

    /// Canonicalises `tensors` (stored names) and detects the scheme and the variant.
    package static func canonicalize(_ tensors: [String: Tensor], source: String) throws(WeightsError) -> Result {
        var dropped: [String] = []
        // 1. `module.` (nn.DataParallel, possibly nested) and BatchNorm step counters.
        var stripped: [String: Tensor] = [:]
        var hadModulePrefix = false
        for (stored, t) in tensors {
            var key = Substring(stored)
            while key.hasPrefix("module.") { key = key.dropFirst("module.".count); hadModulePrefix = true }
            if key.hasSuffix("num_batches_tracked") { dropped.append(stored); continue }
            guard stripped.updateValue(t, forKey: String(key)) == nil else {
                throw .unknownModel(file: source, reason: "'\(key)' appears both with and without the 'module.' prefix")
            }
        }
        guard !stripped.isEmpty else { throw .unknownModel(file: source, reason: "the file holds no floating-point tensors") }

        // 2. Scheme.
        let official = stripped.keys.first { k in officialMarkers.contains { k.hasPrefix($0) } }
        let torchvision = stripped.keys.first { k in torchvisionMarkers.contains { k.hasPrefix($0) } }
        if let o = official, let t = torchvision {
            throw .unknownModel(file: source, reason: "it mixes official ('\(o)') and torchvision ('\(t)') parameter names")
        }
        let scheme: KeyScheme = torchvision != nil ? .torchvision : .official
        if scheme == .torchvision {
            // SepConvGRU (basic) has two GRUs with 1×5 and 5×1 kernels; ConvGRU (small) one with 3×3.
            let separable = stripped.contains { k, t in
                k.hasPrefix("update_block.recurrent_block.convgru2.")
                    || (k.hasPrefix("update_block.recurrent_block.convgru1.") && t.rank == 4 && t.shape[2] == 1 && t.shape[3] == 5)
            }
            var renamed: [String: Tensor] = [:]
            for (k, t) in stripped { renamed[officialName(torchvision: k, separableGRU: separable)] = t }
            stripped = renamed
        }
        guard stripped.keys.contains(where: { k in modules.contains { k.hasPrefix($0) } }) else {
            let some = stripped.keys.sorted().prefix(3).joined(separator: ", ")
            throw .unknownModel(file: source, reason: "no RAFT parameters (fnet/cnet/update_block) among its keys (\(some), …)")
        }

        // 3. Variant, from shapes and module names.
        let variant = try detectVariant(stripped, source: source)

        // 4. The shortcut norm of stride-2 blocks only as downsample.1.
        for key in stripped.keys.sorted() {
            guard let (block, norm, suffix) = splitBlockNorm(key) else { continue }
            let bottleneck = variant == .small || stripped.keys.contains {
                $0.hasPrefix(block + ".conv3.") || $0.hasPrefix(block + ".norm4.")
            }
            guard norm == (bottleneck ? "norm4" : "norm3") else { continue }  // a real norm
            let alias = "\(block).downsample.1.\(suffix)"
            let t = stripped.removeValue(forKey: key)!
            if let kept = stripped[alias] {
                guard kept.shape == t.shape, kept.bitwiseEqual(t) else {
                    throw .unknownModel(file: source, reason: "'\(key)' and '\(alias)' should be the same BatchNorm (aliased in RAFT) but differ")
                }
                dropped.append(key)
            } else {
                stripped[alias] = t
            }
        }
        return Result(tensors: stripped, scheme: scheme, variant: variant, hadModulePrefix: hadModulePrefix,
                      dropped: dropped.sorted())
    }

    /// `fnet.layer2.0.norm3.weight` → (`fnet.layer2.0`, `norm3`, `weight`).
    static func splitBlockNorm(_ key: String) -> (block: String, norm: String, suffix: String)? {
        let parts = key.split(separator: ".", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "fnet" || parts[0] == "cnet", parts[1].hasPrefix("layer"),
              parts[2].allSatisfy(\.isNumber), parts[3] == "norm3" || parts[3] == "norm4" else { return nil }
        return (parts[0...2].joined(separator: "."), String(parts[3]), String(parts[4]))
    }

    /// The RAFT variant the parameters belong to, or `nil` when the keys do not tell (a partial set).
    static func detectVariant(_ tensors: [String: Tensor], source: String) throws(WeightsError) -> RAFTVariant? {
        var evidence: [(RAFTVariant, String)] = []
        if let stem = tensors["fnet.conv1.weight"] {
            switch stem.shape {
            case [64, 3, 7, 7]: evidence.append((.basic, "fnet.conv1.weight \(stem.shape)"))
            case [32, 3, 7, 7]: evidence.append((.small, "fnet.conv1.weight \(stem.shape)"))
            default:
                throw .unknownModel(file: source, reason: "fnet.conv1.weight has shape \(stem.shape); RAFT has [64, 3, 7, 7], RAFT-S [32, 3, 7, 7]")
            }
        }
        if let k = tensors.keys.first(where: { $0.hasPrefix("update_block.gru.convz1.") || $0.hasPrefix("update_block.mask.") }) {
            evidence.append((.basic, k))
        }
        if let k = tensors.keys.first(where: { $0.hasPrefix("update_block.gru.convz.") }) {
            evidence.append((.small, k))
        }
        guard let first = evidence.first else { return nil }
        if let other = evidence.first(where: { $0.0 != first.0 }) {
            throw .unknownModel(file: source, reason: "'\(first.1)' belongs to RAFT-\(first.0) but '\(other.1)' to RAFT-\(other.0)")
        }
        return first.0
    }

    /// The official name (core/raft.py's modules) of a torchvision RAFT parameter
    /// (torchvision/models/optical_flow/raft.py); other names are returned as is.
    ///
    /// - Parameter separableGRU: whether the update block has SepConvGRU (basic: `convgru1/2` →
    ///   `convz1/convz2`) rather than ConvGRU (small: `convgru1` → `convz`).
    package static func officialName(torchvision key: String, separableGRU: Bool) -> String {
        var parts = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let head = parts.first else { return key }
        switch head {
        case "feature_encoder", "context_encoder":
            parts[0] = head == "feature_encoder" ? "fnet" : "cnet"
            if parts.count >= 4, parts[1] == "convnormrelu", parts[2] == "0" || parts[2] == "1" {
                // stem: convnormrelu.0 → conv1, convnormrelu.1 → norm1
                parts.replaceSubrange(1...2, with: [parts[2] == "0" ? "conv1" : "norm1"])
            } else if parts.count >= 3, parts[1] == "conv" {
                parts[1] = "conv2"  // 1×1 output convolution
            } else if parts.count >= 6, parts[1].hasPrefix("layer"), parts[3].hasPrefix("convnormrelu"),
                      parts[4] == "0" || parts[4] == "1" {
                // blocks: convnormreluK.0 → convK, convnormreluK.1 → normK
                let k = parts[3].dropFirst("convnormrelu".count)
                parts.replaceSubrange(3...4, with: [(parts[4] == "0" ? "conv" : "norm") + k])
            }
        case "update_block" where parts.count >= 4 && parts[1] == "motion_encoder":
            let map = ["convcorr1": "convc1", "convcorr2": "convc2", "convflow1": "convf1", "convflow2": "convf2", "conv": "conv"]
            if let name = map[parts[2]], parts[3] == "0" {
                parts.replaceSubrange(1...3, with: ["encoder", name])
            }
        case "update_block" where parts.count >= 5 && parts[1] == "recurrent_block":
            if parts[2] == "convgru1" || parts[2] == "convgru2", ["convz", "convr", "convq"].contains(parts[3]) {
                let suffix = separableGRU ? String(parts[2].last!) : ""
                parts.replaceSubrange(1...3, with: ["gru", parts[3] + suffix])
            }
        case "mask_predictor":
            if parts.count >= 4, parts[1] == "convrelu", parts[2] == "0" {
                parts.replaceSubrange(0...2, with: ["update_block", "mask", "0"])
            } else if parts.count >= 3, parts[1] == "conv" {
                parts.replaceSubrange(0...1, with: ["update_block", "mask", "2"])
            }
        default:
            break
        }
        return parts.joined(separator: ".")
    }

    /// Unique learnable parameters, as PyTorch counts them for the official models (5,257,536 basic, 990,162
    /// small; tested): all elements except BatchNorm running statistics.
    /// Counted on canonical names, so aliased norms count once.
    package static func parameterCount(_ tensors: [String: Tensor]) -> Int {
        tensors.reduce(0) { sum, entry in
            entry.key.hasSuffix(".running_mean") || entry.key.hasSuffix(".running_var") ? sum : sum + entry.value.count
        }
    }
}

extension Tensor {
    /// Same shape and bit-identical elements (NaN-aware, unlike `==`).
    func bitwiseEqual(_ other: Tensor) -> Bool {
        guard shape == other.shape else { return false }
        for i in 0..<count where pointer[i].bitPattern != other.pointer[i].bitPattern { return false }
        return true
    }
}
