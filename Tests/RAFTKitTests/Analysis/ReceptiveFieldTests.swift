import Foundation
import Testing
@testable import RAFTKit
@testable import RAFTKitAnalysis

@Suite("GRU variant specs")
struct GRUVariantSpecTests {
    @Test func parsesTheDefaultVariants() throws {
        let specs = ["conv:3x3", "seq:1x5,5x1", "seq:1x3,3x1", "seq:1x7,7x1", "conv:5x5", "conv:3x3:d2"]
        #expect(GRUVariant.defaults.map(\.spec) == specs)
        for (spec, variant) in zip(specs, GRUVariant.defaults) {
            #expect(try GRUVariant(parsing: spec) == variant)
        }
        #expect(try GRUVariant(parsing: " SEQ: 1x5 , 5x1 ") == .separable5)
        #expect(try GRUVariant(parsing: "seq:1x5:d2,5x1").kernels == [GRUKernel(height: 1, width: 5, dilation: 2),
                                                                      GRUKernel(height: 5, width: 1)])
        #expect(GRUVariant.separable5.name == "SeqConvGRU 1x5>5x1")
        #expect(GRUVariant.conv3x3Dilated2.name == "ConvGRU 3x3 d2")
        let g = GRUVariant.conv3x3Dilated2.geometries[0]
        #expect(g.paddingY == 2 && g.paddingX == 2 && g.dilationY == 2 && g.outputSize(height: 9, width: 7) == (9, 7))
    }

    @Test func rejectsBadSpecsWithClearErrors() {
        let cases: [(String, GRUVariantError)] = [
            ("", .empty),
            ("   ", .empty),
            ("3x3", .missingKind(spec: "3x3")),
            ("dense:3x3", .unknownKind(spec: "dense:3x3", kind: "dense")),
            ("conv:", .noKernel(spec: "conv:")),
            ("seq:1x5,,5x1", .noKernel(spec: "seq:1x5,,5x1")),
            ("conv:3x3,3x3", .convTakesOneKernel(spec: "conv:3x3,3x3")),
            ("conv:3", .badKernel(spec: "conv:3", token: "3")),
            ("conv:3x3x3", .badKernel(spec: "conv:3x3x3", token: "3x3x3")),
            ("conv:axb", .badKernel(spec: "conv:axb", token: "axb")),
            ("conv:0x3", .badKernel(spec: "conv:0x3", token: "0x3")),
            ("conv:4x4", .evenKernel(spec: "conv:4x4", token: "4x4")),
            ("seq:1x5,5x2", .evenKernel(spec: "seq:1x5,5x2", token: "5x2")),
            ("conv:33x33", .kernelTooLarge(spec: "conv:33x33", token: "33x33")),
            ("conv:3x3:2", .badDilation(spec: "conv:3x3:2", token: "3x3:2")),
            ("conv:3x3:d0", .badDilation(spec: "conv:3x3:d0", token: "3x3:d0")),
            ("conv:3x3:d17", .badDilation(spec: "conv:3x3:d17", token: "3x3:d17")),
            ("conv:3x3:d2:d2", .badKernel(spec: "conv:3x3:d2:d2", token: "3x3:d2:d2")),
            ("seq:" + Array(repeating: "3x3", count: 9).joined(separator: ","),
             .tooManySteps(spec: "seq:" + Array(repeating: "3x3", count: 9).joined(separator: ","), count: 9)),
        ]
        for (spec, expected) in cases {
            #expect(throws: expected, "\(spec)") { try GRUVariant(parsing: spec) }
        }
        // Messages name the spec and say what to write instead.
        #expect(GRUVariantError.evenKernel(spec: "conv:4x4", token: "4x4").description.contains("odd"))
        #expect(GRUVariantError.unknownKind(spec: "dense:3x3", kind: "dense").description.contains("'conv' or 'seq'"))
        #expect(GRUVariantError.empty.description.contains("seq:1x5,5x1"))
    }
}

