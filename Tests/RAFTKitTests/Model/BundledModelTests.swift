import Foundation
import Testing
@testable import RAFTKit

/// The bundled default model through the public API, against PyTorch (torchvision raft_small) with the same
/// weights on a sample pair (Scripts/fixtures/bundled_model.py). Heavy-ish: run in release.
@Suite struct BundledModelTests {
    @Test("bundled weights load as RAFT-S with 990,162 parameters")
    func loads() throws {
        let estimator = try FlowEstimator.bundled()
        #expect(estimator.variant == .small)
        #expect(estimator.model.parameterCount == 990_162)
    }

    @Test("bundled model matches PyTorch on Samples/layers-250x330 (≤ 1e-3 px mean, ≤ 1e-2 px max)")
    func matchesPyTorch() throws {
        let data = try Data(contentsOf: Fixtures.url("bundled_model.safetensors"))
        let (reference, metadata) = try SafeTensors.decode(data, source: "bundled_model.safetensors")
        let loaded = try WeightsLoader.bundled()
        let absSum = loaded.stateDict.tensors.values.reduce(0.0) { s, t in
            t.withUnsafeBufferPointer { $0.reduce(s) { $0 + Double(abs($1)) } }
        }
        let expected = Double(metadata["weights_abs_sum"] ?? "") ?? .nan
        try #require(abs(absSum - expected) <= 1e-6 * expected,
                     "the fixture was made for other weights: re-run Scripts/fixtures/bundled_model.py after exporting the default model")

        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let sample = root.appendingPathComponent("Samples/layers-250x330")
        let frame1 = try RGBImage(contentsOf: sample.appendingPathComponent("frame1.png"))
        let frame2 = try RGBImage(contentsOf: sample.appendingPathComponent("frame2.png"))
        let result = try FlowEstimator(loaded).estimate(from: frame1, to: frame2, iterations: 12)
        for (ours, key) in [(result.lowResolution, "low_12"), (result.flow.tensor, "up_12")] {
            let theirs = try reference.require(key)
            #expect(ours.shape == theirs.shape)
            let mean = ours.meanAbsDifference(theirs), max = ours.maxAbsDifference(theirs)
            #expect(mean <= 1e-3 && max <= 1e-2, "\(key): mean \(mean) px, max \(max) px")
        }
    }
}
