/// A 2-D convolution (PyTorch `nn.Conv2d`, groups 1, with bias) computed with OpenBLAS `sgemm`.
///
/// Weights are OIHW `[outputChannels, inputChannels, kh, kw]`, as in PyTorch checkpoints. The algorithm is
/// chosen once, from the shape (``ConvolutionAlgorithm/preferred(inputChannels:outputChannels:geometry:)``):
/// - 1×1, stride 1, unpadded: one GEMM on the input planes;
/// - 3×3, stride 1, with enough channels: Winograd F(4×4, 3×3) (4× fewer multiplications; F(2×2, 3×3), 2.25× fewer
///   with a twentieth of the rounding error, on request; ``Winograd``);
/// - 1×5 and 5×1 with "same" padding and enough channels (RAFT's separable GRU): 1-D Winograd F(4, 5), 2.5× fewer
///   multiplications (``Winograd1D``);
/// - other stride-1 kernels with enough input channels: one GEMM per tap on shifted views of a padded copy of the
///   input (``ShiftedGEMM``; it also handles strided kernels through the input's stride² phases), no im2col;
/// - few outputs (RAFT's 2-channel flow head): one GEMM over the input planes, then shifted sums;
/// - otherwise (stride-2 kernels such as the stem and the encoder's downsampling convolutions, the 2-channel flow
///   input): im2col and GEMM in cache-sized blocks of output rows.
public struct Conv2d: Sendable {
    public let inputChannels: Int
    public let outputChannels: Int
    public let geometry: ConvGeometry
    /// How this convolution is computed.
    public let algorithm: ConvolutionAlgorithm
    /// `[outputChannels, inputChannels, kh, kw]`.
    public private(set) var weight: Tensor
    /// `[outputChannels]`.
    public private(set) var bias: Tensor
    /// The weights rearranged for the algorithm: `[outputChannels·kh·kw, inputChannels]` (one row per output and
    /// tap) for shift-and-add, tap-major `[kh·kw, outputChannels, inputChannels]` for shifted GEMMs,
    /// `[α², outputChannels, inputChannels]` (`G g Gᵀ`) for Winograd; nil for im2col and pointwise.
    let preparedWeights: Tensor?

    /// A convolution with given weights.
    /// - Parameter algorithm: force an algorithm (benchmarks, tests); it must support the geometry. By default
    ///   the fastest measured for the shape.
    public init(weight: Tensor, bias: Tensor? = nil, geometry: ConvGeometry, algorithm: ConvolutionAlgorithm? = nil) {
        precondition(weight.rank == 4, "Conv2d weight must be OIHW, got \(weight.shape)")
        precondition(weight.shape[2] == geometry.kernelHeight && weight.shape[3] == geometry.kernelWidth,
                     "Conv2d weight \(weight.shape) does not match kernel \(geometry)")
        let (cout, cin) = (weight.shape[0], weight.shape[1])
        outputChannels = cout
        inputChannels = cin
        self.geometry = geometry
        self.weight = weight
        let b = bias ?? Tensor(shape: [cout])
        precondition(b.count == outputChannels, "Conv2d bias has \(b.count) values for \(outputChannels) outputs")
        self.bias = b.reshaped([outputChannels])
        let chosen = algorithm ?? .preferred(inputChannels: cin, outputChannels: cout, geometry: geometry)
        precondition(chosen.supports(geometry), "\(chosen) cannot compute a \(geometry) convolution")
        self.algorithm = chosen
        let taps = geometry.kernelHeight * geometry.kernelWidth
        switch chosen {
        case .shiftAdd:
            var t = Tensor(shape: [cout * taps, cin])
            let dst = t.mutablePointer(), src = weight.pointer
            for o in 0..<cout {
                for c in 0..<cin {
                    for k in 0..<taps { dst[(o * taps + k) * cin + c] = src[(o * cin + c) * taps + k] }
                }
            }
            preparedWeights = t
        case .shiftedGEMM: preparedWeights = ShiftedGEMM.tapMajor(weight, channels: [0..<cin])
        case .winograd, .winograd4x4, .winograd1D:
            preparedWeights = WinogradPlan.transformWeights(weight, channels: [0..<cin], algorithm: chosen)
        case .pointwise, .im2col: preparedWeights = nil
        }
    }

