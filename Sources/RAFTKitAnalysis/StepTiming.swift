import RAFTKit
import Foundation

/// Wall-clock cost of one GRU iteration (`SeqConvGRU.step`, allocation-free with a reused ``Workspace``),
/// next to the bare `sgemm`s of the same shapes, the limit it chases.
public struct StepTiming: Sendable, Codable, Hashable {
    /// Median seconds of one iteration (all steps of the variant) over ``repeats`` runs after a warm-up.
    public var secondsPerIteration: Double
    /// Median seconds of the iteration's bare GEMMs alone: per step, `[2·hidden, K]·[K, pixels]` (z and r
    /// fused) and `[hidden, K]·[K, pixels]` (q), `K = (hidden + input)·kh·kw`: the direct convolution's GEMMs, without
    /// copies or gates.
    public var gemmSecondsPerIteration: Double
    /// Gate-convolution multiply-accumulates of one iteration.
    public var multiplyAccumulates: Int
    /// Timed runs per median.
    public var repeats: Int
    /// Threads used (``BLAS/threads``).
    public var threads: Int

    /// `2·MACs / time`, in 10⁹ FLOP/s.
    public var gflops: Double { 2 * Double(multiplyAccumulates) / secondsPerIteration / 1e9 }
    /// Bare-GEMM time over step time, from the fastest runs of each (1 = the step costs no more than its direct
    /// GEMMs; the rest is padding copies, gate arithmetic and activations). Above 1 where the gates use Winograd,
    /// whose GEMMs do 2.25× fewer multiplications than the direct ones measured here.
    public var gemmFraction: Double { minimumGemmSecondsPerIteration / minimumSecondsPerIteration }

    /// Fastest iteration over the repeats: the least disturbed by other processes on a shared machine.
    public var minimumSecondsPerIteration: Double
    /// Fastest run of the bare GEMMs.
    public var minimumGemmSecondsPerIteration: Double

    /// Times each variant on an `height × width` grid with random weights and states. The variants are timed
    /// round-robin (one iteration of each, then the next round), so that interference from other processes spreads
    /// evenly over them; each round also times the variant's bare GEMMs. One workspace serves all variants.
    /// - Throws: ``AnalysisError/invalidArgument(_:expected:found:)`` for no variants, an invalid variant or channel count, or a side or `repeats` below 1.
    public static func measure(_ variants: [GRUVariant], channels: GRUChannels, height: Int, width: Int,
                               repeats: Int, seed: UInt64 = 0) throws(AnalysisError) -> [StepTiming] {
        guard !variants.isEmpty else { throw .invalidArgument("variants", expected: "at least one", found: "none") }
        for v in variants { try v.validate() }
        try channels.validate()
        for (name, value) in [("height", height), ("width", width), ("repeats", repeats)] {
            try AnalysisError.require(name, value, atLeast: 1)
        }
        var rng = SplitMix64(seed: seed)
        let plane = height * width
        var hidden = (0..<(channels.hidden * plane)).map { _ in Float.random(in: -1...1, using: &rng) }
        let x = (0..<(channels.input * plane)).map { _ in Float.random(in: -1...1, using: &rng) }
        let grus = variants.map { $0.randomGRU(channels, using: &rng) }
        let maxK = variants.flatMap(\.kernels).map { channels.total * $0.height * $0.width }.max() ?? 0
        let a = (0..<(2 * channels.hidden * maxK)).map { _ in Float.random(in: -0.05...0.05, using: &rng) }
        let b = (0..<(maxK * plane)).map { _ in Float.random(in: -1...1, using: &rng) }
        var c = [Float](repeating: 0, count: 2 * channels.hidden * plane)
        let workspace = Workspace()
        let clock = ContinuousClock()
        var stepSamples = [[Double]](repeating: [], count: variants.count)
        var gemmSamples = stepSamples

        func seconds(_ body: () -> Void) -> Double {
            let start = clock.now
            body()
            let d = clock.now - start
            return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        }
        hidden.withUnsafeMutableBufferPointer { hp in
            x.withUnsafeBufferPointer { xp in
                a.withUnsafeBufferPointer { ap in
                    b.withUnsafeBufferPointer { bp in
                        c.withUnsafeMutableBufferPointer { cp in
                            func step(_ i: Int) {
                                grus[i].step(hidden: hp.baseAddress!, input: xp.baseAddress!, height: height, width: width,
                                             workspace: workspace)
                            }
                            func gemms(_ i: Int) {
                                for kernel in variants[i].kernels {
                                    let k = channels.total * kernel.height * kernel.width
                                    for m in [2 * channels.hidden, channels.hidden] {
                                        BLAS.sgemm(m: m, n: plane, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!,
                                                   ldb: plane, c: cp.baseAddress!, ldc: plane)
                                    }
                                }
                            }
                            for i in variants.indices { step(i); gemms(i) }  // warm-up, workspace growth
                            for _ in 0..<repeats {
                                for i in variants.indices {
                                    stepSamples[i].append(seconds { step(i) })
                                    gemmSamples[i].append(seconds { gemms(i) })
                                }
                            }
                        }
                    }
                }
            }
        }
        return variants.indices.map { i in
            StepTiming(secondsPerIteration: median(stepSamples[i]), gemmSecondsPerIteration: median(gemmSamples[i]),
                       multiplyAccumulates: variants[i].multiplyAccumulates(channels, height: height, width: width),
                       repeats: repeats, threads: BLAS.threads, minimumSecondsPerIteration: stepSamples[i].min()!,
                       minimumGemmSecondsPerIteration: gemmSamples[i].min()!)
        }
    }

    /// The median of `samples` (mean of the middle two for an even count).
    static func median(_ samples: [Double]) -> Double {
        let s = samples.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : 0.5 * (s[s.count / 2 - 1] + s[s.count / 2])
    }
}
