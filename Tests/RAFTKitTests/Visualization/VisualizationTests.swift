import Foundation
import Testing
@testable import RAFTKit

@Suite("Flow visualization")
struct VisualizationTests {
    static let expected = try! Fixtures.load("io/expected.safetensors")

    func rgb(_ c: (r: UInt8, g: UInt8, b: UInt8)) -> [Int] { [Int(c.r), Int(c.g), Int(c.b)] }

    @Test func wheelTable() throws {
        let wheel = ColorWheel.colors
        #expect(wheel.count == 55 && ColorWheel.segments.reduce(0, +) == 55)
        let keys: [(Int, [Double])] = [(0, [255, 0, 0]), (15, [255, 255, 0]), (21, [0, 255, 0]), (25, [0, 255, 255]),
                                       (36, [0, 0, 255]), (49, [255, 0, 255]), (54, [255, 0, 43])]
        for (i, c) in keys { #expect([wheel[i].r, wheel[i].g, wheel[i].b] == c, "entry \(i)") }
        let reference = try Self.expected.require("colorwheel").scalars
        #expect(wheel.flatMap { [Float($0.r), Float($0.g), Float($0.b)] } == reference)
    }

    /// Colours of the official `flow_uv_to_colors` (core/utils/flow_viz.py), including the signed-zero seam.
    @Test func exampleColours() throws {
        #expect(rgb(ColorWheel.color(u: 1, v: 0)) == [255, 0, 0])
        #expect(rgb(ColorWheel.color(u: 0, v: 1)) == [255, 229, 0])
        #expect(rgb(ColorWheel.color(u: -1, v: 0)) == [0, 209, 255])
        #expect(rgb(ColorWheel.color(u: 0, v: -1)) == [88, 0, 255])
        #expect(rgb(ColorWheel.color(u: 0.5, v: 0)) == [255, 127, 127])
        #expect(rgb(ColorWheel.color(u: 1, v: -0.0)) == [255, 0, 43])
        #expect(rgb(ColorWheel.color(u: 0, v: 0)) == [255, 255, 255])
        #expect(rgb(ColorWheel.color(u: .nan, v: 0)) == [0, 0, 0])
        // Through flow_to_image normalisation: a single vector (1, 0) is divided by 1 + 1e-5.
        let one = FlowVisualization.colorImage(try FlowField(width: 1, height: 1, uv: [1, 0]))
        #expect(one.pixels == [255, 0, 0])
    }

    /// Byte parity with a NumPy implementation of flow_to_image / flow_uv_to_colors (Scripts/fixtures/io.py).
    /// Tolerance: at most 1 count on at most 2 % of the samples (atan2 in NumPy and libm may differ in the
    /// last bit, which can move ⌊255·c⌋ across an integer); measured: exact.
    @Test func matchesReferenceColouring() throws {
        let flow = try FlowField(width: 12, height: 10, uv: try Self.expected.require("viz_flow").scalars)
        let image = FlowVisualization.colorImage(flow)
        let reference = try Self.expected.require("viz_image").scalars
        let differences = zip(image.pixels, reference).map { abs($0 - $1) }
        #expect(differences.max()! <= 1)
        #expect(differences.filter { $0 > 0 }.count <= reference.count / 50)
        #expect(differences.allSatisfy { $0 == 0 }, "not bit-exact: \(differences.filter { $0 > 0 }.count) samples differ")

        let direct = try Self.expected.require("viz_direct_uv").scalars
        let directRGB = try Self.expected.require("viz_direct_rgb").scalars
        for i in 0..<direct.count / 2 {
            let c = ColorWheel.color(u: direct[2 * i], v: direct[2 * i + 1])
            #expect(rgb(c).map(Float.init) == Array(directRGB[3 * i..<3 * i + 3]), "direct \(i)")
        }
    }

    @Test func fixedMaximumMagnitude() throws {
        let flow = try FlowField(width: 3, height: 1, uv: [2, 0, 4, 0, 8, 0])
        // Default: normalised by the largest vector (8 + 1e-5).
        let auto = FlowVisualization.colorImage(flow)
        #expect(Array(auto.pixels[6..<9]) == [255, 0, 0])
        // Fixed 4 px: 2 px is half saturated, 4 px full, 8 px beyond the range is darkened to 75 %.
        let fixed = FlowVisualization.colorImage(flow, maximumMagnitude: 4)
        #expect(Array(fixed.pixels[0..<3]) == [255, 127, 127])
        #expect(Array(fixed.pixels[3..<6]) == [255, 0, 0])
        #expect(Array(fixed.pixels[6..<9]) == [191, 0, 0])
        // The same flow in two frames gets the same colour with a fixed maximum, not with the default.
        let other = try FlowField(width: 1, height: 1, uv: [2, 0])
        #expect(Array(FlowVisualization.colorImage(other, maximumMagnitude: 4).pixels) == Array(fixed.pixels[0..<3]))
        #expect(Array(FlowVisualization.colorImage(other).pixels) != Array(auto.pixels[0..<3]))
    }

    @Test func invalidAndNonFinitePixelsAreBlack() throws {
        let flow = try FlowField(width: 3, height: 1, uv: [1, 0, -512, -512, .nan, 1], valid: [1, 0, 1])
        let image = FlowVisualization.colorImage(flow)
        #expect(image.pixels == [255, 0, 0, 0, 0, 0, 0, 0, 0])   // -512 at the invalid pixel does not set rad_max
    }

    @Test func legend() {
        let legend = FlowVisualization.colorWheelLegend(size: 64)
        #expect(legend.width == 64 && legend.height == 64)
        #expect(legend[x: 0, y: 0] == (255, 255, 255))                       // corner: outside the disc
        let centre = legend[x: 32, y: 32]                                      // (0.5/32, 0.5/32): nearly white
        #expect(centre.r >= 245 && centre.g >= 245 && centre.b >= 245)
        let right = legend[x: 63, y: 32], left = legend[x: 0, y: 32]
        #expect(right.r == 255 && right.g < 30 && right.b < 30)               // right = red
        #expect(left.r < 30 && left.b == 255)                                  // left = cyan-blue
        let down = legend[x: 32, y: 63], up = legend[x: 32, y: 0]
        #expect(down.r == 255 && down.g > 200 && down.b < 30)                  // down = yellow-orange
        #expect(up.b == 255 && up.g < 30)                                      // up = violet
    }

    @Test func errorMapClasses() throws {
        // Ground truth (10, 0) everywhere; predictions with errors 0, 0.1, 1, 3 (not an outlier: EPE must be > 3),
        // 3.2 (outlier: > 3 px and > 5 % of 10), 100; then an invalid pixel and a NaN prediction.
        let errors: [Float] = [0, 0.1, 1, 3, 3.2, 100, 0, 0]
        var uv: [Float] = []
        for e in errors { uv += [10 + e, 0] }
        uv[14] = .nan
        let prediction = try FlowField(width: 8, height: 1, uv: uv)
        let gt = try FlowField(width: 8, height: 1, uv: (0..<8).flatMap { _ in [Float(10), 0] }, valid: [1, 1, 1, 1, 1, 1, 0, 1])
        let map = try FlowVisualization.errorImage(prediction, groundTruth: gt)
        func colorIndex(_ x: Int) -> Int? {
            let p = map[x: x, y: 0]
            return FlowVisualization.errorColors.firstIndex { $0 == p }
        }
        // n = min(e/3, e/10/0.05): 0 → 0, 0.1 → 0.0333, 1 → 0.333, 3 → 1, 3.2 → 1.067, 100 → 33.
        #expect((0..<6).map(colorIndex) == [0, 0, 3, 4, 5, 9])
        #expect(map[x: 6, y: 0] == FlowVisualization.invalidColor)
        #expect(colorIndex(7) == 9)
        // A small absolute error on a tiny true motion stays blue: e = 2.9 px on |gt| = 0.1 px.
        let tiny = try FlowVisualization.errorImage(try FlowField(width: 1, height: 1, uv: [3.0, 0]),
                                                groundTruth: try FlowField(width: 1, height: 1, uv: [0.1, 0]))
        #expect(FlowVisualization.errorColors.firstIndex { $0 == tiny[x: 0, y: 0] } == 4)
    }

    @Test func compositeLayout() throws {
        let a = try RGBImage(width: 2, height: 2, color: (1, 2, 3)), b = try RGBImage(width: 3, height: 1, color: (9, 9, 9))
        let c = FlowVisualization.sideBySide([a, b], spacing: 1, background: (0, 0, 0))
        #expect(c.width == 6 && c.height == 2)
        #expect(c[x: 1, y: 1] == (1, 2, 3) && c[x: 2, y: 0] == (0, 0, 0) && c[x: 3, y: 0] == (9, 9, 9))
        #expect(c[x: 5, y: 1] == (0, 0, 0))
        let frame = try RGBImage(width: 4, height: 3, color: (50, 60, 70))
        let flow = try FlowField(width: 4, height: 3, uv: [Float](repeating: 1, count: 24))
        let overview = try FlowVisualization.overview(frame: frame, flow: flow, groundTruth: flow)
        #expect(overview.width == 12 && overview.height == 3)
        #expect(overview[x: 0, y: 0] == (50, 60, 70))
        #expect(overview[x: 8, y: 0] == FlowVisualization.errorColors[0])
        #expect(try FlowVisualization.overview(frame: frame, flow: flow).width == 8)
    }

    @Test func visualisationsAreWritable() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("legend.png")
        let legend = FlowVisualization.colorWheelLegend(size: 16)
        try legend.write(to: url)
        #expect(try RGBImage(contentsOf: url) == legend)
    }
}
