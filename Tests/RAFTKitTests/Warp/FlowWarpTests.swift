import Foundation
import Testing
@testable import RAFTKit

/// Backward warping and the forward–backward occlusion check against PyTorch (Scripts/fixtures/warp.py:
/// `grid_sample(…, mode="bilinear", padding_mode="zeros", align_corners=True)`).
@Suite struct FlowWarpTests {
    /// A `[1, C, H, W]` tensor as an interleaved array.
    static func interleaved(_ t: Tensor) -> [Float] { t.interleaved(sample: 0) }

    @Test("warp matches grid_sample (align_corners=True, zeros) within 1e-3 of 0…255, and its valid mask exactly")
    func warpMatchesGridSample() throws {
        let fixture = try Fixtures.load("warp.safetensors")
        let image = try fixture.require("image"), flow = try fixture.require("flow")
        let (h, w) = (image.h, image.w)
        let result = try FlowWarp.warp(RGBImage(unchecked: w, h, Self.interleaved(image)),
                                       with: try FlowField(width: w, height: h, uv: Self.interleaved(flow)))
        let expected = Self.interleaved(try fixture.require("warped"))
        var worst: Float = 0
        for i in 0..<expected.count { worst = max(worst, abs(result.image.pixels[i] - expected[i])) }
        #expect(worst <= 1e-3, "max |Δ| \(worst)")
        let valid = try fixture.require("valid")
        #expect(result.valid.values == valid.scalars.map { $0 > 0.5 })
        // The fixture covers both kinds of pixel.
        #expect(result.valid.count > 10 && result.valid.count < w * h - 10)
    }

    @Test("the occlusion mask matches the PyTorch reference (pixels within 1e-3 of the threshold aside)")
    func occlusionMatchesReference() throws {
        let fixture = try Fixtures.load("warp.safetensors")
        let forward = try fixture.require("forward"), backward = try fixture.require("backward")
        let (h, w) = (forward.h, forward.w)
        let mask = try FlowOcclusion.forwardBackward(forward: try FlowField(width: w, height: h, uv: Self.interleaved(forward)),
                                                     backward: try FlowField(width: w, height: h, uv: Self.interleaved(backward)))
        let expected = try fixture.require("occluded").scalars, margin = try fixture.require("margin").scalars
        var compared = 0
        for p in 0..<(w * h) where abs(margin[p]) > 1e-3 {
            compared += 1
            #expect(mask.values[p] == (expected[p] > 0.5), "pixel \(p % w), \(p / w): margin \(margin[p])")
        }
        #expect(compared >= w * h - 2)
        #expect(mask.count > 30 && mask.count < w * h - 30)
    }

    @Test("identity and whole-pixel shifts: exact copies, the uncovered border invalid and black")
    func wholePixelShift() throws {
        var rng = SeededGenerator(seed: 11)
        let (w, h) = (6, 5)
        let image = RGBImage(unchecked: w, h, (0..<(w * h * 3)).map { _ in Float.random(in: 0...255, using: &rng) })
        let identity = try FlowWarp.warp(image, with: try FlowField(width: w, height: h))
        #expect(identity.image == image && identity.valid.count == w * h)
        var shift = try FlowField(width: w, height: h)
        for y in 0..<h { for x in 0..<w { shift[x: x, y: y] = (2, -1) } }
        let moved = try FlowWarp.warp(image, with: shift)
        for y in 0..<h {
            for x in 0..<w {
                let inside = x + 2 < w && y - 1 >= 0
                #expect(moved.valid[x: x, y: y] == inside)
                let expected = inside ? image[x: x + 2, y: y - 1] : (0, 0, 0)
                #expect(moved.image[x: x, y: y] == expected)
            }
        }
    }

    @Test("non-finite and huge displacements give invalid black pixels, never a trap")
    func nonFiniteFlow() throws {
        let image = try RGBImage(width: 3, height: 2, color: (10, 20, 30))
        var flow = try FlowField(width: 3, height: 2)
        flow[x: 0, y: 0] = (.nan, 0)
        flow[x: 1, y: 0] = (.infinity, 0)
        flow[x: 2, y: 0] = (0, -1e30)
        flow[x: 0, y: 1] = (Float.greatestFiniteMagnitude, .nan)
        let result = try FlowWarp.warp(image, with: flow)
        #expect(result.valid.values == [false, false, false, false, true, true])
        #expect(result.image[x: 0, y: 0] == (0, 0, 0) && result.image[x: 2, y: 1] == (10, 20, 30))
        // A non-finite forward flow is occluded.
        let occlusion = try FlowOcclusion.forwardBackward(forward: flow, backward: try FlowField(width: 3, height: 2))
        #expect(occlusion.values == [true, true, true, true, false, false])
    }

    @Test("photometric error: mean |Δ| of R, G, B where valid, 0 elsewhere")
    func photometricError() throws {
        let frame2 = try RGBImage(width: 4, height: 1, color: (100, 100, 100))
        let frame1 = RGBImage(unchecked: 4, 1, [100, 100, 100, 130, 100, 70, 0, 0, 0, 255, 255, 255])
        var flow = try FlowField(width: 4, height: 1)
        flow[x: 3, y: 0] = (1, 0)                          // leaves the image: invalid
        let warped = try FlowWarp.warp(frame2, with: flow)
        let error = try FlowWarp.photometricError(warped, reference: frame1)
        #expect(error.pixels == [0, 0, 0, 20, 20, 20, 100, 100, 100, 0, 0, 0])
    }

    @Test("mismatched sizes and bad tolerances throw FlowWarpError")
    func errors() throws {
        let image = try RGBImage(width: 4, height: 3)
        #expect(throws: FlowWarpError.sizeMismatch(first: "image", firstWidth: 4, firstHeight: 3, second: "flow",
                                                   secondWidth: 3, secondHeight: 3)) {
            try FlowWarp.warp(image, with: try FlowField(width: 3, height: 3))
        }
        let flow = try FlowField(width: 4, height: 3)
        #expect(throws: FlowWarpError.self) { try FlowOcclusion.forwardBackward(forward: flow, backward: try FlowField(width: 4, height: 2)) }
        #expect(throws: FlowWarpError.self) { try FlowOcclusion.forwardBackward(forward: flow, backward: flow, alpha1: -1) }
        #expect(throws: FlowWarpError.self) { try FlowOcclusion.forwardBackward(forward: flow, backward: flow, alpha2: .nan) }
        let warped = try FlowWarp.warp(image, with: flow)
        #expect(throws: FlowWarpError.self) { try FlowWarp.photometricError(warped, reference: try RGBImage(width: 3, height: 3)) }
        #expect(throws: FlowWarpError.self) { try PixelMask(width: 2, height: 2, values: [true]) }
        #expect(throws: FlowWarpError.self) { try PixelMask(width: -1, height: 2, values: []) }
    }

    @Test("a mask is written as an 8-bit gray PNG, 255 where set")
    func maskPNG() throws {
        let mask = try PixelMask(width: 3, height: 1, values: [true, false, true])
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("raftkit-mask-\(UUID()).png")
        defer { try? FileManager.default.removeItem(at: url) }
        try mask.write(to: url)
        let raster = try RasterImage(contentsOf: url)
        #expect(raster.channels == 1 && raster.bitDepth == 8 && raster.samples == [255, 0, 255])
    }
}
