import ArgumentParser
import Foundation
import RAFTKit
import RAFTKitAnalysis

struct ReceptiveFieldCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receptive-field",
        abstract: "Compare GRU update operators: parameters, compute, receptive field (analytical and measured) and speed.",
        discussion: """
        For each GRU variant at one grid: exact parameters and multiply-accumulates per iteration; the analytical reach (a gated step reaches twice its kernel's half-extent, because r is a convolution of h inside q); the support measured by propagating a NaN through the real GRU (it must equal the analysis); the effective receptive field of the impulse response (the derivative of the hidden state with respect to x or h0 at the centre cell; Chebyshev radius holding 50 % / 90 % of the energy, averaged over random PyTorch-default weights and random states) after each iteration; and the median time of an iteration with GFLOP/s.

        Variant specs: conv:HxW[:dD] is one ConvGRU step, seq:HxW[:dD],HxW[:dD],… a sequence of steps (RAFT's SepConvGRU is seq:1x5,5x1). Default: conv:3x3 seq:1x5,5x1 seq:1x3,3x1 seq:1x7,7x1 conv:5x5 conv:3x3:d2.

        Examples:
          raftflow receptive-field --heatmap rf.png --csv rf.csv
          raftflow receptive-field --dims small --json rf-small.json
          raftflow receptive-field --variant conv:3x3 --variant seq:1x5,5x1 \
              --grid 24x24 --steps 3 --repeats 0
        """
    )

    @Option(name: .long, help: ArgumentHelp("GRU variant (repeatable), e.g. conv:3x3, seq:1x5,5x1, conv:3x3:d2.", valueName: "spec"))
    var variant: [String] = []
    @Option(name: .long, help: ArgumentHelp("Grid in cells (RAFT works at 1/8 resolution; 55x128 is Sintel's).", valueName: "HxW"))
    var grid = "55x128"
    @Option(name: .long, help: "Channel counts: basic (hidden 128, input 256) or small (hidden 96, input 146).")
    var dims: Dims = .basic
    @Option(name: .long, help: "Hidden channels (overrides --dims).")
    var hidden: Int?
    @Option(name: .long, help: "Input channels (overrides --dims).")
    var input: Int?
    @Option(name: .long, help: "GRU iterations K; the receptive field is reported after each k = 1…K.")
    var steps = 8
    @Option(name: .long, help: "Random weight and state draws averaged in the measured response.")
    var draws = 4
    @Option(name: .long, help: "A cell counts for the measured extent when its response amplitude exceeds this fraction of the peak cell's.")
    var threshold = 1e-6
    @Option(name: .long, help: "Response measurement: linearized (derivative of the GRU, free of rounding noise) or difference (two float32 runs, with and without --delta).")
    var method: Method = .linearized
    @Option(name: .long, help: "Perturbation added to every channel of the perturbed state at the centre cell (--method difference).")
    var delta: Float = 1
    @Option(name: .long, help: "State to perturb: input (x, fed to every iteration), hidden (h0 only) or both (two measurements).")
    var perturb: Perturb = .both
    @Option(name: .long, help: "Timed iterations per median (0 skips timing).")
    var repeats = 5
    @Option(name: .long, help: "Threads to compute on (default: all cores, or OPENBLAS_NUM_THREADS).")
    var threads: Int?
    @Option(name: .long, help: "Random seed.")
    var seed: UInt64 = 0
    @Option(name: .long, help: ArgumentHelp("Write the results as JSON.", valueName: "file"))
    var json: String?
    @Option(name: .long, help: ArgumentHelp("Write one CSV row per variant and iteration.", valueName: "file"))
    var csv: String?
    @Option(name: .long, help: ArgumentHelp("Write PNG heat maps of the impulse responses (a row per variant, a column per k = 1, 2, 4, …).", valueName: "out.png"))
    var heatmap: String?
    @Option(name: .long, help: "Heat-map pixels per grid cell.")
    var heatmapScale = 2

    enum Dims: String, ExpressibleByArgument, CaseIterable {
        case basic, small
    }

    enum Method: String, ExpressibleByArgument, CaseIterable {
        case linearized, difference
    }

    enum Perturb: String, ExpressibleByArgument, CaseIterable {
        case input, hidden, both

        var states: [PerturbedState] { self == .input ? [.input] : self == .hidden ? [.hidden] : [.input, .hidden] }
    }

    /// The parsed variants (the defaults when none is given).
    func variants() throws -> [GRUVariant] {
        if variant.isEmpty { return GRUVariant.defaults }
        return try variant.map { spec in
            do { return try GRUVariant(parsing: spec) } catch { throw ValidationError("\(error)") }
        }
    }

    /// `55x128` → (55, 128).
    func gridSize() throws -> (height: Int, width: Int) {
        let parts = grid.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, let h = Int(parts[0]), let w = Int(parts[1]), h > 0, w > 0 else {
            throw ValidationError("--grid '\(grid)' is not HxW with positive integers, e.g. 55x128")
        }
        guard h <= 1024 && w <= 1024 else { throw ValidationError("--grid '\(grid)' is larger than 1024x1024 cells") }
        return (h, w)
    }

    func validate() throws {
        _ = try variants()
        _ = try gridSize()
        for (name, value) in [("--hidden", hidden), ("--input", input)] {
            if let value, !(1...4096).contains(value) { throw ValidationError("\(name) must be in 1…4096, got \(value)") }
        }
        guard (1...256).contains(steps) else { throw ValidationError("--steps must be in 1…256, got \(steps)") }
        guard (1...1000).contains(draws) else { throw ValidationError("--draws must be in 1…1000, got \(draws)") }
        guard threshold > 0 && threshold < 1 else { throw ValidationError("--threshold must be in (0, 1), got \(threshold)") }
        guard delta.isFinite && delta != 0 else { throw ValidationError("--delta must be finite and non-zero, got \(delta)") }
        guard (0...10_000).contains(repeats) else { throw ValidationError("--repeats must be in 0…10000, got \(repeats)") }
        if let threads, !(1...1024).contains(threads) { throw ValidationError("--threads must be in 1…1024, got \(threads)") }
        guard (1...16).contains(heatmapScale) else { throw ValidationError("--heatmap-scale must be in 1…16, got \(heatmapScale)") }
        let options = try studyOptions()
        let gib = Double(options.estimatedPeakBytes) / Double(1 << 30)
        guard gib <= Self.memoryLimitGiB else {
            throw ValidationError(String(format: "this study needs about %.1f GiB of memory (limit %.0f GiB); use a smaller --grid, fewer channels or smaller kernels", gib, Self.memoryLimitGiB))
        }
        if heatmap != nil {
            // Rows of panels per variant, columns per perturbed state and shown iteration, plus labels and legend.
            let columns = options.perturbations.count * ReceptiveFieldHeatMap.defaultIterations(upTo: steps).count
            let width = 600 + columns * (options.width * heatmapScale + 40)
            let height = 200 + options.variants.count * (max(options.height * heatmapScale, 80) + 10)
            guard width * height <= 1 << 26 else {
                throw ValidationError("the heat map would be about \(width)x\(height) pixels; lower --heatmap-scale or the grid")
            }
        }
    }

    /// Largest memory estimate a run may have (the machines this runs on have tens of GiB).
    static let memoryLimitGiB = 8.0

    /// The study the options describe (after validation).
    func studyOptions() throws -> ReceptiveFieldStudy.Options {
        let base = dims == .basic ? GRUChannels.basic : GRUChannels.small
        let channels = GRUChannels(hidden: hidden ?? base.hidden, input: input ?? base.input)
        let (height, width) = try gridSize()
        return ReceptiveFieldStudy.Options(variants: try variants(), channels: channels, height: height, width: width,
                                           iterations: steps, draws: draws, threshold: threshold,
                                           method: method == .linearized ? .linearized : .difference, delta: delta,
                                           perturbations: perturb.states, repeats: repeats, seed: seed)
    }

    func run() throws {
        try reportingInputErrors {
            try checkOutputs([json, csv, heatmap])
            if let threads { BLAS.threads = threads }
            let options = try studyOptions()
            let study = try ReceptiveFieldStudy.run(options) { printError("receptive-field: \($0)") }
            print(study.report, terminator: "")
            if let json { try writeText(jsonString(study) + "\n", to: json) }
            if let csv { try writeText(study.csv, to: csv) }
            if let heatmap {
                do { try study.heatMap(scale: heatmapScale).image.write(to: URL(fileURLWithPath: heatmap)) } catch {
                    throw OutputError(path: heatmap, reason: "\(error)")
                }
            }
        }
    }
}

/// Writes UTF-8 text atomically, reporting failures as output errors.
private func writeText(_ text: String, to path: String) throws {
    do { try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
        throw OutputError(path: path, reason: error.localizedDescription)
    }
}
