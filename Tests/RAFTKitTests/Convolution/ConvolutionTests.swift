import Foundation
func Foundation_tanh(_ x: Double) -> Double { Foundation.tanh(x) }
func Foundation_exp(_ x: Double) -> Double { Foundation.exp(x) }
import Testing
@testable import RAFTKit

/// Direct 7-loop convolution, the reference for im2col + sgemm.
func naiveConvolution(_ x: Tensor, _ conv: Conv2d) -> Tensor {
    let g = conv.geometry
    let (oh, ow) = conv.outputSize(height: x.h, width: x.w)
    var out = Tensor(shape: [x.n, conv.outputChannels, oh, ow])
    for b in 0..<x.n {
        for o in 0..<conv.outputChannels {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var s = Double(conv.bias[o])
                    for c in 0..<conv.inputChannels {
                        for ky in 0..<g.kernelHeight {
                            let iy = oy * g.strideY + ky * g.dilationY - g.paddingY
                            if iy < 0 || iy >= x.h { continue }
                            for kx in 0..<g.kernelWidth {
                                let ix = ox * g.strideX + kx * g.dilationX - g.paddingX
                                if ix < 0 || ix >= x.w { continue }
                                s += Double(x[b, c, iy, ix]) * Double(conv.weight[o, c, ky, kx])
                            }
                        }
                    }
                    out[b, o, oy, ox] = Float(s)
                }
            }
        }
    }
    return out
}

struct ConvCase: CustomTestStringConvertible, Sendable {
    var n = 1, cin: Int, cout: Int, h: Int, w: Int
    var kernel: (Int, Int), stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1)
    var testDescription: String { "N\(n) \(cin)->\(cout) \(h)x\(w) k\(kernel) s\(stride) p\(padding) d\(dilation)" }
}