    /// Whether this convolution skips im2col and computes `Y = W_taps · x` (one row per output and tap) followed
    /// by shifted additions of Y's planes. Same sums, re-associated; used for RAFT's 2-output flow head.
    public var usesShiftAdd: Bool { algorithm == .shiftAdd }

    /// A zero-initialised convolution of the given size (weights to be loaded or set later).
    public init(inputChannels: Int, outputChannels: Int, geometry: ConvGeometry) {
        self.init(weight: Tensor(shape: [outputChannels, inputChannels, geometry.kernelHeight, geometry.kernelWidth]),
                  bias: Tensor(shape: [outputChannels]), geometry: geometry)
    }

    /// Number of learnable parameters (weights + biases).
    public var parameterCount: Int { weight.count + bias.count }

    /// Rows of the im2col matrix, `inputChannels·kh·kw` (the GEMM's K).
    public var patchSize: Int { inputChannels * geometry.kernelHeight * geometry.kernelWidth }

    /// Output extent for an input of `height × width`.
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        geometry.outputSize(height: height, width: width)
    }

    /// Multiply-accumulates for one sample of `height × width`.
    public func multiplyAccumulates(height: Int, width: Int) -> Int {
        let (oh, ow) = outputSize(height: height, width: width)
        return outputChannels * patchSize * oh * ow
    }

    /// Convolves `x` `[N, inputChannels, H, W]` → `[N, outputChannels, oh, ow]`, then applies `activation`.
    /// Allocates its output and scratch; the model's loop uses ``forward(_:height:width:output:workspace:activation:)``.
    public func callAsFunction(_ x: Tensor, activation: Activation = .identity) -> Tensor {
        precondition(x.rank == 4 && x.c == inputChannels,
                     "Conv2d expects [N, \(inputChannels), H, W], got \(x.shape)")
        let (oh, ow) = outputSize(height: x.h, width: x.w)
        var out = Tensor(shape: [x.n, outputChannels, oh, ow])
        let workspace = Workspace()
        let dst = out.mutablePointer()
        for b in 0..<x.n {
            forward(x.pointer + b * inputChannels * x.h * x.w, height: x.h, width: x.w,
                    output: dst + b * outputChannels * oh * ow, workspace: workspace, activation: activation)
        }
        return out
    }

    /// Convolves `input` `[N, inputChannels, H, W]` into `output` (reshaped to `[N, outputChannels, oh, ow]`,
    /// reallocated only if its element count changes), with scratch from `workspace`: allocation-free in steady state.
    public func forward(_ input: Tensor, into output: inout Tensor, workspace: Workspace,
                        activation: Activation = .identity) {
        precondition(input.rank == 4 && input.c == inputChannels,
                     "Conv2d expects [N, \(inputChannels), H, W], got \(input.shape)")
        let (oh, ow) = outputSize(height: input.h, width: input.w)
        output.resize(to: [input.n, outputChannels, oh, ow])
        let dst = output.mutablePointer()
        for b in 0..<input.n {
            forward(input.pointer + b * inputChannels * input.h * input.w, height: input.h, width: input.w,
                    output: dst + b * outputChannels * oh * ow, workspace: workspace, activation: activation)
        }
    }

    /// One sample, `output[Cout, oh·ow] = act(W ∗ input + b)` by ``algorithm``; allocation-free once the workspace's
    /// convolution block has grown to this layer's ``scratch(height:width:workspace:)``.
    /// - Parameters:
    ///   - input: `[inputChannels, height, width]`.
    ///   - output: `[outputChannels, oh, ow]`.
    package func forward(_ input: UnsafePointer<Float>, height: Int, width: Int,
                         output: UnsafeMutablePointer<Float>, workspace: Workspace,
                         activation: Activation = .identity) {
        let (oh, ow) = outputSize(height: height, width: width)
        let pixels = oh * ow
        let scratch = scratch(height: height, width: width, workspace: workspace)
        switch algorithm {
        case .shiftAdd:
            shiftAdd(input, height: height, width: width, tapWeights: preparedWeights!, output: output, scratch: scratch)
        case .shiftedGEMM:
            shifted(input, height: height, width: width, weights: preparedWeights!, output: output, scratch: scratch)
        case .winograd, .winograd4x4, .winograd1D:
            winograd(input, height: height, width: width, weights: preparedWeights!, output: output, scratch: scratch)
        case .pointwise:
            gemm(columns: input, pixels: pixels, output: output, ldc: pixels)
        case .im2col:
            blockedIm2col(input, height: height, width: width, output: output, scratch: scratch)
        }
        activation.apply(output, count: outputChannels * pixels)
    }

    /// What one ``forward(_:height:width:output:workspace:activation:)`` call needs besides its input and output;
    /// the fields ``algorithm`` does not use are empty.
    package struct Scratch {
        /// Zero-padded copy of the input in the shifted-GEMM or Winograd layout, `[inputChannels, planeCount]`.
        var padded: UnsafeMutablePointer<Float>
        /// Shifted GEMMs' products on the wide grid, `[outputChannels, wideCount]`, before compaction.
        var wide: UnsafeMutablePointer<Float>
        /// Shift-and-add's per-tap products, `[outputChannels·taps, height·width]`.
        var taps: UnsafeMutablePointer<Float>
        /// Blocked im2col's column blocks, one per worker thread: `[workers, patchSize·blockRows·ow]`.
        var columns: UnsafeMutablePointer<Float>
        /// One Winograd band of the transformed input, `[positions, inputChannels, band]`.
        var transformedInput: UnsafeMutablePointer<Float>
        /// One Winograd band of the products, `[positions, outputChannels, band]`.
        var products: UnsafeMutablePointer<Float>
    }

    /// This layer's scratch for an `height × width` input, laid out in the workspace's convolution block.
    package func scratch(height: Int, width: Int, workspace: Workspace) -> Scratch {
        let taps = geometry.kernelHeight * geometry.kernelWidth
        var padded = 0, wide = 0, tapProducts = 0, columns = 0, transformedInput = 0, products = 0
        switch algorithm {
        case .pointwise: break
        case .shiftAdd: tapProducts = outputChannels * taps * height * width
        case .shiftedGEMM:
            let layout = ShiftedGEMM.Layout(height: height, width: width, geometry: geometry)
            padded = layout.paddedCount(channels: inputChannels)
            wide = layout.isCompact ? 0 : outputChannels * layout.wideCount
        case .winograd, .winograd4x4, .winograd1D:
            if let plan = WinogradPlan(algorithm, height: height, width: width, geometry: geometry) {
                let band = plan.bandSize(channels: max(inputChannels, outputChannels))
                padded = inputChannels * plan.planeCount
                transformedInput = plan.bandCount(channels: inputChannels, bandSize: band)
                products = plan.bandCount(channels: outputChannels, bandSize: band)
            }
        case .im2col:
            let blocking = Im2colBlocking(self, height: height, width: width)
            columns = Parallel.workers(blocking.blocks) * blocking.floatsPerBlock
        }
        return workspace.convolution.carve { c in
            Scratch(padded: c.take(padded), wide: c.take(wide), taps: c.take(tapProducts), columns: c.take(columns),
                    transformedInput: c.take(transformedInput), products: c.take(products))
        }
    }

    /// im2col and GEMM in blocks of output rows, each thread with its own column buffer of about
    /// ``im2colBlockFloats``: a block's columns are multiplied while they are still in cache, instead of writing the
    /// whole patch matrix (66 MB for the 7×7 stem at 1024×440) and reading it back.
    private func blockedIm2col(_ input: UnsafePointer<Float>, height: Int, width: Int,
                               output: UnsafeMutablePointer<Float>, scratch: Scratch) {
        let blocking = Im2colBlocking(self, height: height, width: width)
        guard blocking.blocks > 0 else { return }
        fillBias(output, count: blocking.outputHeight * blocking.outputWidth, stride: blocking.outputHeight * blocking.outputWidth)
        Parallel.forEachWorker(blocking.blocks, context: (self, input, height, width, output, scratch.columns, blocking)) {
            im2col, worker, part in
            let (conv, input, height, width, output, buffers, blocking) = im2col
            let (oh, ow) = (blocking.outputHeight, blocking.outputWidth), patchSize = conv.patchSize
            let columns = buffers + worker * blocking.floatsPerBlock
            for block in part {
                let rows = blocking.rows(block)
                Im2col.write(input: input, channels: conv.inputChannels, height: height, width: width,
                             geometry: conv.geometry, outputRows: rows, columns: columns)
                BLAS.serialSGEMM(m: conv.outputChannels, n: rows.count * ow, k: patchSize, a: conv.weight.pointer,
                                 lda: patchSize, b: columns, ldb: rows.count * ow, beta: 1,
                                 c: output + rows.lowerBound * ow, ldc: oh * ow)
            }
        }
    }

    /// How blocked im2col splits the output rows: blocks of at most about ``im2colBlockFloats`` columns, as many
    /// as a multiple of the threads, rows dealt out evenly (block b: rows `oh·b/blocks ..< oh·(b+1)/blocks`).
    struct Im2colBlocking {
        let outputHeight: Int, outputWidth: Int
        /// Number of row blocks (0 for an empty output).
        let blocks: Int
        /// Floats of one block's columns, `patchSize · ⌈oh / blocks⌉ · ow`.
        let floatsPerBlock: Int

        init(_ conv: Conv2d, height: Int, width: Int) {
            (outputHeight, outputWidth) = conv.outputSize(height: height, width: width)
            let (oh, ow) = (outputHeight, outputWidth)
            guard oh > 0, ow > 0 else { (blocks, floatsPerBlock) = (0, 0); return }
            let rowsPerBlock = max(1, min(oh, Conv2d.im2colBlockFloats / (conv.patchSize * ow)))
            let workers = Parallel.workers(oh)
            blocks = min(oh, ((oh + rowsPerBlock - 1) / rowsPerBlock + workers - 1) / workers * workers)
            floatsPerBlock = conv.patchSize * ((oh + blocks - 1) / blocks) * ow
        }

        func rows(_ block: Int) -> Range<Int> { (outputHeight * block / blocks)..<(outputHeight * (block + 1) / blocks) }
    }

    /// Floats of one thread's im2col block (``blockedIm2col(_:height:width:output:workspace:)``), 2 MB. One row of the
    /// encoder's stride-2 layer2 convolution is 147 K floats: with 512 KB blocks each GEMM got one row (N = 256) and
    /// ran at 87–88 % of a bare sgemm, with 2 MB three rows at 91 %; the stem and the 7×7 flow convolution are
    /// unchanged.
    static let im2colBlockFloats = 1 << 19

    /// Sets every output plane (`count` floats each, `stride` apart) to its channel's bias, before GEMMs accumulate.
    private func fillBias(_ output: UnsafeMutablePointer<Float>, count: Int, stride: Int) {
        Parallel.forEach(outputChannels, minimumChunk: 8, context: (bias.pointer, output, count, stride)) { fill, part in
            let (bias, output, count, stride) = fill
            for o in part { (output + o * stride).update(repeating: bias[o], count: count) }
        }
    }

    /// `Y[o·taps + t] = Σ_c W[o, c, t]·x[c]` as one GEMM over the input planes, then
    /// `out[o](y, x) = b[o] + Σ_t Y[o·taps + t](y·s + ky·d − p, x·s + kx·d − p)` (zero outside).
    private func shiftAdd(_ input: UnsafePointer<Float>, height: Int, width: Int, tapWeights: Tensor,
                          output: UnsafeMutablePointer<Float>, scratch: Scratch) {
        let g = geometry
        let taps = g.kernelHeight * g.kernelWidth
        let (oh, ow) = outputSize(height: height, width: width)
        let plane = height * width
        let y = scratch.taps
        BLAS.sgemm(m: outputChannels * taps, n: plane, k: inputChannels, a: tapWeights.pointer, lda: inputChannels,
                   b: input, ldb: plane, c: y, ldc: plane)
        fillBias(output, count: oh * ow, stride: oh * ow)
        for o in 0..<outputChannels {
            let out = output + o * oh * ow
            for ky in 0..<g.kernelHeight {
                let dy = ky * g.dilationY - g.paddingY
                for kx in 0..<g.kernelWidth {
                    let dx = kx * g.dilationX - g.paddingX
                    let src = UnsafePointer(y + (o * taps + ky * g.kernelWidth + kx) * plane)
                    let x0 = max(0, -dx), x1 = min(ow, width - dx)
                    let y0 = max(0, -dy), y1 = min(oh, height - dy)
                    guard x1 > x0, y1 > y0 else { continue }
                    for oy in y0..<y1 {
                        let row = out + oy * ow, s = src + (oy + dy) * width + dx
                        for ox in x0..<x1 { row[ox] += s[ox] }
                    }
                }
            }
        }
    }

    /// One GEMM per tap over shifted views of the zero-padded input or its phases (``ShiftedGEMM``), then the
    /// bias. For stride 1 without horizontal padding the wide grid is the output itself; otherwise the wide rows are
    /// compacted.
    private func shifted(_ input: UnsafePointer<Float>, height: Int, width: Int, weights: Tensor,
                         output: UnsafeMutablePointer<Float>, scratch: Scratch) {
        let layout = ShiftedGEMM.Layout(height: height, width: width, geometry: geometry)
        let (oh, ow) = (layout.outputHeight, layout.outputWidth)
        guard oh > 0, ow > 0 else { return }
        let padded = scratch.padded
        ShiftedGEMM.pad(input, channels: inputChannels, layout: layout, into: padded)
        if layout.isCompact {
            fillBias(output, count: oh * ow, stride: oh * ow)
            ShiftedGEMM.multiply(weights: weights.pointer, outputs: outputChannels, inputChannels: inputChannels,
                                 lda: inputChannels, padded: padded, layout: layout, wide: output, ldc: oh * ow,
                                 accumulate: true)
            return
        }
        let wide = scratch.wide
        ShiftedGEMM.multiply(weights: weights.pointer, outputs: outputChannels, inputChannels: inputChannels,
                             lda: inputChannels, padded: padded, layout: layout, wide: wide, ldc: layout.wideCount,
                             accumulate: false)
        compact(wide, rowStride: layout.phaseWidth, planeStride: layout.wideCount, output: output, height: oh, width: ow)
    }

    /// `output[o, y, x] = wide[o·planeStride + y·rowStride + x] + bias[o]`.
    private func compact(_ wide: UnsafePointer<Float>, rowStride: Int, planeStride: Int,
                         output: UnsafeMutablePointer<Float>, height oh: Int, width ow: Int) {
        Parallel.forEach(outputChannels, minimumChunk: 8, context: (bias.pointer, wide, rowStride, planeStride, output, oh, ow)) {
            compact, part in
            let (bias, wide, rowStride, planeStride, output, oh, ow) = compact
            for o in part {
                let b = bias[o]
                for oy in 0..<oh {
                    let src = wide + o * planeStride + oy * rowStride, dst = output + (o * oh + oy) * ow
                    for ox in 0..<ow { dst[ox] = src[ox] + b }
                }
            }
        }
    }

    /// Winograd (F(m×m, 3×3) or F(4, 5)) in bands: pad, transform the input, one GEMM per position, transform the
    /// output (with the bias) straight into `output`.
    private func winograd(_ input: UnsafePointer<Float>, height: Int, width: Int, weights: Tensor,
                          output: UnsafeMutablePointer<Float>, scratch: Scratch) {
        guard let plan = WinogradPlan(algorithm, height: height, width: width, geometry: geometry), !plan.isEmpty
        else { return }
        plan.pad(input, channels: inputChannels, into: scratch.padded)
        plan.convolve(padded: scratch.padded, channels: inputChannels, u: weights.pointer, outputs: outputChannels,
                      bias: bias.pointer, output: output, v: scratch.transformedInput, m: scratch.products,
                      bandSize: plan.bandSize(channels: max(inputChannels, outputChannels)))
    }

    /// A pointwise convolution of an input stored pixel-major, `[pixels, inputChannels]` (RAFT's correlation
    /// features as the look-up writes them): `output[Cout, pixels] = act(W · inputᵀ + b)`, one GEMM with B
    /// transposed, so the look-up can write each pixel's features contiguously.
    package func forwardPixelMajor(_ input: UnsafePointer<Float>, pixels: Int, output: UnsafeMutablePointer<Float>,
                                   activation: Activation = .identity) {
        precondition(algorithm == .pointwise, "pixel-major input needs a pointwise convolution")
        fillBias(output, count: pixels, stride: pixels)
        BLAS.sgemmTransposedB(m: outputChannels, n: pixels, k: inputChannels, a: weight.pointer, lda: inputChannels,
                              b: input, ldb: inputChannels, beta: 1, c: output, ldc: pixels)
        activation.apply(output, count: outputChannels * pixels)
    }

    /// `output = W · columns + bias` for a prepared column matrix `[patchSize, pixels]`.
    /// `ldc` lets callers write into a larger matrix (e.g. one gate of several).
    package func gemm(columns: UnsafePointer<Float>, pixels: Int, output: UnsafeMutablePointer<Float>, ldc: Int) {
        fillBias(output, count: pixels, stride: ldc)
        BLAS.sgemm(m: outputChannels, n: pixels, k: patchSize, a: weight.pointer, lda: patchSize,
                   b: columns, ldb: pixels, beta: 1, c: output, ldc: ldc)
    }

    /// Stacks convolutions that read the same input and share a geometry into one (outputs concatenated
    /// in order), so that their gates run as a single, larger GEMM.
    public static func stacked(_ convs: [Conv2d]) -> Conv2d {
        precondition(!convs.isEmpty)
        let g = convs[0].geometry, cin = convs[0].inputChannels
        precondition(convs.allSatisfy { $0.geometry == g && $0.inputChannels == cin }, "stacked convs must match")
        let total = convs.reduce(0) { $0 + $1.outputChannels }
        var w = Tensor(shape: [total, cin, g.kernelHeight, g.kernelWidth])
        var b = Tensor(shape: [total])
        let wp = w.mutablePointer(), bp = b.mutablePointer()
        var o = 0
        for c in convs {
            (wp + o * c.patchSize).update(from: c.weight.pointer, count: c.weight.count)
            (bp + o).update(from: c.bias.pointer, count: c.outputChannels)
            o += c.outputChannels
        }
        return Conv2d(weight: w, bias: b, geometry: g)
    }
}

