/// SplitMix64: a small, fast, seedable generator so that every measurement reproduces from its seed.
package struct SplitMix64: RandomNumberGenerator, Sendable {
    package var state: UInt64
    package init(seed: UInt64) { state = seed }
    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The measured response of a GRU's hidden state to a perturbation at one cell, iteration by iteration.
///
/// Method (``measure(_:channels:height:width:iterations:draws:delta:perturbing:seed:)``): for each random draw,
/// weights get PyTorch's default initialisation (uniform `±1/√fan_in`) and h₀, x are uniform in [−1, 1]. Two
/// copies of the GRU state run `iterations` iterations of the real, allocation-free `SeqConvGRU.step` from
/// identical states, except that one has `delta` added to every channel of x (or of h₀) at the source cell.
/// After each iteration the cell energy `E(p) = Σ_c (h'_pert − h'_base)²` is normalised to unit sum; the maps
/// are averaged over draws. Cells outside the dependency support are bit-for-bit equal in both runs (each GEMM
/// output column depends only on its own im2col column), so their energy is exactly zero.
///
/// The support itself is measured separately with a NaN probe: x (or h₀) at the source is set to NaN in one
/// run, and after each iteration the cells whose hidden state holds a NaN are exactly the cells that depend on
/// the source, however small the dependency — a float32 finite difference cannot see a response that decays
/// by 10⁻¹⁰ over a few iterations, a NaN can.
public struct ImpulseResponse: Sendable {
    public let height: Int
    public let width: Int
    /// The perturbed cell, the grid centre `(height/2, width/2)`.
    public let source: (y: Int, x: Int)
    /// Draw-averaged normalised energy maps (`height·width`, row-major, sum 1), one per iteration.
    public let energy: [[Double]]
    /// Cells holding a NaN after each iteration of the NaN-probe run (first draw's weights and states).
    public let probe: [GridMask]

    /// Runs the measurement. Cost: `draws · 2 + 1` runs of `iterations` GRU iterations.
    /// - Parameters:
    ///   - delta: added to every channel of the perturbed state at the source cell.
    ///   - seed: draw d uses `SplitMix64(seed + d)` for h₀, x and then the weights (so all variants see the
    ///     same states in draw d).
    public static func measure(_ variant: GRUVariant, channels: GRUChannels, height: Int, width: Int,
                               iterations: Int, draws: Int, delta: Float, perturbing: PerturbedState,
                               seed: UInt64) -> ImpulseResponse {
        precondition(height > 0 && width > 0 && iterations > 0 && draws > 0, "ImpulseResponse: bad sizes")
        let source = (y: height / 2, x: width / 2)
        let plane = height * width
        let centre = source.y * width + source.x
        var sums = [[Double]](repeating: [Double](repeating: 0, count: plane), count: iterations)
        var probe: [GridMask] = []
        let workspace = Workspace()

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

            if draw == 0 {
                // NaN probe: the exact dependency support, iteration by iteration.
                var h = h0, input = x
                if perturbing == .input {
                    input = perturbed(x, channels: channels.input) { _ in .nan }
                } else {
                    h = perturbed(h0, channels: channels.hidden) { _ in .nan }
                }
                for _ in 0..<iterations {
                    h.withUnsafeMutableBufferPointer { hp in
                        input.withUnsafeBufferPointer { xp in
                            gru.step(hidden: hp.baseAddress!, input: xp.baseAddress!, height: height, width: width,
                                     workspace: workspace)
                        }
                    }
                    var mask = GridMask(height: height, width: width)
                    for c in 0..<channels.hidden {
                        for p in 0..<plane where h[c * plane + p].isNaN { mask.cells[p] = true }
                    }
                    probe.append(mask)
                }
            }

            // Finite difference: base and perturbed runs in lockstep.
            var hBase = h0, hPert = h0
            var xPert = x
            if perturbing == .input {
                xPert = perturbed(x, channels: channels.input) { $0 + delta }
            } else {
                hPert = perturbed(h0, channels: channels.hidden) { $0 + delta }
            }
            for k in 0..<iterations {
                hBase.withUnsafeMutableBufferPointer { hp in
                    x.withUnsafeBufferPointer { xp in
                        gru.step(hidden: hp.baseAddress!, input: xp.baseAddress!, height: height, width: width, workspace: workspace)
                    }
                }
                hPert.withUnsafeMutableBufferPointer { hp in
                    xPert.withUnsafeBufferPointer { xp in
                        gru.step(hidden: hp.baseAddress!, input: xp.baseAddress!, height: height, width: width, workspace: workspace)
                    }
                }
                var map = [Double](repeating: 0, count: plane)
                for c in 0..<channels.hidden {
                    let o = c * plane
                    for p in 0..<plane {
                        let d = Double(hPert[o + p]) - Double(hBase[o + p])
                        map[p] += d * d
                    }
                }
                let total = map.reduce(0, +)
                if total > 0 {
                    for p in 0..<plane { sums[k][p] += map[p] / total }
                }
            }
        }
        let energy = sums.map { $0.map { $0 / Double(draws) } }
        return ImpulseResponse(height: height, width: width, source: source, energy: energy, probe: probe)
    }

    /// Extent of the cells whose response amplitude exceeds `threshold` times the peak amplitude
    /// (`E(p) > threshold² · max E`) after iteration `iteration` (1-based).
    public func thresholdExtent(iteration: Int, threshold: Double) -> Extent {
        let map = energy[iteration - 1]
        let peak = map.max() ?? 0
        guard peak > 0 else { return Extent(y: 0, x: 0) }
        let cut = threshold * threshold * peak
        return GridMask(height: height, width: width, cells: map.map { $0 > cut }).extent(from: source)
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
