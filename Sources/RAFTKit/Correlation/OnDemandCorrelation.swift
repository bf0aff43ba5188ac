/// RAFT's memory-light correlation (core/corr.py, `AlternateCorrBlock`) for one sample.
///
/// Instead of storing the `(h·w)²` volume it keeps the feature maps, pixel-major: fmap1 as `[h·w, D]` and
/// fmap2 average-pooled per level (2×2, floor) as `[hᵢ·wᵢ, D]`, levels back to back. A look-up computes
/// the `(2r+2)²` dot products of the window it interpolates, scaled by `1/√D`. Because the dot product is
/// linear, pooling fmap2 equals pooling the volume: the features match ``CorrelationPyramid`` up to float
/// rounding. Memory: `(h·w + Σ hᵢ·wᵢ)·D` floats; cost: `L·(2r+2)²·D` multiply-adds per pixel per look-up.
package struct OnDemandCorrelation {
    package let levels: CorrelationLevels
    package let channels: Int
    /// `[h·w, D]` followed by the pooled fmap2 levels `[Σ hᵢ·wᵢ, D]`.
    package let storage: UnsafeMutablePointer<Float>
    private let alpha: Float

    /// Floats of storage for one sample.
    package static func storageCount(_ levels: CorrelationLevels, channels: Int) -> Int {
        (levels.pixels + levels.rowLength) * channels
    }

    /// Prepares one sample into `storage` (``storageCount(_:channels:)`` floats). Allocation-free.
    /// - Parameters:
    ///   - fmap1, fmap2: `[channels, h, w]` feature maps.
    package init(fmap1: UnsafePointer<Float>, fmap2: UnsafePointer<Float>, channels: Int,
                 levels: CorrelationLevels, storage: UnsafeMutablePointer<Float>) {
        self.levels = levels
        self.channels = channels
        self.storage = storage
        alpha = Float(1 / Double(channels).squareRoot())
        let pixels = levels.pixels, d = channels
        let f1 = storage, f2 = storage + pixels * d
        // Transpose [D, h·w] → [h·w, D], in tiles so both sides stay in cache.
        Self.transpose(fmap1, rows: d, columns: pixels, into: f1)
        Self.transpose(fmap2, rows: d, columns: pixels, into: f2)
        for i in 1..<levels.count {
            let src = f2 + levels.offsets[i - 1] * d, dst = f2 + levels.offsets[i] * d
            let sw = levels.sizes[i - 1].width
            for y in 0..<levels.sizes[i].height {
                for x in 0..<levels.sizes[i].width {
                    let a = src + ((2 * y) * sw + 2 * x) * d, b = a + d, c = a + sw * d, e = c + d
                    let out = dst + (y * levels.sizes[i].width + x) * d
                    for k in 0..<d { out[k] = (((a[k] + b[k]) + c[k]) + e[k]) * 0.25 }
                }
            }
        }
    }

    private static func transpose(_ src: UnsafePointer<Float>, rows: Int, columns: Int, into dst: UnsafeMutablePointer<Float>) {
        let tile = 32
        var r0 = 0
        while r0 < rows {
            let r1 = min(rows, r0 + tile)
            var c0 = 0
            while c0 < columns {
                let c1 = min(columns, c0 + tile)
                for r in r0..<r1 {
                    for c in c0..<c1 { dst[c * rows + r] = src[r * columns + c] }
                }
                c0 = c1
            }
            r0 = r1
        }
    }

    /// Same contract as ``CorrelationPyramid/lookup(coords:output:)``. Allocation-free.
    /// - Parameters:
    ///   - coords: `[2, h, w]` target positions at level 0.
    ///   - output: `[L·(2r+1)², h, w]`, x-major channel order.
    package func lookup(coords: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                        layout: CorrelationLayout = .channelMajor) {
        // Pixels in square tiles, the tiles split over the threads. Neighbouring pixels' windows overlap, so a tile
        // keeps its working set of pooled fmap2 rows small. The speed comes from the threads and from ``dots``; the
        // tile side matters little (`Benchmarks/README.md`, sixth round).
        let side = Self.tileSide
        let tilesX = (levels.width + side - 1) / side, tilesY = (levels.height + side - 1) / side
        Parallel.forEach(tilesX * tilesY, context: (self, coords, output, layout, tilesX)) { lookup, part in
            let (correlation, coords, output, layout, tilesX) = lookup
            let L = correlation.levels, s = 2 * L.radius + 2, side = Self.tileSide
            withUnsafeTemporaryAllocation(of: Float.self, capacity: s * s) { buffer in
                let window = buffer.baseAddress!
                for tile in part {
                    let (ty, tx) = (tile / tilesX * side, tile % tilesX * side)
                    for y in ty..<min(L.height, ty + side) {
                        for x in tx..<min(L.width, tx + side) {
                            correlation.lookup(pixel: y * L.width + x, coords: coords, output: output, layout: layout,
                                               window: window)
                        }
                    }
                }
            }
        }
    }

    /// Side of the square pixel tiles of a look-up.
    static let tileSide = 8

    /// Every level's look-up for pixel `p`, through `window` (`(2r+2)²` floats of scratch).
    @inline(__always)
    private func lookup(pixel p: Int, coords: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                        layout: CorrelationLayout, window: UnsafeMutablePointer<Float>) {
        let L = levels, pixels = L.pixels, r = L.radius, s = 2 * r + 2, d = channels
        let f2 = UnsafePointer(storage + pixels * d)
        let f1 = UnsafePointer(storage + p * d)
        var cx = coords[p], cy = coords[pixels + p]
        for i in 0..<L.count {
            let (out, stride) = layout.destination(output, pixel: p, level: i, levels: L)
            let (h, w) = (L.sizes[i].height, L.sizes[i].width)
            if let (x0, fx) = CorrelationWindow.locate(cx, size: w, radius: r),
               let (y0, fy) = CorrelationWindow.locate(cy, size: h, radius: r) {
                let plane = f2 + L.offsets[i] * d, alpha = alpha
                CorrelationWindow.fill(window, side: s, x0: x0, y0: y0, height: h, width: w) { row, y, columns in
                    // Columns inside the level are consecutive targets: their dot products share f1's loads.
                    Self.dots(f1, plane + (y * w + x0 + columns.lowerBound) * d, targets: columns.count, channels: d,
                              alpha: alpha, output: row + columns.lowerBound)
                }
                CorrelationWindow.interpolate(window: window, rowStride: s, radius: r, fx: fx, fy: fy, output: out,
                                              stride: stride)
            } else {
                CorrelationWindow.zero(radius: r, output: out, stride: stride)
            }
            cx *= 0.5
            cy *= 0.5
        }
    }

    /// `output[t] = alpha · dot(a, b + t·channels)` for `t < targets`, four targets at a time (then two, then one):
    /// each 8-float chunk of `a` is loaded once for four products. Every product sums exactly as
    /// ``dot(_:_:count:)``: lane `j` of its accumulator is that function's partial sum `s_j`.
    @inline(__always)
    private static func dots(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, targets: Int, channels d: Int,
                             alpha: Float, output: UnsafeMutablePointer<Float>) {
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
            UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
        }
        @inline(__always) func finish(_ v: SIMD8<Float>, _ b: UnsafePointer<Float>, from k: Int) -> Float {
            var s = ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]))
            var k = k
            while k < d { s += a[k] * b[k]; k += 1 }
            return alpha * s
        }
        var t = 0
        while t + 4 <= targets {
            let b0 = b + t * d, b1 = b0 + d, b2 = b1 + d, b3 = b2 + d
            var s0 = SIMD8<Float>(), s1 = SIMD8<Float>(), s2 = SIMD8<Float>(), s3 = SIMD8<Float>()
            var k = 0
            while k + 8 <= d {
                let x = load(a + k)
                s0 += x * load(b0 + k)
                s1 += x * load(b1 + k)
                s2 += x * load(b2 + k)
                s3 += x * load(b3 + k)
                k += 8
            }
            output[t] = finish(s0, b0, from: k)
            output[t + 1] = finish(s1, b1, from: k)
            output[t + 2] = finish(s2, b2, from: k)
            output[t + 3] = finish(s3, b3, from: k)
            t += 4
        }
        if t + 2 <= targets {
            // RAFT's basic window rows are 10 targets: 4 + 4 + 2.
            let b0 = b + t * d, b1 = b0 + d
            var s0 = SIMD8<Float>(), s1 = SIMD8<Float>()
            var k = 0
            while k + 8 <= d {
                let x = load(a + k)
                s0 += x * load(b0 + k)
                s1 += x * load(b1 + k)
                k += 8
            }
            output[t] = finish(s0, b0, from: k)
            output[t + 1] = finish(s1, b1, from: k)
            t += 2
        }
        while t < targets {
            output[t] = alpha * dot(a, b + t * d, count: d)
            t += 1
        }
    }

    /// Dot product with eight independent partial sums (vectorisable without reassociation).
    @inline(__always)
    private static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
        var s4: Float = 0, s5: Float = 0, s6: Float = 0, s7: Float = 0
        var k = 0
        while k + 8 <= count {
            s0 += a[k] * b[k]; s1 += a[k + 1] * b[k + 1]; s2 += a[k + 2] * b[k + 2]; s3 += a[k + 3] * b[k + 3]
            s4 += a[k + 4] * b[k + 4]; s5 += a[k + 5] * b[k + 5]; s6 += a[k + 6] * b[k + 6]; s7 += a[k + 7] * b[k + 7]
            k += 8
        }
        var s = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
        while k < count { s += a[k] * b[k]; k += 1 }
        return s
    }
}