/// How a ``Conv2d`` computes its output; chosen from the shape when the convolution is made.
public enum ConvolutionAlgorithm: String, Sendable, Equatable, CaseIterable, CustomStringConvertible {
    /// 1×1, stride 1, unpadded: `W · input`, no copy of the input.
    case pointwise
    /// Stride 1, 3×3, undilated: Winograd F(2×2, 3×3) (``Winograd``), 16 instead of 36 multiplications per
    /// 2×2 output tile.
    case winograd
    /// Stride 1, 3×3, undilated: Winograd F(4×4, 3×3) (``Winograd``), 36 instead of 144 multiplications per 4×4
    /// output tile. Its rounding error is about 20× that of F(2×2) per convolution (motion encoder against PyTorch:
    /// 1.6e-4 instead of 7e-6 on features up to 16), which moves RAFT-S's final flow by 6e-6 px on average
    /// (9e-5 px at most) on the bundled samples.
    case winograd4x4
    /// 1×5 or 5×1, stride 1, padded to keep the size (RAFT's separable GRU): one-dimensional Winograd F(4, 5)
    /// (``Winograd1D``), 8 instead of 20 multiplications per 4 outputs.
    case winograd1D
    /// One GEMM per kernel tap over shifted views of a zero-padded copy of the input (``ShiftedGEMM``); strided
    /// kernels read the stride² phases of that copy.
    case shiftedGEMM
    /// Few outputs: one GEMM of the per-tap weights over the input planes, then shifted sums.
    case shiftAdd
    /// The patch matrix (im2col), then one GEMM with K = input channels · taps. Any geometry.
    case im2col

