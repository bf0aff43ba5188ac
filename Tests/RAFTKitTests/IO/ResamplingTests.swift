import Testing
@testable import RAFTKit

/// Bilinear resampling for `--scale`: PyTorch's align_corners=False sample positions, and flow vectors rescaled with
/// the grid.
@Suite struct ResamplingTests {
    /// Halving averages pixel pairs (samples at 0.5, 2.5, … fall between two pixels); doubling reproduces a linear
    /// ramp away from the clamped edges.
    @Test func samplePositions() throws {
        let ramp = try RGBImage(width: 4, height: 1, pixels: [0, 0, 0, 10, 10, 10, 20, 20, 20, 30, 30, 30])
        #expect(ramp.resized(width: 2, height: 1).pixels == [5, 5, 5, 25, 25, 25])
        // Output x samples (x + 0.5)/2 − 0.5: −0.25 (clamped to 0), 0.25, 0.75, … 3.25 (clamped to 3).
        let doubled = ramp.resized(width: 8, height: 1).pixels.enumerated().filter { $0.offset % 3 == 0 }.map(\.element)
        #expect(doubled == [0, 2.5, 7.5, 12.5, 17.5, 22.5, 27.5, 30])
        #expect(ramp.resized(width: 4, height: 1) == ramp)
        #expect(ramp.scaledSize(0.5) == (2, 1) && ramp.scaledSize(0.1) == (1, 1))
    }

    @Test func flowVectorsFollowTheGrid() throws {
        let flow = try FlowField(width: 4, height: 2, uv: (0..<8).flatMap { _ in [Float(1.5), -2] })
        let up = flow.resized(width: 8, height: 6)
        #expect(up.width == 8 && up.height == 6)
        #expect(up.uv.enumerated().allSatisfy { $0.offset % 2 == 0 ? $0.element == 3 : $0.element == -6 })
        let down = flow.resized(width: 2, height: 1)
        #expect(down.uv == [0.75, -1, 0.75, -1])
    }
}
