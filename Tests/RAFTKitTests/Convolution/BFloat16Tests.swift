import Foundation
import Testing
@testable import RAFTKit

/// The bf16 GEMM (`CBF16GEMM`) and `--precision bf16`.
///
/// The driver (packing, blocking, edge masks) is the same source for the AVX512_BF16 kernel and its portable
/// emulation, so the emulation's tests check the layout logic on every machine; the hardware kernel is compared with
/// the emulation where the CPU has AVX512_BF16 (and checks itself against it once per process before first use).
@Suite("bf16 GEMM and precision")
struct BFloat16Tests {
    /// bf16 of `x`, round to nearest even (what vcvtne2ps2bf16 does to a normal float).
    static func bf16(_ x: Float) -> Float {
        let u = x.bitPattern
        return Float(bitPattern: (u &+ 0x7FFF &+ ((u >> 16) & 1)) & 0xFFFF_0000)
    }

    /// C = A·op(B) + beta·C with bf16 inputs, in Double.
    static func reference(transposeB: Bool, m: Int, n: Int, k: Int, a: [Float], lda: Int, b: [Float], ldb: Int,
                          beta: Float, c: [Float], ldc: Int) -> (c: [Double], magnitude: [Double]) {
        var out = [Double](repeating: 0, count: m * ldc), magnitude = out
        for i in 0..<m {
            for j in 0..<n {
                var sum = Double(beta) * Double(c[i * ldc + j]), size = abs(sum)
                for q in 0..<k {
                    let bv = transposeB ? b[j * ldb + q] : b[q * ldb + j]
                    let product = Double(bf16(a[i * lda + q])) * Double(bf16(bv))
                    sum += product
                    size += abs(product)
                }
                out[i * ldc + j] = sum
                magnitude[i * ldc + j] = size
            }
        }
        return (out, magnitude)
    }

    /// Shapes around the kernel's tiles (MR 8, NR 48, KC 256, MC 96, NC 1152): edges, odd K, several K blocks,
    /// several M and N blocks.
    static let shapes: [(m: Int, n: Int, k: Int)] = [(1, 1, 1), (8, 48, 2), (7, 50, 3), (9, 47, 31), (13, 97, 513),
                                                      (97, 1153, 5), (2, 5, 9), (17, 100, 258)]