    /// Input channels from which multi-tap convolutions use shifted GEMMs (each tap's GEMM has K = input channels).
    public static let shiftedMinimumInputChannels = 32
    /// Input and output channels from which 3×3 stride-1 convolutions use Winograd: below, the transforms cost more
    /// than the multiplications they save (measured, `Benchmarks/README.md`).
    public static let winogradMinimumChannels = 64
    /// Input channels from which Winograd uses F(4×4, 3×3) rather than F(2×2, 3×3): every shape Winograd takes by
    /// default. F(4×4) measured 15–30 % faster on RAFT's shapes with 96 or more input channels. On the encoder's
    /// 64-channel layer it lost inside the encoder while OpenBLAS ran each of its 36 small products on two threads;
    /// with the positions split over RAFTKit's threads it takes 19.6 against 24.2 ms, and the basic encoders
    /// 544–595 against 624–689 ms (four interleaved runs).
    public static let winograd4x4MinimumInputChannels = 64

    public var description: String { rawValue }

    /// Whether this algorithm can compute a convolution of this geometry.
    public func supports(_ g: ConvGeometry) -> Bool {
        switch self {
        case .pointwise: g.isPointwise
        case .winograd, .winograd4x4: Winograd.supports(g)
        case .winograd1D: Winograd1D.supports(g)
        case .shiftedGEMM: true
        case .shiftAdd: g.strideY == 1 && g.strideX == 1
        case .im2col: true
        }
    }

