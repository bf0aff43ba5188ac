/// RAFT's all-pairs correlation pyramid for one sample (core/corr.py, `CorrBlock`), stored in caller memory.
///
/// Layout: one row per source pixel `p = y·w + x`, holding every level's target plane back to back:
/// `storage[p, offsets[i] + yᵢ·wᵢ + xᵢ]`, row length `Σ hᵢ·wᵢ`. The volume
/// `corr[p, q] = Σ_c fmap1[c, p]·fmap2[c, q] / √D` is the GEMM `fmap1ᵀ·fmap2` (`alpha = 1/√D`), computed in
/// cache-sized tiles; each tile is pooled (2×2 average, floor) level by level while it is in cache, and every level
/// reaches the stored rows by streaming stores. A look-up reads one contiguous row per pixel and level.
package struct CorrelationPyramid {
    package let levels: CorrelationLevels
    /// `[h·w, rowLength]`.
    package let storage: UnsafeMutablePointer<Float>

    /// Floats of storage for one sample.
    package static func storageCount(_ levels: CorrelationLevels) -> Int { levels.pixels * levels.rowLength }

    /// Builds the pyramid of one sample into `storage` (``storageCount(_:)`` floats). Allocation-free once
    /// `workspace` holds its tile buffers.
    /// - Parameters:
    ///   - fmap1, fmap2: `[channels, h, w]` feature maps.
    ///   - workspace: its correlation-tiles block holds one ``Tiling/bufferCount`` tile buffer per thread (about
    ///     1 MB each).
    package init(fmap1: UnsafePointer<Float>, fmap2: UnsafePointer<Float>, channels: Int,
                 levels: CorrelationLevels, storage: UnsafeMutablePointer<Float>, workspace: Workspace) {
        precondition(levels.allPairsFitsBLAS, "correlation volume too large for one GEMM; use the on-demand mode")
        self.levels = levels
        self.storage = storage
        // corr[p, q] = alpha · Σ_c fmap1[c, p]·fmap2[c, q]: A = fmap1 stored [K = D, M = h·w], transposed.
        let alpha = Float(1 / Double(channels).squareRoot())
        let tiling = Tiling(levels)
        let tiles = tiling.bands * tiling.rowBlocks
        let buffers = workspace.correlationTiles.carve { $0.take(Parallel.workers(tiles) * tiling.bufferCount) }
        Parallel.forEachWorker(tiles, context: (fmap1, fmap2, channels, alpha, levels, storage, tiling, buffers)) {
            volume, worker, part in
            let (fmap1, fmap2, channels, alpha, levels, storage, tiling, buffers) = volume
            let pixels = levels.pixels, width = levels.width
            let tile = buffers + worker * tiling.bufferCount, pooled = tile + tiling.tileCount
            for index in part {
                let band = index / tiling.rowBlocks, block = index % tiling.rowBlocks
                let sources = block * tiling.tileRows..<min(pixels, (block + 1) * tiling.tileRows)
                let firstRow = band * tiling.bandRows
                let targets = (min(levels.height, firstRow + tiling.bandRows) - firstRow) * width
                // On this thread only (workers: 1): the tiles are already split over the threads.
                BLAS.splitGEMM(true, false, sources.count, targets, channels, alpha, fmap1 + sources.lowerBound, pixels,
                               fmap2 + firstRow * width, pixels, 0, tile, targets, workers: 1)
                for (j, p) in sources.enumerated() {
                    Self.store(band: band, of: tiling, level0: tile + j * targets, pooled: pooled, levels: levels,
                               row: storage + p * levels.rowLength)
                }
            }
            // The streaming stores must be visible before the caller (another thread) reads the pyramid.
            CacheControl.streamingFence()
        }
    }

    /// The pyramid of the reversed pair, (fmap2, fmap1), built in place from this pair's pyramid in `storage`.
    ///
    /// Level 0 of the reversed volume is the transpose of this one, `corr_b[q, p] = corr_f[p, q]` (the same
    /// products, so no GEMM): the `h·w × h·w` block at the start of every row is transposed in place, in square
    /// tiles that both fit in the cache. The coarser levels pool over the reversed pair's targets, the frame-1
    /// positions, so they are pooled again from the transposed level 0 (core/corr.py, `CorrBlock`: `avg_pool2d`
    /// over the last two dimensions) and overwrite this pyramid's coarser levels. Allocation-free; needs no
    /// memory beyond `storage`.
    /// - Parameter storage: this pair's pyramid (``storageCount(_:)`` floats, built by
    ///   ``init(fmap1:fmap2:channels:levels:storage:workspace:)``); it holds the reversed pair's afterwards.
    package init(reversing storage: UnsafeMutablePointer<Float>, levels: CorrelationLevels) {
        self.levels = levels
        self.storage = storage
        let pixels = levels.pixels, rowLength = levels.rowLength
        let side = Self.transposeTile, tiles = (pixels + side - 1) / side
        // Tile pairs (I, J) with I ≤ J, numbered column by column: k = J·(J+1)/2 + I.
        Parallel.forEach(tiles * (tiles + 1) / 2, minimumChunk: 8, context: (storage, pixels, rowLength, side)) {
            volume, part in
            let (storage, pixels, rowLength, side) = volume
            var column = Int((Double(8 * part.lowerBound + 1).squareRoot() - 1) / 2)
            while column * (column + 1) / 2 > part.lowerBound { column -= 1 }
            while (column + 1) * (column + 2) / 2 <= part.lowerBound { column += 1 }
            var row = part.lowerBound - column * (column + 1) / 2
            for _ in part {
                Self.swapTransposed(storage, rows: row * side..<min(pixels, (row + 1) * side),
                                    columns: column * side..<min(pixels, (column + 1) * side), rowLength: rowLength)
                row += 1
                if row > column { (row, column) = (0, column + 1) }
            }
        }
        guard levels.count > 1 else { return }
        Parallel.forEach(pixels, minimumChunk: 64, context: (storage, levels)) { pyramid, part in
            let (storage, levels) = pyramid
            for p in part {
                let row = storage + p * levels.rowLength
                for i in 1..<levels.count {
                    let (source, target) = (levels.sizes[i - 1], levels.sizes[i])
                    Self.pool(row + levels.offsets[i - 1], width: source.width, into: row + levels.offsets[i],
                              width: target.width, rows: target.height)
                }
            }
        }
    }

    /// Side of the square tiles of the in-place transpose: two 32×32 tiles are 8 KB, and their 64 rows stay in
    /// the L1 cache and TLB while they are swapped.
    static let transposeTile = 32

    /// Swaps `a[r, c]` with `a[c, r]` for `r` in `rows`, `c` in `columns` (`a` with row stride `rowLength`); on a
    /// diagonal tile (`rows == columns`) only the pairs with `c > r`.
    @inline(__always)
    private static func swapTransposed(_ a: UnsafeMutablePointer<Float>, rows: Range<Int>, columns: Range<Int>,
                                       rowLength: Int) {
        let diagonal = rows == columns
        for r in rows {
            let rowR = a + r * rowLength
            for c in (diagonal ? r + 1 : columns.lowerBound)..<columns.upperBound {
                let rowC = a + c * rowLength
                (rowR[c], rowC[r]) = (rowC[r], rowR[c])
            }
        }
    }

    /// How the volume is cut into GEMM tiles: `tileRows` source pixels × one band of `bandRows = 2^(L−1)` level-0
    /// target rows. A band holds every level-0 row its pooled rows need, so a tile is pooled right after its GEMM.
    struct Tiling {
        let bandRows: Int, bands: Int, tileRows: Int, rowBlocks: Int
        /// Floats of one tile (`tileRows × bandRows·w`) and of one thread's buffer (the tile, then one source
        /// pixel's pooled band of every level ≥ 1).
        let tileCount: Int, bufferCount: Int

        init(_ levels: CorrelationLevels) {
            bandRows = 1 << (levels.count - 1)
            bands = (levels.height + bandRows - 1) / bandRows
            // About 1 MB per tile (256 source pixels at w = 128, RAFT at 1024×440), so it is pooled from the cache.
            tileRows = min(levels.pixels, max(16, (1 << 18) / (bandRows * levels.width)))
            rowBlocks = (levels.pixels + tileRows - 1) / tileRows
            tileCount = tileRows * bandRows * levels.width
            var pooled = 0
            for i in 1..<max(1, levels.count) { pooled += (bandRows >> i) * levels.sizes[i].width }
            bufferCount = tileCount + pooled
        }
    }

    /// Writes one source pixel's share of band `band`: its level-0 rows from the GEMM tile, and for every level
    /// `i ≥ 1` the rows `(band·bandRows) >> i ..<` pooled from level `i − 1` into `pooled`. Every level goes to
    /// `row` by streaming stores: the pyramid is hundreds of megabytes, read back only by the sparse look-ups.
    @inline(__always)
    private static func store(band: Int, of tiling: Tiling, level0: UnsafePointer<Float>,
                              pooled: UnsafeMutablePointer<Float>, levels: CorrelationLevels,
                              row: UnsafeMutablePointer<Float>) {
        let firstRow = band * tiling.bandRows
        let rows0 = min(levels.height, firstRow + tiling.bandRows) - firstRow
        CacheControl.streamingCopy(level0, to: row + firstRow * levels.width, count: rows0 * levels.width)
        var source = level0, sourceWidth = levels.width, destination = pooled
        for i in 1..<levels.count {
            let (h, w) = (levels.sizes[i].height, levels.sizes[i].width)
            let first = firstRow >> i, rows = min(h, (firstRow + tiling.bandRows) >> i) - first
            // Level i has no rows in this band, so neither do the coarser ones.
            if rows <= 0 { break }
            pool(source, width: sourceWidth, into: destination, width: w, rows: rows)
            CacheControl.streamingCopy(destination, to: row + levels.offsets[i] + first * w, count: rows * w)
            (source, sourceWidth) = (UnsafePointer(destination), w)
            destination += rows * w
        }
    }

    /// 2×2 average pooling (floor) of `2·rows` rows of width `sourceWidth` into `rows` rows of width `w`:
    /// `(((a+b)+c)+d)/4`, as `avg_pool2d`.
    @inline(__always)
    private static func pool(_ source: UnsafePointer<Float>, width sourceWidth: Int,
                             into out: UnsafeMutablePointer<Float>, width w: Int, rows: Int) {
        for y in 0..<rows {
            let top = source + 2 * y * sourceWidth, bottom = top + sourceWidth, out = out + y * w
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
                    let ahead = p + Self.prefetchDistance
                    if ahead < part.upperBound {
                        Self.prefetchWindows(row: row + Self.prefetchDistance * L.rowLength, x: coords[ahead],
                                             y: coords[pixels + ahead], levels: L)
                    }
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
                                CorrelationWindow.fill(window, side: s, x0: x0, y0: y0, height: h, width: w) {
                                    row, y, columns in
                                    let source = plane + y * w + x0
                                    for k in columns { row[k] = source[k] }
                                }
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

    /// Pixels ahead whose windows the look-up asks the cache for: each pixel's rows lie in a different part of the
    /// pyramid, so without the hint every window row is a cache miss that the loop waits for.
    static let prefetchDistance = 8

    /// Prefetches the window rows of every level that a look-up at `(x, y)` reads from `row`.
    @inline(__always)
    private static func prefetchWindows(row: UnsafePointer<Float>, x: Float, y: Float, levels L: CorrelationLevels) {
        let r = L.radius, s = 2 * r + 2
        var cx = x, cy = y
        for i in 0..<L.count {
            let (h, w) = (L.sizes[i].height, L.sizes[i].width)
            if let (x0, _) = CorrelationWindow.locate(cx, size: w, radius: r),
               let (y0, _) = CorrelationWindow.locate(cy, size: h, radius: r) {
                let plane = row + L.offsets[i]
                let first = max(0, x0), last = min(w - 1, x0 + s - 1)
                for y in max(0, y0)..<min(h, y0 + s) {
                    CacheControl.prefetch(plane + y * w + first)
                    CacheControl.prefetch(plane + y * w + last)
                }
            }
            cx *= 0.5
            cy *= 0.5
        }
    }
}
