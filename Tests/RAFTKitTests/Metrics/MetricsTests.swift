import Foundation
import Testing
@testable import RAFTKit

@Suite("Flow metrics")
struct MetricsTests {
    /// Ground truth (10, 0) on 6 pixels; predictions off by 0, 0.5, 2, 4 (|gt| 10: 40 % → outlier), 6
    /// (outlier) and a pixel marked invalid.
    static let groundTruth = FlowField(unchecked: 3, 2, uv: [10, 0, 10, 0, 10, 0, 10, 0, 10, 0, 10, 0],
                                       valid: [1, 1, 1, 1, 1, 0.4])
    static let prediction = FlowField(unchecked: 3, 2, uv: [10, 0, 10.5, 0, 10, 2, 14, 0, 10, -6, 99, 99])

    @Test func handComputedCase() throws {
        let s = try FlowErrorStatistics(prediction: Self.prediction, groundTruth: Self.groundTruth)
        #expect(s.validPixels == 5)
        #expect(abs(s.epe - 12.5 / 5) < 1e-12)
        #expect(s.below1px == 2 && s.below3px == 3 && s.below5px == 4 && s.outliers == 2)
        #expect(s.accuracy1px == 0.4 && s.accuracy3px == 0.6 && s.accuracy5px == 0.8 && s.flAll == 0.4)
    }

    @Test func thresholdsAreStrictAndRelative() throws {
        // EPE exactly 1, 3, 5 is not "< t"; EPE exactly 3 is not an outlier; 4 px on |gt| = 100 is 4 % (< 5 %).
        let gt = try FlowField(width: 4, height: 1, uv: [0, 0, 0, 0, 0, 0, 100, 0])
        let pred = try FlowField(width: 4, height: 1, uv: [1, 0, 0, 3, 5, 0, 104, 0])
        let s = try FlowErrorStatistics(prediction: pred, groundTruth: gt)
        #expect(s.below1px == 0 && s.below3px == 1 && s.below5px == 3)
        #expect(s.outliers == 1)   // only (5, 0) vs (0, 0): 5 px > 3 and 5/0 = ∞ > 0.05
    }

    @Test func nonFiniteValues() throws {
        // Non-finite ground truth is excluded; a non-finite prediction is an infinite error.
        let gt = try FlowField(width: 3, height: 1, uv: [0, 0, .nan, 0, 5, 5])
        let pred = try FlowField(width: 3, height: 1, uv: [0, 0, 1, 1, .nan, 5])
        let s = try FlowErrorStatistics(prediction: pred, groundTruth: gt)
        #expect(s.validPixels == 2 && s.below1px == 1 && s.outliers == 1 && s.epe == .infinity)
        let empty = try FlowErrorStatistics(prediction: pred, groundTruth: try FlowField(width: 3, height: 1, uv: [Float](repeating: 0, count: 6), valid: [0, 0, 0]))
        #expect(empty.validPixels == 0 && empty.epe == 0 && empty.flAll == 0)
        #expect(throws: FlowMetricsError.sizeMismatch(prediction: [3, 1], groundTruth: [3, 2])) {
            try FlowErrorStatistics(prediction: pred, groundTruth: Self.groundTruth)
        }
    }

    /// Per-image (kitti-epe) against pooled (Fl-all, Sintel EPE) averaging.
    @Test func aggregation() throws {
        var accumulator = FlowMetricsAccumulator()
        try accumulator.add(prediction: Self.prediction, groundTruth: Self.groundTruth)  // 5 px, EPE 2.5, Fl 0.4
        let gt2 = try FlowField(width: 1, height: 1, uv: [0, 0])
        try accumulator.add(prediction: try FlowField(width: 1, height: 1, uv: [0, 10]), groundTruth: gt2)  // 1 px, EPE 10, Fl 1
        accumulator.add(FlowErrorStatistics())  // a pair without valid pixels
        let summary = accumulator.summary
        #expect(summary.pairs == 3 && summary.validPixels == 6)
        #expect(abs(summary.perImage.epe - (2.5 + 10) / 2) < 1e-12)
        #expect(abs(summary.pooled.epe - 22.5 / 6) < 1e-12)
        #expect(abs(summary.perImage.flAll - 0.7) < 1e-12)
        #expect(abs(summary.pooled.flAll - 3.0 / 6) < 1e-12)
        #expect(abs(summary.pooled.accuracy1px - 2.0 / 6) < 1e-12)
    }

    @Test func codableForJSON() throws {
        let s = try FlowErrorStatistics(prediction: Self.prediction, groundTruth: Self.groundTruth)
        let data = try JSONEncoder().encode(s)
        let object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        #expect(object["epe"] as? Double == 2.5 && object["flAll"] as? Double == 0.4 && object["validPixels"] as? Int == 5)
        #expect(try JSONDecoder().decode(FlowErrorStatistics.self, from: data) == s)
        var accumulator = FlowMetricsAccumulator()
        accumulator.add(s)
        let summary = accumulator.summary
        #expect(try JSONDecoder().decode(FlowMetricsSummary.self, from: JSONEncoder().encode(summary)) == summary)
        #expect(try JSONDecoder().decode(FlowMetricsAccumulator.self, from: JSONEncoder().encode(accumulator)) == accumulator)
    }
}