    /// The tile of the Winograd algorithms; nil for the others.
    package var winogradTile: Winograd.Tile? {
        switch self {
        case .winograd: .f2x2
        case .winograd4x4: .f4x4
        default: nil
        }
    }

    /// The algorithm a ``Conv2d`` of this shape uses by default.
    public static func preferred(inputChannels: Int, outputChannels: Int, geometry g: ConvGeometry) -> ConvolutionAlgorithm {
        let taps = g.kernelHeight * g.kernelWidth
        if g.isPointwise { return .pointwise }
        let strideOne = g.strideY == 1 && g.strideX == 1
        // Few outputs: the GEMM then has few rows, and the patch matrix costs far more traffic than the multiply.
        if strideOne && taps > 1 && outputChannels * taps <= 32 { return .shiftAdd }
        if Winograd.supports(g) && inputChannels >= winogradMinimumChannels && outputChannels >= winogradMinimumChannels {
            return inputChannels >= winograd4x4MinimumInputChannels ? .winograd4x4 : .winograd
        }
        if Winograd1D.supports(g) && inputChannels >= winogradMinimumChannels && outputChannels >= winogradMinimumChannels {
            return .winograd1D
        }
        // Stride 2 across (RAFT's stride-2 encoder convolutions): blocked im2col, whose rows are gathered eight at
        // a time, feeds one deep GEMM (K = 9·Cin) and measured faster than nine shallow shifted GEMMs (K = Cin):
        // 15.0–15.6 against 16.9–17.5 ms (96×28160×576) and 7.6 against 7.8–8.1 ms (128×7040×864).
        if taps > 1 && g.strideX == 2 { return .im2col }
        // Each tap's GEMM needs a useful depth (K = input channels); below that (RAFT's 2-channel 7×7 flow input)
        // im2col's single deep GEMM wins.
        if taps > 1 && inputChannels >= shiftedMinimumInputChannels { return .shiftedGEMM }
        return .im2col
    }
}
