import Testing
@testable import RAFTKit

/// Correlation volume, pyramid and look-up against torchvision's CorrBlock (Scripts/fixtures/correlation.py).
@Suite struct CorrelationTests {
    let fixture: StateDict
    let fmap1: Tensor, fmap2: Tensor, coords: Tensor, pixels: [Int]

    init() throws {
        fixture = try Fixtures.load("correlation.safetensors")
        fmap1 = try fixture.require("fmap1")
        fmap2 = try fixture.require("fmap2")
        coords = try fixture.require("coords")
        pixels = try fixture.require("pixels").scalars.map { Int($0) }
    }

    /// Volume rows (level 0) and pooled levels at 40 source pixels: ≤ 1e-5.
    @Test func pyramidLevelsMatchPyTorch() throws {
        let (d, h, w) = (fmap1.c, fmap1.h, fmap1.w)
        let levels = CorrelationLevels(height: h, width: w, count: 4, radius: 4)
        #expect(levels.sizes.map { [$0.height, $0.width] } == [[16, 20], [8, 10], [4, 5], [2, 2]])
        let workspace = Workspace()
        let storageBuffer = ScratchBuffer()
        let storage = storageBuffer.reserve(CorrelationPyramid.storageCount(levels))
        let pyramid = CorrelationPyramid(fmap1: fmap1.pointer, fmap2: fmap2.pointer, channels: d, levels: levels, storage: storage,
                                         workspace: workspace)
        for i in 0..<4 {
            let reference = try fixture.require("level\(i)")
            let n = levels.sizes[i].height * levels.sizes[i].width
            #expect(reference.shape == [pixels.count, n])
            var worst: Float = 0
            for (row, p) in pixels.enumerated() {
                for q in 0..<n {
                    worst = max(worst, abs(pyramid.storage[p * levels.rowLength + levels.offsets[i] + q] - reference[row, q]))
                }
            }
            #expect(worst <= 1e-5, "level \(i): max |Δ| = \(worst)")
        }
    }

    /// Look-ups with radius 4 and 3 (x-major channel order, zeros outside, far-away and integral centres),
    /// both strategies: ≤ 1e-5.
    @Test(arguments: [CorrelationMode.allPairs, .onDemand], [4, 3])
    func lookupMatchesPyTorch(mode: CorrelationMode, radius: Int) throws {
        let out = try Correlation.lookup(fmap1: fmap1, fmap2: fmap2, coords: coords, radius: radius, mode: mode)
        let reference = try fixture.require("lookup_r\(radius)")
        let channels = 4 * (2 * radius + 1) * (2 * radius + 1)
        #expect(out.shape == [1, channels, 16, 20])
        var worst: Float = 0
        for c in 0..<channels {
            for (k, p) in pixels.enumerated() {
                worst = max(worst, abs(out[0, c, p / 20, p % 20] - reference[c, k]))
            }
        }
        #expect(worst <= 1e-5, "\(mode) r\(radius): max |Δ| = \(worst)")
        // Pixel 0 looks 30 px left of the grid: every tap on every level is outside except none.
        #expect((0..<channels).allSatisfy { out[0, $0, 0, 0] == 0 } == (0..<channels).allSatisfy { reference[$0, 0] == 0 })
    }

    /// The on-demand strategy agrees with the stored pyramid at a real feature size (D = 256, 19×26) to 1e-4.
    @Test func onDemandMatchesAllPairs() throws {
        var rng = SeededGenerator(seed: 5)
        let (d, h, w) = (256, 19, 26)
        let f1 = Tensor.random([2, d, h, w], in: -1...1, using: &rng)
        let f2 = Tensor.random([2, d, h, w], in: -1...1, using: &rng)
        var c = Tensor.random([2, 2, h, w], in: -6...6, using: &rng)
        for b in 0..<2 { for y in 0..<h { for x in 0..<w { c[b, 0, y, x] += Float(x); c[b, 1, y, x] += Float(y) } } }
        let a = try Correlation.lookup(fmap1: f1, fmap2: f2, coords: c, radius: 4, mode: .allPairs)
        let o = try Correlation.lookup(fmap1: f1, fmap2: f2, coords: c, radius: 4, mode: .onDemand)
        #expect(a.maxAbsDifference(o) <= 1e-4, "max |Δ| = \(a.maxAbsDifference(o))")
        #expect(a.maxAbsDifference(Tensor(shape: a.shape)) > 0.1)
    }

