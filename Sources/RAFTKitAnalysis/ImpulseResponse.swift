import RAFTKit

/// How the response to a perturbation is measured.
public enum ResponseMethod: String, Sendable, Hashable, Codable, CaseIterable {
    /// Forward-mode derivative of the real GRU iterations (a Jacobian column, the δ → 0 limit of a finite
    /// difference), carried along the base run and rescaled every iteration: no cancellation, so responses down
    /// to 10⁻³⁰ of the peak are resolved.
    case linearized
    /// Two float32 runs, with and without `delta` added at the source: the literal experiment, including the
    /// GRU's nonlinearity, but changes below ~10⁻⁶ (absolute) are lost in rounding noise.
    case difference
}

/// The measured response of a GRU's hidden state to a perturbation at one cell, iteration by iteration.
///
/// Method (``measure(_:channels:height:width:iterations:draws:delta:perturbing:method:seed:)``): for each
/// random draw, weights get PyTorch's default initialisation (uniform `±1/√fan_in`) and h₀, x are uniform in
/// [−1, 1]. The GRU runs `iterations` iterations of the same arithmetic as `SeqConvGRU.step`, and the change of
/// its hidden state caused by perturbing every channel of x (or of h₀) at the source cell is tracked, either
/// as a derivative (``ResponseMethod/linearized``) or as the difference of two runs
/// (``ResponseMethod/difference``). After each iteration the cell energy `E(p) = Σ_c Δh_c(p)²` is normalised
/// to unit sum and averaged over draws (as in Luo et al.'s effective receptive field).
///
/// The support is measured separately with a NaN probe: x (or h₀) at the source is set to NaN in a run of
/// the real `SeqConvGRU.step` with its gates computed by shifted GEMMs, and after each iteration the cells whose
/// hidden state holds a NaN are exactly the cells that depend on the source, however weakly (a NaN propagates
/// through every multiply-add, even by a zero weight, and nowhere else: each output reads only its own taps).
/// Winograd gates (the default from 64 channels) would not do: their transforms mix whole tiles.
public struct ImpulseResponse: Sendable {
    public let height: Int
    public let width: Int
    /// The perturbed cell, the grid centre `(height/2, width/2)`.
    public let source: (y: Int, x: Int)
    public let method: ResponseMethod
    /// The perturbation size (``ResponseMethod/difference``; 1 for the derivative).
    public let delta: Float
    /// Draw-averaged normalised energy maps (`height·width`, row-major, sum 1), one per iteration.
    public let energy: [[Double]]
    /// Draw- and channel-averaged squared change per unit perturbation, `mean_c (Δh_c(p)/δ)²`, one map per iteration.
    public let meanSquare: [[Double]]
    /// Draw-averaged RMS change per channel per unit perturbation at the strongest cell, per iteration: how much
    /// of the perturbation the hidden state still carries.
    public let peakAmplitude: [Double]
    /// Cells holding a NaN after each iteration of the NaN-probe run (first draw's weights and states).
    public let probe: [GridMask]

    /// ``ResponseMethod/difference`` counts a cell only when its RMS change per channel exceeds this (absolute)
    /// value: float32 rounding noise of h (|h| < 1, ulp ≤ 6·10⁻⁸, accumulated over the iterations) stays below
    /// 10⁻⁶.
    public static let differenceNoiseGuard = 1e-5

