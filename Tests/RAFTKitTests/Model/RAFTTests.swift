import Testing
@testable import RAFTKit

/// The shared fixture frames (150×203, sintel padding to 152×208) and the procedural models.
enum ModelFixtures {
    static let images = Result { try Fixtures.load("model_images.safetensors") }
    static let basic = Result { try RAFT(stateDict: ProceduralWeights.raft(.basic, seed: 1)) }
    static let small = Result { try RAFT(stateDict: ProceduralWeights.raft(.small, seed: 2)) }

    static func model(_ variant: RAFTVariant) throws -> RAFT { try (variant == .basic ? basic : small).get() }
    static func frames() throws -> (Tensor, Tensor) {
        let d = try images.get()
        return (try d.require("image1"), try d.require("image2"))
    }
}

/// Difference summary used by the parity tests (pixels).
struct FlowDifference: CustomStringConvertible {
    var mean: Float, max: Float
    init(_ a: Tensor, _ b: Tensor) { mean = a.meanAbsDifference(b); max = a.maxAbsDifference(b) }
    var description: String { "mean |Δ| \(mean) px, max |Δ| \(max) px" }
    /// The full-model tolerance: ≤ 1e-3 px mean, ≤ 1e-2 px max.
    var withinTolerance: Bool { mean <= 1e-3 && max <= 1e-2 }
}

/// The full model against torchvision's RAFT with the same procedural weights (Scripts/fixtures/model.py).
/// Heavy: run in release (`swift test -c release --filter RAFTTests`).
@Suite(.serialized) struct RAFTTests {
    /// Low- and full-resolution flow after 1 and 12 iterations: ≤ 1e-3 px mean, ≤ 1e-2 px max.
    @Test(arguments: [RAFTVariant.basic, .small])
    func matchesPyTorch(variant: RAFTVariant) throws {
        let model = try ModelFixtures.model(variant)
        let reference = try Fixtures.load("model_\(variant).safetensors")
        let (image1, image2) = try ModelFixtures.frames()

        var lowAfterOne: Tensor?
        let twelve = try model(image1, image2, options: RAFTOptions(iterations: 12)) { step in
            if step.index == 1 { lowAfterOne = step.lowResolutionFlow }
            #expect((step.flow != nil) == (step.index == 12))
        }
        let one = try model(image1, image2, options: RAFTOptions(iterations: 1))
        #expect(twelve.flow.shape == [1, 2, 150, 203] && twelve.lowResolutionFlow.shape == [1, 2, 19, 26])
        #expect(one.lowResolutionFlow == lowAfterOne)

        let checks: [(String, Tensor)] = [("low_1", one.lowResolutionFlow), ("up_1", one.flow),
                                         ("low_12", twelve.lowResolutionFlow), ("up_12", twelve.flow)]
        for (key, ours) in checks {
            let difference = FlowDifference(ours, try reference.require(key))
            #expect(difference.withinTolerance, "\(variant) \(key): \(difference)")
        }
        print("RAFT \(variant) parity: " + checks.map { "\($0.0) \(FlowDifference($0.1, try! reference.require($0.0)))" }.joined(separator: "; "))
        print("RAFT \(variant) 12 iterations at 152×208: \(twelve.timings)")
    }

    /// Warm start: `flowInit` = the fixture's forward-interpolated 12-iteration flow, 3 iterations.
    @Test(arguments: [RAFTVariant.basic, .small])
    func warmStartMatchesPyTorch(variant: RAFTVariant) throws {
        let model = try ModelFixtures.model(variant)
        let reference = try Fixtures.load("model_\(variant).safetensors")
        let (image1, image2) = try ModelFixtures.frames()
        let out = try model(image1, image2, flowInit: try reference.require("warm_init"), options: RAFTOptions(iterations: 3))
        let difference = FlowDifference(out.lowResolutionFlow, try reference.require("warm_low_3"))
        #expect(difference.withinTolerance, "\(variant) warm start: \(difference)")
        // The warm start matters: the result differs from a cold start.
        let cold = try model(image1, image2, options: RAFTOptions(iterations: 3))
        #expect(cold.lowResolutionFlow.maxAbsDifference(out.lowResolutionFlow) > 0.05)
    }

