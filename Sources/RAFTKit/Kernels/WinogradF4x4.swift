/// The transforms of Winograd F(4×4, 3×3) (interpolation points 0, ±1, ±2, ∞):
///
///     Bᵀ = [4  0 −5  0 1 0]      G = [ ¼     0     0 ]      Aᵀ = [1 1  1 1  1 0]
///          [0 −4 −4  1 1 0]          [−⅙   −⅙    −⅙ ]           [0 1 −1 2 −2 0]
///          [0  4 −4 −1 1 0]          [−⅙    ⅙    −⅙ ]           [0 1  1 4  4 0]
///          [0 −2 −1  2 1 0]          [1/24  1/12  ⅙ ]           [0 1 −1 8 −8 1]
///          [0  2 −1 −2 1 0]          [1/24 −1/12  ⅙ ]
///          [0  4  0 −5 0 1]          [ 0     0     1 ]
///
/// Both transforms are separable (rows, then columns) and run four tiles at a time, one tile per SIMD lane. The
/// padded input keeps each row split into its four column phases (``Winograd/Layout/paddedWidth``), so that a
/// column of four consecutive tiles is one contiguous load.
extension Winograd {
    private typealias Lanes = SIMD4<Float>

    /// Bᵀ applied to one column (or row) of six values.
    @inline(__always)
    private static func inputTransform(_ d0: Lanes, _ d1: Lanes, _ d2: Lanes, _ d3: Lanes, _ d4: Lanes, _ d5: Lanes)
        -> (Lanes, Lanes, Lanes, Lanes, Lanes, Lanes) {
        let t1 = d4 - 4 * d2, t2 = d3 - 4 * d1
        let t3 = d4 - d2, t4 = 2 * (d3 - d1)
        return (4 * d0 - 5 * d2 + d4, t1 + t2, t1 - t2, t3 + t4, t3 - t4, 4 * d1 - 5 * d3 + d5)
    }

    /// Aᵀ applied to one column (or row) of six values.
    @inline(__always)
    private static func outputTransform(_ m0: Lanes, _ m1: Lanes, _ m2: Lanes, _ m3: Lanes, _ m4: Lanes, _ m5: Lanes)
        -> (Lanes, Lanes, Lanes, Lanes) {
        let a = m1 + m2, b = m1 - m2, c = m3 + m4, d = m3 - m4
        return (m0 + a + c, b + 2 * d, a + 4 * c, b + 8 * d + m5)
    }

    /// F(4×4, 3×3): `V_ξ[c, t] = (Bᵀ d B)_ξ` (ξ = 6·row + column) for the tiles of tile rows `rows` and channels
    /// `0..<channels` of `padded` (phase-split rows, ``Layout/paddedWidth``), written at
    /// `v + ξ·xiStride + c·ldTiles + t`. Column k of four consecutive tiles is one contiguous load: phase k at
    /// entry j for k < 4, phases 0 and 1 at entry j + 1 for k = 4, 5.
    package static func transformInput4x4(_ padded: UnsafePointer<Float>, channels: Int, layout l: Layout,
                                          rows: Range<Int>, v: UnsafeMutablePointer<Float>,
                                          ldChannels: Int, ldTiles: Int, xiStride: Int) {
        let tx = l.rowTiles, wp = l.paddedWidth, q = l.phaseWidth, xiBytes = 4 * xiStride
        // Four tiles of one channel and tile row: 36 transformed values, one position matrix apart.
        @inline(__always) func group(_ top: UnsafePointer<Float>, _ j: Int, _ dst: UnsafeMutableRawPointer) {
            // Columns 0…5 of input row r for tiles j…j+3, then B across them.
            @inline(__always) func row(_ r: Int) -> (Lanes, Lanes, Lanes, Lanes, Lanes, Lanes) {
                let p = UnsafeRawPointer(top + (r &* wp &+ j))
                @inline(__always) func load(_ offset: Int) -> Lanes {
                    p.loadUnaligned(fromByteOffset: offset &* 4, as: Lanes.self)
                }
                return inputTransform(load(0), load(q), load(2 * q), load(3 * q), load(1), load(q + 1))
            }
            let r0 = row(0), r1 = row(1), r2 = row(2), r3 = row(3), r4 = row(4), r5 = row(5)
            // Bᵀ down each of the six columns.
            @inline(__always) func column(_ x: Int, _ d0: Lanes, _ d1: Lanes, _ d2: Lanes, _ d3: Lanes,
                                          _ d4: Lanes, _ d5: Lanes) {
                let (v0, v1, v2, v3, v4, v5) = inputTransform(d0, d1, d2, d3, d4, d5)
                @inline(__always) func store(_ xi: Int, _ value: Lanes) {
                    dst.storeBytes(of: value, toByteOffset: xi &* xiBytes, as: Lanes.self)
                }
                store(x, v0); store(6 + x, v1); store(12 + x, v2)
                store(18 + x, v3); store(24 + x, v4); store(30 + x, v5)
            }
            column(0, r0.0, r1.0, r2.0, r3.0, r4.0, r5.0)
            column(1, r0.1, r1.1, r2.1, r3.1, r4.1, r5.1)
            column(2, r0.2, r1.2, r2.2, r3.2, r4.2, r5.2)
            column(3, r0.3, r1.3, r2.3, r3.3, r4.3, r5.3)
            column(4, r0.4, r1.4, r2.4, r3.4, r4.4, r5.4)
            column(5, r0.5, r1.5, r2.5, r3.5, r4.5, r5.5)
        }
        for c in 0..<channels {
            let plane = padded + c * l.planeCount
            for i in rows {
                let top = UnsafePointer(plane + 4 * i * wp)
                let out = UnsafeMutableRawPointer(v + c * ldTiles + (i - rows.lowerBound) * tx)
                for j in stride(from: 0, to: tx, by: 4) { group(top, j, out + 4 &* j) }
            }
        }
    }