    @Test(arguments: [false, true])
    func emulatedKernelMatchesDefinition(transposeB: Bool) {
        var rng = SeededGenerator(seed: 2020)
        for (index, (m, n, k)) in Self.shapes.enumerated() {
            let lda = k + 3, ldb = transposeB ? k + 1 : n + 5, ldc = n + 2
            let a = (0..<(m * lda)).map { _ in Float.random(in: -1...1, using: &rng) }
            let b = (0..<(transposeB ? n * ldb : k * ldb)).map { _ in Float.random(in: -1...1, using: &rng) }
            let initial = (0..<(m * ldc)).map { _ in Float.random(in: -1...1, using: &rng) }
            let beta: Float = [0, 1, 0.5][index % 3]
            var c = initial
            let ran = a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    c.withUnsafeMutableBufferPointer { c in
                        BFloat16GEMM.multiply(transposeB: transposeB, m: m, n: n, k: k, a: a.baseAddress!, lda: lda,
                                              b: b.baseAddress!, ldb: ldb, beta: beta, c: c.baseAddress!, ldc: ldc,
                                              emulated: true)
                    }
                }
            }
            #expect(ran)
            let expected = Self.reference(transposeB: transposeB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                                          beta: beta, c: initial, ldc: ldc)
            var worst = 0.0
            for i in 0..<m {
                for j in 0..<n {
                    // float32 accumulation of exact products: at most k roundings of partial sums ≤ Σ|products|.
                    let bound = Double(k + 1) * 6e-8 * expected.magnitude[i * ldc + j] + 1e-12
                    worst = max(worst, abs(Double(c[i * ldc + j]) - expected.c[i * ldc + j]) / bound)
                }
                // Columns past N are never written.
                for j in n..<ldc { #expect(c[i * ldc + j] == initial[i * ldc + j]) }
            }
            #expect(worst <= 1, "m \(m) n \(n) k \(k): error \(worst)× the float32 accumulation bound")
        }
    }

    /// 1×1×1 products show the rounding of each input: nearest, ties to even, NaN kept, denormals flushed.
    @Test func roundingOfInputs() {
        func product(_ x: Float) -> Float {
            var a = x, b: Float = 1, c: Float = 0
            _ = BFloat16GEMM.multiply(transposeB: false, m: 1, n: 1, k: 1, a: &a, lda: 1, b: &b, ldb: 1, beta: 0,
                                      c: &c, ldc: 1, emulated: true)
            return c
        }
        let ulp: Float = 1.0 / 128   // bf16 spacing in [1, 2)
        #expect(product(1 + ulp / 2) == 1)                 // tie: to even (1)
        #expect(product(1 + 3 * ulp / 2) == 1 + 2 * ulp)   // tie: to even (1 + 2 ulp)
        #expect(product(1 + ulp * 0.51) == 1 + ulp)        // nearest
        #expect(product(-3.14159) == -3.140625)
        #expect(product(.nan).isNaN)
        #expect(product(.infinity) == .infinity)
        #expect(product(Float.leastNormalMagnitude / 4) == 0)
    }

    @Test(.enabled(if: Precision.isBFloat16Supported, "this CPU has no AVX512_BF16"), arguments: [false, true])
    func hardwareKernelMatchesEmulation(transposeB: Bool) {
        var rng = SeededGenerator(seed: 16)
        for (m, n, k) in Self.shapes + [(384, 7040, 256), (256, 1900, 324)] {
            let lda = k, ldb = transposeB ? k : n, ldc = n
            let a = (0..<(m * lda)).map { _ in Float.random(in: -1...1, using: &rng) }
            let b = (0..<(transposeB ? n * ldb : k * ldb)).map { _ in Float.random(in: -1...1, using: &rng) }
            var hardware = [Float](repeating: 0.5, count: m * ldc), emulated = hardware
            let ranHardware = BFloat16GEMM.multiply(transposeB: transposeB, m: m, n: n, k: k, a: a, lda: lda, b: b,
                                                    ldb: ldb, beta: 1, c: &hardware, ldc: ldc, emulated: false)
            let ranEmulated = BFloat16GEMM.multiply(transposeB: transposeB, m: m, n: n, k: k, a: a, lda: lda, b: b,
                                                    ldb: ldb, beta: 1, c: &emulated, ldc: ldc, emulated: true)
            #expect(ranHardware && ranEmulated)
            let worst = zip(hardware, emulated).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= 1e-5 * Float(k).squareRoot(), "m \(m) n \(n) k \(k): \(worst)")
        }
    }

    /// The bundled model on a 64×96 crop of the sample pair, 4 iterations: the emulated bf16 arithmetic changes
    /// the flow (so the convolutions really ran in bf16) by little; the correlation, look-ups and upsampling stay
    /// float32. bf16 keeps 8 significant bits, so the flow moves by hundredths of a pixel on average; how many
    /// depends on the weights, hence the margin.
    @Test func modelInBFloat16StaysCloseToFloat32() throws {
        let estimator = try FlowEstimator.bundled()
        let (image1, image2) = try Self.crop(width: 96, height: 64)
        var options = RAFTOptions(iterations: 4)
        let f32 = try estimator.model(image1.tensor, image2.tensor, options: options)
        options.arithmeticOverride = .bfloat16Emulated
        let bf16 = try estimator.model(image1.tensor, image2.tensor, options: options)
        let differences = zip(f32.flow.scalars, bf16.flow.scalars).map { abs($0 - $1) }
        let mean = differences.reduce(0, +) / Float(differences.count), worst = differences.max() ?? 0
        #expect(worst > 0, "bf16 arithmetic left the flow bit-identical: the GEMMs did not run in bf16")
        #expect(mean < 0.1 && worst < 0.5, "mean \(mean) px, max \(worst) px from float32")
    }

    /// On a CPU without AVX512_BF16 a bf16 request runs float32, bit for bit.
    @Test(.enabled(if: !Precision.isBFloat16Supported, "this CPU has AVX512_BF16"))
    func bfloat16RequestRunsFloat32WithoutTheInstructions() throws {
        #expect(Precision.bfloat16.effective == .float32)
        var estimator = try FlowEstimator.bundled()
        let (image1, image2) = try Self.crop(width: 48, height: 40)
        let f32 = try estimator.estimate(from: image1, to: image2, iterations: 2)
        estimator.precision = .bfloat16
        let requested = try estimator.estimate(from: image1, to: image2, iterations: 2)
        #expect(f32.flow.uv == requested.flow.uv)
    }

    static func crop(width: Int, height: Int) throws -> (RGBImage, RGBImage) {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Samples/photo-300x400")
        let frames = try ["frame1.png", "frame2.png"].map { try RGBImage(contentsOf: root.appendingPathComponent($0)) }
        let cropped = frames.map { frame in
            RGBImage(unchecked: width, height, (0..<(width * height * 3)).map { i in
                let (y, rest) = i.quotientAndRemainder(dividingBy: width * 3)
                return frame.pixels[(y + 100) * frame.width * 3 + 60 * 3 + rest]
            })
        }
        return (cropped[0], cropped[1])
    }
}