    /// The on-demand correlation gives the same flow as the all-pairs volume.
    @Test(arguments: [RAFTVariant.basic, .small])
    func onDemandCorrelationMatchesAllPairs(variant: RAFTVariant) throws {
        let model = try ModelFixtures.model(variant)
        let (image1, image2) = try ModelFixtures.frames()
        let a = try model(image1, image2, options: RAFTOptions(iterations: 12, correlation: .allPairs))
        let o = try model(image1, image2, options: RAFTOptions(iterations: 12, correlation: .onDemand))
        #expect(a.correlation == .allPairs && o.correlation == .onDemand)
        let difference = FlowDifference(o.flow, a.flow)
        #expect(difference.mean <= 1e-4 && difference.max <= 1e-3, "\(difference)")
        // A budget below the volume's size switches automatically.
        let auto = try model(image1, image2, options: RAFTOptions(iterations: 1, correlation: .automatic(memoryBudget: 1 << 20)))
        #expect(auto.correlation == .onDemand)
    }

    /// No workspace allocation after the first iteration, also when every iteration is upsampled; a second
    /// call on the same workspace allocates nothing at all.
    @Test(arguments: [RAFTVariant.basic, .small], [false, true])
    func iterationsDoNotAllocate(variant: RAFTVariant, everyIteration: Bool) throws {
        let model = try ModelFixtures.model(variant)
        let (image1, image2) = try ModelFixtures.frames()
        let workspace = Workspace()
        var counts: [Int] = []
        let options = RAFTOptions(iterations: 4, upsampleEveryIteration: everyIteration)
        _ = try model(image1, image2, options: options, workspace: workspace) { _ in counts.append(workspace.allocations) }
        #expect(counts.count == 4 && Set(counts).count == 1, "allocations after each iteration: \(counts)")
        let before = workspace.allocations
        _ = try model(image1, image2, options: options, workspace: workspace)
        #expect(workspace.allocations == before)
    }

    /// A batch of two gives each sample's single-pair result.
    @Test func batchMatchesSinglePairs() throws {
        let model = try ModelFixtures.model(.small)
        let (image1, image2) = try ModelFixtures.frames()
        let first = Tensor.concatenateBatch([image1, image2]), second = Tensor.concatenateBatch([image2, image1])
        let batch = try model(first, second, options: RAFTOptions(iterations: 3))
        let forward = try model(image1, image2, options: RAFTOptions(iterations: 3))
        let backward = try model(image2, image1, options: RAFTOptions(iterations: 3))
        #expect(batch.flow.shape == [2, 2, 150, 203])
        #expect(batch.flow == Tensor.concatenateBatch([forward.flow, backward.flow]))
        #expect(batch.lowResolutionFlow == Tensor.concatenateBatch([forward.lowResolutionFlow, backward.lowResolutionFlow]))
    }

    /// Video: the second pair is warm-started from the forward-interpolated first pair.
    @Test func flowSequenceWarmStarts() throws {
        let model = try ModelFixtures.model(.small)
        let (image1, image2) = try ModelFixtures.frames()
        let sequence = FlowSequence(model: model, options: RAFTOptions(iterations: 2))
        #expect(try sequence.append(image1) == nil)
        let first = try #require(try sequence.append(image2))
        let second = try #require(try sequence.append(image1))
        let expected = try model(image2, image1, flowInit: try RAFT.forwardInterpolate(first.lowResolutionFlow),
                                 options: RAFTOptions(iterations: 2))
        #expect(second.flow == expected.flow)
        let allocations = sequence.workspace.allocations
        _ = try sequence.append(image2)
        #expect(sequence.workspace.allocations == allocations)
        sequence.reset()
        #expect(try sequence.append(image1) == nil)
    }

    @Test func timingsAreRecorded() throws {
        let model = try ModelFixtures.model(.small)
        let (image1, image2) = try ModelFixtures.frames()
        let t = try model(image1, image2, options: RAFTOptions(iterations: 2)).timings
        for stage in t.stages { #expect(stage.duration > .zero, "\(stage.name)") }
        let parts = t.stages.dropLast().reduce(Duration.zero) { $0 + $1.duration }
        #expect(parts <= t.total)
    }
}

/// Input validation and weight loading (cheap: nothing runs past validation).
@Suite struct RAFTInputTests {
    @Test func parameterCountsAndVariants() throws {
        let basic = try ModelFixtures.model(.basic), small = try ModelFixtures.model(.small)
        #expect(basic.variant == .basic && small.variant == .small)
        #expect(basic.parameterCount == 5_257_536)
        #expect(small.parameterCount == 990_162)
        #expect(basic.contextEncoder.normalization == .batch && small.contextEncoder.normalization == .none)
        #expect(basic.updateBlock.hasMaskHead && !small.updateBlock.hasMaskHead)
    }

