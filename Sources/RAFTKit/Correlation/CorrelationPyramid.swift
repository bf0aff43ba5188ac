/// RAFT's all-pairs correlation pyramid for one sample (raft-spec §3.1–3.3), stored in caller memory.
///
/// Layout: one row per source pixel `p = y·w + x`, holding every level's target plane back to back:
/// `storage[p, offsets[i] + yᵢ·wᵢ + xᵢ]`, row length `Σ hᵢ·wᵢ`. The volume
/// `corr[p, q] = Σ_c fmap1[c, p]·fmap2[c, q] / √D` is the GEMM `fmap1ᵀ·fmap2` (`alpha = 1/√D`), computed in
/// tiles whose output rows are the level-0 part of these rows; each tile is then pooled (2×2 average, floor) level
/// by level while it is in cache. A look-up reads one contiguous row per pixel and level.
package struct CorrelationPyramid {
    package let levels: CorrelationLevels
    /// `[h·w, rowLength]`.
    package let storage: UnsafeMutablePointer<Float>

    /// Floats of storage for one sample.
    package static func storageCount(_ levels: CorrelationLevels) -> Int { levels.pixels * levels.rowLength }

    /// Builds the pyramid of one sample into `storage` (``storageCount(_:)`` floats). Allocation-free.
    /// - Parameters:
    ///   - fmap1, fmap2: `[channels, h, w]` feature maps.
    package init(fmap1: UnsafePointer<Float>, fmap2: UnsafePointer<Float>, channels: Int,
                 levels: CorrelationLevels, storage: UnsafeMutablePointer<Float>) {
        precondition(levels.allPairsFitsBLAS, "correlation volume too large for one GEMM; use the on-demand mode")
        self.levels = levels
        self.storage = storage
        // corr[p, q] = alpha · Σ_c fmap1[c, p]·fmap2[c, q]: A = fmap1 stored [K = D, M = h·w], transposed.
        let alpha = Float(1 / Double(channels).squareRoot())
        // Tiles of `tileRows` source pixels × one band of 2^(L−1) level-0 target rows: a band holds every target
        // row its pooled rows need, so each tile is pooled right after its GEMM, while it is in cache.
        let bandRows = 1 << (levels.count - 1)
        let bands = (levels.height + bandRows - 1) / bandRows
        let rowBlocks = (levels.pixels + Self.tileRows - 1) / Self.tileRows
        Parallel.forEach(bands * rowBlocks,
                         context: (fmap1, fmap2, channels, alpha, levels, storage, bandRows, rowBlocks)) { volume, part in
            let (fmap1, fmap2, channels, alpha, levels, storage, bandRows, rowBlocks) = volume
            let pixels = levels.pixels, row = levels.rowLength
            for tile in part {
                let band = tile / rowBlocks, block = tile % rowBlocks
                let sources = block * Self.tileRows..<min(pixels, (block + 1) * Self.tileRows)
                let firstTarget = band * bandRows * levels.width
                let targets = (min(levels.height, (band + 1) * bandRows) - band * bandRows) * levels.width
                // On this thread only (workers: 1): the tiles are already split over the threads.
                BLAS.splitGEMM(true, false, sources.count, targets, channels, alpha, fmap1 + sources.lowerBound, pixels,
                               fmap2 + firstTarget, pixels, 0, storage + sources.lowerBound * row + firstTarget, row,
                               workers: 1)
                for p in sources { Self.pool(row: storage + p * row, levels: levels, band: band, bandRows: bandRows) }
            }
        }
    }

    /// Source pixels per GEMM tile: with a band of 8 target rows of 128 (RAFT at 1024×440), 1 MB of volume.
    static let tileRows = 256

    /// Pools, for every level `i ≥ 1`, the rows of band `band` (level-0 rows `band·bandRows ..<` `+ bandRows`,
    /// level-`i` rows `>> i`) of one source pixel's row: `((a+b)+c)+d)/4`, as `avg_pool2d`.
    private static func pool(row: UnsafeMutablePointer<Float>, levels: CorrelationLevels, band: Int, bandRows: Int) {
        for i in 1..<levels.count {
            let src = row + levels.offsets[i - 1], dst = row + levels.offsets[i]
            let sw = levels.sizes[i - 1].width
            let (h, w) = (levels.sizes[i].height, levels.sizes[i].width)
            for y in (band * bandRows) >> i..<min(h, ((band + 1) * bandRows) >> i) {
                let top = src + 2 * y * sw, bottom = top + sw, out = dst + y * w
                // Eight outputs from the even and odd lanes of one 16-float load per row, in avg_pool2d's order.
                var x = 0
                while x + 8 <= w {
                    let t = UnsafeRawPointer(top + 2 * x).loadUnaligned(as: SIMD16<Float>.self)
                    let b = UnsafeRawPointer(bottom + 2 * x).loadUnaligned(as: SIMD16<Float>.self)
                    let sum = ((t.evenHalf + t.oddHalf) + b.evenHalf) + b.oddHalf
                    UnsafeMutableRawPointer(out + x).storeBytes(of: sum * 0.25, as: SIMD8<Float>.self)
                    x += 8
                }
                while x < w {
                    out[x] = (((top[2 * x] + top[2 * x + 1]) + bottom[2 * x]) + bottom[2 * x + 1]) * 0.25
                    x += 1
                }
            }
        }
    }

    /// Looks up the `(2r+1)²` neighbourhood of every source pixel on every level (bilinear, zero outside).
    /// Allocation-free.
    /// - Parameters:
    ///   - coords: `[2, h, w]` target positions at level 0 (x plane, then y plane).
    ///   - output: `[L·(2r+1)², h, w]`, channel `i·(2r+1)² + (dx+r)·(2r+1) + (dy+r)`.
    package func lookup(coords: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                        layout: CorrelationLayout = .channelMajor) {
        // Pixels are independent: split over threads, each with its own border window.
        Parallel.forEach(levels.pixels, minimumChunk: 256, context: (self, coords, output, layout)) { lookup, part in
            let (pyramid, coords, output, layout) = lookup
            let L = pyramid.levels, pixels = L.pixels, r = L.radius, s = 2 * r + 2, storage = pyramid.storage
            withUnsafeTemporaryAllocation(of: Float.self, capacity: s * s) { buffer in
                let window = buffer.baseAddress!
                for p in part {
                    let row = UnsafePointer(storage + p * L.rowLength)
                    var cx = coords[p], cy = coords[pixels + p]
                    for i in 0..<L.count {
                        let (out, stride) = layout.destination(output, pixel: p, level: i, levels: L)
                        let (h, w) = (L.sizes[i].height, L.sizes[i].width)
                        if let (x0, fx) = CorrelationWindow.locate(cx, size: w, radius: r),
                           let (y0, fy) = CorrelationWindow.locate(cy, size: h, radius: r) {
                            let plane = row + L.offsets[i]
                            if CorrelationWindow.isInside(x0: x0, y0: y0, radius: r, height: h, width: w) {
                                // Read the level directly: no copy for windows away from the border.
                                CorrelationWindow.interpolate(window: plane + y0 * w + x0, rowStride: w, radius: r,
                                                              fx: fx, fy: fy, output: out, stride: stride)
                            } else {
                                Self.fillWindow(window, side: s, plane: plane, height: h, width: w, x0: x0, y0: y0)
                                CorrelationWindow.interpolate(window: window, rowStride: s, radius: r, fx: fx, fy: fy,
                                                              output: out, stride: stride)
                            }
                        } else {
                            CorrelationWindow.zero(radius: r, output: out, stride: stride)
                        }
                        cx *= 0.5
                        cy *= 0.5
                    }
                }
            }
        }
    }

    /// Copies the `side × side` window at `(x0, y0)` of an `height × width` plane, zeros outside.
    @inline(__always)
    private static func fillWindow(_ window: UnsafeMutablePointer<Float>, side: Int, plane: UnsafePointer<Float>,
                                   height: Int, width: Int, x0: Int, y0: Int) {
        // Columns k with 0 ≤ x0 + k < width are copied, the rest zeroed (no per-sample branch).
        let first = min(side, max(0, -x0)), end = max(first, min(side, width - x0))
        for j in 0..<side {
            let dst = window + j * side
            let y = y0 + j
            if y < 0 || y >= height { dst.update(repeating: 0, count: side); continue }
            let src = plane + y * width + x0
            for k in 0..<first { dst[k] = 0 }
            for k in first..<end { dst[k] = src[k] }
            for k in end..<side { dst[k] = 0 }
        }
    }
}
