import Foundation
import Testing
@testable import RAFTKit

/// The GRU step written from the equations with allocating convolutions and Double scalar math.
func naiveGRUStep(_ gru: ConvGRU, hidden h: Tensor, input x: Tensor) throws -> Tensor {
    let hx = try Tensor.concatenateChannels([h, x])
    let zPre = gru.z(hx), rPre = gru.r(hx)
    func sigmoid(_ v: Float) -> Double { 1 / (1 + Foundation.exp(-Double(v))) }
    var rh = h
    for i in 0..<h.count { rh.withUnsafeMutableBufferPointer { $0[i] = Float(sigmoid(rPre.pointer[i]) * Double(h.pointer[i])) } }
    let qPre = gru.q(try Tensor.concatenateChannels([rh, x]))
    var out = h
    out.withUnsafeMutableBufferPointer { o in
        for i in 0..<h.count {
            let z = sigmoid(zPre.pointer[i])
            let q = Foundation.tanh(Double(qPre.pointer[i]))
            o[i] = Float((1 - z) * Double(h.pointer[i]) + z * q)
        }
    }
    return out
}

@Suite("Recurrent: ConvGRU and SeqConvGRU")
struct RecurrentTests {
    static func randomGRU(hidden: Int, input: Int, geometry: ConvGeometry, rng: inout SeededGenerator) -> ConvGRU {
        let shape = [hidden, hidden + input, geometry.kernelHeight, geometry.kernelWidth]
        let bound = 1 / Float(shape[1] * shape[2] * shape[3]).squareRoot() * 2
        func conv() -> Conv2d {
            Conv2d(weight: .random(shape, in: -bound...bound, using: &rng), bias: .random([hidden], in: -0.5...0.5, using: &rng),
                   geometry: geometry)
        }
        return ConvGRU(z: conv(), r: conv(), q: conv())
    }

    static let geometries: [ConvGeometry] = [
        ConvGeometry(square: 3), ConvGeometry(square: 5), ConvGeometry(square: 3, dilation: 2),
        ConvGeometry(kernel: (1, 5), padding: (0, 2)), ConvGeometry(kernel: (5, 1), padding: (2, 0)),
        ConvGeometry(kernel: (3, 5), padding: (2, 2), dilation: (2, 1)), ConvGeometry(square: 1),
    ]

    /// Tolerance: 2e-5 max abs (float32 GEMM vs Double scalar reference, approximated σ/tanh ≤ 5e-7).
    @Test("step matches the naive equations", arguments: geometries)
    func naiveReference(geometry: ConvGeometry) throws {
        var rng = SeededGenerator(seed: 11)
        let gru = Self.randomGRU(hidden: 4, input: 5, geometry: geometry, rng: &rng)
        let h = Tensor.random([2, 4, 7, 9], using: &rng)
        let x = Tensor.random([2, 5, 7, 9], in: 0...2, using: &rng)
        let out = try gru(hidden: h, input: x)
        let ref = try naiveGRUStep(gru, hidden: h, input: x)
        #expect(out.maxAbsDifference(ref) <= 2e-5)
        // A sequence applies its steps in order.
        let g2 = Self.randomGRU(hidden: 4, input: 5, geometry: ConvGeometry(square: 3), rng: &rng)
        let seq = SeqConvGRU(steps: [gru, g2])
        #expect(try seq(hidden: h, input: x).maxAbsDifference(naiveGRUStep(g2, hidden: ref, input: x)) <= 4e-5)
    }

    /// A 3×3 step with enough channels computes its gates by Winograd F(4×4, 3×3): odd grid, batch 2.
    @Test("Winograd gates: step matches the naive equations (≤ 1e-4)")
    func winogradReference() throws {
        var rng = SeededGenerator(seed: 12)
        let gru = Self.randomGRU(hidden: 64, input: 40, geometry: ConvGeometry(square: 3), rng: &rng)
        #expect(gru.gateAlgorithm == .winograd4x4)
        #expect(Self.randomGRU(hidden: 4, input: 5, geometry: ConvGeometry(square: 3), rng: &rng).gateAlgorithm == .shiftedGEMM)
        let h = Tensor.random([2, 64, 7, 9], using: &rng)
        let x = Tensor.random([2, 40, 7, 9], in: 0...2, using: &rng)
        #expect(try gru(hidden: h, input: x).maxAbsDifference(naiveGRUStep(gru, hidden: h, input: x)) <= 1e-4)
    }

    @Test("the raw-buffer step updates hidden in place and does not allocate the second time")
    func rawStepAllocationFree() throws {
        var rng = SeededGenerator(seed: 5)
        let seq = SeqConvGRU(steps: [Self.randomGRU(hidden: 6, input: 7, geometry: ConvGeometry(square: 3), rng: &rng),
                                     Self.randomGRU(hidden: 6, input: 7, geometry: ConvGeometry(square: 5, dilation: 2), rng: &rng)])
        var h = Tensor.random([1, 6, 8, 10], using: &rng)
        let x = Tensor.random([1, 7, 8, 10], using: &rng)
        let expected = try seq(hidden: seq(hidden: h, input: x), input: x)
        let workspace = Workspace()
        let hp = h.mutablePointer()
        seq.step(hidden: hp, input: x.pointer, height: 8, width: 10, workspace: workspace)
        let after = workspace.allocations
        seq.step(hidden: hp, input: x.pointer, height: 8, width: 10, workspace: workspace)
        #expect(workspace.allocations == after)
        #expect(h.maxAbsDifference(expected) <= 1e-6)
    }

