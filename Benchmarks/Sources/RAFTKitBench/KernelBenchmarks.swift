import RAFTKit

/// One convolution of RAFT at a given input size, for the "convolution core vs bare sgemm" table.
struct ConvShape {
    var name: String
    var inputChannels: Int, outputChannels: Int
    var geometry: ConvGeometry
    var height: Int, width: Int
}

/// GRU, motion-encoder and head convolutions at 55×128 (Sintel 436×1024 padded, 1/8 resolution), and the
/// encoder convolutions at 1024×440.
func kernelShapes() -> [ConvShape] {
    let h = 55, w = 128
    let g15 = ConvGeometry(kernel: (1, 5), padding: (0, 2)), g51 = ConvGeometry(kernel: (5, 1), padding: (2, 0))
    let g33 = ConvGeometry(square: 3), g11 = ConvGeometry(square: 1), g77 = ConvGeometry(square: 7)
    var shapes = [
        ConvShape(name: "basic GRU z+r 1x5 (fused)", inputChannels: 384, outputChannels: 256, geometry: g15, height: h, width: w),
        ConvShape(name: "basic GRU q 1x5", inputChannels: 384, outputChannels: 128, geometry: g15, height: h, width: w),
        ConvShape(name: "basic GRU z+r 5x1 (fused)", inputChannels: 384, outputChannels: 256, geometry: g51, height: h, width: w),
        ConvShape(name: "basic GRU q 5x1", inputChannels: 384, outputChannels: 128, geometry: g51, height: h, width: w),
        ConvShape(name: "small GRU z+r 3x3 (fused)", inputChannels: 242, outputChannels: 192, geometry: g33, height: h, width: w),
        ConvShape(name: "small GRU q 3x3", inputChannels: 242, outputChannels: 96, geometry: g33, height: h, width: w),
        ConvShape(name: "motion convc1 1x1", inputChannels: 324, outputChannels: 256, geometry: g11, height: h, width: w),
        ConvShape(name: "motion convc2 3x3", inputChannels: 256, outputChannels: 192, geometry: g33, height: h, width: w),
        ConvShape(name: "motion convf1 7x7", inputChannels: 2, outputChannels: 128, geometry: g77, height: h, width: w),
        ConvShape(name: "motion convf2 3x3", inputChannels: 128, outputChannels: 64, geometry: g33, height: h, width: w),
        ConvShape(name: "motion conv 3x3", inputChannels: 256, outputChannels: 126, geometry: g33, height: h, width: w),
        ConvShape(name: "flow head conv1 3x3", inputChannels: 128, outputChannels: 256, geometry: g33, height: h, width: w),
        ConvShape(name: "flow head conv2 3x3", inputChannels: 256, outputChannels: 2, geometry: g33, height: h, width: w),
        ConvShape(name: "mask head conv2 1x1", inputChannels: 256, outputChannels: 576, geometry: g11, height: h, width: w),
    ]
    // BasicEncoder at 440×1024 (stem at full resolution, then 1/2, 1/4, 1/8).
    shapes += [
        ConvShape(name: "encoder stem 7x7 s2", inputChannels: 3, outputChannels: 64,
                  geometry: ConvGeometry(square: 7, stride: 2), height: 440, width: 1024),
        ConvShape(name: "encoder layer1 3x3 @1/2", inputChannels: 64, outputChannels: 64, geometry: g33, height: 220, width: 512),
        ConvShape(name: "encoder layer2 3x3 s2", inputChannels: 64, outputChannels: 96,
                  geometry: ConvGeometry(square: 3, stride: 2), height: 220, width: 512),
        ConvShape(name: "encoder layer2 3x3 @1/4", inputChannels: 96, outputChannels: 96, geometry: g33, height: 110, width: 256),
        ConvShape(name: "encoder layer3 3x3 s2", inputChannels: 96, outputChannels: 128,
                  geometry: ConvGeometry(square: 3, stride: 2), height: 110, width: 256),
        ConvShape(name: "encoder layer3 3x3 @1/8", inputChannels: 128, outputChannels: 128, geometry: g33, height: 55, width: 128),
        ConvShape(name: "encoder conv2 1x1 @1/8", inputChannels: 128, outputChannels: 256, geometry: g11, height: 55, width: 128),
    ]
    return shapes
}

struct KernelResult: Codable {
    var name: String
    var m: Int, n: Int, k: Int
    /// The algorithm a Conv2d of this shape uses by default, and the time of every algorithm that supports it.
    var algorithm: String
    var algorithmMs: [String: Double]
    /// The same nn.Conv2d in PyTorch (Scripts/bench-pytorch), if timed.
    var pytorchMs: Double?
    var convolutionMs: Double, sgemmMs: Double
    var convolutionGFLOPs: Double, sgemmGFLOPs: Double
    var efficiency: Double
}

