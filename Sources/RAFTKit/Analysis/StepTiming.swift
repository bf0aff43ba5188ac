/// Wall-clock cost of one GRU iteration (`SeqConvGRU.step`, allocation-free with a reused ``Workspace``),
/// next to the bare `sgemm`s of the same shapes, the limit it chases.
public struct StepTiming: Sendable, Codable, Hashable {
    /// Median seconds of one iteration (all steps of the variant) over ``repeats`` runs after a warm-up.
    public var secondsPerIteration: Double
    /// Median seconds of the iteration's bare GEMMs alone: per step, `[2·hidden, K]·[K, pixels]` (z and r
    /// fused) and `[hidden, K]·[K, pixels]` (q), `K = (hidden + input)·kh·kw`, without im2col or gates.
    public var gemmSecondsPerIteration: Double
    /// Gate-convolution multiply-accumulates of one iteration.
    public var multiplyAccumulates: Int
    /// Timed runs per median.
    public var repeats: Int
    /// OpenBLAS threads used.
    public var threads: Int

    /// `2·MACs / time`, in 10⁹ FLOP/s.
    public var gflops: Double { 2 * Double(multiplyAccumulates) / secondsPerIteration / 1e9 }
    /// Bare-GEMM time over step time (1 = the step costs no more than its GEMMs).
    public var gemmFraction: Double { gemmSecondsPerIteration / secondsPerIteration }

    /// Times `variant` on an `height × width` grid with random weights and states.
    public static func measure(_ variant: GRUVariant, channels: GRUChannels, height: Int, width: Int,
                               repeats: Int, seed: UInt64 = 0) -> StepTiming {
        precondition(repeats > 0, "StepTiming needs at least one repeat")
        var rng = SplitMix64(seed: seed)
        let plane = height * width
        var h = (0..<(channels.hidden * plane)).map { _ in Float.random(in: -1...1, using: &rng) }
        let x = (0..<(channels.input * plane)).map { _ in Float.random(in: -1...1, using: &rng) }
        let gru = variant.randomGRU(channels, using: &rng)
        let workspace = Workspace()
        let step = h.withUnsafeMutableBufferPointer { hp in
            x.withUnsafeBufferPointer { xp in
                median(repeats: repeats) {
                    gru.step(hidden: hp.baseAddress!, input: xp.baseAddress!, height: height, width: width, workspace: workspace)
                }
            }
        }

        // The same GEMM shapes on their own.
        let maxK = variant.kernels.map { channels.total * $0.height * $0.width }.max()!
        let a = (0..<(2 * channels.hidden * maxK)).map { _ in Float.random(in: -0.05...0.05, using: &rng) }
        let b = (0..<(maxK * plane)).map { _ in Float.random(in: -1...1, using: &rng) }
        var c = [Float](repeating: 0, count: 2 * channels.hidden * plane)
        let gemm = a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    median(repeats: repeats) {
                        for kernel in variant.kernels {
                            let k = channels.total * kernel.height * kernel.width
                            for m in [2 * channels.hidden, channels.hidden] {
                                BLAS.sgemm(m: m, n: plane, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: plane,
                                           c: cp.baseAddress!, ldc: plane)
                            }
                        }
                    }
                }
            }
        }
        return StepTiming(secondsPerIteration: step, gemmSecondsPerIteration: gemm,
                          multiplyAccumulates: variant.multiplyAccumulates(channels, height: height, width: width),
                          repeats: repeats, threads: BLAS.threads)
    }

    /// Median wall-clock seconds of `body` over `repeats` runs after one warm-up run.
    static func median(repeats: Int, _ body: () -> Void) -> Double {
        body()
        let clock = ContinuousClock()
        var samples: [Double] = []
        for _ in 0..<repeats {
            let start = clock.now
            body()
            let d = clock.now - start
            samples.append(Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18)
        }
        samples.sort()
        return samples.count % 2 == 1 ? samples[samples.count / 2]
            : 0.5 * (samples[samples.count / 2 - 1] + samples[samples.count / 2])
    }
}
