import Foundation
import Testing
@testable import RAFTKit

/// `raftflow flow --backward-output --occlusion-mask` and `raftflow warp`, run as a built executable.
@Suite("raftflow warp, backward flow and occlusion")
struct CLIWarpOcclusionTests {
    @Test func bidirectionalFlowWritesBackwardFlowAndMask() throws {
        let scratch = try CLIScratch()
        let a = try CLIInputs.writeFrame("a.png", in: scratch)
        let b = try CLIInputs.writeFrame("b.png", in: scratch, dx: 2, dy: 1)
        let r = try RAFTFlowCLI.run(["flow", a, b, "--iterations", "2", "--output", scratch.path("f.flo"),
                                     "--backward-output", scratch.path("b.flo"), "--occlusion-mask", scratch.path("occ.png"),
                                     "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let forward = try FlowField.read(contentsOf: URL(fileURLWithPath: scratch.path("f.flo")))
        let backward = try FlowField.read(contentsOf: URL(fileURLWithPath: scratch.path("b.flo")))
        // The library gives the same flows (up to the rounding of another thread count), and the mask is the
        // forward-backward check of the two written flows (.flo is float32: exact).
        let estimator = try FlowEstimator.bundled()
        let expected = try estimator.estimate(from: RGBImage(contentsOf: URL(fileURLWithPath: a)),
                                              to: RGBImage(contentsOf: URL(fileURLWithPath: b)), iterations: 2,
                                              bidirectional: true)
        let backwardExpected = try #require(expected.backward)
        #expect(zip(forward.uv, expected.flow.uv).allSatisfy { abs($0 - $1) <= 1e-3 })
        #expect(zip(backward.uv, backwardExpected.uv).allSatisfy { abs($0 - $1) <= 1e-3 })
        let occlusion = try FlowOcclusion.forwardBackward(forward: forward, backward: backward)
        let mask = try RasterImage(contentsOf: URL(fileURLWithPath: scratch.path("occ.png")))
        #expect(mask.channels == 1 && mask.bitDepth == 8)
        #expect(mask.samples == occlusion.values.map { $0 ? 255 : 0 })
        let json = try jsonObject(r.stdout)
        let fraction = try #require(json["occludedFraction"] as? Double)
        #expect(abs(fraction - occlusion.fraction) < 1e-9)

        // Other tolerances: a huge α₂ marks nothing occluded.
        let loose = try RAFTFlowCLI.run(["flow", a, b, "--iterations", "2", "--occlusion-mask", scratch.path("none.png"),
                                         "--occlusion-alpha2", "1e9"])
        #expect(loose.status == 0, "\(loose.stderr)")
        #expect(try RasterImage(contentsOf: URL(fileURLWithPath: scratch.path("none.png"))).samples.allSatisfy { $0 == 0 })
        // A negative tolerance is a usage error.
        let bad = try RAFTFlowCLI.run(["flow", a, b, "--occlusion-mask", scratch.path("x.png"), "--occlusion-alpha1", "-1"])
        #expect(bad.status == 64, "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("x.png")))
    }

    @Test func warpWritesImageMaskAndError() throws {
        let scratch = try CLIScratch()
        let a = try CLIInputs.writeFrame("a.png", in: scratch)
        let b = try CLIInputs.writeFrame("b.png", in: scratch, dx: 2, dy: 1)
        let flow = try CLIInputs.writeFlow(CLIInputs.constantFlow(u: 2, v: 1), "f.flo", in: scratch)
        let r = try RAFTFlowCLI.run(["warp", b, "--flow", flow, "--output", scratch.path("w.png"),
                                     "--valid-mask", scratch.path("v.png"), "--error", scratch.path("e.png"), "--reference", a])
        #expect(r.status == 0, "\(r.stderr)")
        let frame2 = try RGBImage(contentsOf: URL(fileURLWithPath: b)), frame1 = try RGBImage(contentsOf: URL(fileURLWithPath: a))
        let expected = try FlowWarp.warp(frame2, with: CLIInputs.constantFlow(u: 2, v: 1))
        #expect(try RGBImage(contentsOf: URL(fileURLWithPath: scratch.path("w.png"))) == RGBImage(expected.image.raster))
        let valid = try RasterImage(contentsOf: URL(fileURLWithPath: scratch.path("v.png")))
        #expect(valid.samples == expected.valid.values.map { $0 ? 255 : 0 })
        // Frame 2 is frame 1 moved by exactly (2, 1): the warp reproduces frame 1 up to PNG rounding where valid.
        let error = try RGBImage(contentsOf: URL(fileURLWithPath: scratch.path("e.png")))
        #expect(error.pixels.allSatisfy { $0 <= 1 }, "largest error \(error.pixels.max() ?? 0)")
        #expect(error == RGBImage(try FlowWarp.photometricError(expected, reference: frame1).raster))
        #expect(expected.valid.count == (CLIInputs.width - 2) * (CLIInputs.height - 1))
    }

    @Test func warpRefusesBadInputWithOneLine() throws {
        let scratch = try CLIScratch()
        let b = try CLIInputs.writeFrame("b.png", in: scratch)
        let small = try CLIInputs.writeFlow(CLIInputs.constantFlow(u: 1, v: 1, width: 10, height: 10), "small.flo", in: scratch)
        let r = try RAFTFlowCLI.run(["warp", b, "--flow", small, "--output", scratch.path("w.png")])
        #expect(r.status == 65)
        #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("small.flo"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("w.png")))
        let usage = try RAFTFlowCLI.run(["warp", b, "--flow", small, "--output", scratch.path("w.png"), "--error", scratch.path("e.png")])
        #expect(usage.status == 64, "\(usage.stderr)")
        let missingDir = try RAFTFlowCLI.run(["warp", b, "--flow", small, "--output", scratch.path("no/w.png")])
        #expect(missingDir.status == 73, "\(missingDir.stderr)")
    }
}
