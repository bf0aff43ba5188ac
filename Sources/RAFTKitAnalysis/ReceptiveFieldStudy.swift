import RAFTKit
import Foundation

/// Side-by-side comparison of GRU update operators: parameters, compute, analytical and measured receptive
/// field, and speed (issue 5: "RAFT replaced the 3×3 ConvGRU with a separable 1×5, 5×1 pair to increase the
/// receptive field without significantly increasing the size of the model" — measured).
///
/// For each ``GRUVariant`` at one grid and channel count it reports the exact parameter count and
/// multiply-accumulates per iteration, the analytical reach (``ReceptiveField``), the NaN-probe support and the
/// effective receptive field of the impulse response to x and to h₀ (``ImpulseResponse``) after each iteration,
/// and the median and fastest time of an iteration (``StepTiming``). Tables: ``report``, ``csv``; picture:
/// ``heatMap(iterations:scale:decades:)``; JSON: `Encodable`.
public struct ReceptiveFieldStudy: Sendable {
    /// What to measure.
    public struct Options: Sendable, Codable, Hashable {
        public var variants: [GRUVariant]
        public var channels: GRUChannels
        /// Grid (1/8 resolution in RAFT): 55×128 is RAFT's Sintel grid (436×1024 padded to 440×1024).
        public var height: Int
        public var width: Int
        /// Iterations K; the receptive field is reported after each k = 1…K.
        public var iterations: Int
        /// Random weight and state draws averaged in the impulse response.
        public var draws: Int
        /// Threshold τ of the measured extent: a cell counts when its response amplitude exceeds τ times the
        /// peak cell's (see ``ImpulseResponse/thresholdExtent(iteration:threshold:)``).
        public var threshold: Double
        /// How the response is measured (derivative, or finite difference with ``delta``).
        public var method: ResponseMethod
        /// Perturbation added to every channel of the perturbed state at the grid centre (finite difference).
        public var delta: Float
        /// The states perturbed, each in its own measurement (x: the steady response to an input feature;
        /// h₀: how hidden-state information spreads over iterations).
        public var perturbations: [PerturbedState]
        /// Timed iterations per median; 0 skips timing.
        public var repeats: Int
        public var seed: UInt64

        public init(variants: [GRUVariant] = GRUVariant.defaults, channels: GRUChannels = .basic,
                    height: Int = 55, width: Int = 128, iterations: Int = 8, draws: Int = 4,
                    threshold: Double = 1e-6, method: ResponseMethod = .linearized, delta: Float = 1, perturbations: [PerturbedState] = [.input, .hidden],
                    repeats: Int = 5, seed: UInt64 = 0) {
            self.variants = variants
            self.channels = channels
            self.height = height
            self.width = width
            self.iterations = iterations
            self.draws = draws
            self.threshold = threshold
            self.method = method
            self.delta = delta
            self.perturbations = perturbations
            self.repeats = repeats
            self.seed = seed
        }

        /// The perturbed cell, `(height/2, width/2)`.
        public var source: (y: Int, x: Int) { (height / 2, width / 2) }

        /// An upper estimate of the memory ``ReceptiveFieldStudy/run(_:progress:)`` needs, in bytes: the weights of
        /// every variant (all are held while timing), the largest variant's column buffers (twice, for the
        /// derivative) and gate buffers, the states and the energy maps.
        public var estimatedPeakBytes: Int {
            let pixels = height * width
            let weights = variants.reduce(0) { $0 + $1.parameterCount(channels) }
            let patch = variants.flatMap(\.kernels).map { channels.total * $0.height * $0.width }.max() ?? 0
            let workspace = 2 * patch * pixels + 8 * channels.hidden * pixels
            let gemmOperands = patch * pixels + 2 * channels.hidden * (patch + pixels)
            let states = 6 * channels.total * pixels
            let maps = 2 * 2 * iterations * pixels * max(1, perturbations.count)  // Double maps
            return 4 * (weights + workspace + gemmOperands + states + maps)
        }
    }

    /// The receptive field of one variant after one iteration.
    public struct Iteration: Sendable, Codable, Hashable {
        /// k (1-based).
        public var iteration: Int
        /// `k · reach` on an unbounded grid.
        public var theoretical: Extent
        /// Extent of the analytical dependency support on this grid (clipped by its borders).
        public var support: Extent
        /// Cells in the analytical support, and the fraction of its bounding window they cover (< 1 with holes).
        public var supportCells: Int
        public var supportCoverage: Double
        /// Extent of the NaN-probe support, and whether the probe's cells equal the analytical support exactly.
        public var probe: Extent
        public var probeMatchesAnalysis: Bool
        /// Extent of the cells whose response amplitude exceeds ``Options/threshold`` × the peak cell's.
        public var thresholdExtent: Extent
        /// Chebyshev radii holding 50 % and 90 % of the response energy (effective receptive field).
        public var radius50: Double
        public var radius90: Double
        /// RMS change per channel per unit perturbation at the strongest cell (how much of the perturbation is left).
        public var peakAmplitude: Double
        /// Response energy found outside the analytical support (0 when measurement and analysis agree).
        public var energyOutsideSupport: Double
    }

    /// The receptive field of one variant for one perturbed state, iteration by iteration.
    public struct Measurement: Sendable, Codable {
        public var perturbed: PerturbedState
        public var iterations: [Iteration]
        /// The measured impulse response (energy maps); not encoded.
        public var response: ImpulseResponse?
        /// Analytical support after each iteration; not encoded.
        public var supports: [GridMask] = []