@Suite("GRU cost")
struct GRUCostTests {
    /// `sum(p.numel())` of the same `nn.Conv2d` modules in PyTorch 2 (three convs per step, with bias).
    static let pytorchParameters: [String: (basic: Int, small: Int)] = [
        "conv:3x3": (1_327_488, 627_552), "seq:1x5,5x1": (1_475_328, 697_536), "seq:1x3,3x1": (885_504, 418_752),
        "seq:1x7,7x1": (2_065_152, 976_320), "conv:5x5": (3_686_784, 1_742_688), "conv:3x3:d2": (1_327_488, 627_552),
    ]

    @Test func parameterCountsMatchPyTorch() {
        // RAFT's SepConvGRU and RAFT-S's ConvGRU (core/update.py), as PyTorch counts them.
        #expect(GRUVariant.separable5.parameterCount(.basic) == 1_475_328)
        #expect(GRUVariant.conv3x3.parameterCount(.small) == 627_552)
        for v in GRUVariant.defaults {
            let expected = Self.pytorchParameters[v.spec]!
            #expect(v.parameterCount(.basic) == expected.basic, "\(v.spec)")
            #expect(v.parameterCount(.small) == expected.small, "\(v.spec)")
            let channels = GRUChannels(hidden: 6, input: 5)
            #expect(v.makeGRU(channels).parameterCount == v.parameterCount(channels), "\(v.spec)")
        }
    }

    @Test func multiplyAccumulatesMatchTheModules() {
        for v in GRUVariant.defaults {
            for channels in [GRUChannels.basic, .small] {
                #expect(v.makeGRU(channels).multiplyAccumulates(height: 55, width: 128)
                        == v.multiplyAccumulates(channels, height: 55, width: 128), "\(v.spec)")
            }
        }
        // RAFT's SepConvGRU at the Sintel grid: 2 steps × 3 convs × 128·384·5 taps × 7040 cells.
        #expect(GRUVariant.separable5.multiplyAccumulates(.basic, height: 55, width: 128) == 6 * 128 * 384 * 5 * 7040)
    }

    @Test func randomInitialisationIsPyTorchsDefault() {
        var rng = SplitMix64(seed: 3)
        let gru = GRUVariant.conv3x3.randomGRU(GRUChannels(hidden: 4, input: 6), using: &rng)
        let bound = Float(1 / (10.0 * 9).squareRoot())
        for conv in [gru.steps[0].z, gru.steps[0].r, gru.steps[0].q] {
            let w = conv.weight.scalars, b = conv.bias.scalars
            #expect(w.allSatisfy { abs($0) <= bound } && b.allSatisfy { abs($0) <= bound })
            #expect(w.map { abs($0) }.max()! > 0.8 * bound)
        }
    }
}

@Suite("Receptive field")
struct ReceptiveFieldTests {
    static let channels = GRUChannels(hidden: 4, input: 6)

    @Test func reachPerIterationFollowsTheLayerList() {
        // From core/update.py's kernels: ±4 per SepConvGRU iteration, ±2 per 3×3 ConvGRU iteration, in each axis.
        #expect(ReceptiveField.reachPerIteration(.separable5) == Extent(y: 4, x: 4))
        #expect(ReceptiveField.reachPerIteration(.conv3x3) == Extent(y: 2, x: 2))
        #expect(ReceptiveField.reachPerIteration(.separable3) == Extent(y: 2, x: 2))
        #expect(ReceptiveField.reachPerIteration(.separable7) == Extent(y: 6, x: 6))
        #expect(ReceptiveField.reachPerIteration(.conv5x5) == Extent(y: 4, x: 4))
        #expect(ReceptiveField.reachPerIteration(.conv3x3Dilated2) == Extent(y: 4, x: 4))
        // The 1×5 step alone reaches ±4 horizontally and not at all vertically.
        #expect(ReceptiveField.reach(of: GRUVariant.separable5.geometries[0]) == Extent(y: 0, x: 4))
        for k in 1...5 {
            #expect(ReceptiveField.extent(.separable5, iterations: k) == Extent(y: 4 * k, x: 4 * k))
            #expect(ReceptiveField.extent(.conv3x3, iterations: k) == Extent(y: 2 * k, x: 2 * k))
        }
    }

