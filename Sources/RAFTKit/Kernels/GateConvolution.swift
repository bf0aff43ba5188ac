/// How a ``ConvGRU``'s gate convolutions are computed on one grid: `[h, x]` is copied once into zero-padded planes,
/// and each gate's pre-activation is one product per Winograd position (F(m×m, 3×3) for a 3×3 step, F(4, 5) for
/// RAFT's 1×5 and 5×1 steps) or per kernel tap (shifted GEMMs), without im2col. z and r share their products
/// (the stacked `[W_z; W_r]`, `2·hidden` rows). r⊙h then replaces h in the padded planes, so the q products
/// re-read x where it already is.
struct GateConvolution {
    enum Layout {
        /// Winograd: `plan` and the band of positions one GEMM covers.
        case winograd(WinogradPlan, bandSize: Int)
        /// One GEMM per kernel tap on shifted views of the padded planes.
        case shifted(ShiftedGEMM.Layout)
    }

    let layout: Layout
    /// Channels of h and of the x part that is convolved (all of x, or its dynamic part).
    let hiddenChannels: Int, inputChannels: Int
    /// The grid.
    let height: Int, width: Int

    /// The layout of `algorithm` (a Winograd one, when it supports the geometry, else shifted GEMMs).
    init(_ algorithm: ConvolutionAlgorithm, geometry: ConvGeometry, height: Int, width: Int,
         hiddenChannels: Int, inputChannels: Int) {
        self.hiddenChannels = hiddenChannels
        self.inputChannels = inputChannels
        (self.height, self.width) = (height, width)
        if let plan = WinogradPlan(algorithm, height: height, width: width, geometry: geometry) {
            let k = hiddenChannels + inputChannels
            layout = .winograd(plan, bandSize: plan.bandSize(channels: max(k, 2 * hiddenChannels)))
        } else {
            layout = .shifted(ShiftedGEMM.Layout(height: height, width: width, geometry: geometry))
        }
    }

    /// Floats of the padded `[h, x]` planes.
    var paddedCount: Int {
        let k = hiddenChannels + inputChannels
        switch layout {
        case let .winograd(plan, _): return k * plan.planeCount
        case let .shifted(l): return l.paddedCount(channels: k)
        }
    }

    /// Floats of one gate plane of pre-activations (the output grid, or the shifted GEMMs' wide grid), and its row
    /// stride.
    var preactivationPlane: (count: Int, row: Int) {
        switch layout {
        case .winograd: return (height * width, width)
        case let .shifted(l): return (l.wideCount, l.phaseWidth)
        }
    }

    /// Floats of one Winograd band of the transformed `[h, x]` and of the products (0 for shifted GEMMs).
    var bandCounts: (transformedInput: Int, products: Int) {
        guard case let .winograd(plan, band) = layout else { return (0, 0) }
        return (plan.bandCount(channels: hiddenChannels + inputChannels, bandSize: band),
                plan.bandCount(channels: 2 * hiddenChannels, bandSize: band))
    }

    /// Whether r⊙h must go through a compact `[hidden, h, w]` buffer before it is padded (the phase-split rows of
    /// F(4×4) and of a 1×5 step cannot be written in place).
    var needsCompactResetHidden: Bool {
        guard case let .winograd(plan, _) = layout else { return false }
        return plan.inPlaceRowStride == nil
    }

    /// `[h, x]` into the padded planes.
    func load(hidden: UnsafePointer<Float>, input: UnsafePointer<Float>, into padded: UnsafeMutablePointer<Float>) {
        switch layout {
        case let .winograd(plan, _):
            plan.pad(hidden, channels: hiddenChannels, into: padded)
            plan.pad(input, channels: inputChannels, into: padded + hiddenChannels * plan.planeCount)
        case let .shifted(l):
            ShiftedGEMM.pad(hidden, channels: hiddenChannels, layout: l, into: padded)
            ShiftedGEMM.pad(input, channels: inputChannels, layout: l, into: padded + hiddenChannels * l.channelStride)
        }
    }

    /// `output[0..<outputs] = W ∗ padded` without bias, one plane of ``preactivationPlane`` per output.
    /// - Parameter onlyHidden: the x planes have not changed since the last call with the same scratch: a
    ///   single-band Winograd layout then transforms only the hidden planes again.
    func convolve(_ padded: UnsafeMutablePointer<Float>, weights: UnsafePointer<Float>, outputs: Int,
                  output: UnsafeMutablePointer<Float>, transformedInput: UnsafeMutablePointer<Float>,
                  products: UnsafeMutablePointer<Float>, onlyHidden: Bool = false,
                  arithmetic: GEMMArithmetic = .float32) {
        let k = hiddenChannels + inputChannels
        switch layout {
        case let .winograd(plan, band):
            plan.convolve(padded: padded, channels: k, u: weights, outputs: outputs, bias: nil, output: output,
                          v: transformedInput, m: products, bandSize: band,
                          freshChannels: onlyHidden && plan.isSingleBand(band) ? hiddenChannels : nil,
                          arithmetic: arithmetic)
        case let .shifted(l):
            ShiftedGEMM.multiply(weights: weights, outputs: outputs, inputChannels: k, lda: k, padded: padded, layout: l,
                                 wide: output, ldc: l.wideCount, accumulate: false, arithmetic: arithmetic)
        }
    }

    /// Where r⊙h is written: interior pixel (0, 0) of the padded hidden planes, or the compact buffer when
    /// ``needsCompactResetHidden``; with its (plane, row) strides.
    func resetHiddenTarget(padded: UnsafeMutablePointer<Float>, compact: UnsafeMutablePointer<Float>)
        -> (origin: UnsafeMutablePointer<Float>, plane: Int, row: Int) {
        switch layout {
        case let .winograd(plan, _):
            guard let row = plan.inPlaceRowStride else { return (compact, height * width, width) }
            return (plan.interior(padded), plan.planeCount, row)
        case let .shifted(l):
            return (ShiftedGEMM.interior(padded, layout: l, y: 0, x: 0), l.channelStride, l.phaseWidth)
        }
    }

    /// Pads a compact r⊙h into the hidden planes (only when ``needsCompactResetHidden``).
    func storeResetHidden(_ compact: UnsafePointer<Float>, into padded: UnsafeMutablePointer<Float>) {
        guard case let .winograd(plan, _) = layout, plan.inPlaceRowStride == nil else { return }
        plan.pad(compact, channels: hiddenChannels, into: padded)
    }
}
