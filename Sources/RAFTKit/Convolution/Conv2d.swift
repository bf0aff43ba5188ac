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
    ///   ``ConvolutionAlgorithm/preferred(inputChannels:outputChannels:geometry:)``.
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
        self.bias = b.reshaped(unchecked: [outputChannels])
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
            gemm(columns: input, pixels: pixels, output: output, ldc: pixels, arithmetic: scratch.arithmetic)
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
        /// How the GEMMs are computed (the workspace's ``Workspace/arithmetic``).
        var arithmetic: GEMMArithmetic
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
                    transformedInput: c.take(transformedInput), products: c.take(products),
                    arithmetic: workspace.arithmetic)
        }
    }

    /// A pointwise convolution of an input stored pixel-major, `[pixels, inputChannels]` (RAFT's correlation
    /// features as the look-up writes them): `output[Cout, pixels] = act(W · inputᵀ + b)`, one GEMM with B
    /// transposed, so the look-up can write each pixel's features contiguously.
    package func forwardPixelMajor(_ input: UnsafePointer<Float>, pixels: Int, output: UnsafeMutablePointer<Float>,
                                   activation: Activation = .identity, arithmetic: GEMMArithmetic = .float32) {
        precondition(algorithm == .pointwise, "pixel-major input needs a pointwise convolution")
        fillBias(output, count: pixels, stride: pixels)
        BLAS.sgemmTransposedB(m: outputChannels, n: pixels, k: inputChannels, a: weight.pointer, lda: inputChannels,
                              b: input, ldb: inputChannels, beta: 1, c: output, ldc: pixels, arithmetic: arithmetic)
        activation.apply(output, count: outputChannels * pixels)
    }

    /// `output = W · columns + bias` for a prepared column matrix `[patchSize, pixels]`.
    /// `ldc` lets callers write into a larger matrix (e.g. one gate of several).
    package func gemm(columns: UnsafePointer<Float>, pixels: Int, output: UnsafeMutablePointer<Float>, ldc: Int,
                      arithmetic: GEMMArithmetic = .float32) {
        fillBias(output, count: pixels, stride: ldc)
        BLAS.sgemm(m: outputChannels, n: pixels, k: patchSize, a: weight.pointer, lda: patchSize,
                   b: columns, ldb: pixels, beta: 1, c: output, ldc: ldc, arithmetic: arithmetic)
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
    /// output tile. Its rounding error is about 20× that of F(2×2) per convolution, well inside the parity
    /// tolerances at the model's output (README, Correctness).
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
    package static let shiftedMinimumInputChannels = 32
    /// Input and output channels from which 3×3 stride-1 convolutions use Winograd: below, the transforms cost more
    /// than the multiplications they save (Benchmarks/README.md, "Convolution core vs bare sgemm").
    package static let winogradMinimumChannels = 64
    /// Input channels from which Winograd uses F(4×4, 3×3) rather than F(2×2, 3×3): every shape Winograd takes by
    /// default: with the positions split over RAFTKit's threads, F(4×4) is faster down to the encoder's 64-channel
    /// layer (Benchmarks/README.md, third and fourth rounds).
    package static let winograd4x4MinimumInputChannels = 64

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
        // a time, feeds one deep GEMM (K = 9·Cin), which beats nine shallow shifted GEMMs (K = Cin) on these shapes
        // (Benchmarks/README.md, "Design choices and their measurements").
        if taps > 1 && g.strideX == 2 { return .im2col }
        // Each tap's GEMM needs a useful depth (K = input channels); below that (RAFT's 2-channel 7×7 flow input)
        // im2col's single deep GEMM wins.
        if taps > 1 && inputChannels >= shiftedMinimumInputChannels { return .shiftedGEMM }
        return .im2col
    }
}