    @Test func analyticalSupportMatchesTheClosedForm() throws {
        for v in GRUVariant.defaults {
            for state in PerturbedState.allCases {
                let masks = try ReceptiveField.support(of: v, height: 41, width: 41, source: (20, 20), perturbing: state, iterations: 3)
                for k in 1...3 {
                    #expect(masks[k - 1].extent(from: (20, 20)) == ReceptiveField.extent(v, iterations: k), "\(v.spec) k=\(k)")
                }
            }
        }
        // After one 1×5→5×1 iteration h depends on the full 9×9 window (the 1×5 step reaches ±4 in x, the 5×1
        // step ±4 in y).
        let sep = try ReceptiveField.support(of: .separable5, height: 21, width: 21, source: (10, 10), perturbing: .hidden, iterations: 1)[0]
        #expect(sep.count == 81)
    }

    @Test func dilatedSupportHasHoles() throws {
        let masks = try ReceptiveField.support(of: .conv3x3Dilated2, height: 41, width: 41, source: (20, 20), perturbing: .input, iterations: 3)
        for (i, mask) in masks.enumerated() {
            let e = 4 * (i + 1)
            for y in 0..<41 {
                for x in 0..<41 {
                    let dy = y - 20, dx = x - 20
                    let expected = abs(dy) <= e && abs(dx) <= e && dy % 2 == 0 && dx % 2 == 0
                    #expect(mask[y, x] == expected)
                }
            }
        }
    }

