import ArgumentParser
import Foundation
import RAFTKit

/// Options shared by the commands that run the network.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Weights: .pth (official or torchvision), or .safetensors. Default: the bundled model.",
                                            valueName: "file"),
            completion: .file(extensions: ["pth", "safetensors"]))
    var weights: String?

    @Option(name: .long, help: "Expected architecture (basic|small); detected from the weights, this only checks it.")
    var model: RAFTVariant?

    @Option(name: .long, help: "Number of recurrent refinement iterations.")
    var iterations: Int = 12

    @Option(name: .long, help: "Padding to a multiple of 8: sintel (centred) or kitti (bottom).")
    var padding: InputPadder.Mode = .sintel

    @Option(name: .long, help: "Threads to compute on (default: all cores, or OPENBLAS_NUM_THREADS).")
    var threads: Int?

    func validate() throws {
        guard iterations >= 1 && iterations <= 1000 else { throw ValidationError("--iterations must be between 1 and 1000") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    /// Loads the weights (or the bundled model) and checks the architecture.
    func makeEstimator() throws -> FlowEstimator {
        if let threads { BLAS.threads = threads }
        let estimator = try weights.map { try FlowEstimator(contentsOf: URL(fileURLWithPath: $0)) } ?? FlowEstimator.bundled()
        if let model, model != estimator.variant {
            throw InputError(file: weights ?? estimator.weights?.file ?? "the bundled model",
                             reason: "the weights are RAFT-\(estimator.variant.rawValue), but --model \(model.rawValue) was requested")
        }
        return estimator
    }
}

extension RAFTVariant: ExpressibleByArgument {}
extension InputPadder.Mode: ExpressibleByArgument {}