/// Times each convolution (im2col + sgemm + bias) against a bare sgemm of the same M×N×K.
func runKernelBenchmarks(repeats: Int, pytorch: [String: Double] = [:]) throws -> [KernelResult] {
    var results: [KernelResult] = []
    let workspace = Workspace()
    for s in kernelShapes() {
        var rng = SystemRandomNumberGenerator()
        let weight = try Tensor(shape: [s.outputChannels, s.inputChannels, s.geometry.kernelHeight, s.geometry.kernelWidth],
                            values: (0..<(s.outputChannels * s.inputChannels * s.geometry.kernelHeight * s.geometry.kernelWidth)).map { _ in Float.random(in: -0.05...0.05, using: &rng) })
        let conv = Conv2d(weight: weight, bias: nil, geometry: s.geometry)
        let input = Tensor(shape: [1, s.inputChannels, s.height, s.width], repeating: 0.5)
        var output = Tensor(shape: [1])
        let (oh, ow) = conv.outputSize(height: s.height, width: s.width)
        let m = s.outputChannels, n = oh * ow, k = conv.patchSize
        var perAlgorithm: [String: Double] = [:]
        for algorithm in ConvolutionAlgorithm.allCases where algorithm.supports(s.geometry) && algorithm != conv.algorithm {
            let other = Conv2d(weight: weight, bias: nil, geometry: s.geometry, algorithm: algorithm)
            perAlgorithm[algorithm.rawValue] = 1000 * medianSeconds(repeats: repeats) {
                other.forward(input, into: &output, workspace: workspace)
            }
        }
        let tConv = medianSeconds(repeats: repeats) { conv.forward(input, into: &output, workspace: workspace) }
        perAlgorithm[conv.algorithm.rawValue] = tConv * 1000
        let a = try Tensor(shape: [m, k], values: [Float](repeating: 0.01, count: m * k))
        let b = try Tensor(shape: [k, n], values: [Float](repeating: 0.02, count: k * n))
        var c = Tensor(shape: [m, n])
        let tGemm = medianSeconds(repeats: repeats) { BLAS.multiply(a, b, into: &c) }
        let flops = 2.0 * Double(m) * Double(n) * Double(k)
        let g = s.geometry
        let key = "conv_\(s.inputChannels)_\(s.outputChannels)_\(g.kernelHeight)x\(g.kernelWidth)_s\(g.strideY)_p\(g.paddingY)x\(g.paddingX)_\(s.height)x\(s.width)"
        results.append(KernelResult(name: s.name, m: m, n: n, k: k, algorithm: conv.algorithm.rawValue,
                                    algorithmMs: perAlgorithm, pytorchMs: pytorch[key].map { $0 * 1000 },
                                    convolutionMs: tConv * 1000, sgemmMs: tGemm * 1000,
                                    convolutionGFLOPs: flops / tConv / 1e9, sgemmGFLOPs: flops / tGemm / 1e9,
                                    efficiency: tGemm / tConv))
    }
    return results
}

func printKernelTable(_ results: [KernelResult]) {
    print("| convolution | M×N×K | algorithm | conv ms | conv GFLOP/s | sgemm ms | sgemm GFLOP/s | conv / sgemm | im2col ms | shifted GEMM ms | Winograd 2×2 ms | Winograd 4×4 ms | Winograd F(4,5) ms | PyTorch ms (GFLOP/s) |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    func ms(_ r: KernelResult, _ a: ConvolutionAlgorithm) -> String {
        r.algorithmMs[a.rawValue].map { String(format: "%.2f", $0) } ?? "–"
    }
    for r in results {
        print("| \(r.name) | \(r.m)×\(r.n)×\(r.k) | \(r.algorithm) | \(String(format: "%.2f", r.convolutionMs)) | \(String(format: "%.1f", r.convolutionGFLOPs)) | \(String(format: "%.2f", r.sgemmMs)) | \(String(format: "%.1f", r.sgemmGFLOPs)) | \(String(format: "%.0f %%", 100 * r.efficiency)) | \(ms(r, .im2col)) | \(ms(r, .shiftedGEMM)) | \(ms(r, .winograd)) | \(ms(r, .winograd4x4)) | \(ms(r, .winograd1D)) | \(r.pytorchMs.map { String(format: "%.2f (%.0f)", $0, 2.0 * Double(r.m) * Double(r.n) * Double(r.k) / $0 / 1e6) } ?? "–") |")
    }
}
