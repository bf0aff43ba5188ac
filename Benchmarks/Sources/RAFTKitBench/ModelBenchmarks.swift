import Foundation
import RAFTKit

/// One update-block step at a 1/8-resolution grid (Sintel 55×128 by default), random procedural weights.
struct UpdateStepResult: Codable {
    var variant: String, grid: String
    var withMaskMs: Double, withoutMaskMs: Double
    var gmac: Double
    var gflops: Double
}

func runUpdateStepBenchmarks(height: Int = 55, width: Int = 128, repeats: Int) throws -> [UpdateStepResult] {
    var results: [UpdateStepResult] = []
    for variant in RAFTVariant.allCases {
        let config = RAFTConfiguration.for(variant)
        let block = try UpdateBlock(configuration: config,
                                    stateDict: subset(ProceduralWeights.raft(variant, seed: 7), prefix: "update_block."))
        var rng = SystemRandomNumberGenerator()
        func random(_ c: Int, _ scale: Float) throws -> Tensor {
            try Tensor(shape: [1, c, height, width], values: (0..<(c * height * width)).map { _ in Float.random(in: -scale...scale, using: &rng) })
        }
        let hidden = try random(config.hiddenChannels, 1), context = try random(config.contextChannels, 1)
        let corr = try random(config.correlationChannels, 4), flow = try random(2, 3)
        // The allocation-free step into reused tensors: what one iteration of RAFT's loop costs. The context
        // cache (the context's share of the GRU gates) is recomputed inside every step here, as in PyTorch's
        // update block, so this is the cost of a stand-alone step, not of the model's loop.
        let workspace = Workspace()
        var h = Tensor(shape: hidden.shape), delta = Tensor(shape: [1]), mask: Tensor? = Tensor(shape: [1]), noMask: Tensor? = nil
        func reset() {
            hidden.withUnsafeBufferPointer { src in
                h.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: src.baseAddress!, count: src.count) }
            }
        }
        let withMask = try medianSeconds(repeats: repeats) {
            reset()
            try block.step(hidden: &h, context: context, correlation: corr, flow: flow, deltaFlow: &delta, mask: &mask, workspace: workspace)
        }
        let withoutMask = try medianSeconds(repeats: repeats) {
            reset()
            try block.step(hidden: &h, context: context, correlation: corr, flow: flow, deltaFlow: &delta, mask: &noMask, workspace: workspace)
        }
        let macs = Double(block.multiplyAccumulates(height: height, width: width))
        results.append(UpdateStepResult(variant: variant.rawValue, grid: "\(height)x\(width)", withMaskMs: withMask * 1000,
                                        withoutMaskMs: withoutMask * 1000, gmac: macs / 1e9,
                                        gflops: 2 * macs / (variant == .basic ? withMask : withoutMask) / 1e9))
    }
    return results
}

/// Keys under `prefix`, with the prefix kept (UpdateBlock(stateDict:prefix:) expects full names).
func subset(_ dict: StateDict, prefix: String) -> StateDict {
    StateDict(dict.tensors.filter { $0.key.hasPrefix(prefix) }, source: dict.source)
}

/// All-pairs volume + 4-level pyramid + one look-up at 55×128, and the on-demand variant.
struct CorrelationResult: Codable {
    var variant: String, grid: String, channels: Int
    var allPairsMs: Double, onDemandMs: Double
}

