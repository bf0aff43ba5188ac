/// One-dimensional Winograd F(4, 5) for the 1×5 and 5×1 convolutions of RAFT's separable GRU (``SeqConvGRU``):
/// stride 1, undilated, padded by 2 along the kernel's axis and not across it (the output keeps the input's size).
///
/// Along the kernel's axis the output is cut into tiles of 4; each reads 8 inputs `d`. With Cook–Toom matrices for
/// the points 0, ±1, ±2, ±½, ∞ (rows of Bᵀ scaled to integers, G scaled to match)
///
///     Bᵀ = [−4  0  21   0 −21   0  4 0]      Aᵀ = [1 1  1 1  1  1    1   0]
///          [ 0  4   4 −17 −17   4  4 0]           [0 1 −1 2 −2  ½   −½   0]
///          [ 0 −4   4  17 −17  −4  4 0]           [0 1  1 4  4  ¼    ¼   0]
///          [ 0  2   1 −10  −5   8  4 0]           [0 1 −1 8 −8  ⅛   −⅛   1]
///          [ 0 −2   1  10  −5  −8  4 0]
///          [ 0  4   8  −5 −10   1  2 0]
///          [ 0 −4   8   5 −10  −1  2 0]
///          [ 0 −4   0  21   0 −21  0 4]
///
/// a tile of output o is `Aᵀ [Σ_c (G g_oc) ⊙ (Bᵀ d_c)]`: 8 GEMMs `M_ξ = U_ξ · V_ξ` over all tiles, 8 multiplications
/// per 4 outputs instead of 20 (2.5× fewer than shifted GEMMs), for transforms that are cheap in one dimension.
/// Its rounding error is about twice a direct sum's (1-D only; a 2-D F(4×4, 3×3) is ten times worse).
///
/// Layouts: a 5×1 kernel (vertical) pads rows only, and every transform works on whole rows (contiguous, no
/// shuffles). A 1×5 kernel (horizontal) splits each padded row into its four column phases (x mod 4), so that input
/// k of four consecutive tiles is one contiguous load. Tiles are processed in bands (of tile rows, or of image rows)
/// whose transformed data fits ``Winograd/bandBudget``.
package enum Winograd1D {
    /// Transformed positions per tile (the number of GEMMs).
    package static let positions = 8
    private typealias Lanes = SIMD4<Float>

    /// G (8×5, row-major) for the integer-scaled Bᵀ above.
    private static let g: [Double] = [
        -1.0 / 4, 0, 0, 0, 0,
        -1.0 / 18, -1.0 / 18, -1.0 / 18, -1.0 / 18, -1.0 / 18,
        -1.0 / 18, 1.0 / 18, -1.0 / 18, 1.0 / 18, -1.0 / 18,
        1.0 / 360, 1.0 / 180, 1.0 / 90, 1.0 / 45, 2.0 / 45,
        1.0 / 360, -1.0 / 180, 1.0 / 90, -1.0 / 45, 2.0 / 45,
        16.0 / 45, 8.0 / 45, 4.0 / 45, 2.0 / 45, 1.0 / 45,
        16.0 / 45, -8.0 / 45, 4.0 / 45, -2.0 / 45, 1.0 / 45,
        0, 0, 0, 0, 1.0 / 4,
    ]

    /// Whether a geometry is one this transform computes: 1×5 padded (0, 2) or 5×1 padded (2, 0), stride 1.
    package static func supports(_ g: ConvGeometry) -> Bool {
        guard g.strideY == 1 && g.strideX == 1 && g.dilationY == 1 && g.dilationX == 1 else { return false }
        return (g.kernelHeight == 1 && g.kernelWidth == 5 && g.paddingY == 0 && g.paddingX == 2)
            || (g.kernelHeight == 5 && g.kernelWidth == 1 && g.paddingY == 2 && g.paddingX == 0)
    }

    /// Tiling of one input size.
    package struct Layout {
        package let height: Int, width: Int
        /// The kernel runs along x (1×5) rather than y (5×1).
        package let horizontal: Bool
        /// Tiles along the kernel's axis: `⌈length / 4⌉`; for 1×5 rounded up to a multiple of 4 (SIMD groups).
        package let axisTiles: Int
        /// Band units (tile rows for 5×1, image rows for 1×5) and tiles per unit.
        package var units: Int { horizontal ? height : axisTiles }
        package var tilesPerUnit: Int { horizontal ? axisTiles : width }
        /// Padded rows and floats per padded row: 5×1: `4·tiles + 4` rows of `width`; 1×5: `height` rows of four
        /// phases of `tiles + 1` (padded column x is entry x / 4 of phase x mod 4).
        package var paddedHeight: Int { horizontal ? height : 4 * axisTiles + 4 }
        package var paddedWidth: Int { horizontal ? 4 * phaseWidth : width }
        package var phaseWidth: Int { axisTiles + 1 }
        package var planeCount: Int { paddedHeight * paddedWidth }

        package init(height: Int, width: Int, geometry g: ConvGeometry) {
            precondition(Winograd1D.supports(g), "Winograd F(4, 5) needs a 1x5 or 5x1 kernel, stride 1, same padding")
            self.height = height
            self.width = width
            horizontal = g.kernelWidth == 5
            axisTiles = horizontal ? ((width + 3) / 4 + 3) & ~3 : (height + 3) / 4
        }

        /// Units per band so that `8·channels·tiles` stays within the budget (at least one).
        package func bandUnits(channels: Int) -> Int {
            max(1, min(units, Winograd.bandBudget / max(1, Winograd1D.positions * channels * tilesPerUnit)))
        }

        /// Floats of one band's transformed data for `channels` channels.
        package func bandCount(channels: Int, bandUnits: Int) -> Int {
            Winograd1D.positions * Winograd.positionStride(channels * bandUnits * tilesPerUnit)
        }
    }

    /// `U_ξ = G g` for every output o and the input channels in `channels`: `[8, O, selected]`.
    package static func transformWeights(_ weight: Tensor, channels: [Range<Int>]) -> Tensor {
        let (o, cin) = (weight.shape[0], weight.shape[1])
        precondition(weight.shape[2] * weight.shape[3] == 5, "F(4, 5) needs a 1x5 or 5x1 kernel")
        let selected = channels.selectedCount
        var out = Tensor(uninitializedShape: [positions, o, selected])
        let dst = out.mutablePointer()
        // Split over the threads by output, 8 inputs side by side, as ``Winograd/transformWeights(_:channels:tile:)``.
        withExtendedLifetime(weight) {
            g.withUnsafeBufferPointer { G in
                let context = (src: weight.pointer, dst: dst, G: G.baseAddress!, o: o, cin: cin, selected: selected,
                               inputs: channels.selectedList)
                Parallel.forEach(o, minimumChunk: 8, context: context) { c, outputs in
                    var w = [SIMD8<Double>](repeating: .zero, count: 5)
                    for oc in outputs {
                        var k0 = 0
                        while k0 < c.selected {
                            let n = min(8, c.selected - k0)
                            for kk in 0..<n {
                                let taps = c.src + (oc * c.cin + c.inputs[k0 + kk]) * 5
                                for t in 0..<5 { w[t][kk] = Double(taps[t]) }
                            }
                            for xi in 0..<positions {
                                var u = SIMD8<Double>.zero
                                for t in 0..<5 { u += c.G[5 * xi + t] * w[t] }
                                Winograd.store(SIMD8<Float>(u), count: n, to: c.dst + (xi * c.o + oc) * c.selected + k0)
                            }
                            k0 += n
                        }
                    }
                }
            }
        }
        return out
    }

    /// Copies `channels` planes `[height, width]` into the padded layout.
    package static func pad(_ input: UnsafePointer<Float>, channels: Int, layout l: Layout,
                            into padded: UnsafeMutablePointer<Float>) {
        Parallel.forEach(channels, minimumChunk: 8, context: (input, padded, l)) { pad, part in
            let (input, padded, l) = pad
            let (H, W) = (l.height, l.width)
            for c in part {
                let src = input + c * H * W, dst = padded + c * l.planeCount
                if l.horizontal {
                    for y in 0..<H {
                        Winograd.splitPhases(src + y * W, width: W, offset: 2, phaseWidth: l.phaseWidth,
                                             into: dst + y * l.paddedWidth)
                    }
                } else {
                    dst.update(repeating: 0, count: 2 * W)
                    (dst + 2 * W).update(from: src, count: H * W)
                    (dst + (H + 2) * W).update(repeating: 0, count: (l.paddedHeight - H - 2) * W)
                }
            }
        }
    }

    /// The whole convolution of `channels` padded planes into the compact `output` (`[outputs, height, width]`),
    /// band by band: input transform, 8 GEMMs, output transform with `bias`. `v` and `m` hold one band
    /// (``Layout/bandCount(channels:bandUnits:)`` for the inputs and for the outputs). Only the first
    /// `freshChannels` channels are transformed when given (see ``Winograd/convolve(padded:channels:layout:u:outputs:bias:output:v:m:bandRows:freshChannels:)``).
    package static func convolve(padded: UnsafePointer<Float>, channels: Int, layout: Layout, u: UnsafePointer<Float>,
                                 outputs: Int, bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
                                 v: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>, bandUnits: Int,
                                 freshChannels: Int? = nil, arithmetic: GEMMArithmetic = .float32) {
        precondition(freshChannels == nil || bandUnits >= layout.units, "reusing a transform needs a single band")
        let transformed = freshChannels ?? channels
        var first = 0
        while first < layout.units {
            let units = first..<min(layout.units, first + bandUnits)
            let tiles = units.count * layout.tilesPerUnit
            let vStride = Winograd.positionStride(channels * tiles), mStride = Winograd.positionStride(outputs * tiles)
            let plane = layout.planeCount, outputPlane = layout.height * layout.width
            // The transforms are split over channels (each writes its own rows of V or its own output planes).
            Parallel.forEach(transformed, context: (padded, plane, layout, units, v, tiles, vStride)) { input, part in
                let (padded, plane, layout, units, v, tiles, vStride) = input
                transformInput(padded + part.lowerBound * plane, channels: part.count, layout: layout, units: units,
                               v: v + part.lowerBound * tiles, ldTiles: tiles, xiStride: vStride)
            }
            Winograd.multiply(u: u, outputs: outputs, channels: channels, ldu: channels, v: v, vStride: vStride,
                              tiles: tiles, ldTiles: tiles, m: m, mStride: mStride, positions: positions,
                              arithmetic: arithmetic)
            Parallel.forEach(outputs, context: (m, tiles, layout, units, mStride, bias, output, outputPlane)) {
                transform, part in
                let (m, tiles, layout, units, mStride, bias, output, outputPlane) = transform
                transformOutput(m + part.lowerBound * tiles, outputs: part.count, layout: layout, units: units,
                                ldTiles: tiles, xiStride: mStride, bias: bias.map { $0 + part.lowerBound },
                                output: output + part.lowerBound * outputPlane)
            }
            first = units.upperBound
        }
    }

    /// Bᵀ applied to the eight inputs of four tiles.
    @inline(__always)
    private static func inputTransform(_ d0: Lanes, _ d1: Lanes, _ d2: Lanes, _ d3: Lanes, _ d4: Lanes, _ d5: Lanes,
                                       _ d6: Lanes, _ d7: Lanes, store: (Int, Lanes) -> Void) {
        store(0, 4 * (d6 - d0) + 21 * (d2 - d4))
        var e = 4 * (d2 + d6) - 17 * d4, f = 4 * (d1 + d5) - 17 * d3
        store(1, e + f); store(2, e - f)
        e = d2 - 5 * d4 + 4 * d6; f = 2 * d1 - 10 * d3 + 8 * d5
        store(3, e + f); store(4, e - f)
        e = 8 * d2 - 10 * d4 + 2 * d6; f = 4 * d1 - 5 * d3 + d5
        store(5, e + f); store(6, e - f)
        store(7, 4 * (d7 - d1) + 21 * (d3 - d5))
    }

    /// Aᵀ applied to the eight products of four tiles: their four outputs.
    @inline(__always)
    private static func outputTransform(_ m0: Lanes, _ m1: Lanes, _ m2: Lanes, _ m3: Lanes, _ m4: Lanes, _ m5: Lanes,
                                        _ m6: Lanes, _ m7: Lanes) -> (Lanes, Lanes, Lanes, Lanes) {
        let a = m1 + m2, b = m1 - m2, c = m3 + m4, d = m3 - m4, e = m5 + m6, f = m5 - m6
        return (m0 + a + c + e, b + 2 * d + 0.5 * f, a + 4 * c + 0.25 * e, b + 8 * d + 0.125 * f + m7)
    }

    /// `V_ξ[c, t]` for the band `units`, at `v + ξ·xiStride + c·ldTiles + t`.
    private static func transformInput(_ padded: UnsafePointer<Float>, channels: Int, layout l: Layout,
                                       units: Range<Int>, v: UnsafeMutablePointer<Float>, ldTiles: Int, xiStride: Int) {
        let tpu = l.tilesPerUnit, wp = l.paddedWidth, xiBytes = 4 &* xiStride
        for c in 0..<channels {
            let plane = padded + c * l.planeCount
            for unit in units {
                let out = UnsafeMutableRawPointer(v + c * ldTiles + (unit - units.lowerBound) * tpu)
                if l.horizontal {
                    // Row `unit`; input k of tiles j…j+3 is phase k mod 4 at entry j + k / 4.
                    let row = UnsafeRawPointer(plane + unit * wp), q = l.phaseWidth
                    for j in stride(from: 0, to: tpu, by: 4) {
                        @inline(__always) func d(_ k: Int) -> Lanes {
                            row.loadUnaligned(fromByteOffset: ((k & 3) &* q &+ (k >> 2) &+ j) &* 4, as: Lanes.self)
                        }
                        let dst = out + 4 &* j
                        inputTransform(d(0), d(1), d(2), d(3), d(4), d(5), d(6), d(7)) { xi, value in
                            dst.storeBytes(of: value, toByteOffset: xi &* xiBytes, as: Lanes.self)
                        }
                    }
                } else {
                    // Tile row `unit`: padded rows 4·unit … 4·unit + 7, four columns at a time.
                    let top = UnsafeRawPointer(plane + 4 * unit * wp)
                    var x = 0
                    while x < tpu {
                        let lanes = min(4, tpu - x)
                        @inline(__always) func d(_ k: Int) -> Lanes {
                            let p = top + (k &* wp &+ x) &* 4
                            if lanes == 4 { return p.loadUnaligned(as: Lanes.self) }
                            var value = Lanes()
                            for t in 0..<lanes { value[t] = p.load(fromByteOffset: 4 &* t, as: Float.self) }
                            return value
                        }
                        let dst = out + 4 &* x
                        inputTransform(d(0), d(1), d(2), d(3), d(4), d(5), d(6), d(7)) { xi, value in
                            if lanes == 4 {
                                dst.storeBytes(of: value, toByteOffset: xi &* xiBytes, as: Lanes.self)
                            } else {
                                for t in 0..<lanes {
                                    dst.storeBytes(of: value[t], toByteOffset: xi &* xiBytes &+ 4 &* t, as: Float.self)
                                }
                            }
                        }
                        x += 4
                    }
                }
            }
        }
    }

    /// Outputs `Aᵀ M` (+ bias) of the band `units` into the compact `output` `[outputs, height, width]`.
    private static func transformOutput(_ m: UnsafePointer<Float>, outputs: Int, layout l: Layout, units: Range<Int>,
                                        ldTiles: Int, xiStride: Int, bias: UnsafePointer<Float>?,
                                        output: UnsafeMutablePointer<Float>) {
        let tpu = l.tilesPerUnit, (H, W) = (l.height, l.width), xiBytes = 4 &* xiStride
        for o in 0..<outputs {
            let b = Lanes(repeating: bias?[o] ?? 0)
            let plane = output + o * H * W
            for unit in units {
                let src = UnsafeRawPointer(m + o * ldTiles + (unit - units.lowerBound) * tpu)
                if l.horizontal {
                    let row = plane + unit * W
                    let complete = W / 4   // tiles whose four outputs are all inside the row
                    for j in stride(from: 0, to: tpu, by: 4) {
                        @inline(__always) func e(_ xi: Int) -> Lanes {
                            src.loadUnaligned(fromByteOffset: xi &* xiBytes &+ 4 &* j, as: Lanes.self)
                        }
                        var (y0, y1, y2, y3) = outputTransform(e(0), e(1), e(2), e(3), e(4), e(5), e(6), e(7))
                        y0 += b; y1 += b; y2 += b; y3 += b
                        // Tile t's outputs are columns 4(j + t) … 4(j + t) + 3.
                        if j + 4 <= complete {
                            let v = SIMD16<Float>(y0[0], y1[0], y2[0], y3[0], y0[1], y1[1], y2[1], y3[1],
                                                  y0[2], y1[2], y2[2], y3[2], y0[3], y1[3], y2[3], y3[3])
                            UnsafeMutableRawPointer(row + 4 * j).storeBytes(of: v, as: SIMD16<Float>.self)
                        } else {
                            for t in 0..<4 {
                                let x = 4 * (j + t)
                                if x < W { row[x] = y0[t] }
                                if x + 1 < W { row[x + 1] = y1[t] }
                                if x + 2 < W { row[x + 2] = y2[t] }
                                if x + 3 < W { row[x + 3] = y3[t] }
                            }
                        }
                    }
                } else {
                    let y = 4 * unit, rows = min(4, H - y)
                    let dst = plane + y * W
                    var x = 0
                    while x < tpu {
                        let lanes = min(4, tpu - x)
                        @inline(__always) func e(_ xi: Int) -> Lanes {
                            let p = src + (xi &* xiBytes &+ 4 &* x)
                            if lanes == 4 { return p.loadUnaligned(as: Lanes.self) }
                            var value = Lanes()
                            for t in 0..<lanes { value[t] = p.load(fromByteOffset: 4 &* t, as: Float.self) }
                            return value
                        }
                        let (y0, y1, y2, y3) = outputTransform(e(0), e(1), e(2), e(3), e(4), e(5), e(6), e(7))
                        @inline(__always) func put(_ r: Int, _ value: Lanes) {
                            guard r < rows else { return }
                            let p = dst + (r &* W &+ x)
                            if lanes == 4 {
                                UnsafeMutableRawPointer(p).storeBytes(of: value + b, as: Lanes.self)
                            } else {
                                for t in 0..<lanes { p[t] = value[t] + b[t] }
                            }
                        }
                        put(0, y0); put(1, y1); put(2, y2); put(3, y3)
                        x += 4
                    }
                }
            }
        }
    }
}
