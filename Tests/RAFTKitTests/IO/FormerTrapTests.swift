import Foundation
import Testing
@testable import RAFTKit

/// Every public-API argument that used to stop the process with a precondition failure now throws a typed error
/// (or, for visualisation options, is documented as ignored).
@Suite struct FormerTrapTests {
    @Test("RGBImage: wrong sample counts, negative sizes, wrong tensors throw ImageError.invalidArgument")
    func rgbImage() throws {
        #expect(throws: ImageError.self) { try RGBImage(width: 10, height: 10, pixels: [Float](repeating: 0, count: 299)) }
        #expect(throws: ImageError.self) { try RGBImage(width: -1, height: 10, pixels: []) }
        #expect(throws: ImageError.self) { try RGBImage(width: -2, height: 3) }
        #expect(throws: ImageError.self) { try RGBImage(width: Int.max, height: 2) }
        #expect(throws: ImageError.self) { try RGBImage(tensor: Tensor(shape: [1, 2, 4, 4])) }
        #expect(throws: ImageError.self) { try RGBImage(tensor: Tensor(shape: [1, 3, 4, 4]), batchIndex: 1) }
        let error = try #require(throws: ImageError.self) { try RGBImage(width: 10, height: 10, pixels: [Float](repeating: 0, count: 299)) }
        #expect("\(error)".contains("299"), "\(error)")
        #expect(try RGBImage(width: 0, height: 0, pixels: []).pixels.isEmpty)
    }

    @Test("RasterImage: bad channel counts, bit depths, sample counts and 8-bit samples above 255 throw")
    func rasterImage() throws {
        #expect(throws: ImageError.self) { try RasterImage(width: 1, height: 1, channels: 5, bitDepth: 8, samples: [0, 0, 0, 0, 0]) }
        #expect(throws: ImageError.self) { try RasterImage(width: 1, height: 1, channels: 1, bitDepth: 12, samples: [0]) }
        #expect(throws: ImageError.self) { try RasterImage(width: 2, height: 1, channels: 1, bitDepth: 8, samples: [0]) }
        #expect(throws: ImageError.self) { try RasterImage(width: -1, height: 1, channels: 1, bitDepth: 8, samples: []) }
        #expect(throws: ImageError.self) { try RasterImage(width: 1, height: 1, channels: 1, bitDepth: 8, samples: [256]) }
        #expect(try RasterImage(width: 1, height: 1, channels: 1, bitDepth: 16, samples: [65535]).maxSample == 65535)
    }

    @Test("FlowField: wrong component or validity counts, negative sizes, wrong tensors throw FlowFileError.invalidArgument")
    func flowField() throws {
        #expect(throws: FlowFileError.self) { try FlowField(width: 2, height: 2, uv: [0, 0, 0]) }
        #expect(throws: FlowFileError.self) { try FlowField(width: 1, height: 1, uv: [0, 0], valid: [1, 1]) }
        #expect(throws: FlowFileError.self) { try FlowField(width: -3, height: 1) }
        #expect(throws: FlowFileError.self) { try FlowField(tensor: Tensor(shape: [1, 3, 2, 2])) }
        #expect(throws: FlowFileError.self) { try FlowField(tensor: Tensor(shape: [1, 2, 2, 2]), batchIndex: -1) }
    }

    @Test("visualisation: mismatched sizes throw; bad magnitudes, legend sizes and spacings are ignored")
    func visualization() throws {
        let flow = try FlowField(width: 3, height: 2), other = try FlowField(width: 2, height: 2)
        #expect(throws: FlowEstimatorError.self) { try FlowVisualization.errorImage(flow, groundTruth: other) }
        #expect(throws: FlowEstimatorError.self) { try FlowVisualization.overview(frame: RGBImage(width: 2, height: 2), flow: flow) }
        #expect(throws: FlowEstimatorError.self) {
            try FlowVisualization.overview(frame: RGBImage(width: 3, height: 2), flow: flow, groundTruth: other)
        }
        for bad: Float in [0, -1, .nan, .infinity] {
            #expect(FlowVisualization.colorImage(flow, maximumMagnitude: bad) == FlowVisualization.colorImage(flow))
        }
        #expect(FlowVisualization.colorWheelLegend(size: -5).width == 0)
        let a = try RGBImage(width: 2, height: 1)
        #expect(FlowVisualization.sideBySide([a, a], spacing: -3).width == 4)
    }

    @Test("forward interpolation of a wrongly shaped tensor throws RAFTError.invalidShape")
    func forwardInterpolation() throws {
        #expect(throws: RAFTError.self) { try RAFT.forwardInterpolate(Tensor(shape: [1, 3, 4, 4])) }
        #expect(throws: RAFTError.self) { try FlowEstimator.forwardInterpolate(Tensor(shape: [5])) }
    }

    @Test("empty frames with a warm start, and non-positive padder sizes, throw instead of trapping")
    func emptyFramesAndPadder() throws {
        let estimator = FlowEstimator(model: try ModelFixtures.model(.small))
        let empty = try RGBImage(width: 0, height: 0)
        #expect(throws: FlowEstimatorError.self) {
            try estimator.estimate(from: empty, to: empty, warmStart: FlowField(width: 0, height: 0))
        }
        #expect(throws: FlowEstimatorError.self) { try estimator.estimate(from: empty, to: empty) }
        #expect(throws: RAFTError.self) { try InputPadder(height: 0, width: 16) }
        #expect(throws: RAFTError.self) { try InputPadder(height: 8, width: -1, mode: .kitti) }
    }

    @Test("FlowSequence.estimate(pairs:) with pairs out of order throws before any work")
    func sequencePairs() throws {
        let sequence = FlowEstimator(model: try ModelFixtures.model(.small)).sequence(iterations: 1)
        for pairs in [[1, 0], [0, 0], [-1, 2]] {
            let error = try #require(throws: FlowSequenceError.self) {
                try sequence.estimate(pairs: pairs, frame: { _ in throw CancellationError() }, result: { _, _ in })
            }
            #expect(error.stage == .invalidPairs, "\(pairs): \(error)")
        }
    }
}