func runCorrelationBenchmarks(height: Int = 55, width: Int = 128, repeats: Int) throws -> [CorrelationResult] {
    var results: [CorrelationResult] = []
    for variant in RAFTVariant.allCases {
        let config = RAFTConfiguration.for(variant)
        let d = config.featureChannels
        var rng = SystemRandomNumberGenerator()
        let f1 = try Tensor(shape: [1, d, height, width], values: (0..<(d * height * width)).map { _ in Float.random(in: -1...1, using: &rng) })
        let f2 = try Tensor(shape: [1, d, height, width], values: (0..<(d * height * width)).map { _ in Float.random(in: -1...1, using: &rng) })
        var coords = Tensor(shape: [1, 2, height, width])
        for y in 0..<height { for x in 0..<width {
            coords[0, 0, y, x] = Float(x) + Float.random(in: -3...3, using: &rng)
            coords[0, 1, y, x] = Float(y) + Float.random(in: -3...3, using: &rng)
        } }
        let ws = Workspace()
        let all = try medianSeconds(repeats: repeats) {
            _ = try Correlation.lookup(fmap1: f1, fmap2: f2, coords: coords, radius: config.correlationRadius, mode: .allPairs, workspace: ws)
        }
        let onDemand = try medianSeconds(repeats: repeats) {
            _ = try Correlation.lookup(fmap1: f1, fmap2: f2, coords: coords, radius: config.correlationRadius, mode: .onDemand, workspace: ws)
        }
        results.append(CorrelationResult(variant: variant.rawValue, grid: "\(height)x\(width)", channels: d,
                                         allPairsMs: all * 1000, onDemandMs: onDemand * 1000))
    }
    return results
}

/// A full forward pass (12 iterations) with the per-stage split and peak resident memory.
struct ModelResult: Codable {
    var variant: String, size: String, correlation: String, iterations: Int
    var totalMs: Double
    var stagesMs: [String: Double]
    var workspaceMiB: Double
    var peakResidentMiB: Double
}

func runModelBenchmark(variant: RAFTVariant, height: Int, width: Int, iterations: Int, correlation: CorrelationMode,
                       repeats: Int, weights: String? = nil, precision: Precision = .float32) throws -> ModelResult {
    // A weight file (e.g. the seeded weights that Scripts/bench-runtimes gives every runtime) must be `variant`'s.
    let stateDict = try weights.map { try WeightsLoader.load(contentsOf: URL(fileURLWithPath: $0)).stateDict }
        ?? ProceduralWeights.raft(variant, seed: 3)
    let model = try RAFT(stateDict: stateDict)
    guard model.variant == variant else {
        throw WeightsError.unknownModel(file: weights ?? "", reason: "holds RAFT-\(model.variant.rawValue), not \(variant.rawValue)")
    }
    var rng = SystemRandomNumberGenerator()
    let i1 = try Tensor(shape: [1, 3, height, width], values: (0..<(3 * height * width)).map { _ in Float.random(in: 0...255, using: &rng) })
    let i2 = try Tensor(shape: [1, 3, height, width], values: (0..<(3 * height * width)).map { _ in Float.random(in: 0...255, using: &rng) })
    let options = RAFTOptions(iterations: iterations, correlation: correlation, precision: precision)
    let workspace = Workspace()
    var last: RAFTOutput?
    let seconds = try medianSeconds(repeats: repeats) {
        last = try model(i1, i2, options: options, workspace: workspace)
    }
    var stages: [String: Double] = [:]
    for (name, d) in last!.timings.stages {
        stages[name] = (Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18) * 1000
    }
    return ModelResult(variant: variant.rawValue, size: "\(width)x\(height)", correlation: "\(last!.correlation)",
                       iterations: iterations, totalMs: seconds * 1000, stagesMs: stages,
                       workspaceMiB: Double(workspace.bytes) / 1_048_576, peakResidentMiB: Double(peakResidentBytes()) / 1_048_576)
}

/// The cost of one iteration inside RAFT's loop (look-up + update step with the precomputed context share,
/// no mask head): (time with 13 iterations − time with 1) / 12, at 1024×440 (a 55×128 grid).
struct LoopIterationResult: Codable {
    var variant: String
    var oneIterationMs: Double, thirteenIterationsMs: Double
    var perIterationMs: Double
}

func runLoopIterationBenchmarks(repeats: Int) throws -> [LoopIterationResult] {
    try RAFTVariant.allCases.map { v in
        let one = try runModelBenchmark(variant: v, height: 440, width: 1024, iterations: 1, correlation: .allPairs, repeats: repeats)
        let thirteen = try runModelBenchmark(variant: v, height: 440, width: 1024, iterations: 13, correlation: .allPairs, repeats: repeats)
        return LoopIterationResult(variant: v.rawValue, oneIterationMs: one.totalMs, thirteenIterationsMs: thirteen.totalMs,
                                   perIterationMs: (thirteen.totalMs - one.totalMs) / 12)
    }
}