    /// Runs the measurement. Cost: per draw one run of `iterations` iterations with twice the work of a step
    /// (the derivative, or the second run), plus one NaN-probe run.
    /// - Parameters:
    ///   - delta: added to every channel of the perturbed state at the source cell (``ResponseMethod/difference``).
    ///   - seed: draw d uses `SplitMix64(seed + d)` for h₀, x and then the weights (so all variants see the
    ///     same states in draw d).
    /// - Throws: ``AnalysisError/invalidArgument(_:expected:found:)`` for an invalid variant or channel count, a side, `iterations` or `draws` below 1, or a
    ///   zero or non-finite `delta`.
    public static func measure(_ variant: GRUVariant, channels: GRUChannels, height: Int, width: Int,
                               iterations: Int, draws: Int, delta: Float = 1, perturbing: PerturbedState,
                               method: ResponseMethod = .linearized, seed: UInt64) throws(AnalysisError) -> ImpulseResponse {
        try variant.validate()
        try channels.validate()
        for (name, value) in [("height", height), ("width", width), ("iterations", iterations), ("draws", draws)] {
            try AnalysisError.require(name, value, atLeast: 1)
        }
        guard delta.isFinite && delta != 0 else {
            throw .invalidArgument("delta", expected: "finite and non-zero", found: "\(delta)")
        }
        let source = (y: height / 2, x: width / 2)
        let plane = height * width
        let centre = source.y * width + source.x
        var energy = [[Double]](repeating: [Double](repeating: 0, count: plane), count: iterations)
        var meanSquare = energy
        var peakAmplitude = [Double](repeating: 0, count: iterations)
        var probe: [GridMask] = []
        let workspace = Workspace()

        /// Accumulates one draw's change `values·scale` (hidden-state layout) after iteration k.
        func record(_ values: [Float], scale: Double, iteration k: Int) {
            var map = [Double](repeating: 0, count: plane)
            for c in 0..<channels.hidden {
                let o = c * plane
                for p in 0..<plane {
                    let d = Double(values[o + p])
                    map[p] += d * d
                }
            }
            let total = map.reduce(0, +)
            guard total > 0 else { return }
            let perChannel = scale * scale / Double(channels.hidden)
            for p in 0..<plane {
                energy[k][p] += map[p] / total
                meanSquare[k][p] += map[p] * perChannel
            }
            peakAmplitude[k] += (map.max()! * perChannel).squareRoot()
        }

        for draw in 0..<draws {
            var rng = SplitMix64(seed: seed &+ UInt64(draw))
            let h0 = (0..<(channels.hidden * plane)).map { _ in Float.random(in: -1...1, using: &rng) }
            let x = (0..<(channels.input * plane)).map { _ in Float.random(in: -1...1, using: &rng) }
            let gru = variant.randomGRU(channels, using: &rng)

            func perturbed(_ values: [Float], channels count: Int, by change: (Float) -> Float) -> [Float] {
                var v = values
                for c in 0..<count { v[c * plane + centre] = change(v[c * plane + centre]) }
                return v
            }
            func step(_ h: inout [Float], _ input: [Float], through gru: SeqConvGRU) {
                h.withUnsafeMutableBufferPointer { hp in
                    input.withUnsafeBufferPointer { xp in
                        gru.step(hidden: hp.baseAddress!, input: xp.baseAddress!, height: height, width: width, workspace: workspace)
                    }
                }
            }

            if draw == 0 {
                // NaN probe: the exact dependency support, iteration by iteration. Through shifted GEMMs: a Winograd
                // transform mixes the whole input tile, so a NaN there would reach every output of the tile, even
                // the outputs that do not depend on it (their weights are zero, but 0·NaN is NaN).
                let exact = SeqConvGRU(steps: gru.steps.map {
                    ConvGRU(z: $0.z, r: $0.r, q: $0.q, gateAlgorithm: .shiftedGEMM)
                })
                var h = h0, input = x
                if perturbing == .input {
                    input = perturbed(x, channels: channels.input) { _ in .nan }
                } else {
                    h = perturbed(h0, channels: channels.hidden) { _ in .nan }
                }
                for _ in 0..<iterations {
                    step(&h, input, through: exact)
                    var mask = GridMask(unchecked: height, width)
                    for c in 0..<channels.hidden {
                        for p in 0..<plane where h[c * plane + p].isNaN { mask.cells[p] = true }
                    }
                    probe.append(mask)
                }
            }

            switch method {
            case .difference:
                var hBase = h0, hPert = h0
                var xPert = x
                if perturbing == .input {
                    xPert = perturbed(x, channels: channels.input) { $0 + delta }
                } else {
                    hPert = perturbed(h0, channels: channels.hidden) { $0 + delta }
                }
                for k in 0..<iterations {
                    step(&hBase, x, through: gru)
                    step(&hPert, xPert, through: gru)
                    record(zip(hPert, hBase).map { $0 - $1 }, scale: 1 / Double(delta), iteration: k)
                }
            case .linearized:
                var h = h0
                var tangentH = [Float](repeating: 0, count: h0.count)
                var tangentX = [Float](repeating: 0, count: x.count)
                if perturbing == .input {
                    tangentX = perturbed(tangentX, channels: channels.input) { _ in 1 }
                } else {
                    tangentH = perturbed(tangentH, channels: channels.hidden) { _ in 1 }
                }
                var scale = 1.0  // the true derivative is scale · (tangentH, tangentX)
                for k in 0..<iterations {
                    h.withUnsafeMutableBufferPointer { hp in
                        tangentH.withUnsafeMutableBufferPointer { tp in
                            x.withUnsafeBufferPointer { xp in
                                tangentX.withUnsafeBufferPointer { txp in
                                    gru.stepWithTangent(hidden: hp.baseAddress!, input: xp.baseAddress!,
                                                        tangentHidden: tp.baseAddress!, tangentInput: txp.baseAddress!,
                                                        height: height, width: width, workspace: workspace)
                                }
                            }
                        }
                    }
                    record(tangentH, scale: scale, iteration: k)
                    // Keep the tangent near 1 (the system is linear in (ṫh, ṫx)) and flush what can no longer
                    // matter, so that nothing underflows into slow subnormals.
                    let m = tangentH.reduce(Float(0)) { max($0, abs($1)) }
                    guard m > 0 else { continue }
                    for i in 0..<tangentH.count {
                        let v = tangentH[i] / m
                        tangentH[i] = abs(v) < 1e-20 ? 0 : v
                    }
                    for i in 0..<tangentX.count where tangentX[i] != 0 { tangentX[i] /= m }
                    scale *= Double(m)
                }
            }
        }
        let n = Double(draws)
        return ImpulseResponse(height: height, width: width, source: source, method: method,
                               delta: method == .difference ? delta : 1,
                               energy: energy.map { $0.map { $0 / n } }, meanSquare: meanSquare.map { $0.map { $0 / n } },
                               peakAmplitude: peakAmplitude.map { $0 / n }, probe: probe)
    }