        enum CodingKeys: String, CodingKey { case perturbed, iterations }
    }

    /// Everything measured for one variant.
    public struct Result: Sendable, Codable {
        public var spec: String
        public var name: String
        public var parameters: Int
        /// Gate-convolution multiply-accumulates of one iteration on the grid.
        public var multiplyAccumulates: Int
        public var reachPerIteration: Extent
        /// One per ``Options/perturbations``, in that order.
        public var measurements: [Measurement]
        public var timing: StepTiming?

        /// The measurement perturbing `state`, if it was measured.
        public func measurement(_ state: PerturbedState) -> Measurement? { measurements.first { $0.perturbed == state } }
    }

    public var options: Options
    public var results: [Result]
    /// OpenBLAS kernel and thread count used for the timings.
    public var blasCore: String
    public var threads: Int

    /// Runs the study; `progress` receives one line per finished stage (for a terminal).
    /// - Throws: ``AnalysisError/invalidArgument(_:expected:found:)``, before any work, for no variants or perturbed
    ///   states, an invalid variant or channel count, a side, `iterations` or `draws` below 1, negative `repeats`,
    ///   or a zero or non-finite `delta`.
    public static func run(_ options: Options, progress: (String) -> Void = { _ in }) throws(AnalysisError) -> ReceptiveFieldStudy {
        guard !options.variants.isEmpty else { throw .invalidArgument("variants", expected: "at least one", found: "none") }
        guard !options.perturbations.isEmpty else {
            throw .invalidArgument("perturbations", expected: "at least one", found: "none")
        }
        for v in options.variants { try v.validate() }
        try options.channels.validate()
        for (name, value) in [("height", options.height), ("width", options.width), ("iterations", options.iterations),
                              ("draws", options.draws)] {
            try AnalysisError.require(name, value, atLeast: 1)
        }
        try AnalysisError.require("repeats", options.repeats, atLeast: 0)
        guard options.delta.isFinite && options.delta != 0 else {
            throw .invalidArgument("delta", expected: "finite and non-zero", found: "\(options.delta)")
        }
        var results: [Result] = []
        let clock = ContinuousClock()
        for variant in options.variants {
            let start = clock.now
            var measurements: [Measurement] = []
            for state in options.perturbations {
                measurements.append(try measure(variant, perturbing: state, options: options))
            }
            results.append(Result(spec: variant.spec, name: variant.name,
                                  parameters: variant.parameterCount(options.channels),
                                  multiplyAccumulates: variant.multiplyAccumulates(options.channels, height: options.height,
                                                                                    width: options.width),
                                  reachPerIteration: ReceptiveField.reachPerIteration(variant), measurements: measurements,
                                  timing: nil))
            let d = clock.now - start
            progress("\(variant.spec): " + String(format: "%.1f s", Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18))
        }
        if options.repeats > 0 {
            let start = clock.now
            let timings = try StepTiming.measure(options.variants, channels: options.channels, height: options.height,
                                             width: options.width, repeats: options.repeats, seed: options.seed)
            for i in results.indices { results[i].timing = timings[i] }
            let d = clock.now - start
            progress("timing: " + String(format: "%.1f s", Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18))
        }
        return ReceptiveFieldStudy(options: options, results: results, blasCore: BLAS.coreName, threads: BLAS.threads)
    }

    /// Analytical support, NaN probe and finite-difference response of `variant` with `state` perturbed.
    static func measure(_ variant: GRUVariant, perturbing state: PerturbedState, options: Options) throws(AnalysisError) -> Measurement {
        let supports = try ReceptiveField.support(of: variant, height: options.height, width: options.width,
                                              source: options.source, perturbing: state, iterations: options.iterations)
        let response = try ImpulseResponse.measure(variant, channels: options.channels, height: options.height,
                                               width: options.width, iterations: options.iterations, draws: options.draws,
                                               delta: options.delta, perturbing: state, method: options.method,
                                               seed: options.seed)
        var rows: [Iteration] = []
        for k in 1...options.iterations {
            let mask = supports[k - 1]
            let extent = mask.extent(from: options.source)
            let windowCells = countWindow(extent, around: options.source, height: options.height, width: options.width)
            rows.append(Iteration(
                iteration: k,
                theoretical: ReceptiveField.extent(variant, iterations: k),
                support: extent,
                supportCells: mask.count,
                supportCoverage: Double(mask.count) / Double(max(windowCells, 1)),
                probe: response.probe[k - 1].extent(from: options.source),
                probeMatchesAnalysis: response.probe[k - 1] == mask,
                thresholdExtent: response.thresholdExtent(iteration: k, threshold: options.threshold),
                radius50: response.effectiveRadius(iteration: k, fraction: 0.5),
                radius90: response.effectiveRadius(iteration: k, fraction: 0.9),
                peakAmplitude: response.peakAmplitude[k - 1],
                energyOutsideSupport: response.energyOutside(mask, iteration: k)))
        }
        return Measurement(perturbed: state, iterations: rows, response: response, supports: supports)
    }

    /// Cells of the `(2y+1)×(2x+1)` window around `source` that lie on the grid.
    private static func countWindow(_ e: Extent, around s: (y: Int, x: Int), height: Int, width: Int) -> Int {
        let rows = min(height - 1, s.y + e.y) - max(0, s.y - e.y) + 1
        let cols = min(width - 1, s.x + e.x) - max(0, s.x - e.x) + 1
        return rows * cols
    }
}

extension ReceptiveFieldStudy: Encodable {
    enum CodingKeys: String, CodingKey { case options, results, blasCore, threads }
}