    @Test("parameter counts, MACs, geometries and reach of RAFT's GRUs (core/update.py)")
    func counts() {
        let basic = SeqConvGRU.separable(), small = ConvGRU.small()
        #expect(basic.parameterCount == 1_475_328)
        #expect(small.parameterCount == 627_552)
        #expect(SeqConvGRU(steps: [small]).parameterCount == 627_552)
        #expect(basic.geometries == [ConvGeometry(kernel: (1, 5), padding: (0, 2)), ConvGeometry(kernel: (5, 1), padding: (2, 0))])
        #expect(basic.multiplyAccumulates(height: 55, width: 128) == 2 * 3 * 128 * 384 * 5 * 55 * 128)
        #expect(small.multiplyAccumulates(height: 55, width: 128) == 3 * 96 * 242 * 9 * 55 * 128)
        #expect(basic.reach == (4, 4))   // 9×9 window per iteration
        #expect(small.reach == (2, 2))   // 5×5
        #expect(ConvGRU(hiddenChannels: 2, inputChannels: 2, geometry: ConvGeometry(square: 3, dilation: 2)).reach == (4, 4))
    }

    /// Real RAFT shapes with synthetic weights (see Scripts/fixtures/update.py). Tolerance 1e-4 max abs
    /// (hidden states are in (−1, 1)).
    @Test("PyTorch parity: RAFT-S ConvGRU 3×3 and RAFT SepConvGRU, one step")
    func parityRealShapes() throws {
        let fixture = try Fixtures.load("update_gru.safetensors")
        let (h, w) = (Synthetic.height, Synthetic.width)
        #expect(try fixture.require("probe.hidden") == Synthetic.input(.hidden, [16]))
        #expect(try fixture.require("probe.context") == Synthetic.input(.context, [16]))

        let small = try ConvGRU(parameters: ParameterReader(Synthetic.updateBlock(.small, only: "gru")), prefix: "update_block.gru",
                                hiddenChannels: 96, inputChannels: 146, geometry: ConvGeometry(square: 3))
        let outSmall = try small(hidden: Synthetic.input(.hidden, [1, 96, h, w]), input: Synthetic.input(.context, [1, 146, h, w]))
        let refSmall = try fixture.require("small.output")
        #expect(outSmall.maxAbsDifference(refSmall) <= 1e-4)

        let basic = try SeqConvGRU(parameters: ParameterReader(Synthetic.updateBlock(.basic, only: "gru")), prefix: "update_block.gru",
                                   hiddenChannels: 128, inputChannels: 256, geometries: SeqConvGRU.separableGeometries)
        let outBasic = try basic(hidden: Synthetic.input(.hidden, [1, 128, h, w]), input: Synthetic.input(.context, [1, 256, h, w]))
        let refBasic = try fixture.require("basic.output")
        #expect(outBasic.maxAbsDifference(refBasic) <= 1e-4)
    }

    /// Stored torch-initialised weights, batch 2, 5×5 dilation 2 and a three-step sequence. Tolerance 1e-5.
    @Test("PyTorch parity: dilated 5×5 ConvGRU and a three-step SeqConvGRU")
    func parityVariants() throws {
        let f = try Fixtures.load("update_gru_variants.safetensors")
        let reader = ParameterReader(f)
        let h = try f.require("hidden"), x = try f.require("input")
        let conv = try ConvGRU(parameters: reader, prefix: "conv", hiddenChannels: 8, inputChannels: 12,
                               geometry: ConvGeometry(square: 5, padding: 4, dilation: 2))
        #expect(try conv(hidden: h, input: x).maxAbsDifference(f.require("conv.output")) <= 1e-5)
        let seq = try SeqConvGRU(parameters: reader, prefix: "seq", hiddenChannels: 8, inputChannels: 12, geometries: [
            ConvGeometry(kernel: (3, 3), padding: (1, 2), dilation: (1, 2)),
            ConvGeometry(kernel: (1, 5), padding: (0, 2)), ConvGeometry(kernel: (5, 1), padding: (2, 0)),
        ])
        #expect(try seq(hidden: h, input: x).maxAbsDifference(f.require("seq.output")) <= 1e-5)
    }

    @Test("a missing or misshapen gate names the key")
    func loadingErrors() throws {
        var dict = Synthetic.updateBlock(.basic, only: "gru")
        dict["update_block.gru.convr2.bias"] = nil
        #expect(throws: WeightsError.missingKey(file: dict.source, key: "update_block.gru.convr2.bias")) {
            try SeqConvGRU(parameters: ParameterReader(dict), prefix: "update_block.gru", hiddenChannels: 128,
                           inputChannels: 256, geometries: SeqConvGRU.separableGeometries)
        }
        var small = Synthetic.updateBlock(.small, only: "gru")
        small["update_block.gru.convq.weight"] = Tensor(shape: [96, 242, 1, 5])
        #expect(throws: WeightsError.shapeMismatch(file: small.source, key: "update_block.gru.convq.weight",
                                                   expected: [96, 242, 3, 3], found: [96, 242, 1, 5])) {
            try ConvGRU(parameters: ParameterReader(small), prefix: "update_block.gru", hiddenChannels: 96,
                        inputChannels: 146, geometry: ConvGeometry(square: 3))
        }
    }
}
