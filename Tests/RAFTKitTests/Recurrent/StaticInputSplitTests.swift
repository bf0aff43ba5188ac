import Testing
@testable import RAFTKit

/// The context-precomputation optimisation (StaticInputSplit) against the plain GRU step it replaces.
@Suite("Recurrent: static input split") struct StaticInputSplitTests {
    /// ≤ 2e-6 with shifted-GEMM and F(2×2, 3×3) gates. F(4×4, 3×3) and F(4, 5) gates round differently when the
    /// context's channels are left out of their transforms: ≤ 6e-5 (measured 3.5e-5 with F(4×4), 96 hidden).
    @Test("precomputed context share gives the plain step's h'",
          arguments: [(SeqConvGRU.separableGeometries, 6, nil), ([ConvGeometry(square: 3)], 6, nil),
                      ([ConvGeometry(square: 3, dilation: 2)], 6, nil),
                      ([ConvGeometry(square: 3)], 64, .winograd),      // Winograd F(2×2, 3×3) gates (73 inputs)
                      ([ConvGeometry(square: 3)], 64, nil),            // Winograd F(4×4, 3×3) gates
                      ([ConvGeometry(square: 3)], 96, nil),
                      (SeqConvGRU.separableGeometries, 64, nil)] as [([ConvGeometry], Int, ConvolutionAlgorithm?)])
    func matchesPlainStep(geometries: [ConvGeometry], hid: Int, algorithm: ConvolutionAlgorithm?) throws {
        var rng = SeededGenerator(seed: 42)
        let (ctx, motion, h, w) = (5, 4, 9, 11)
        let steps = geometries.map { g -> ConvGRU in
            func conv() -> Conv2d {
                Conv2d(weight: .random([hid, hid + ctx + motion, g.kernelHeight, g.kernelWidth], in: -0.3...0.3, using: &rng),
                       bias: .random([hid], in: -0.3...0.3, using: &rng), geometry: g)
            }
            return ConvGRU(z: conv(), r: conv(), q: conv(), gateAlgorithm: algorithm)
        }
        let gru = SeqConvGRU(steps: steps)
        let expected: ConvolutionAlgorithm = algorithm ?? (hid < 64 ? .shiftedGEMM
            : geometries == [ConvGeometry(square: 3)] ? .winograd4x4 : .winograd1D)
        #expect(gru.steps[0].gateAlgorithm == expected)
        let split = gru.splittingStaticInput(channels: ctx)
        let hidden = Tensor.random([1, hid, h, w], using: &rng)
        let context = Tensor.random([1, ctx, h, w], in: 0...2, using: &rng)
        let dynamic = Tensor.random([1, motion, h, w], in: -2...2, using: &rng)
        let reference = try gru(hidden: hidden, input: Tensor.concatenateChannels([context, dynamic]))

        let workspace = Workspace()
        let cacheBuffer = ScratchBuffer()
        let cache = cacheBuffer.reserve(split.staticContributionCount(height: h, width: w))
        split.prepareStaticInput(context.pointer, height: h, width: w, output: cache, workspace: workspace)
        var result = hidden
        for _ in 0..<1 {
            split.step(hidden: result.mutablePointer(), dynamicInput: dynamic.pointer, staticContribution: cache,
                       height: h, width: w, workspace: workspace)
        }
        let tolerance: Float = expected == .winograd4x4 || expected == .winograd1D ? 6e-5 : 2e-6
        #expect(result.maxAbsDifference(reference) <= tolerance, "\(expected)")
    }
}