    /// With RAFT-sized channels the gates run by Winograd (F(4×4, 3×3), F(4, 5)), whose transforms spread a NaN
    /// over whole tiles; the probe computes its gates by shifted GEMMs and still measures the exact support.
    @Test(arguments: [GRUVariant.conv3x3, GRUVariant.separable5])
    func probeIsExactWithWinogradGates(_ variant: GRUVariant) throws {
        let channels = GRUChannels(hidden: 64, input: 32)
        var rng = SplitMix64(seed: 1)
        #expect(variant.randomGRU(channels, using: &rng).steps.allSatisfy {
            [.winograd4x4, .winograd1D].contains($0.gateAlgorithm)
        })
        for state in PerturbedState.allCases {
            let response = try ImpulseResponse.measure(variant, channels: channels, height: 24, width: 28, iterations: 2,
                                                   draws: 1, perturbing: state, method: .linearized, seed: 3)
            let masks = try ReceptiveField.support(of: variant, height: 24, width: 28, source: response.source,
                                               perturbing: state, iterations: 2)
            for k in 1...2 { #expect(response.probe[k - 1] == masks[k - 1], "\(variant.spec) \(state) k=\(k)") }
        }
    }

    /// The NaN probe runs the real `SeqConvGRU.step`: its support must equal the analytical one cell for cell, and
    /// the linearised response must be non-zero exactly there.
    @Test(arguments: GRUVariant.defaults)
    func measuredSupportEqualsAnalyticalSupport(_ variant: GRUVariant) throws {
        for state in PerturbedState.allCases {
            let (h, w) = (40, 40)
            let response = try ImpulseResponse.measure(variant, channels: Self.channels, height: h, width: w, iterations: 3,
                                                   draws: 2, perturbing: state, method: .linearized, seed: 7)
            let masks = try ReceptiveField.support(of: variant, height: h, width: w, source: response.source, perturbing: state,
                                               iterations: 3)
            for k in 1...3 {
                #expect(response.probe[k - 1] == masks[k - 1], "\(variant.spec) \(state) k=\(k)")
                #expect(response.probe[k - 1].extent(from: response.source) == ReceptiveField.extent(variant, iterations: k))
                // The derivative is exactly zero outside the support and resolved (non-zero) everywhere inside it.
                #expect(response.energyOutside(masks[k - 1], iteration: k) == 0)
                let nonZero = try GridMask(height: h, width: w, cells: response.energy[k - 1].map { $0 > 0 })
                #expect(nonZero == masks[k - 1], "\(variant.spec) \(state) k=\(k)")
                let t = response.thresholdExtent(iteration: k, threshold: 1e-6)
                let s = masks[k - 1].extent(from: response.source)
                #expect(t.y <= s.y && t.x <= s.x)
                let r50 = response.effectiveRadius(iteration: k, fraction: 0.5)
                let r90 = response.effectiveRadius(iteration: k, fraction: 0.9)
                #expect(r50 >= 0 && r50 <= r90 && r90 <= Double(max(s.y, s.x)) + 0.5)
            }
            // One iteration: the response is strong enough to be seen at the full analytical extent.
            #expect(response.thresholdExtent(iteration: 1, threshold: 1e-6) == ReceptiveField.extent(variant, iterations: 1),
                    "\(variant.spec) \(state)")

            // Float32 finite differences never leak outside the support either.
            let difference = try ImpulseResponse.measure(variant, channels: Self.channels, height: h, width: w, iterations: 3,
                                                     draws: 1, delta: 1, perturbing: state, method: .difference, seed: 7)
            #expect(difference.probe == response.probe)
            for k in 1...3 {
                let mask = try ReceptiveField.support(of: variant, height: h, width: w, source: difference.source, perturbing: state,
                                                  iterations: k)[k - 1]
                #expect(difference.energyOutside(mask, iteration: k) == 0)
            }
        }
    }

    /// The tangent step runs exactly the base arithmetic of `ConvGRU.step`, and its derivative matches a small
    /// finite difference where that is resolved.
    @Test func linearisedResponseMatchesFiniteDifference() {
        let channels = GRUChannels(hidden: 6, input: 5)
        let (height, width) = (16, 18)
        let plane = height * width
        for variant in [GRUVariant.conv3x3, .separable5, .conv3x3Dilated2] {
            var rng = SplitMix64(seed: 11)
            let h0 = (0..<(channels.hidden * plane)).map { _ in Float.random(in: -1...1, using: &rng) }
            let x = (0..<(channels.input * plane)).map { _ in Float.random(in: -1...1, using: &rng) }
            let gru = variant.randomGRU(channels, using: &rng)
            var viaStep = h0, viaTangent = h0
            var tangent = [Float](repeating: 0, count: h0.count)
            let tangentX = (0..<x.count).map { _ in Float.random(in: -1...1, using: &rng) }
            let workspace = Workspace()
            for _ in 0..<2 {
                viaStep.withUnsafeMutableBufferPointer { hp in
                    x.withUnsafeBufferPointer { xp in
                        gru.step(hidden: hp.baseAddress!, input: xp.baseAddress!, height: height, width: width, workspace: workspace)
                    }
                }
                viaTangent.withUnsafeMutableBufferPointer { hp in
                    tangent.withUnsafeMutableBufferPointer { tp in
                        x.withUnsafeBufferPointer { xp in
                            tangentX.withUnsafeBufferPointer { txp in
                                gru.stepWithTangent(hidden: hp.baseAddress!, input: xp.baseAddress!, tangentHidden: tp.baseAddress!,
                                                    tangentInput: txp.baseAddress!, height: height, width: width, workspace: workspace)
                            }
                        }
                    }
                }
            }
            #expect(viaStep == viaTangent, "\(variant.spec): the tangent step must not change the base arithmetic")
            // Central difference with δ = 1e-2 along the same direction.
            let delta: Float = 1e-2
            func run(_ sign: Float) -> [Float] {
                var h = h0
                let input = zip(x, tangentX).map { $0 + sign * delta * $1 }
                for _ in 0..<2 {
                    h.withUnsafeMutableBufferPointer { hp in
                        input.withUnsafeBufferPointer { xp in
                            gru.step(hidden: hp.baseAddress!, input: xp.baseAddress!, height: height, width: width, workspace: workspace)
                        }
                    }
                }
                return h
            }
            let plus = run(1), minus = run(-1)
            let numeric = zip(plus, minus).map { ($0 - $1) / (2 * delta) }
            let scale = tangent.map { abs($0) }.max()!
            let error = zip(numeric, tangent).map { abs($0 - $1) }.max()!
            // Float32 central difference: truncation O(δ²) and rounding ~6e-8/δ; observed ≤ 3e-5 of the scale.
            #expect(error < 2e-4 * scale, "\(variant.spec): max |numeric − tangent| = \(error), scale \(scale)")
        }
    }

    @Test func measuredSupportIsClippedByTheGrid() throws {
        // 15×21 grid, 1×7→7×1 reaches ±18 after 3 iterations: clipped to ±7/±10 by the borders.
        let response = try ImpulseResponse.measure(.separable7, channels: Self.channels, height: 15, width: 21, iterations: 3,
                                               draws: 1, delta: 1, perturbing: .input, seed: 1)
        let masks = try ReceptiveField.support(of: .separable7, height: 15, width: 21, source: response.source, perturbing: .input,
                                           iterations: 3)
        #expect(response.probe == masks)
        #expect(masks[2].extent(from: response.source) == Extent(y: 7, x: 10))
    }

    @Test func effectiveRadiusOfKnownMaps() {
        func response(_ map: [Double]) -> ImpulseResponse {
            ImpulseResponse(height: 5, width: 5, source: (2, 2), method: .linearized, delta: 1, energy: [map],
                            meanSquare: [map], peakAmplitude: [map.max()!.squareRoot()], probe: [])
        }
        var point = [Double](repeating: 0, count: 25)
        point[12] = 1
        #expect(response(point).effectiveRadius(iteration: 1, fraction: 0.5) == 0.25)
        // Uniform over the 3×3 window: the centre holds 1/9, ring 1 the rest.
        var box = [Double](repeating: 0, count: 25)
        for y in 1...3 { for x in 1...3 { box[y * 5 + x] = 1.0 / 9 } }
        let r = response(box).effectiveRadius(iteration: 1, fraction: 0.5)
        #expect(abs(r - (0.5 + (0.5 - 1.0 / 9) / (8.0 / 9))) < 1e-12)
        #expect(abs(response(box).effectiveRadius(iteration: 1, fraction: 1) - 1.5) < 1e-12)
        #expect(response(box).thresholdExtent(iteration: 1, threshold: 0.9) == Extent(y: 1, x: 1))
        // Centre 1, ring 1 at 10⁻⁴ of its energy (10⁻² of its amplitude): counted only below τ = 10⁻².
        var peaked = box.map { $0 > 0 ? 1e-4 : 0 }
        peaked[12] = 1
        #expect(response(peaked).thresholdExtent(iteration: 1, threshold: 2e-2) == Extent(y: 0, x: 0))
        #expect(response(peaked).thresholdExtent(iteration: 1, threshold: 5e-3) == Extent(y: 1, x: 1))
    }

    @Test func studyTablesAndHeatMap() throws {
        let options = ReceptiveFieldStudy.Options(variants: [.conv3x3, .separable5, .conv3x3Dilated2], channels: Self.channels,
                                                  height: 24, width: 24, iterations: 3, draws: 2, repeats: 1)
        let study = try ReceptiveFieldStudy.run(options)
        #expect(study.results.map(\.parameters) == options.variants.map { $0.parameterCount(Self.channels) })
        for r in study.results {
            #expect(r.measurements.map(\.perturbed) == [.input, .hidden])
            for m in r.measurements { #expect(m.iterations.allSatisfy { $0.probeMatchesAnalysis && $0.energyOutsideSupport == 0 }) }
            #expect(r.timing != nil && r.timing!.secondsPerIteration > 0)
        }
        let dilated = study.results[2].measurements[0].iterations[0]
        #expect(abs(dilated.supportCoverage - 25.0 / 81) < 1e-12)
        #expect(study.summaryTable.contains("SeqConvGRU 1x5>5x1") && study.summaryTable.contains("= analysis"))
        #expect(study.iterationTables.contains("k=3"))
        #expect(study.csv.split(separator: "\n").count == 1 + 3 * 2 * 3)
        let json = try JSONEncoder().encode(study)
        #expect(String(decoding: json, as: UTF8.self).contains("\"radius50\""))

        let difference = try ReceptiveFieldStudy.run(ReceptiveFieldStudy.Options(
            variants: [.separable3], channels: Self.channels, height: 24, width: 24, iterations: 2, draws: 1,
            method: .difference, delta: 0.5, perturbations: [.hidden], repeats: 0))
        #expect(difference.results[0].timing == nil && difference.report.contains("finite difference"))
        #expect(try difference.heatMap().width > 0)

        // The memory estimate bounds the real buffers: the largest column matrix alone, twice for the derivative.
        let sintel = ReceptiveFieldStudy.Options()
        #expect(sintel.estimatedPeakBytes > 2 * 4 * 384 * 25 * 55 * 128 && sintel.estimatedPeakBytes < 2 << 30)

        let picture = try study.heatMap(scale: 2)
        #expect(picture.pixels.count == 3 * picture.width * picture.height)
        #expect(picture.width > 3 * 24 * 2 && picture.height > 3 * 24 * 2)
        #expect(picture.pixels.contains { $0 < 255 })
        #expect(ReceptiveFieldHeatMap.defaultIterations(upTo: 8) == [1, 2, 4, 8])
        #expect(ReceptiveFieldHeatMap.defaultIterations(upTo: 6) == [1, 2, 4, 6])
    }

    @Test func viridisEndpoints() {
        // matplotlib's viridis: (68, 1, 84), (33, 145, 140), (253, 231, 37); the fit is within a few levels.
        for (t, expected) in [(0.0, (68, 1, 84)), (0.5, (33, 145, 140)), (1.0, (253, 231, 37))] {
            let c = ReceptiveFieldHeatMap.viridis(t)
            #expect(abs(c.0 - Float(expected.0)) <= 4 && abs(c.1 - Float(expected.1)) <= 4 && abs(c.2 - Float(expected.2)) <= 4,
                    "t=\(t): \(c)")
        }
    }
}