let convCases: [ConvCase] = [
    ConvCase(cin: 5, cout: 7, h: 9, w: 11, kernel: (1, 1)),
    ConvCase(cin: 3, cout: 4, h: 8, w: 8, kernel: (1, 1), stride: (2, 2)),
    ConvCase(cin: 6, cout: 5, h: 9, w: 7, kernel: (1, 1), stride: (2, 2), padding: (1, 1)),
    ConvCase(cin: 4, cout: 6, h: 10, w: 12, kernel: (3, 3), padding: (1, 1)),
    ConvCase(cin: 4, cout: 6, h: 10, w: 12, kernel: (3, 3)),
    ConvCase(cin: 3, cout: 8, h: 11, w: 13, kernel: (3, 3), stride: (2, 2), padding: (1, 1)),
    ConvCase(cin: 8, cout: 4, h: 6, w: 14, kernel: (1, 5), padding: (0, 2)),
    ConvCase(cin: 8, cout: 4, h: 14, w: 6, kernel: (5, 1), padding: (2, 0)),
    ConvCase(cin: 3, cout: 6, h: 17, w: 19, kernel: (7, 7), stride: (2, 2), padding: (3, 3)),
    ConvCase(cin: 2, cout: 5, h: 12, w: 12, kernel: (7, 7), padding: (3, 3)),
    ConvCase(cin: 4, cout: 4, h: 12, w: 13, kernel: (3, 3), padding: (2, 2), dilation: (2, 2)),
    ConvCase(cin: 3, cout: 3, h: 9, w: 15, kernel: (3, 3), padding: (1, 2), dilation: (1, 2)),
    ConvCase(n: 2, cin: 5, cout: 3, h: 7, w: 9, kernel: (3, 3), padding: (1, 1)),
    ConvCase(n: 2, cin: 4, cout: 6, h: 8, w: 10, kernel: (1, 1)),
    ConvCase(n: 2, cin: 3, cout: 4, h: 13, w: 11, kernel: (7, 7), stride: (2, 2), padding: (3, 3)),
    ConvCase(cin: 6, cout: 2, h: 5, w: 5, kernel: (5, 5), padding: (2, 2)),
    ConvCase(cin: 3, cout: 4, h: 10, w: 10, kernel: (3, 3), stride: (3, 2), padding: (1, 0)),
    ConvCase(cin: 2, cout: 3, h: 4, w: 4, kernel: (5, 5), padding: (3, 3)),
    ConvCase(cin: 7, cout: 9, h: 3, w: 20, kernel: (1, 7), padding: (0, 3)),
    ConvCase(cin: 7, cout: 9, h: 20, w: 3, kernel: (7, 1), padding: (3, 0)),
    ConvCase(cin: 1, cout: 1, h: 1, w: 1, kernel: (3, 3), padding: (1, 1)),
    ConvCase(n: 2, cin: 4, cout: 5, h: 9, w: 9, kernel: (3, 3), stride: (2, 2), padding: (2, 2), dilation: (2, 2)),
    // Few outputs: the shift-and-add path (RAFT's flow head conv2 is 256 -> 2, 3x3).
    ConvCase(cin: 40, cout: 2, h: 11, w: 13, kernel: (3, 3), padding: (1, 1)),
    ConvCase(n: 2, cin: 9, cout: 3, h: 7, w: 6, kernel: (3, 3)),
    ConvCase(cin: 5, cout: 1, h: 10, w: 9, kernel: (5, 5), padding: (2, 2), dilation: (2, 2)),
    ConvCase(cin: 4, cout: 2, h: 2, w: 3, kernel: (3, 3), padding: (3, 3)),
    // Stride 1 with ≥ 32 input channels: one GEMM per tap on a padded copy (ShiftedGEMM), including unpadded,
    // asymmetric, dilated, larger-than-input padding, 1-pixel and batched inputs.
    ConvCase(cin: 32, cout: 7, h: 10, w: 12, kernel: (3, 3), padding: (1, 1)),
    ConvCase(cin: 33, cout: 6, h: 10, w: 12, kernel: (3, 3)),
    ConvCase(cin: 40, cout: 8, h: 6, w: 14, kernel: (1, 5), padding: (0, 2)),
    ConvCase(cin: 40, cout: 8, h: 14, w: 6, kernel: (5, 1), padding: (2, 0)),
    ConvCase(cin: 36, cout: 4, h: 12, w: 13, kernel: (3, 3), padding: (2, 2), dilation: (2, 2)),
    ConvCase(cin: 34, cout: 5, h: 9, w: 15, kernel: (3, 3), padding: (1, 2), dilation: (1, 2)),
    ConvCase(cin: 32, cout: 9, h: 11, w: 10, kernel: (7, 7), padding: (3, 3)),
    ConvCase(cin: 32, cout: 4, h: 4, w: 4, kernel: (5, 5), padding: (3, 3)),
    ConvCase(cin: 32, cout: 4, h: 1, w: 1, kernel: (3, 3), padding: (1, 1)),
    ConvCase(cin: 35, cout: 12, h: 3, w: 5, kernel: (3, 1), padding: (0, 1)),
    ConvCase(n: 2, cin: 48, cout: 16, h: 9, w: 11, kernel: (3, 3), padding: (1, 1)),
    // Strided, ≥ 32 input channels: shifted GEMMs on the stride² phases of the padded input.
    ConvCase(cin: 32, cout: 8, h: 11, w: 13, kernel: (3, 3), stride: (2, 2), padding: (1, 1)),
    ConvCase(cin: 33, cout: 8, h: 10, w: 12, kernel: (3, 3), stride: (2, 2), padding: (1, 1)),
    ConvCase(cin: 32, cout: 6, h: 12, w: 9, kernel: (3, 3), stride: (2, 2)),
    ConvCase(n: 2, cin: 32, cout: 5, h: 17, w: 19, kernel: (7, 7), stride: (2, 2), padding: (3, 3)),
    ConvCase(cin: 32, cout: 7, h: 10, w: 10, kernel: (3, 3), stride: (3, 2), padding: (1, 0)),
    ConvCase(cin: 32, cout: 7, h: 13, w: 11, kernel: (3, 3), stride: (2, 2), padding: (2, 2), dilation: (2, 2)),
    ConvCase(cin: 32, cout: 4, h: 2, w: 3, kernel: (5, 5), stride: (2, 2), padding: (2, 2)),
    // Several blocks: im2col of 7 output rows, each 2352 × 60 columns, at most 3 rows per Conv2d.im2colBlockFloats
    // block, the rows dealt out evenly (2 threads: 4 blocks of 1, 2, 2, 2 rows), and shifted-GEMM column blocks
    // (300 outputs: 208 columns per ShiftedGEMM.blockFloats block).
    ConvCase(cin: 48, cout: 4, h: 7, w: 60, kernel: (7, 7), padding: (3, 3)),
    ConvCase(cin: 48, cout: 4, h: 14, w: 120, kernel: (7, 7), stride: (2, 2), padding: (3, 3)),
    ConvCase(cin: 32, cout: 300, h: 12, w: 18, kernel: (3, 3), padding: (1, 1)),
    ConvCase(cin: 32, cout: 300, h: 23, w: 35, kernel: (3, 3), stride: (2, 2), padding: (1, 1)),
]

