/// Convolution without im2col: one GEMM per kernel tap, each reading a shifted view of a zero-padded copy of the
/// input.
///
/// With the input copied once into planes of `paddedHeight × paddedWidth` (zero border), the output computed on
/// a "wide" grid of `outputHeight × paddedWidth` cells (cell `oy·paddedWidth + ox`) is, for every tap
/// `(ky, kx)`, a GEMM `wide += W_tap[Cout, Cin] · P_tap[Cin, outputHeight·paddedWidth]` where row c of `P_tap`
/// is plane c read from offset `ky·dy·paddedWidth + kx·dx` — a plain strided matrix (leading dimension = plane
/// size), so no patch matrix is ever written. The last `paddedWidth − outputWidth` cells of each wide row read
/// across the row boundary and are discarded. Same products as im2col + one GEMM, summed tap by tap.
///
/// Strided convolutions (RAFT's stride-2 encoder convolutions) split the padded input into `strideY·strideX`
/// phases, phase `(a, b)` holding padded pixels `(s·i + a, s·j + b)`; tap `(ky, kx)` then reads phase
/// `(ky·dy mod s, kx·dx mod s)` shifted by `(⌊ky·dy/s⌋, ⌊kx·dx/s⌋)` — again one plain strided matrix per tap. Stride 1
/// is the one-phase case.
///
/// Against im2col this saves writing and re-reading a `Cin·taps × pixels` matrix (65 MB for a 3×3 convolution of
/// 256 channels on RAFT's 55×128 grid), which is the faster way for these shapes, and the workspace shrinks by that
/// matrix. OpenBLAS blocks K in chunks of a few hundred anyway, so splitting K by tap costs little, even at 64 input
/// channels (measurements: `Benchmarks/README.md`, "Design choices and their measurements").
package enum ShiftedGEMM {
    /// Sizes of the padded input (its phases) and of the wide output grid for one geometry and input size.
    package struct Layout {
        package let height: Int, width: Int, paddingY: Int, paddingX: Int
        package let strideY: Int, strideX: Int
        package let kernelHeight: Int, kernelWidth: Int, dilationY: Int, dilationX: Int
        /// One phase plane (the whole padded plane for stride 1).
        package let phaseHeight: Int, phaseWidth: Int
        package let outputHeight: Int, outputWidth: Int

        package init(height: Int, width: Int, geometry g: ConvGeometry) {
            self.height = height
            self.width = width
            (paddingY, paddingX) = (g.paddingY, g.paddingX)
            (strideY, strideX) = (g.strideY, g.strideX)
            (kernelHeight, kernelWidth) = (g.kernelHeight, g.kernelWidth)
            (dilationY, dilationX) = (g.dilationY, g.dilationX)
            phaseHeight = (height + 2 * g.paddingY + g.strideY - 1) / g.strideY
            phaseWidth = (width + 2 * g.paddingX + g.strideX - 1) / g.strideX
            (outputHeight, outputWidth) = g.outputSize(height: height, width: width)
        }

        /// Floats of one phase plane.
        package var phasePlaneCount: Int { phaseHeight * phaseWidth }
        /// Floats per input channel (all its phases): the GEMMs' leading dimension of B.
        package var channelStride: Int { strideY * strideX * phasePlaneCount }
        /// Zero floats after the last channel: the discarded wide cells of the last row read that far.
        package var slack: Int { (kernelWidth - 1) * dilationX / strideX + 1 }
        /// Floats of the padded input of `channels` channels, slack included.
        package func paddedCount(channels: Int) -> Int { channels * channelStride + slack }
        /// Cells of one wide output plane (GEMM N).
        package var wideCount: Int { outputHeight * phaseWidth }
        /// Whether wide and compact outputs coincide (stride 1 without horizontal padding): the GEMMs can then write
        /// the output directly.
        package var isCompact: Bool { phaseWidth == outputWidth }
    }

    /// Writes every phase of every channel (zeros outside the input), and the slack. Every float of the destination
    /// is written, so the buffer needs no clearing.
    package static func pad(_ input: UnsafePointer<Float>, channels: Int, layout l: Layout,
                            into padded: UnsafeMutablePointer<Float>) {
        Parallel.forEach(channels, minimumChunk: 8, context: (input, padded, l)) { pad, part in
            let (input, padded, l) = pad
            let (H, W, ph, pw) = (l.height, l.width, l.phaseHeight, l.phaseWidth)
            for c in part {
                let src = input + c * H * W
                for a in 0..<l.strideY {
                    for b in 0..<l.strideX {
                        let phase = padded + c * l.channelStride + (a * l.strideX + b) * l.phasePlaneCount
                        // Phase columns j with 0 ≤ s·j + b − pX < W.
                        let first = max(0, (l.paddingX - b + l.strideX - 1) / l.strideX)
                        let end = min(pw, max(first, (W - 1 + l.paddingX - b) / l.strideX + 1))
                        for i in 0..<ph {
                            let row = phase + i * pw
                            let y = l.strideY * i + a - l.paddingY
                            guard y >= 0, y < H, end > first else { row.update(repeating: 0, count: pw); continue }
                            let line = src + y * W + b - l.paddingX
                            row.update(repeating: 0, count: first)
                            if l.strideX == 1 {
                                (row + first).update(from: line + first, count: end - first)
                            } else {
                                for j in first..<end { row[j] = line[l.strideX * j] }
                            }
                            (row + end).update(repeating: 0, count: pw - end)
                        }
                    }
                }
            }
        }
        (padded + channels * l.channelStride).update(repeating: 0, count: l.slack)
    }

    /// Pointer to input pixel `(y, x)` of channel 0 inside a stride-1 padded buffer (add `c·channelStride` for
    /// channel c).
    @inline(__always)
    package static func interior(_ padded: UnsafeMutablePointer<Float>, layout l: Layout, y: Int, x: Int)
        -> UnsafeMutablePointer<Float> {
        precondition(l.strideY == 1 && l.strideX == 1, "interior pixels are addressable for stride 1 only")
        return padded + (y + l.paddingY) * l.phaseWidth + x + l.paddingX
    }

    /// `wide[M, wideCount] (+)= Σ_tap W_tap · P_tap` over the phases of `inputChannels` channels.
    ///
    /// The columns are split over the threads, and each thread walks its columns in blocks of about
    /// ``blockFloats`` output floats, all taps per block: the block of `wide` stays in cache while the taps add into
    /// it, instead of every tap streaming the whole output through memory.
    /// - Parameters:
    ///   - weights: tap-major `[taps, outputs, lda]`, of which the first `inputChannels` columns are used.
    ///   - accumulate: add to `wide` (true) or overwrite it with the first tap's product (false).
    package static func multiply(weights: UnsafePointer<Float>, outputs: Int, inputChannels: Int, lda: Int,
                                 padded: UnsafePointer<Float>, layout l: Layout,
                                 wide: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool,
                                 arithmetic: GEMMArithmetic = .float32) {
        let n = l.wideCount
        let lines = (n + 15) / 16
        let blockLines = max(1, blockFloats / (16 * max(1, outputs)))
        Parallel.forEach(lines, minimumChunk: min(lines, blockLines),
                         context: (weights, outputs, inputChannels, lda, padded, l, wide, ldc, accumulate, n, blockLines,
                                  arithmetic)) {
            product, part in
            let (weights, outputs, inputChannels, lda, padded, l, wide, ldc, accumulate, n, blockLines, arithmetic) = product
            var line = part.lowerBound
            while line < part.upperBound {
                let first = 16 * line, end = min(n, 16 * min(part.upperBound, line + blockLines))
                for ky in 0..<l.kernelHeight {
                    let oy = ky * l.dilationY
                    for kx in 0..<l.kernelWidth {
                        let ox = kx * l.dilationX
                        let t = ky * l.kernelWidth + kx
                        let phase = (oy % l.strideY) * l.strideX + ox % l.strideX
                        let b = padded + phase * l.phasePlaneCount + (oy / l.strideY) * l.phaseWidth + ox / l.strideX
                        BLAS.serialSGEMM(m: outputs, n: end - first, k: inputChannels, a: weights + t * outputs * lda,
                                         lda: lda, b: b + first, ldb: l.channelStride,
                                         beta: (accumulate || t > 0) ? 1 : 0, c: wide + first, ldc: ldc,
                                         arithmetic: arithmetic)
                    }
                }
                line += blockLines
            }
        }
    }

    /// Output floats (outputs × columns) of one block of ``multiply(weights:outputs:inputChannels:lda:padded:layout:wide:ldc:accumulate:)``:
    /// 64 Ki floats, 256 KB, a quarter of a core's L2 on the project machine.
    package static let blockFloats = 1 << 16

    /// OIHW weights `[O, Cin, kh, kw]` rearranged tap-major, `[taps, O, selected channels]`, keeping the input
    /// channels in `channels` (in that order).
    package static func tapMajor(_ weight: Tensor, channels: [Range<Int>]) -> Tensor {
        let (o, cin, taps) = (weight.shape[0], weight.shape[1], weight.shape[2] * weight.shape[3])
        let selected = channels.selectedCount
        var out = Tensor(uninitializedShape: [taps, o, selected])
        let dst = out.mutablePointer(), src = weight.pointer
        for t in 0..<taps {
            for oc in 0..<o {
                channels.forEachSelected { k, c in dst[(t * o + oc) * selected + k] = src[(oc * cin + c) * taps + t] }
            }
        }
        return out
    }
}