/// Parity with PyTorch: `Scripts/fixtures/receptive_field.py` computes the same iterations and their forward-mode
/// derivative with `torch.func.jvp` in float64.
@Suite("Receptive field PyTorch parity")
struct ReceptiveFieldParityTests {
    @Test(arguments: [("seq", GRUVariant.separable5), ("dilated", GRUVariant.conv3x3Dilated2)])
    func tangentMatchesTorchJVP(_ name: String, _ variant: GRUVariant) throws {
        let fixture = try Fixtures.load("receptive_field.safetensors")
        let steps = try variant.kernels.enumerated().map { s, kernel -> ConvGRU in
            func conv(_ g: String) throws -> Conv2d {
                Conv2d(weight: try fixture.require("\(name).step\(s).\(g).weight"),
                       bias: try fixture.require("\(name).step\(s).\(g).bias"), geometry: kernel.geometry)
            }
            return ConvGRU(z: try conv("z"), r: try conv("r"), q: try conv("q"))
        }
        let gru = SeqConvGRU(steps: steps)
        let h0 = try fixture.require("h0"), x = try fixture.require("x")
        var h = h0.scalars, tangent = try fixture.require("dh0").scalars
        let tangentX = try fixture.require("dx").scalars
        let (height, width) = (h0.h, h0.w)
        let workspace = Workspace()
        for k in 1...3 {
            h.withUnsafeMutableBufferPointer { hp in
                tangent.withUnsafeMutableBufferPointer { tp in
                    x.withUnsafeBufferPointer { xp in
                        tangentX.withUnsafeBufferPointer { txp in
                            gru.stepWithTangent(hidden: hp.baseAddress!, input: xp.baseAddress!, tangentHidden: tp.baseAddress!,
                                                tangentInput: txp.baseAddress!, height: height, width: width, workspace: workspace)
                        }
                    }
                }
            }
            let expectedH = try fixture.require("\(name).h\(k)").scalars
            let expectedTangent = try fixture.require("\(name).dh\(k)").scalars
            let hError = zip(h, expectedH).map { abs($0 - $1) }.max()!
            let scale = expectedTangent.map { abs($0) }.max()!
            let tangentError = zip(tangent, expectedTangent).map { abs($0 - $1) }.max()!
            // float32 against float64 (and the vectorised tanh/sigmoid, ≤ 5e-7): observed ≤ 1.1e-7 and 3e-7 · scale.
            #expect(hError < 1e-6, "\(name) k=\(k): max |h − torch| = \(hError)")
            #expect(tangentError < 1e-6 * scale, "\(name) k=\(k): max |dh − torch jvp| = \(tangentError), scale \(scale)")
        }
    }
}