    /// The model's loop writes the features pixel-major; they are the channel-major features transposed, exactly,
    /// and the motion encoder's first (1×1) convolution reads either layout to the same result.
    @Test(arguments: [CorrelationMode.allPairs, .onDemand])
    func pixelMajorIsTheTranspose(mode: CorrelationMode) throws {
        let (d, h, w) = (fmap1.c, fmap1.h, fmap1.w)
        let levels = CorrelationLevels(height: h, width: w, count: 4, radius: 4)
        let workspace = Workspace()
        let storageBuffer = ScratchBuffer()
        let storage = storageBuffer.reserve(CorrelationSampler.storageCount(levels, channels: d, mode: mode))
        let sampler = CorrelationSampler(fmap1: fmap1.pointer, fmap2: fmap2.pointer, channels: d, levels: levels,
                                         mode: mode, storage: storage, workspace: workspace)
        let pixels = h * w, channels = levels.channels
        var channelMajor = Tensor(shape: [1, channels, h, w]), pixelMajor = Tensor(shape: [pixels, channels])
        sampler.lookup(coords: coords.pointer, output: channelMajor.mutablePointer())
        sampler.lookup(coords: coords.pointer, output: pixelMajor.mutablePointer(), layout: .pixelMajor)
        var mismatches = 0
        for c in 0..<channels { for p in 0..<pixels where channelMajor.pointer[c * pixels + p] != pixelMajor[p, c] { mismatches += 1 } }
        #expect(mismatches == 0)

        var rng = SeededGenerator(seed: 8)
        let encoder = try RAFT(stateDict: ProceduralWeights.raft(.basic, seed: 3)).updateBlock.encoder
        let flow = Tensor.random([1, 2, h, w], in: -3...3, using: &rng)
        var a = Tensor(shape: [1, encoder.outputChannels, h, w]), b = a
        encoder.forward(flow: flow.pointer, correlation: channelMajor.pointer, height: h, width: w,
                        output: a.mutablePointer(), workspace: workspace)
        encoder.forward(flow: flow.pointer, correlation: pixelMajor.pointer, correlationLayout: .pixelMajor,
                        height: h, width: w, output: b.mutablePointer(), workspace: workspace)
        #expect(a.maxAbsDifference(b) <= 1e-5)
        #expect(a.maxAbsDifference(Tensor(shape: a.shape)) > 0.01)
    }

