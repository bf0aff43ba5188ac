import Benchmark
import RAFTKit

// package-benchmark suite: percentiles and malloc counts. The malloc counts of a forward pass with 1 and
// with 13 iterations are equal when the iteration loop allocates nothing (see Benchmarks/README.md).
//   cd Benchmarks && swift package benchmark --no-progress --format markdown
// No `.peakMemoryResident`: its sampling thread allocates as time passes (about 0.4 mallocs per ms here), which
// made the longer 13-iteration runs count more mallocs than RAFTKit makes. `raftkit-bench memory` reports peaks.

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .mallocCountTotal],
                                           maxDuration: .seconds(10), maxIterations: 5)

    for variant in RAFTVariant.allCases {
        for iterations in [1, 13] {
            Benchmark("RAFT-\(variant.rawValue) 256x256, \(iterations) iteration(s)") { benchmark in
                let model = try RAFT(stateDict: ProceduralWeights.raft(variant, seed: 3))
                let image1 = try Tensor(shape: [1, 3, 256, 256], values: (0..<(3 * 256 * 256)).map { Float($0 % 251) })
                let image2 = try Tensor(shape: [1, 3, 256, 256], values: (0..<(3 * 256 * 256)).map { Float(($0 + 3) % 251) })
                let workspace = Workspace()
                let options = RAFTOptions(iterations: iterations)
                _ = try model(image1, image2, options: options, workspace: workspace)   // grow the workspace first
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations {
                    blackHole(try model(image1, image2, options: options, workspace: workspace))
                }
                benchmark.stopMeasurement()
            }
        }
    }

    Benchmark("update step basic 55x128 (with mask head)") { benchmark in
        let block = try UpdateBlock(configuration: .basic, stateDict: StateDict(
            ProceduralWeights.raft(.basic, seed: 7).tensors.filter { $0.key.hasPrefix("update_block.") }))
        let (h, w) = (55, 128)
        let hidden = Tensor(shape: [1, 128, h, w], repeating: 0.1), context = Tensor(shape: [1, 128, h, w], repeating: 0.2)
        let corr = Tensor(shape: [1, 324, h, w], repeating: 0.3), flow = Tensor(shape: [1, 2, h, w], repeating: 1)
        let workspace = Workspace()
        _ = try block(hidden: hidden, context: context, correlation: corr, flow: flow, workspace: workspace)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try block(hidden: hidden, context: context, correlation: corr, flow: flow, workspace: workspace))
        }
        benchmark.stopMeasurement()
    }
}
