/// How ``Conv2d`` computes each of its algorithms on one sample: blocked im2col, shift-and-add, shifted GEMMs and
/// Winograd, each writing `output[Cout, oh·ow]` (bias included) from `input[Cin, H, W]` with the layer's
/// ``Conv2d/Scratch``.
extension Conv2d {
    /// im2col and GEMM in blocks of output rows, each thread with its own column buffer of about
    /// ``im2colBlockFloats``: a block's columns are multiplied while they are still in cache, instead of writing the
    /// whole patch matrix (tens of MB for the 7×7 stem) and reading it back.
    func blockedIm2col(_ input: UnsafePointer<Float>, height: Int, width: Int,
                               output: UnsafeMutablePointer<Float>, scratch: Scratch) {
        let blocking = Im2colBlocking(self, height: height, width: width)
        guard blocking.blocks > 0 else { return }
        fillBias(output, count: blocking.outputHeight * blocking.outputWidth, stride: blocking.outputHeight * blocking.outputWidth)
        Parallel.forEachWorker(blocking.blocks, context: (self, input, height, width, output, scratch.columns, blocking,
                                                          scratch.arithmetic)) {
            im2col, worker, part in
            let (conv, input, height, width, output, buffers, blocking, arithmetic) = im2col
            let (oh, ow) = (blocking.outputHeight, blocking.outputWidth), patchSize = conv.patchSize
            let columns = buffers + worker * blocking.floatsPerBlock
            for block in part {
                let rows = blocking.rows(block)
                Im2col.write(input: input, channels: conv.inputChannels, height: height, width: width,
                             geometry: conv.geometry, outputRows: rows, columns: columns)
                BLAS.serialSGEMM(m: conv.outputChannels, n: rows.count * ow, k: patchSize, a: conv.weight.pointer,
                                 lda: patchSize, b: columns, ldb: rows.count * ow, beta: 1,
                                 c: output + rows.lowerBound * ow, ldc: oh * ow, arithmetic: arithmetic)
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

    /// Floats of one thread's im2col block, 2 MB: about three output rows of the encoder's stride-2 layer2
    /// convolution, so that each GEMM gets enough columns (Benchmarks/README.md, sixth round).
    static let im2colBlockFloats = 1 << 19

    /// Sets every output plane (`count` floats each, `stride` apart) to its channel's bias, before GEMMs accumulate.
    func fillBias(_ output: UnsafeMutablePointer<Float>, count: Int, stride: Int) {
        Parallel.forEach(outputChannels, minimumChunk: 8, context: (bias.pointer, output, count, stride)) { fill, part in
            let (bias, output, count, stride) = fill
            for o in part { (output + o * stride).update(repeating: bias[o], count: count) }
        }
    }

    /// `Y[o·taps + t] = Σ_c W[o, c, t]·x[c]` as one GEMM over the input planes, then
    /// `out[o](y, x) = b[o] + Σ_t Y[o·taps + t](y·s + ky·d − p, x·s + kx·d − p)` (zero outside).
    func shiftAdd(_ input: UnsafePointer<Float>, height: Int, width: Int, tapWeights: Tensor,
                          output: UnsafeMutablePointer<Float>, scratch: Scratch) {
        let g = geometry
        let taps = g.kernelHeight * g.kernelWidth
        let (oh, ow) = outputSize(height: height, width: width)
        let plane = height * width
        let y = scratch.taps
        BLAS.sgemm(m: outputChannels * taps, n: plane, k: inputChannels, a: tapWeights.pointer, lda: inputChannels,
                   b: input, ldb: plane, c: y, ldc: plane, arithmetic: scratch.arithmetic)
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
    func shifted(_ input: UnsafePointer<Float>, height: Int, width: Int, weights: Tensor,
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
                                 accumulate: true, arithmetic: scratch.arithmetic)
            return
        }
        let wide = scratch.wide
        ShiftedGEMM.multiply(weights: weights.pointer, outputs: outputChannels, inputChannels: inputChannels,
                             lda: inputChannels, padded: padded, layout: layout, wide: wide, ldc: layout.wideCount,
                             accumulate: false, arithmetic: scratch.arithmetic)
        compact(wide, rowStride: layout.phaseWidth, planeStride: layout.wideCount, output: output, height: oh, width: ow)
    }

    /// `output[o, y, x] = wide[o·planeStride + y·rowStride + x] + bias[o]`.
    func compact(_ wide: UnsafePointer<Float>, rowStride: Int, planeStride: Int,
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
    func winograd(_ input: UnsafePointer<Float>, height: Int, width: Int, weights: Tensor,
                          output: UnsafeMutablePointer<Float>, scratch: Scratch) {
        guard let plan = WinogradPlan(algorithm, height: height, width: width, geometry: geometry), !plan.isEmpty
        else { return }
        plan.pad(input, channels: inputChannels, into: scratch.padded)
        plan.convolve(padded: scratch.padded, channels: inputChannels, u: weights.pointer, outputs: outputChannels,
                      bias: bias.pointer, output: output, v: scratch.transformedInput, m: scratch.products,
                      bandSize: plan.bandSize(channels: max(inputChannels, outputChannels)), arithmetic: scratch.arithmetic)
    }
}