    /// NaN, infinite and huge centres give zero features instead of trapping.
    @Test(arguments: [CorrelationMode.allPairs, .onDemand])
    func nonFiniteCoordinatesGiveZeros(mode: CorrelationMode) throws {
        var c = coords
        c[0, 0, 0, 0] = .nan
        c[0, 1, 0, 1] = .infinity
        c[0, 0, 0, 2] = -.infinity
        c[0, 0, 0, 3] = 3e38
        let out = try Correlation.lookup(fmap1: fmap1, fmap2: fmap2, coords: c, radius: 4, mode: mode)
        for x in 0..<4 { #expect((0..<324).allSatisfy { out[0, $0, 0, x] == 0 }) }
    }

    /// Naive reference: every stored value of a pyramid (20×70 grid, D = 8, 4 levels) against the definition in
    /// Double, ≤ 1e-5. The grid makes three bands (the last one 4 rows, so level 3 gets nothing from it) and three
    /// tiles of source pixels per band, spread over the threads; widths 70, 35, 17, 8 run the SIMD pooling and its
    /// tail.
    @Test func pyramidMatchesDefinition() {
        var rng = SeededGenerator(seed: 21)
        let (d, h, w) = (8, 20, 70)
        let f1 = Tensor.random([1, d, h, w], in: -1...1, using: &rng), f2 = Tensor.random([1, d, h, w], in: -1...1, using: &rng)
        let levels = CorrelationLevels(height: h, width: w, count: 4, radius: 4)
        let tiling = CorrelationPyramid.Tiling(levels)
        #expect(tiling.bands == 3 && tiling.rowBlocks == 3)
        let workspace = Workspace()
        let storageBuffer = ScratchBuffer()
        let storage = storageBuffer.reserve(CorrelationPyramid.storageCount(levels))
        storage.update(repeating: .nan, count: CorrelationPyramid.storageCount(levels))
        _ = CorrelationPyramid(fmap1: f1.pointer, fmap2: f2.pointer, channels: d, levels: levels, storage: storage,
                               workspace: workspace)
        let pixels = h * w
        var worst = 0.0
        var plane = [Double](repeating: 0, count: pixels)
        for p in 0..<pixels {
            for q in 0..<pixels {
                var s = 0.0
                for k in 0..<d { s += Double(f1.pointer[k * pixels + p]) * Double(f2.pointer[k * pixels + q]) }
                plane[q] = s / Double(d).squareRoot()
            }
            var previousWidth = w
            for i in 0..<levels.count {
                let (lh, lw) = (levels.sizes[i].height, levels.sizes[i].width)
                if i > 0 {
                    // Pool in place: output (y, x) only reads rows 2y, 2y + 1 ≥ y of the previous level.
                    for y in 0..<lh {
                        for x in 0..<lw {
                            let a = plane[2 * y * previousWidth + 2 * x], b = plane[2 * y * previousWidth + 2 * x + 1]
                            let c = plane[(2 * y + 1) * previousWidth + 2 * x]
                            let e = plane[(2 * y + 1) * previousWidth + 2 * x + 1]
                            plane[y * lw + x] = (a + b + c + e) / 4
                        }
                    }
                }
                let row = storage + p * levels.rowLength + levels.offsets[i]
                for j in 0..<(lh * lw) {
                    // A value never written is still NaN.
                    let difference = abs(Double(row[j]) - plane[j])
                    worst = difference.isNaN ? .infinity : max(worst, difference)
                }
                previousWidth = lw
            }
        }
        #expect(worst <= 1e-5, "max |Δ| = \(worst)")
    }

    /// Naive reference: one pixel's look-up from the definition (Double), radius 2, 3 levels.
    @Test func lookupMatchesDefinition() throws {
        var rng = SeededGenerator(seed: 9)
        let (d, h, w) = (8, 9, 11)
        let f1 = Tensor.random([1, d, h, w], using: &rng), f2 = Tensor.random([1, d, h, w], using: &rng)
        var c = Tensor.random([1, 2, h, w], in: -3...3, using: &rng)
        for y in 0..<h { for x in 0..<w { c[0, 0, y, x] += Float(x); c[0, 1, y, x] += Float(y) } }
        let out = try Correlation.lookup(fmap1: f1, fmap2: f2, coords: c, levels: 3, radius: 2)
        // Level volumes by definition.
        func volume(_ p: Int, _ ty: Int, _ tx: Int) -> Double {
            var s = 0.0
            for k in 0..<d { s += Double(f1[0, k, p / w, p % w]) * Double(f2[0, k, ty, tx]) }
            return s / Double(d).squareRoot()
        }
        func level(_ i: Int, _ p: Int, _ y: Int, _ x: Int) -> Double {
            let (lh, lw) = (h >> i, w >> i)
            guard y >= 0, y < lh, x >= 0, x < lw else { return 0 }
            if i == 0 { return volume(p, y, x) }
            return (level(i - 1, p, 2 * y, 2 * x) + level(i - 1, p, 2 * y, 2 * x + 1)
                    + level(i - 1, p, 2 * y + 1, 2 * x) + level(i - 1, p, 2 * y + 1, 2 * x + 1)) / 4
        }
        var worst = 0.0
        for p in [0, 13, 50, 98] {
            for i in 0..<3 {
                let cx = Double(c[0, 0, p / w, p % w]) / Double(1 << i), cy = Double(c[0, 1, p / w, p % w]) / Double(1 << i)
                for dx in -2...2 {
                    for dy in -2...2 {
                        let x = cx + Double(dx), y = cy + Double(dy)
                        let x0 = Int(x.rounded(.down)), y0 = Int(y.rounded(.down))
                        let fx = x - Double(x0), fy = y - Double(y0)
                        let v = level(i, p, y0, x0) * (1 - fx) * (1 - fy) + level(i, p, y0, x0 + 1) * fx * (1 - fy)
                            + level(i, p, y0 + 1, x0) * (1 - fx) * fy + level(i, p, y0 + 1, x0 + 1) * fx * fy
                        let channel = i * 25 + (dx + 2) * 5 + (dy + 2)
                        worst = max(worst, abs(v - Double(out[0, channel, p / w, p % w])))
                    }
                }
            }
        }
        #expect(worst <= 1e-5, "max |Δ| = \(worst)")
    }

    @Test func automaticModeFollowsTheBudget() {
        // Sintel 436×1024 → 55×128: 7040 · (7040 + 1728 + 416 + 96) · 4 bytes ≈ 261 MB per pair.
        let bytes = CorrelationMode.allPairsBytes(samples: 1, height: 55, width: 128)
        #expect(bytes == 7040 * (7040 + 27 * 64 + 13 * 32 + 6 * 16) * 4)
        #expect(CorrelationMode.automatic.resolved(samples: 4, height: 55, width: 128) == .allPairs)
        #expect(CorrelationMode.automatic(memoryBudget: bytes - 1).resolved(samples: 1, height: 55, width: 128) == .onDemand)
        // 1080p (135×240): 5.6 GB per pair exceeds the default budget.
        #expect(CorrelationMode.automatic.resolved(samples: 1, height: 135, width: 240) == .onDemand)
        #expect(CorrelationMode.allPairs.resolved(samples: 1, height: 135, width: 240) == .allPairs)
        // 4K at 1/8 (270×480): the GEMM would overflow BLAS's 32-bit sizes, so even all-pairs falls back.
        #expect(CorrelationMode.allPairs.resolved(samples: 1, height: 270, width: 480) == .onDemand)
    }
}
