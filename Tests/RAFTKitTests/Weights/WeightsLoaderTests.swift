import Foundation
import Testing
@testable import RAFTKit

/// Checkpoint formats and key schemes against fixtures from `Scripts/fixtures/checkpoints.py`. All
/// weights there are float16-exact, so every format must decode to bit-identical Float32 tensors.
@Suite("Weights loading")
struct WeightsLoaderTests {
    static let reference = try! Fixtures.load("checkpoint_reference.safetensors")

    /// Reference tensors under `prefix` (e.g. "subset."), with the prefix removed.
    static func expected(_ prefix: String) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (k, v) in reference.tensors where k.hasPrefix(prefix) { out[String(k.dropFirst(prefix.count))] = v }
        return out
    }

    static func load(_ name: String) throws -> LoadedWeights {
        try WeightsLoader.load(contentsOf: Fixtures.url(name))
    }

    /// Same keys, shapes and bit patterns.
    static func expectIdentical(_ got: [String: Tensor], _ want: [String: Tensor], _ what: String) {
        #expect(got.keys.sorted() == want.keys.sorted(), "\(what): keys differ")
        for (k, w) in want {
            guard let g = got[k] else { continue }
            #expect(g.bitwiseEqual(w), "\(what): '\(k)' differs (max |Δ| \(g.shape == w.shape ? g.maxAbsDifference(w) : .nan))")
        }
    }

    @Test func zipCheckpointOfTheFullSmallModel() throws {
        let w = try Self.load("checkpoint_small_official_f16.pth")
        #expect(w.format == .pytorchZip)
        #expect(w.keyScheme == .official)
        #expect(w.hadModulePrefix)
        #expect(w.variant == .small)
        #expect(w.parameterCount == 990_162)
        #expect(w.stateDict.tensors.count == 106)
        #expect(w.storedDataTypes == ["F16"])
        #expect(w.droppedKeys.isEmpty)
        #expect(w.stateDict.keys.allSatisfy { !$0.hasPrefix("module.") })
        let subset = Self.expected("subset.")
        Self.expectIdentical(w.stateDict.tensors.filter { subset[$0.key] != nil }, subset, "zip")
    }

    @Test func legacyCheckpointSavedFromCUDA() throws {
        let w = try Self.load("checkpoint_subset_legacy.pth")
        #expect(w.format == .pytorchLegacy)
        #expect(w.keyScheme == .official)
        #expect(w.hadModulePrefix)
        #expect(w.variant == .small)
        #expect(w.storedDataTypes == ["F32"])
        #expect(w.droppedKeys == ["module.cnet.norm1.num_batches_tracked"])
        Self.expectIdentical(w.stateDict.tensors, Self.expected("subset."), "legacy")
    }

    @Test func torchvisionNamesMapToOfficial() throws {
        let w = try Self.load("checkpoint_subset_torchvision.pth")
        #expect(w.format == .pytorchZip)
        #expect(w.keyScheme == .torchvision)
        #expect(!w.hadModulePrefix)
        #expect(w.variant == .small)
        #expect(w.storedDataTypes == ["F32", "F64"])
        Self.expectIdentical(w.stateDict.tensors, Self.expected("subset."), "torchvision zip (pickle protocol 4)")
    }

    @Test func safetensorsF32AndBF16() throws {
        let f32 = try Self.load("checkpoint_subset_f32.safetensors")
        #expect(f32.format == .safetensors && f32.keyScheme == .torchvision && f32.storedDataTypes == ["F32"])
        Self.expectIdentical(f32.stateDict.tensors, Self.expected("subset."), "safetensors F32")
        let bf16 = try Self.load("checkpoint_subset_bf16.safetensors")
        #expect(bf16.format == .safetensors && bf16.keyScheme == .official && bf16.hadModulePrefix)
        #expect(bf16.storedDataTypes == ["BF16"])
        Self.expectIdentical(bf16.stateDict.tensors, Self.expected("subset_bf16."), "safetensors BF16")
    }

    @Test func everyFormatYieldsTheSameCanonicalStateDict() throws {
        let legacy = try Self.load("checkpoint_subset_legacy.pth").stateDict.tensors
        let full = try Self.load("checkpoint_small_official_f16.pth").stateDict.tensors.filter { legacy[$0.key] != nil }
        for name in ["checkpoint_subset_torchvision.pth", "checkpoint_subset_f32.safetensors"] {
            Self.expectIdentical(try Self.load(name).stateDict.tensors, legacy, name)
        }
        Self.expectIdentical(full, legacy, "zip (full model) vs legacy")
    }

    @Test func batchNormAliasesKeepOnlyDownsample() throws {
        let w = try Self.load("checkpoint_basic_bn.pth")  // nested {'model': …}, Python zipfile, torch.cuda storages
        #expect(w.variant == .basic)
        #expect(w.keyScheme == .official && w.hadModulePrefix)
        let keys = Set(w.stateDict.keys)
        #expect(!keys.contains { $0.contains(".norm3.") }, "residual-block norm3 is the downsample.1 alias")
        #expect(keys.contains("cnet.layer2.0.downsample.1.running_var"))
        #expect(keys.contains("cnet.layer3.0.downsample.1.weight"), "a lone norm3 is renamed to downsample.1")
        #expect(!keys.contains { $0.hasSuffix("num_batches_tracked") })
        // layer2.0.norm3.{weight,bias,running_mean,running_var}, plus 7 counters (4 norms in layer2.0, 3 in layer3.0)
        #expect(w.droppedKeys.filter { $0.contains("norm3") && !$0.hasSuffix("num_batches_tracked") }.count == 4)
        #expect(w.droppedKeys.filter { $0.hasSuffix("num_batches_tracked") }.count == 7)
        Self.expectIdentical(w.stateDict.tensors, Self.expected("bn."), "BN subset")
    }

    @Test func bottleneckNorm3IsARealNorm() throws {
        // small-style bottleneck block with BatchNorm: norm3 follows conv3, norm4 aliases downsample.1
        var rng = SeededGenerator(seed: 3)
        let gamma = Tensor.random([64], using: &rng), other = Tensor.random([64], using: &rng)
        let tensors: [String: Tensor] = [
            "fnet.layer2.0.conv3.weight": Tensor(shape: [64, 16, 1, 1]),
            "fnet.layer2.0.norm3.weight": other,
            "fnet.layer2.0.norm4.weight": gamma,
            "fnet.layer2.0.downsample.1.weight": gamma,
        ]
        let r = try CanonicalKeys.canonicalize(tensors, source: "memory")
        #expect(r.tensors.keys.sorted() == ["fnet.layer2.0.conv3.weight", "fnet.layer2.0.downsample.1.weight", "fnet.layer2.0.norm3.weight"])
        #expect(r.tensors["fnet.layer2.0.norm3.weight"]!.bitwiseEqual(other))
        var differing = tensors
        differing["fnet.layer2.0.norm4.weight"] = other
        #expect(throws: WeightsError.self) { try CanonicalKeys.canonicalize(differing, source: "memory") }
    }

    @Test func bigEndianZip() throws {
        let w = try Self.load("checkpoint_bigendian.pth")
        let key = "update_block.flow_head.conv2.bias"
        #expect(w.stateDict[key]!.bitwiseEqual(Self.expected("subset.")[key]!))
    }

    // MARK: - Key maps of complete models

    static let keymaps: [String: [String: [Int]]] = {
        let data = try! Data(contentsOf: Fixtures.url("checkpoint_keymaps.json"))
        return try! JSONDecoder().decode([String: [String: [Int]]].self, from: data)
    }()

    static func zeros(_ shapes: [String: [Int]]) -> [String: Tensor] {
        shapes.mapValues { Tensor(shape: $0) }
    }

    @Test(arguments: [("torchvision_basic", "canonical_basic", RAFTVariant.basic, 5_257_536),
                      ("official_basic", "canonical_basic", .basic, 5_257_536),
                      ("torchvision_small", "canonical_small", .small, 990_162),
                      ("official_small", "canonical_small", .small, 990_162)])
    func completeModelsCanonicalise(_ input: String, _ output: String, _ variant: RAFTVariant, _ parameters: Int) throws {
        let r = try CanonicalKeys.canonicalize(Self.zeros(Self.keymaps[input]!), source: input)
        #expect(r.variant == variant)
        #expect(r.scheme == (input.hasPrefix("torchvision") ? .torchvision : .official))
        #expect(r.tensors.mapValues(\.shape) == Self.keymaps[output]!)
        #expect(CanonicalKeys.parameterCount(r.tensors) == parameters)
    }

    @Test func officialBasicCheckpointLayout() throws {
        let official = Self.keymaps["official_basic"]!
        #expect(official.count == 179)  // entries of an official basic checkpoint (raft-things.pth)
        let r = try CanonicalKeys.canonicalize(Self.zeros(official), source: "basic")
        #expect(r.dropped.filter { $0.hasSuffix("num_batches_tracked") }.count == 17)
        #expect(r.dropped.filter { $0.contains(".norm3.") && !$0.hasSuffix("num_batches_tracked") }.count == 8)
        #expect(r.tensors.count == 179 - 17 - 8)
        // summing every float tensor of the raw file double-counts the aliased norms (in core/extractor.py
        // `norm3` is `downsample.1`)
        let naive = official.filter { !$0.key.hasSuffix("running_mean") && !$0.key.hasSuffix("running_var") && !$0.key.hasSuffix("num_batches_tracked") }
            .values.reduce(0) { $0 + $1.reduce(1, *) }
        #expect(naive == 5_257_984)
    }

    @Test func torchvisionRenames() {
        let cases = [
            ("feature_encoder.convnormrelu.0.weight", false, "fnet.conv1.weight"),
            ("context_encoder.convnormrelu.1.running_mean", true, "cnet.norm1.running_mean"),
            ("context_encoder.layer2.0.convnormrelu2.1.bias", true, "cnet.layer2.0.norm2.bias"),
            ("feature_encoder.layer3.1.convnormrelu3.0.weight", false, "fnet.layer3.1.conv3.weight"),
            ("context_encoder.layer3.0.downsample.1.weight", true, "cnet.layer3.0.downsample.1.weight"),
            ("feature_encoder.conv.bias", true, "fnet.conv2.bias"),
            ("update_block.motion_encoder.convcorr2.0.weight", true, "update_block.encoder.convc2.weight"),
            ("update_block.motion_encoder.conv.0.bias", true, "update_block.encoder.conv.bias"),
            ("update_block.recurrent_block.convgru2.convq.weight", true, "update_block.gru.convq2.weight"),
            ("update_block.recurrent_block.convgru1.convr.bias", false, "update_block.gru.convr.bias"),
            ("update_block.flow_head.conv1.weight", true, "update_block.flow_head.conv1.weight"),
            ("mask_predictor.convrelu.0.weight", true, "update_block.mask.0.weight"),
            ("mask_predictor.conv.bias", true, "update_block.mask.2.bias"),
        ]
        for (tv, separable, official) in cases {
            #expect(CanonicalKeys.officialName(torchvision: tv, separableGRU: separable) == official)
        }
    }

    @Test func mixedOrForeignNamesAreRejected() {
        let mixed = ["fnet.conv1.bias": Tensor(shape: [64]), "feature_encoder.conv.bias": Tensor(shape: [256])]
        #expect(throws: WeightsError.self) { try CanonicalKeys.canonicalize(mixed, source: "mixed") }
        let resnet = ["conv1.weight": Tensor(shape: [64, 3, 7, 7]), "fc.bias": Tensor(shape: [1000])]
        #expect(throws: WeightsError.self) { try CanonicalKeys.canonicalize(resnet, source: "resnet") }
        let contradictory = ["fnet.conv1.weight": Tensor(shape: [64, 3, 7, 7]), "update_block.gru.convz.bias": Tensor(shape: [96])]
        #expect(throws: WeightsError.self) { try CanonicalKeys.canonicalize(contradictory, source: "x") }
    }

    // MARK: - Export and summary

    @Test func exportRoundTripsThroughSafetensors() throws {
        let w = try Self.load("checkpoint_small_official_f16.pth")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("raftkit-weights-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for storage in [SafeTensors.StorageType.float32, .float16] {
            let url = dir.appendingPathComponent("small-\(storage.rawValue).safetensors")
            try WeightsLoader.write(w, to: url, storage: storage)
            let back = try WeightsLoader.load(contentsOf: url)
            #expect(back.format == .safetensors && back.keyScheme == .official && back.variant == .small)
            #expect(back.parameterCount == 990_162 && !back.hadModulePrefix)
            #expect(back.storedDataTypes == [storage.rawValue])
            // the weights are float16-exact, so F16 export is lossless here
            Self.expectIdentical(back.stateDict.tensors, w.stateDict.tensors, "export \(storage.rawValue)")
            let metadata = try SafeTensors.decode(Data(contentsOf: url), source: url.path).metadata
            #expect(metadata["raftkit.variant"] == "small" && metadata["raftkit.key_scheme"] == "official")
        }
    }

    /// F16 storage of values in [-1, 1]: error ≤ half an F16 ulp of the value (≤ 2⁻¹² in [0.5, 1)).
    @Test func float16RoundTripError() throws {
        var rng = SeededGenerator(seed: 11)
        let t = Tensor.random([4096], in: -1...1, using: &rng)
        let data = SafeTensors.encode(StateDict(["x": t]), storage: .float16)
        let back = try SafeTensors.decode(data, source: "f16").stateDict.require("x")
        let maxError = back.maxAbsDifference(t)
        #expect(maxError <= 0x1p-12, "F16 max error \(maxError)")
        #expect(maxError > 0)
        for i in 0..<t.count {
            let exponent = max(Int(t.pointer[i].exponent), -14)  // F16 normals start at 2⁻¹⁴
            let ulp = Float(sign: .plus, exponent: exponent - 10, significand: 1)
            #expect(abs(back.pointer[i] - t.pointer[i]) <= ulp / 2)
        }
    }

    @Test func summaryForTheCommandLine() throws {
        let s = try Self.load("checkpoint_small_official_f16.pth").summary
        #expect(s.variant == .small && s.parameterCount == 990_162 && s.tensorCount == 106)
        let text = s.description
        #expect(text.contains("990,162"))
        #expect(text.contains("small (RAFT-S)"))
        #expect(text.contains("official (with 'module.' prefix)"))
        #expect(text.contains("PyTorch checkpoint (zip"))
        #expect(text.contains("F16"))
        #expect(WeightsSummary.grouped(5_257_536) == "5,257,536" && WeightsSummary.grouped(12) == "12")
    }
}
