/// Winograd's minimal filtering (Lavin & Gray, 2016) for stride-1, undilated 3×3 convolutions, in two tile sizes
/// (``Tile``): F(2×2, 3×3) and F(4×4, 3×3).
///
/// The output is cut into m×m tiles; each reads an α×α input tile `d` (α = m + 2). With the fixed matrices Bᵀ
/// (α×α), G (α×3) and Aᵀ (m×α) of the tile size, a tile of output channel o is
/// `Aᵀ [Σ_c (G g_oc Gᵀ) ⊙ (Bᵀ d_c B)] A`. Taking the α² positions ξ of the transformed tiles apart, the sum over
/// c is α² independent GEMMs `M_ξ[O, T] = U_ξ[O, C] · V_ξ[C, T]` over the T tiles. F(2×2, 3×3) needs 16
/// multiplications per 4 outputs instead of 36 (2.25× fewer than im2col or shifted GEMMs), F(4×4, 3×3) 36 per 16
/// (4× fewer), and its transformed data is 2.25× the input instead of 4×, so it also moves less memory. The price
/// is rounding: F(2×2) uses only ±1 and ½ (exact in binary; about twice a direct convolution's error), F(4×4)
/// uses ±2, ±4, ±5, ±8 and sixths of the weights (about 20× F(2×2)'s error per convolution, inside the parity
/// tolerances; `Benchmarks/README.md`, third round).
/// Tiles are processed in bands of tile rows so that the transformed data stays within a budget
/// (``bandBudget``). F(2×2, 3×3) uses
///
///     Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]     G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]
///     Aᵀ = [1 1 1 0; 0 1 −1 −1]
///
/// (this file); F(4×4, 3×3)'s matrices and transforms are in `WinogradF4x4.swift`.
package enum Winograd {
    /// Floats the transformed input (or output) of one band may take (`α²·channels·tiles`): 4 Mi floats, 16 MB
    /// (a whole 55×128 update grid is one band). Larger bands give each position's GEMM more columns (N = tiles),
    /// and with the positions split over the threads that matters more than keeping a band in cache (budgets of
    /// 1, 2 and 8 Mi floats: `Benchmarks/README.md`, fourth round).
    package static let bandBudget = 1 << 22

    /// The output tile size m of F(m×m, 3×3).
    package enum Tile: Int, Sendable, Equatable {
        /// F(2×2, 3×3): 4×4 input tiles, 16 positions.
        case f2x2 = 2
        /// F(4×4, 3×3): 6×6 input tiles, 36 positions.
        case f4x4 = 4

        /// Outputs per tile side, m.
        package var outputSize: Int { rawValue }
        /// Inputs per tile side, α = m + 2.
        package var inputSize: Int { rawValue + 2 }
        /// Transformed positions per tile, α² (the number of GEMMs).
        package var positions: Int { inputSize * inputSize }

        /// G (α×3, row-major), the weight transform; Bᵀ and Aᵀ are written out in the transforms.
        fileprivate var g: [Double] {
            switch self {
            case .f2x2: [1, 0, 0, 0.5, 0.5, 0.5, 0.5, -0.5, 0.5, 0, 0, 1]
            case .f4x4: [0.25, 0, 0,
                         -1.0 / 6, -1.0 / 6, -1.0 / 6,
                         -1.0 / 6, 1.0 / 6, -1.0 / 6,
                         1.0 / 24, 1.0 / 12, 1.0 / 6,
                         1.0 / 24, -1.0 / 12, 1.0 / 6,
                         0, 0, 1]
            }
        }
    }

    /// Tiling of one input size.
    package struct Layout {
        package let height: Int, width: Int, paddingY: Int, paddingX: Int
        package let outputHeight: Int, outputWidth: Int
        package let tile: Tile
        package let tilesY: Int, tilesX: Int
        /// The zero-padded input covers every tile: `m·tiles + 2` rows and columns.
        package var paddedHeight: Int { tile.outputSize * tilesY + 2 }
        /// Floats per padded row. F(2×2): `2·tilesX + 2` columns in order. F(4×4): the row is split into its four
        /// column phases (x mod 4), each `tilesX + 1` long (``phaseWidth``), so that column k of consecutive tiles
        /// is contiguous and the transform loads it without shuffles.
        package var paddedWidth: Int {
            switch tile {
            case .f2x2: 2 * tilesX + 2
            case .f4x4: 4 * phaseWidth
            }
        }
        /// F(4×4): entries per column phase of a padded row (padded column `x` is entry `x / 4` of phase `x mod 4`).
        package var phaseWidth: Int { rowTiles + 1 }
        /// Tiles per tile row in the transformed matrices: `tilesX`, for F(4×4) rounded up to a multiple of 4 so
        /// that the transforms always work on four tiles at once (the extra tiles read zeros and are not written
        /// out; none for RAFT's grids, whose widths are multiples of 16).
        package var rowTiles: Int {
            switch tile {
            case .f2x2: tilesX
            case .f4x4: (tilesX + 3) & ~3
            }
        }
        package var planeCount: Int { paddedHeight * paddedWidth }

        package init(height: Int, width: Int, geometry g: ConvGeometry, tile: Tile = .f2x2) {
            precondition(Winograd.supports(g), "Winograd F(m×m, 3×3) needs a 3x3, stride-1, undilated kernel")
            self.height = height
            self.width = width
            self.tile = tile
            paddingY = g.paddingY
            paddingX = g.paddingX
            (outputHeight, outputWidth) = g.outputSize(height: height, width: width)
            let m = tile.outputSize
            tilesY = (outputHeight + m - 1) / m
            tilesX = (outputWidth + m - 1) / m
        }

        /// Tile rows per band so that `α²·channels·tiles` stays within the budget (at least one row).
        package func bandRows(channels: Int) -> Int {
            max(1, min(tilesY, Winograd.bandBudget / max(1, tile.positions * channels * rowTiles)))
        }

        /// Floats of one band's transformed data for `channels` channels.
        package func bandCount(channels: Int, bandRows: Int) -> Int {
            tile.positions * Winograd.positionStride(channels * bandRows * rowTiles)
        }
    }

    /// The whole convolution of `channels` padded planes into the compact `output` (`[outputs, oh, ow]`), band by
    /// band: input transform, α² GEMMs, output transform with `bias`. `v` and `m` hold one band
    /// (``Layout/bandCount(channels:bandRows:)`` for the inputs and for the outputs). Only the first
    /// `freshChannels` channels are transformed when given: the others must already be in `v` from a convolution of
    /// the same input planes and layout done in one band (a GRU's q gate reuses x's transform from the z/r gates).
    package static func convolve(padded: UnsafePointer<Float>, channels: Int, layout: Layout, u: UnsafePointer<Float>,
                                 outputs: Int, bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
                                 v: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>, bandRows: Int,
                                 freshChannels: Int? = nil, arithmetic: GEMMArithmetic = .float32) {
        precondition(freshChannels == nil || bandRows >= layout.tilesY, "reusing a transform needs a single band")
        let transformed = freshChannels ?? channels
        var first = 0
        while first < layout.tilesY {
            let rows = first..<min(layout.tilesY, first + bandRows)
            let tiles = rows.count * layout.rowTiles
            let vStride = positionStride(channels * tiles), mStride = positionStride(outputs * tiles)
            let plane = layout.planeCount, outputPlane = layout.outputHeight * layout.outputWidth
            // The transforms are split over channels (each writes its own rows of V or its own output planes).
            Parallel.forEach(transformed, context: (padded, plane, v, tiles, layout, rows, channels, vStride)) {
                input, part in
                let (padded, plane, v, tiles, layout, rows, channels, vStride) = input
                let source = padded + part.lowerBound * plane, destination = v + part.lowerBound * tiles
                switch layout.tile {
                case .f2x2:
                    transformInput(source, channels: part.count, layout: layout, rows: rows, v: destination,
                                   ldChannels: channels, ldTiles: tiles, xiStride: vStride)
                case .f4x4:
                    transformInput4x4(source, channels: part.count, layout: layout, rows: rows, v: destination,
                                      ldChannels: channels, ldTiles: tiles, xiStride: vStride)
                }
            }
            multiply(u: u, outputs: outputs, channels: channels, ldu: channels, v: v, vStride: vStride, tiles: tiles,
                     ldTiles: tiles, m: m, mStride: mStride, positions: layout.tile.positions, arithmetic: arithmetic)
            Parallel.forEach(outputs, context: (m, tiles, bias, output, outputPlane, layout, outputs, rows, mStride)) {
                transform, part in
                let (m, tiles, bias, output, outputPlane, layout, outputs, rows, mStride) = transform
                let products = UnsafePointer(m + part.lowerBound * tiles), biases = bias.map { $0 + part.lowerBound }
                let planes = output + part.lowerBound * outputPlane
                switch layout.tile {
                case .f2x2:
                    transformOutput(products, outputs: part.count, ldOutputs: outputs, ldTiles: tiles, xiStride: mStride,
                                    layout: layout, rows: rows, bias: biases, output: planes)
                case .f4x4:
                    transformOutput4x4(products, outputs: part.count, ldOutputs: outputs, ldTiles: tiles,
                                       xiStride: mStride, layout: layout, rows: rows, bias: biases, output: planes)
                }
            }
            first = rows.upperBound
        }
    }

    /// Floats between the matrices of consecutive positions ξ for a matrix of `count` floats: rounded up to whole
    /// 64-byte lines and to an odd number of them. With power-of-two strides (64 channels × 1024 tiles) the α²
    /// streams that a transform reads or writes side by side all fall into the same cache sets and evict each other
    /// (the input transforms with and without this padding: `Benchmarks/README.md`, third round).
    package static func positionStride(_ count: Int) -> Int {
        let lines = (count + 15) / 16
        return 16 * (lines | 1)
    }

    /// Whether a geometry is one this transform computes.
    package static func supports(_ g: ConvGeometry) -> Bool {
        g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideY == 1 && g.strideX == 1
            && g.dilationY == 1 && g.dilationX == 1
    }

    /// `U_ξ = G g Gᵀ` for every output o and the input channels in `channels`: `[α², O, selected]`.
    package static func transformWeights(_ weight: Tensor, channels: [Range<Int>], tile: Tile = .f2x2) -> Tensor {
        let (o, cin) = (weight.shape[0], weight.shape[1])
        precondition(weight.shape[2] == 3 && weight.shape[3] == 3)
        let selected = channels.selectedCount
        var out = Tensor(uninitializedShape: [tile.positions, o, selected])
        let dst = out.mutablePointer()
        // t = G g (α×3) and u = t Gᵀ (α×α), in Double and rounded once. This runs for every (output, input) pair when
        // a model loads: the outputs are split over the threads, and 8 consecutive inputs go through the arithmetic
        // side by side in vectors (lane-wise the same operations, so the same bits as one at a time), which also
        // writes each position's row 8 floats at a time (the rows lie O·selected floats apart, a page or more).
        withExtendedLifetime(weight) {
            tile.g.withUnsafeBufferPointer { G in
                let context = (src: weight.pointer, dst: dst, G: G.baseAddress!, alpha: tile.inputSize, o: o, cin: cin,
                               selected: selected, inputs: channels.selectedList)
                Parallel.forEach(o, minimumChunk: 8, context: context) { c, outputs in
                    let (G, alpha, o, selected) = (c.G, c.alpha, c.o, c.selected)
                    // the 9 taps of 8 inputs (lanes past the last input keep stale values and are not stored)
                    var g = [SIMD8<Double>](repeating: .zero, count: 9)
                    for oc in outputs {
                        var k0 = 0
                        while k0 < selected {
                            let n = min(8, selected - k0)
                            for kk in 0..<n {
                                let taps = c.src + (oc * c.cin + c.inputs[k0 + kk]) * 9
                                for e in 0..<9 { g[e][kk] = Double(taps[e]) }
                            }
                            for i in 0..<alpha {
                                let t0 = G[3 * i] * g[0] + G[3 * i + 1] * g[3] + G[3 * i + 2] * g[6]
                                let t1 = G[3 * i] * g[1] + G[3 * i + 1] * g[4] + G[3 * i + 2] * g[7]
                                let t2 = G[3 * i] * g[2] + G[3 * i + 1] * g[5] + G[3 * i + 2] * g[8]
                                for j in 0..<alpha {
                                    let u = SIMD8<Float>(t0 * G[3 * j] + t1 * G[3 * j + 1] + t2 * G[3 * j + 2])
                                    store(u, count: n, to: c.dst + ((i * alpha + j) * o + oc) * selected + k0)
                                }
                            }
                            k0 += n
                        }
                    }
                }
            }
        }
        return out
    }

    /// Writes the first `count` lanes of `v` to `p` (all 8 with one unaligned store).
    @inline(__always)
    static func store(_ v: SIMD8<Float>, count: Int, to p: UnsafeMutablePointer<Float>) {
        if count == 8 {
            UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
        } else {
            for lane in 0..<count { p[lane] = v[lane] }
        }
    }

    /// Copies `channels` planes into the zero-padded tiling layout (input at `(paddingY, paddingX)`); for F(4×4)
    /// each row is split into its column phases (``Layout/paddedWidth``).
    package static func pad(_ input: UnsafePointer<Float>, channels: Int, layout l: Layout,
                            into padded: UnsafeMutablePointer<Float>) {
        Parallel.forEach(channels, minimumChunk: 8, context: (input, padded, l)) { pad, part in
            let (input, padded, l) = pad
            let (H, W, Wp) = (l.height, l.width, l.paddedWidth)
            let rowsBelow = l.paddedHeight - H - l.paddingY
            let right = max(0, Wp - W - l.paddingX)
            let copyWidth = min(W, Wp - l.paddingX)
            for c in part {
                let src = input + c * H * W, dst = padded + c * l.planeCount
                dst.update(repeating: 0, count: l.paddingY * Wp)
                for y in 0..<min(H, l.paddedHeight - l.paddingY) {
                    let row = dst + (y + l.paddingY) * Wp
                    switch l.tile {
                    case .f2x2:
                        row.update(repeating: 0, count: l.paddingX)
                        (row + l.paddingX).update(from: src + y * W, count: copyWidth)
                        (row + l.paddingX + copyWidth).update(repeating: 0, count: right)
                    case .f4x4:
                        splitPhases(src + y * W, width: copyWidth, offset: l.paddingX, phaseWidth: l.phaseWidth, into: row)
                    }
                }
                if rowsBelow > 0 { (dst + (H + l.paddingY) * Wp).update(repeating: 0, count: rowsBelow * Wp) }
            }
        }
    }

    /// One padded F(4×4) row: `row[(x mod 4)·phaseWidth + x / 4] = source[x − offset]` for the `width` source
    /// values, zero elsewhere.
    @inline(__always)
    static func splitPhases(_ source: UnsafePointer<Float>, width: Int, offset: Int, phaseWidth q: Int,
                                    into row: UnsafeMutablePointer<Float>) {
        for p in 0..<4 {
            let phase = row + p * q
            // Entries e with 0 ≤ 4e + p − offset < width.
            let first = max(0, (offset - p + 3) >> 2)
            let end = min(q, max(first, (width + offset - p + 3) >> 2))
            phase.update(repeating: 0, count: first)
            let base = 4 * first + p - offset, s = source + base
            var e = 0
            let count = end - first
            // Four entries from one 16-float load (lanes 0, 4, 8, 12) while the load stays inside the row.
            while e + 4 <= count && base + 4 * e + 16 <= width {
                let v = UnsafeRawPointer(s + 4 * e).loadUnaligned(as: SIMD16<Float>.self)
                UnsafeMutableRawPointer(phase + first + e).storeBytes(of: v.evenHalf.evenHalf, as: SIMD4<Float>.self)
                e += 4
            }
            while e < count { phase[first + e] = s[4 * e]; e += 1 }
            (phase + end).update(repeating: 0, count: q - end)
        }
    }

    /// F(2×2, 3×3): `V_ξ[c, t] = (Bᵀ d B)_ξ` for the tiles of tile rows `rows` and channels `0..<channels` of `padded`, written
    /// at `v + (ξ·ldChannels + c)·ldTiles + t`. Four tiles at a time in SIMD registers (two overlapping 8-float loads
    /// per input row give the even and odd columns of four tiles and of their right neighbours), the rest one by one.
    package static func transformInput(_ padded: UnsafePointer<Float>, channels: Int, layout l: Layout,
                                       rows: Range<Int>, v: UnsafeMutablePointer<Float>,
                                       ldChannels: Int, ldTiles: Int, xiStride: Int) {
        let tx = l.tilesX, wp = l.paddedWidth
        let vectorTiles = tx & ~3
        for c in 0..<channels {
            let plane = padded + c * l.planeCount
            for i in rows {
                let r0 = plane + 2 * i * wp, r1 = r0 + wp, r2 = r1 + wp, r3 = r2 + wp
                let out = v + c * ldTiles + (i - rows.lowerBound) * tx
                var j = 0
                while j < vectorTiles {
                    // Columns 2j… of each row: e = even columns (tile left edges), o = odd; e1/o1 one tile right.
                    @inline(__always) func columns(_ r: UnsafePointer<Float>) -> (SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>) {
                        let a = UnsafeRawPointer(r + 2 * j).loadUnaligned(as: SIMD8<Float>.self)
                        let b = UnsafeRawPointer(r + 2 * j + 2).loadUnaligned(as: SIMD8<Float>.self)
                        return (a.evenHalf, a.oddHalf, b.evenHalf, b.oddHalf)
                    }
                    let (e0, o0, f0, p0) = columns(r0), (e1, o1, f1, p1) = columns(r1)
                    let (e2, o2, f2, p2) = columns(r2), (e3, o3, f3, p3) = columns(r3)
                    // Bᵀ down the columns ...
                    let ae = e0 - e2, ao = o0 - o2, af = f0 - f2, ap = p0 - p2
                    let be = e1 + e2, bo = o1 + o2, bf = f1 + f2, bp = p1 + p2
                    let ce = e2 - e1, co = o2 - o1, cf = f2 - f1, cp = p2 - p1
                    let de = e1 - e3, dO = o1 - o3, df = f1 - f3, dp = p1 - p3
                    // ... then B across: columns (x, x+1, x+2, x+3) = (e, o, f, p).
                    @inline(__always) func store(_ xi: Int, _ value: SIMD4<Float>) {
                        UnsafeMutableRawPointer(out + xi * xiStride + j).storeBytes(of: value, as: SIMD4<Float>.self)
                    }
                    store(0, ae - af); store(1, ao + af); store(2, af - ao); store(3, ao - ap)
                    store(4, be - bf); store(5, bo + bf); store(6, bf - bo); store(7, bo - bp)
                    store(8, ce - cf); store(9, co + cf); store(10, cf - co); store(11, co - cp)
                    store(12, de - df); store(13, dO + df); store(14, df - dO); store(15, dO - dp)
                    j += 4
                }
                while j < tx {
                    let x = 2 * j
                    let a0 = r0[x] - r2[x], a1 = r0[x + 1] - r2[x + 1], a2 = r0[x + 2] - r2[x + 2], a3 = r0[x + 3] - r2[x + 3]
                    let b0 = r1[x] + r2[x], b1 = r1[x + 1] + r2[x + 1], b2 = r1[x + 2] + r2[x + 2], b3 = r1[x + 3] + r2[x + 3]
                    let c0 = r2[x] - r1[x], c1 = r2[x + 1] - r1[x + 1], c2 = r2[x + 2] - r1[x + 2], c3 = r2[x + 3] - r1[x + 3]
                    let d0 = r1[x] - r3[x], d1 = r1[x + 1] - r3[x + 1], d2 = r1[x + 2] - r3[x + 2], d3 = r1[x + 3] - r3[x + 3]
                    out[j] = a0 - a2;               out[xiStride + j] = a1 + a2
                    out[2 * xiStride + j] = a2 - a1; out[3 * xiStride + j] = a1 - a3
                    out[4 * xiStride + j] = b0 - b2; out[5 * xiStride + j] = b1 + b2
                    out[6 * xiStride + j] = b2 - b1; out[7 * xiStride + j] = b1 - b3
                    out[8 * xiStride + j] = c0 - c2; out[9 * xiStride + j] = c1 + c2
                    out[10 * xiStride + j] = c2 - c1; out[11 * xiStride + j] = c1 - c3
                    out[12 * xiStride + j] = d0 - d2; out[13 * xiStride + j] = d1 + d2
                    out[14 * xiStride + j] = d2 - d1; out[15 * xiStride + j] = d1 - d3
                    j += 1
                }
            }
        }
    }

    /// `M_ξ[O, T] = U_ξ · V_ξ` for the α² positions (V_ξ and M_ξ `vStride` and `mStride` floats apart).
    package static func multiply(u: UnsafePointer<Float>, outputs: Int, channels: Int, ldu: Int,
                                 v: UnsafePointer<Float>, vStride: Int, tiles: Int, ldTiles: Int,
                                 m: UnsafeMutablePointer<Float>, mStride: Int, positions: Int,
                                 arithmetic: GEMMArithmetic = .float32) {
        // Whole products per thread (positions split over the threads): no hand-off inside a product.
        Parallel.forEach(positions, context: (u, outputs, channels, ldu, v, vStride, tiles, ldTiles, m, mStride, arithmetic)) {
            product, part in
            let (u, outputs, channels, ldu, v, vStride, tiles, ldTiles, m, mStride, arithmetic) = product
            for xi in part {
                BLAS.serialSGEMM(m: outputs, n: tiles, k: channels, a: u + xi * outputs * ldu, lda: ldu,
                                 b: v + xi * vStride, ldb: ldTiles, c: m + xi * mStride, ldc: ldTiles,
                                 arithmetic: arithmetic)
            }
        }
    }

    /// F(2×2, 3×3): output tiles `Aᵀ M A` of tile rows `rows` for `outputs` channels, plus `bias[o]` (if given), written to the
    /// compact output `[outputs, outputHeight, outputWidth]` (cells beyond its edge are dropped).
    package static func transformOutput(_ m: UnsafePointer<Float>, outputs: Int, ldOutputs: Int, ldTiles: Int,
                                        xiStride: Int, layout l: Layout, rows: Range<Int>, bias: UnsafePointer<Float>?,
                                        output: UnsafeMutablePointer<Float>) {
        let tx = l.tilesX, (oh, ow) = (l.outputHeight, l.outputWidth)
        let fullColumns = ow / 2
        for o in 0..<outputs {
            let b = bias?[o] ?? 0
            let plane = output + o * oh * ow
            for i in rows {
                let src = m + o * ldTiles + (i - rows.lowerBound) * tx
                let y = 2 * i
                let row0 = plane + y * ow
                let hasSecondRow = y + 1 < oh
                let row1 = plane + (hasSecondRow ? y + 1 : y) * ow   // never written when absent
                // Four tiles at a time while all four are complete 2×2 tiles, the rest one by one.
                var j = 0
                if hasSecondRow {
                    while j + 4 <= fullColumns {
                        @inline(__always) func e(_ xi: Int) -> SIMD4<Float> {
                            UnsafeRawPointer(src + xi * xiStride + j).loadUnaligned(as: SIMD4<Float>.self)
                        }
                        let s00 = e(0) + e(4) + e(8), s01 = e(1) + e(5) + e(9), s02 = e(2) + e(6) + e(10), s03 = e(3) + e(7) + e(11)
                        let s10 = e(4) - e(8) - e(12), s11 = e(5) - e(9) - e(13), s12 = e(6) - e(10) - e(14), s13 = e(7) - e(11) - e(15)
                        let bias = SIMD4<Float>(repeating: b)
                        let y00 = s00 + s01 + s02 + bias, y01 = s01 - s02 - s03 + bias
                        let y10 = s10 + s11 + s12 + bias, y11 = s11 - s12 - s13 + bias
                        // Interleave the two columns of each tile: (y·0[0], y·1[0], y·0[1], y·1[1], …).
                        let top = SIMD8<Float>(y00[0], y01[0], y00[1], y01[1], y00[2], y01[2], y00[3], y01[3])
                        let bottom = SIMD8<Float>(y10[0], y11[0], y10[1], y11[1], y10[2], y11[2], y10[3], y11[3])
                        UnsafeMutableRawPointer(row0 + 2 * j).storeBytes(of: top, as: SIMD8<Float>.self)
                        UnsafeMutableRawPointer(row1 + 2 * j).storeBytes(of: bottom, as: SIMD8<Float>.self)
                        j += 4
                    }
                }
                while j < tx {
                    @inline(__always) func e(_ xi: Int) -> Float { src[xi * xiStride + j] }
                    // Aᵀ down the columns, then A across.
                    let s00 = e(0) + e(4) + e(8), s01 = e(1) + e(5) + e(9), s02 = e(2) + e(6) + e(10), s03 = e(3) + e(7) + e(11)
                    let s10 = e(4) - e(8) - e(12), s11 = e(5) - e(9) - e(13), s12 = e(6) - e(10) - e(14), s13 = e(7) - e(11) - e(15)
                    let y00 = s00 + s01 + s02 + b, y01 = s01 - s02 - s03 + b
                    let y10 = s10 + s11 + s12 + b, y11 = s11 - s12 - s13 + b
                    let x = 2 * j
                    if j < fullColumns {
                        row0[x] = y00; row0[x + 1] = y01
                        if hasSecondRow { row1[x] = y10; row1[x + 1] = y11 }
                    } else {
                        row0[x] = y00
                        if hasSecondRow { row1[x] = y10 }
                    }
                    j += 1
                }
            }
        }
    }
}