    /// Whether cell `p`'s change after iteration `iteration` is resolved: always for the derivative; for a finite
    /// difference only above ``differenceNoiseGuard`` RMS change per channel.
    public func isResolved(iteration: Int, cell p: Int) -> Bool {
        guard method == .difference else { return true }
        let guardPerUnit = Self.differenceNoiseGuard / Double(abs(delta))  // meanSquare is per unit perturbation
        return meanSquare[iteration - 1][p] > guardPerUnit * guardPerUnit
    }

    /// Extent of the cells whose response amplitude exceeds `threshold` times the peak amplitude after iteration
    /// `iteration` (1-based): `E(p) > threshold² · max E` on the draw-averaged map, and, for a finite
    /// difference, resolved above rounding noise (``isResolved(iteration:cell:)``).
    public func thresholdExtent(iteration: Int, threshold: Double) -> Extent {
        let map = energy[iteration - 1]
        let peak = map.max() ?? 0
        guard peak > 0 else { return Extent(y: 0, x: 0) }
        let cut = threshold * threshold * peak
        let cells = (0..<map.count).map { map[$0] > cut && isResolved(iteration: iteration, cell: $0) }
        return GridMask(unchecked: height, width, cells: cells).extent(from: source)
    }

    /// Effective receptive field: the Chebyshev radius ρ whose square window `(2ρ+1)²` around the source holds
    /// `fraction` of the response energy. Ring ρ ≥ 1 (the cells at Chebyshev distance ρ) spans radii
    /// `(ρ − ½, ρ + ½]` and the source cell `[0, ½]`; the cumulative energy is interpolated linearly inside a
    /// ring, so the radius is continuous and monotone in the energy distribution.
    public func effectiveRadius(iteration: Int, fraction: Double) -> Double {
        let map = energy[iteration - 1]
        let maxRing = max(source.y, height - 1 - source.y, source.x, width - 1 - source.x)
        var rings = [Double](repeating: 0, count: maxRing + 1)
        for y in 0..<height {
            for x in 0..<width {
                rings[max(abs(y - source.y), abs(x - source.x))] += map[y * width + x]
            }
        }
        let total = rings.reduce(0, +)
        guard total > 0 else { return 0 }
        let target = fraction * total
        if rings[0] >= target { return 0.5 * target / rings[0] }
        var cumulative = rings[0]
        var rho = 1
        while rho <= maxRing {
            if cumulative + rings[rho] >= target && rings[rho] > 0 {
                return Double(rho) - 0.5 + (target - cumulative) / rings[rho]
            }
            cumulative += rings[rho]
            rho += 1
        }
        return Double(maxRing) + 0.5
    }

    /// Fraction of the response energy outside `mask` after iteration `iteration` (zero when the measurement
    /// agrees with the dependency analysis).
    public func energyOutside(_ mask: GridMask, iteration: Int) -> Double {
        let map = energy[iteration - 1]
        var outside = 0.0
        for p in 0..<map.count where !mask.cells[p] { outside += map[p] }
        return outside
    }
}
