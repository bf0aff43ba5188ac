/// The Winograd tiling of one convolution at one input size: the 2-D F(m×m, 3×3) of ``Winograd`` or the 1-D F(4, 5)
/// of ``Winograd1D``. ``Conv2d`` and ``ConvGRU`` drive either through this one interface: pad the input once, pick a
/// band size, convolve band by band. An enum with the layouts inline, so that using it allocates nothing.
package enum WinogradPlan {
    case square(Winograd.Layout)
    case line(Winograd1D.Layout)

    /// The plan of `algorithm` for a `height × width` input; nil for the algorithms that are not Winograd.
    package init?(_ algorithm: ConvolutionAlgorithm, height: Int, width: Int, geometry: ConvGeometry) {
        if algorithm == .winograd1D {
            self = .line(Winograd1D.Layout(height: height, width: width, geometry: geometry))
        } else if let tile = algorithm.winogradTile {
            self = .square(Winograd.Layout(height: height, width: width, geometry: geometry, tile: tile))
        } else {
            return nil
        }
    }

    /// The weights of a Winograd `algorithm` transformed for its GEMMs, restricted to the input channels in
    /// `channels`: `[positions, outputs, selected]`.
    package static func transformWeights(_ weight: Tensor, channels: [Range<Int>],
                                         algorithm: ConvolutionAlgorithm) -> Tensor {
        if algorithm == .winograd1D { return Winograd1D.transformWeights(weight, channels: channels) }
        guard let tile = algorithm.winogradTile else { preconditionFailure("\(algorithm) is not a Winograd algorithm") }
        return Winograd.transformWeights(weight, channels: channels, tile: tile)
    }

    /// Whether the output has no pixels (nothing to compute).
    package var isEmpty: Bool {
        switch self {
        case .square(let l): l.tilesY == 0 || l.tilesX == 0
        case .line(let l): l.height == 0 || l.width == 0
        }
    }

    /// Floats of one padded input plane.
    package var planeCount: Int {
        switch self {
        case .square(let l): l.planeCount
        case .line(let l): l.planeCount
        }
    }

    /// Band size (tile rows, or image rows for 1×5) that keeps `channels` channels of transformed data within
    /// ``Winograd/bandBudget``.
    package func bandSize(channels: Int) -> Int {
        switch self {
        case .square(let l): l.bandRows(channels: channels)
        case .line(let l): l.bandUnits(channels: channels)
        }
    }

    /// Floats of one band's transformed data for `channels` channels.
    package func bandCount(channels: Int, bandSize: Int) -> Int {
        switch self {
        case .square(let l): l.bandCount(channels: channels, bandRows: bandSize)
        case .line(let l): l.bandCount(channels: channels, bandUnits: bandSize)
        }
    }

    /// The row stride of the padded planes if their rows keep the input's column order (F(2×2, 3×3), 5×1), so that
    /// input pixel (y, x) of a channel can be written in place; nil where rows are split into column phases.
    package var inPlaceRowStride: Int? {
        switch self {
        case .square(let l): l.tile == .f2x2 ? l.paddedWidth : nil
        case .line(let l): l.horizontal ? nil : l.paddedWidth
        }
    }

    /// Input pixel (0, 0) of channel 0 inside the padded planes, for layouts with ``inPlaceRowStride``.
    package func interior(_ padded: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> {
        switch self {
        case .square(let l): padded + l.paddingY * l.paddedWidth + l.paddingX
        case .line(let l): padded + 2 * l.paddedWidth
        }
    }

    /// Copies `channels` planes `[height, width]` into the padded layout.
    package func pad(_ input: UnsafePointer<Float>, channels: Int, into padded: UnsafeMutablePointer<Float>) {
        switch self {
        case .square(let l): Winograd.pad(input, channels: channels, layout: l, into: padded)
        case .line(let l): Winograd1D.pad(input, channels: channels, layout: l, into: padded)
        }
    }

    /// Whether bands of `bandSize` cover the whole input at once (then a later convolution of the same planes may
    /// reuse part of the transformed input left in `v`).
    package func isSingleBand(_ bandSize: Int) -> Bool {
        switch self {
        case .square(let l): bandSize >= l.tilesY
        case .line(let l): bandSize >= l.units
        }
    }

    /// The whole convolution of `channels` padded planes into the compact `output` (`[outputs, oh, ow]`), band by
    /// band, with `bias` if given; `u` is the weight transform, `v` and `m` hold one band. With `freshChannels`, only
    /// that many leading channels are transformed and the rest are reused from `v` (single band only,
    /// ``isSingleBand(_:)``).
    package func convolve(padded: UnsafePointer<Float>, channels: Int, u: UnsafePointer<Float>, outputs: Int,
                          bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
                          v: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>, bandSize: Int,
                          freshChannels: Int? = nil, arithmetic: GEMMArithmetic = .float32) {
        switch self {
        case .square(let l):
            Winograd.convolve(padded: padded, channels: channels, layout: l, u: u, outputs: outputs, bias: bias,
                              output: output, v: v, m: m, bandRows: bandSize, freshChannels: freshChannels,
                              arithmetic: arithmetic)
        case .line(let l):
            Winograd1D.convolve(padded: padded, channels: channels, layout: l, u: u, outputs: outputs, bias: bias,
                                output: output, v: v, m: m, bandUnits: bandSize, freshChannels: freshChannels,
                                arithmetic: arithmetic)
        }
    }
}