    /// F(4×4, 3×3): output tiles `Aᵀ M A` of tile rows `rows` for `outputs` channels, plus `bias[o]` (if given),
    /// written to the compact output `[outputs, outputHeight, outputWidth]` (cells beyond its edge are dropped).
    package static func transformOutput4x4(_ m: UnsafePointer<Float>, outputs: Int, ldOutputs: Int, ldTiles: Int,
                                           xiStride: Int, layout l: Layout, rows: Range<Int>, bias: UnsafePointer<Float>?,
                                           output: UnsafeMutablePointer<Float>) {
        let tx = l.rowTiles, (oh, ow) = (l.outputHeight, l.outputWidth)
        let fullColumns = ow / 4   // tiles whose four columns are all inside the output
        for o in 0..<outputs {
            let b = Lanes(repeating: bias?[o] ?? 0)
            let plane = output + o * oh * ow
            for i in rows {
                let src = UnsafeRawPointer(m + o * ldTiles + (i - rows.lowerBound) * tx)
                let y = 4 * i
                let outRows = min(4, oh - y)
                for j in stride(from: 0, to: tx, by: 4) {
                    @inline(__always) func e(_ xi: Int) -> Lanes {
                        src.loadUnaligned(fromByteOffset: (xi &* xiStride &+ j) &* 4, as: Lanes.self)
                    }
                    // A across each of the six rows, then Aᵀ down the four columns.
                    @inline(__always) func row(_ r: Int) -> (Lanes, Lanes, Lanes, Lanes) {
                        outputTransform(e(6 * r), e(6 * r + 1), e(6 * r + 2), e(6 * r + 3), e(6 * r + 4), e(6 * r + 5))
                    }
                    let g0 = row(0), g1 = row(1), g2 = row(2), g3 = row(3), g4 = row(4), g5 = row(5)
                    let c0 = outputTransform(g0.0, g1.0, g2.0, g3.0, g4.0, g5.0)
                    let c1 = outputTransform(g0.1, g1.1, g2.1, g3.1, g4.1, g5.1)
                    let c2 = outputTransform(g0.2, g1.2, g2.2, g3.2, g4.2, g5.2)
                    let c3 = outputTransform(g0.3, g1.3, g2.3, g3.3, g4.3, g5.3)
                    let complete = j + 4 <= fullColumns
                    // Output row r of the four tiles: (c0.r[t], c1.r[t], c2.r[t], c3.r[t]) for t = 0…3.
                    @inline(__always) func write(_ r: Int, _ x0: Lanes, _ x1: Lanes, _ x2: Lanes, _ x3: Lanes) {
                        guard r < outRows else { return }
                        let (y0, y1, y2, y3) = (x0 + b, x1 + b, x2 + b, x3 + b)
                        let dst = plane + (y + r) * ow + 4 * j
                        if complete {
                            let v = SIMD16<Float>(y0[0], y1[0], y2[0], y3[0], y0[1], y1[1], y2[1], y3[1],
                                                  y0[2], y1[2], y2[2], y3[2], y0[3], y1[3], y2[3], y3[3])
                            UnsafeMutableRawPointer(dst).storeBytes(of: v, as: SIMD16<Float>.self)
                            return
                        }
                        for t in 0..<4 {
                            let columns = ow - 4 * (j + t)
                            if columns > 0 { dst[4 * t] = y0[t] }
                            if columns > 1 { dst[4 * t + 1] = y1[t] }
                            if columns > 2 { dst[4 * t + 2] = y2[t] }
                            if columns > 3 { dst[4 * t + 3] = y3[t] }
                        }
                    }
                    write(0, c0.0, c1.0, c2.0, c3.0)
                    write(1, c0.1, c1.1, c2.1, c3.1)
                    write(2, c0.2, c1.2, c2.2, c3.2)
                    write(3, c0.3, c1.3, c2.3, c3.3)
                }
            }
        }
    }
}