    @Test func rejectsBadInputs() throws {
        let model = try ModelFixtures.model(.small)
        let ok = Tensor(shape: [1, 3, 130, 150], repeating: 100)
        #expect(throws: RAFTError.frameSizeMismatch(image1: [1, 3, 130, 150], image2: [1, 3, 130, 151])) {
            try model(ok, Tensor(shape: [1, 3, 130, 151]))
        }
        #expect(throws: RAFTError.frameSizeMismatch(image1: [1, 3, 130, 150], image2: [2, 3, 130, 150])) {
            try model(ok, Tensor(shape: [2, 3, 130, 150]))
        }
        #expect(throws: RAFTError.invalidShape(input: "image1", shape: [1, 4, 130, 150], expected: "[N, 3, H, W] with N, H, W ≥ 1")) {
            try model(Tensor(shape: [1, 4, 130, 150]), ok)
        }
        var nan = ok
        nan[0, 2, 17, 33] = .nan
        #expect(throws: RAFTError.nonFinite(input: "image2", index: [0, 2, 17, 33])) { try model(ok, nan) }
        nan[0, 2, 17, 33] = -.infinity
        #expect(throws: RAFTError.nonFinite(input: "image1", index: [0, 2, 17, 33])) { try model(nan, ok) }
        #expect(throws: RAFTError.invalidIterations(0)) { try model(ok, ok, options: RAFTOptions(iterations: 0)) }
        // 130×150 pads to 136×152 → flowInit must be [1, 2, 17, 19].
        #expect(throws: RAFTError.invalidShape(input: "flowInit", shape: [1, 2, 16, 18], expected: "[1, 2, 17, 19]")) {
            try model(ok, ok, flowInit: Tensor(shape: [1, 2, 16, 18]))
        }
        var badInit = Tensor(shape: [1, 2, 17, 19])
        badInit[0, 1, 3, 4] = .nan
        #expect(throws: RAFTError.nonFinite(input: "flowInit", index: [0, 1, 3, 4])) { try model(ok, ok, flowInit: badInit) }
    }

    /// A raw official basic checkpoint layout: `module.` prefix, `num_batches_tracked`, duplicated `norm3`.
    @Test func officialCheckpointLayout() throws {
        let canonical = ProceduralWeights.raft(.basic, seed: 1)
        var raw: [String: Tensor] = [:]
        for (k, v) in canonical.tensors {
            raw["module." + k] = v
            if k.hasSuffix(".running_var") {
                raw["module." + k.replacingOccurrences(of: ".running_var", with: ".num_batches_tracked")] = try Tensor(shape: [], values: [1])
            }
        }
        for (k, v) in raw where k.contains(".downsample.1.") { raw[k.replacingOccurrences(of: ".downsample.1.", with: ".norm3.")] = v }
        #expect(raw.count == 179)   // as in raft-things.pth: 154 parameters and statistics, 17 num_batches_tracked, 8 duplicates
        let model = try RAFT(stateDict: StateDict(raw, source: "raft-things.pth"))
        #expect(model.parameterCount == 5_257_536 && model.contextEncoder.normalization == .batch)
    }

    @Test func weightErrors() throws {
        var sd = ProceduralWeights.raft(.small, seed: 2)
        // `module.` prefixes (DataParallel checkpoints) are accepted.
        let prefixed = StateDict(Dictionary(uniqueKeysWithValues: sd.tensors.map { ("module." + $0.key, $0.value) }), source: "x.pth")
        #expect(try RAFT(stateDict: prefixed).variant == .small)
        sd["update_block.extra.weight"] = Tensor(shape: [1])
        #expect(throws: WeightsError.unexpectedKeys(file: sd.source, keys: ["update_block.extra.weight"])) { try RAFT(stateDict: sd) }
        sd["update_block.extra.weight"] = nil
        sd["fnet.conv1.weight"] = Tensor(shape: [48, 3, 7, 7])
        #expect(throws: WeightsError.self) { try RAFT(stateDict: sd) }
        #expect(throws: WeightsError.unknownModel(file: "empty", reason: "no 'fnet.conv1.weight' (found 0 keys, e.g. [])")) {
            try RAFT(stateDict: StateDict([:], source: "empty"))
        }
    }
}

extension Tensor {
    /// Concatenation along the batch axis.
    static func concatenateBatch(_ parts: [Tensor]) -> Tensor {
        let shape = [parts.reduce(0) { $0 + $1.shape[0] }] + parts[0].shape.dropFirst()
        return Tensor(uncheckedShape: shape, values: parts.flatMap(\.scalars))
    }
}
