import Testing
@testable import RAFTKit

/// The procedural weight generator agrees with Scripts/fixtures/procedural.py bit for bit, key for key.
@Suite struct ProceduralWeightsTests {
    @Test(arguments: [RAFTVariant.basic, .small])
    func matchesPython(variant: RAFTVariant) throws {
        let fixture = try Fixtures.load("procedural.safetensors")
        let seed: UInt64 = variant == .basic ? 1 : 2
        let shapes = ProceduralWeights.canonicalShapes(variant)
        let pythonKeys = Set(fixture.keys.filter { $0.hasPrefix("\(variant)/") }.map { String($0.dropFirst("\(variant)/".count)) })
        #expect(Set(shapes.keys) == pythonKeys)
        #expect(shapes.count == (variant == .basic ? 154 : 106))
        var mismatches = 0
        let generated = ProceduralWeights.raft(variant, seed: seed)
        #expect(generated.tensors.count == shapes.count)
        for key in shapes.keys.sorted() {
            let reference = try fixture.require("\(variant)/\(key)")
            let ours = try #require(generated.tensors[key])
            for i in 0..<reference.count where ours.pointer[i].bitPattern != reference.pointer[i].bitPattern { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }
}

/// Feature and context encoders against torchvision's FeatureEncoder (Scripts/fixtures/encoders.py), with
/// procedural weights: basic + instance / batch / group norm, small + instance / none.
@Suite struct EncoderTests {
    static let fixture = Result { try Fixtures.load("encoders.safetensors") }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String, variant: RAFTVariant, prefix: String, normalization: Normalization, outputChannels: Int, seed: UInt64
        var testDescription: String { name }
    }

    static let cases = [
        Case(name: "basic_fnet", variant: .basic, prefix: "fnet", normalization: .instance, outputChannels: 256, seed: 1),
        Case(name: "basic_cnet", variant: .basic, prefix: "cnet", normalization: .batch, outputChannels: 256, seed: 1),
        Case(name: "small_fnet", variant: .small, prefix: "fnet", normalization: .instance, outputChannels: 128, seed: 2),
        Case(name: "small_cnet", variant: .small, prefix: "cnet", normalization: .none, outputChannels: 160, seed: 2),
        Case(name: "basic_group", variant: .basic, prefix: "fnet", normalization: .group, outputChannels: 256, seed: 3),
    ]

    static func stateDict(_ c: Case) throws -> StateDict {
        if c.normalization == .group {
            return try ProceduralWeights.stateDict(
                shapes: ProceduralWeights.encoderShapes(prefix: "fnet", layout: .basic, normalization: .group, outputChannels: 256),
                seed: c.seed)
        }
        return ProceduralWeights.raft(c.variant, seed: c.seed)
    }

    /// Output `[2, D, 6, 8]` of a `[2, 3, 45, 61]` batch: max |Δ| ≤ 5e-5 (outputs are O(1); the basic encoder's
    /// 96- and 128-channel layers use Winograd F(4×4, 3×3): measured 2.2e-5; below 2e-5 with F(2×2)).
    @Test(arguments: cases)
    func matchesPyTorch(_ c: Case) throws {
        let fixture = try Self.fixture.get()
        let layout: FeatureEncoder.Layout = c.variant == .basic ? .basic : .small
        let encoder = try FeatureEncoder(layout: layout, normalization: c.normalization, outputChannels: c.outputChannels,
                                         stateDict: Self.stateDict(c), prefix: c.prefix)
        let out = try encoder(fixture.require("input"))
        let reference = try fixture.require(c.name)
        #expect(out.shape == reference.shape)
        let diff = out.maxAbsDifference(reference)
        #expect(diff <= 5e-5, "\(c.name): max |Δ| = \(diff), mean \(out.meanAbsDifference(reference))")
    }

    @Test func parameterCounts() throws {
        let basic = ProceduralWeights.raft(.basic, seed: 1), small = ProceduralWeights.raft(.small, seed: 2)
        #expect(try FeatureEncoder(layout: .basic, normalization: .instance, outputChannels: 256, stateDict: basic, prefix: "fnet").parameterCount == 1_066_848)
        #expect(try FeatureEncoder(layout: .basic, normalization: .batch, outputChannels: 256, stateDict: basic, prefix: "cnet").parameterCount == 1_069_728)
        #expect(try FeatureEncoder(layout: .small, normalization: .instance, outputChannels: 128, stateDict: small, prefix: "fnet").parameterCount == 55_264)
        #expect(try FeatureEncoder(layout: .small, normalization: .none, outputChannels: 160, stateDict: small, prefix: "cnet").parameterCount == 58_368)
    }

    /// The official duplicate of a stride-2 shortcut norm (`norm3`, `norm4`) and `num_batches_tracked`
    /// are accepted; the shortcut norm may come from the duplicate alone; other extra keys are errors.
    @Test func officialDuplicatesAndExtraKeys() throws {
        let fixture = try Self.fixture.get()
        let input = try fixture.require("input")
        let reference = try fixture.require("basic_cnet")
        var sd = ProceduralWeights.raft(.basic, seed: 1)
        for layer in ["layer2.0", "layer3.0"] {
            for leaf in ["weight", "bias", "running_mean", "running_var"] {
                sd["cnet.\(layer).norm3.\(leaf)"] = sd["cnet.\(layer).downsample.1.\(leaf)"]
            }
            sd["cnet.\(layer).norm3.num_batches_tracked"] = try Tensor(shape: [], values: [7])
        }
        sd["cnet.norm1.num_batches_tracked"] = try Tensor(shape: [], values: [7])
        let withDuplicates = try FeatureEncoder(layout: .basic, normalization: .batch, outputChannels: 256, stateDict: sd, prefix: "cnet")
        #expect(try withDuplicates(input).maxAbsDifference(reference) <= 2e-5)

        var aliasOnly = sd
        for leaf in ["weight", "bias", "running_mean", "running_var"] { aliasOnly["cnet.layer2.0.downsample.1.\(leaf)"] = nil }
        let fromAlias = try FeatureEncoder(layout: .basic, normalization: .batch, outputChannels: 256, stateDict: aliasOnly, prefix: "cnet")
        #expect(try fromAlias(input).maxAbsDifference(reference) <= 2e-5)

        var extra = sd
        extra["cnet.layer1.0.norm3.weight"] = Tensor(shape: [64])
        #expect(throws: WeightsError.unexpectedKeys(file: sd.source, keys: ["cnet.layer1.0.norm3.weight"])) {
            try FeatureEncoder(layout: .basic, normalization: .batch, outputChannels: 256, stateDict: extra, prefix: "cnet")
        }
        var missing = sd
        missing["cnet.layer2.1.norm2.running_var"] = nil
        #expect(throws: WeightsError.missingKey(file: sd.source, key: "cnet.layer2.1.norm2.running_var")) {
            try FeatureEncoder(layout: .basic, normalization: .batch, outputChannels: 256, stateDict: missing, prefix: "cnet")
        }
    }

    /// Instance norm against a Double reference; outputs have zero mean and unit variance per channel.
    @Test func instanceNormStatistics() throws {
        var rng = SeededGenerator(seed: 3)
        var x = Tensor.random([5, 37, 23], in: 2...9, using: &rng)
        let reference = x
        let norm = try NormLayer(.instance, channels: 5, parameters: ParameterReader(StateDict()), prefix: "n")
        norm.apply(x.mutablePointer(), pixels: 37 * 23, relu: false)
        for c in 0..<5 {
            var mean = 0.0, m2 = 0.0
            for i in 0..<(37 * 23) { mean += Double(reference.pointer[c * 851 + i]) }
            mean /= 851
            for i in 0..<(37 * 23) { m2 += pow2(Double(reference.pointer[c * 851 + i]) - mean) }
            let invStd = 1 / (m2 / 851 + 1e-5).squareRoot()
            for i in 0..<(37 * 23) {
                let expected = (Double(reference.pointer[c * 851 + i]) - mean) * invStd
                #expect(abs(Double(x.pointer[c * 851 + i]) - expected) <= 2e-6)
            }
        }
    }
}

private func pow2(_ x: Double) -> Double { x * x }