@Suite("Convolution core") struct ConvolutionTests {
    @Test("every algorithm that supports the geometry equals direct convolution", arguments: convCases)
    func matchesNaive(_ c: ConvCase) {
        var rng = SeededGenerator(seed: UInt64(c.cin * 1000 + c.cout * 10 + c.h))
        let g = ConvGeometry(kernel: c.kernel, stride: c.stride, padding: c.padding, dilation: c.dilation)
        let weight = Tensor.random([c.cout, c.cin, c.kernel.0, c.kernel.1], using: &rng)
        let bias = Tensor.random([c.cout], using: &rng)
        let x = Tensor.random([c.n, c.cin, c.h, c.w], in: -3...3, using: &rng)
        let slow = naiveConvolution(x, Conv2d(weight: weight, bias: bias, geometry: g, algorithm: .im2col))
        for algorithm in ConvolutionAlgorithm.allCases where algorithm.supports(g) {
            let fast = Conv2d(weight: weight, bias: bias, geometry: g, algorithm: algorithm)(x)
            #expect(fast.shape == slow.shape, "\(algorithm)")
            // F(4×4, 3×3)'s transforms use ±2…±8 and sixths: its rounding error is several times a direct sum's
            // (measured ≤ 1.1e-4 here; 1.1e-3 on the 576-term sums of the band test below).
            let tolerance: Float = algorithm == .winograd4x4 ? 4e-4 : 1e-4
            #expect(fast.maxRelativeDifference(slow) <= tolerance, "\(algorithm)")
        }
    }

    @Test("fused activation equals activation after convolution")
    func fusedActivation() {
        var rng = SeededGenerator(seed: 7)
        let conv = Conv2d(weight: .random([3, 2, 3, 3], using: &rng), bias: .random([3], using: &rng),
                          geometry: ConvGeometry(square: 3))
        let x = Tensor.random([1, 2, 6, 5], using: &rng)
        let plain = naiveConvolution(x, conv)
        let relu = conv(x, activation: .relu)
        for i in 0..<relu.count { #expect(abs(relu.pointer[i] - max(plain.pointer[i], 0)) <= 1e-5) }
    }

    @Test("stacked convolutions equal their parts side by side")
    func stacked() throws {
        var rng = SeededGenerator(seed: 11)
        let g = ConvGeometry(kernel: (1, 5), padding: (0, 2))
        let a = Conv2d(weight: .random([3, 4, 1, 5], using: &rng), bias: .random([3], using: &rng), geometry: g)
        let b = Conv2d(weight: .random([2, 4, 1, 5], using: &rng), bias: .random([2], using: &rng), geometry: g)
        let x = Tensor.random([1, 4, 5, 9], using: &rng)
        let both = Conv2d.stacked([a, b])(x)
        #expect(try both.maxAbsDifference(Tensor.concatenateChannels([a(x), b(x)])) <= 1e-5)
    }

    @Test("few-output convolutions take the shift-and-add path")
    func shiftAddSelected() {
        #expect(Conv2d(inputChannels: 256, outputChannels: 2, geometry: ConvGeometry(square: 3)).usesShiftAdd)
        #expect(!Conv2d(inputChannels: 256, outputChannels: 128, geometry: ConvGeometry(square: 3)).usesShiftAdd)
        #expect(!Conv2d(inputChannels: 3, outputChannels: 2, geometry: ConvGeometry(square: 3, stride: 2)).usesShiftAdd)
    }

    @Test("the algorithm follows the shape")
    func algorithmSelection() {
        func conv(_ cin: Int, _ cout: Int, _ g: ConvGeometry) -> ConvolutionAlgorithm {
            Conv2d(inputChannels: cin, outputChannels: cout, geometry: g).algorithm
        }
        #expect(conv(256, 192, ConvGeometry(square: 3)) == .winograd4x4)         // motion encoder convc2
        #expect(conv(96, 96, ConvGeometry(square: 3)) == .winograd4x4)           // encoder layer2
        #expect(conv(384, 256, ConvGeometry(kernel: (1, 5), padding: (0, 2))) == .winograd1D)    // GRU gates
        #expect(conv(384, 128, ConvGeometry(kernel: (5, 1), padding: (2, 0))) == .winograd1D)
        #expect(conv(384, 128, ConvGeometry(kernel: (1, 5), padding: (0, 1))) == .shiftedGEMM)   // not "same" size
        #expect(conv(40, 128, ConvGeometry(kernel: (1, 5), padding: (0, 2))) == .shiftedGEMM)
        #expect(conv(64, 64, ConvGeometry(square: 3)) == .winograd4x4)           // encoder layer1
        #expect(conv(96, 96, ConvGeometry(square: 3)) == .winograd4x4)           // encoder layer2
        #expect(conv(63, 64, ConvGeometry(square: 3)) == .shiftedGEMM)
        #expect(conv(128, 32, ConvGeometry(square: 3)) == .shiftedGEMM)          // small motion encoder convf2
        #expect(conv(64, 64, ConvGeometry(square: 3, dilation: 2)) == .shiftedGEMM)
        #expect(conv(324, 256, ConvGeometry(square: 1)) == .pointwise)            // convc1
        #expect(conv(256, 2, ConvGeometry(square: 3)) == .shiftAdd)               // flow head conv2
        #expect(conv(2, 128, ConvGeometry(square: 7)) == .im2col)                 // convf1: K would be 2 per tap
        #expect(conv(64, 96, ConvGeometry(square: 3, stride: 2)) == .im2col)      // strided encoder conv (blocked im2col)
        #expect(conv(64, 96, ConvGeometry(square: 1, stride: 2)) == .im2col)      // strided 1×1 downsample
        #expect(conv(3, 64, ConvGeometry(square: 7, stride: 2)) == .im2col)       // stem
    }

    @Test("shifted GEMMs and Winograd leave no stale data between differently sized calls",
          arguments: [ConvolutionAlgorithm.shiftedGEMM, .winograd, .winograd4x4])
    func reusedWorkspace(_ algorithm: ConvolutionAlgorithm) {
        // One workspace, a large call then a smaller one with another layout: the padded buffer is reused with a
        // different plane size and must be fully rewritten (borders included).
        var rng = SeededGenerator(seed: 5)
        let conv = Conv2d(weight: .random([6, 32, 3, 3], using: &rng), bias: .random([6], using: &rng),
                          geometry: ConvGeometry(square: 3), algorithm: algorithm)
        let workspace = Workspace()
        let big = Tensor.random([1, 32, 12, 17], in: -3...3, using: &rng)
        let small = Tensor.random([1, 32, 5, 6], in: -3...3, using: &rng)
        var out = Tensor(shape: [1])
        let tolerance: Float = algorithm == .winograd4x4 ? 4e-4 : 1e-4
        conv.forward(big, into: &out, workspace: workspace)
        #expect(out.maxRelativeDifference(naiveConvolution(big, conv)) <= tolerance)
        conv.forward(small, into: &out, workspace: workspace)
        #expect(out.maxRelativeDifference(naiveConvolution(small, conv)) <= tolerance)
    }

    @Test("Winograd in several bands of tile rows equals shifted GEMMs", arguments: [ConvolutionAlgorithm.winograd, .winograd4x4])
    func winogradBands(_ algorithm: ConvolutionAlgorithm) {
        var rng = SeededGenerator(seed: 21)
        let g = ConvGeometry(square: 3)
        // 117 columns: F(4×4) has 30 tiles per row, rounded up to 32 in the transformed matrices.
        let layout = Winograd.Layout(height: 301, width: 117, geometry: g, tile: algorithm.winogradTile!)
        #expect(layout.bandRows(channels: 64) < layout.tilesY)   // really more than one band, the last one partial
        let weight = Tensor.random([64, 64, 3, 3], using: &rng), bias = Tensor.random([64], using: &rng)
        let x = Tensor.random([1, 64, 301, 117], in: -3...3, using: &rng)
        let winograd = Conv2d(weight: weight, bias: bias, geometry: g, algorithm: algorithm)(x)
        let shifted = Conv2d(weight: weight, bias: bias, geometry: g, algorithm: .shiftedGEMM)(x)
        #expect(winograd.maxRelativeDifference(shifted) <= (algorithm == .winograd4x4 ? 2e-3 : 1e-4))
    }

    @Test("Winograd F(4, 5) in several bands, at sizes that are not multiples of 4, equals shifted GEMMs",
          arguments: [ConvGeometry(kernel: (1, 5), padding: (0, 2)), ConvGeometry(kernel: (5, 1), padding: (2, 0))])
    func winograd1DBands(_ g: ConvGeometry) {
        var rng = SeededGenerator(seed: 23)
        let (h, w) = (301, 117)
        let layout = Winograd1D.Layout(height: h, width: w, geometry: g)
        #expect(layout.bandUnits(channels: 96) < layout.units)   // more than one band, the last one partial
        let weight = Tensor.random([64, 96, g.kernelHeight, g.kernelWidth], using: &rng)
        let bias = Tensor.random([64], using: &rng)
        let x = Tensor.random([2, 96, h, w], in: -3...3, using: &rng)
        let conv = Conv2d(weight: weight, bias: bias, geometry: g)
        #expect(conv.algorithm == .winograd1D)
        let shifted = Conv2d(weight: weight, bias: bias, geometry: g, algorithm: .shiftedGEMM)(x)
        // Sums of 480 products of magnitude up to 3 (outputs ~20): measured 1.5e-4 (5×1) and 1.7e-4 (1×5).
        #expect(conv(x).maxRelativeDifference(shifted) <= 3e-4)
        // The workspace is then reused for a smaller input with another layout.
        let small = Tensor.random([1, 96, 6, 9], in: -3...3, using: &rng)
        var out = Tensor(shape: [1])
        conv.forward(small, into: &out, workspace: Workspace())
        #expect(out.maxRelativeDifference(naiveConvolution(small, conv)) <= 3e-4)
    }

    @Test("output size follows PyTorch's floor rule")
    func outputSize() {
        #expect(ConvGeometry(square: 7, stride: 2, padding: 3).outputSize(height: 436, width: 1024) == (218, 512))
        #expect(ConvGeometry(square: 3, stride: 2, padding: 1).outputSize(height: 55, width: 127) == (28, 64))
        #expect(ConvGeometry(kernel: (1, 5), padding: (0, 2)).outputSize(height: 55, width: 128) == (55, 128))
    }
}

@Suite("Activations") struct ActivationTests {
    @Test("vectorised tanh and sigmoid within 1e-6 of libm")
    func accuracy() {
        var maxTanh: Float = 0, maxSigmoid: Float = 0
        var x: Float = -20
        while x <= 20 {
            maxTanh = max(maxTanh, abs(Activations.tanh(x) - Float(Foundation_tanh(Double(x)))))
            maxSigmoid = max(maxSigmoid, abs(Activations.sigmoid(x) - Float(1 / (1 + Foundation_exp(-Double(x))))))
            x += 0.001
        }
        #expect(maxTanh <= 1e-6)
        #expect(maxSigmoid <= 1e-6)
    }

    @Test("buffer kernels apply the scalar functions")
    func buffers() {
        var v: [Float] = [-3, -0.5, 0, 0.25, 4]
        let original = v
        v.withUnsafeMutableBufferPointer { Activations.relu($0.baseAddress!, count: $0.count) }
        #expect(v == original.map { max($0, 0) })
        v = original
        v.withUnsafeMutableBufferPointer { Activations.tanh($0.baseAddress!, count: $0.count) }
        #expect(zip(v, original).allSatisfy { abs($0 - Activations.tanh($1)) == 0 })
    }
}
