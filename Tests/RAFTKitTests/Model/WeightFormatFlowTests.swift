import Foundation
import Testing
@testable import RAFTKit

/// The same network from different weight files gives the same flow. The full RAFT-S checkpoint fixture is a
/// zip `.pth` (float16 storages, official names with `module.`); the safetensors copies are written here from its
/// canonical tensors. The legacy `.pth` reader is checked tensor-for-tensor on its own fixture
/// (WeightsLoaderTests), which makes its flow identical by construction.
@Suite struct WeightFormatFlowTests {
    @Test("zip .pth, F32 safetensors and F16 safetensors give bit-identical flow")
    func sameFlowFromEveryFormat() throws {
        let zip = try WeightsLoader.load(contentsOf: Fixtures.url("checkpoint_small_official_f16.pth"))
        #expect(zip.format == .pytorchZip && zip.variant == .small)
        let f32 = try WeightsLoader.decode([UInt8](SafeTensors.encode(zip.stateDict, storage: .float32)), source: "f32.safetensors")
        let f16 = try WeightsLoader.decode([UInt8](SafeTensors.encode(zip.stateDict, storage: .float16)), source: "f16.safetensors")
        var rng = SeededGenerator(seed: 5)
        let image1 = Tensor.random([1, 3, 130, 141], in: 0...255, using: &rng)
        let image2 = Tensor.random([1, 3, 130, 141], in: 0...255, using: &rng)
        let options = RAFTOptions(iterations: 3)
        let reference = try RAFT(stateDict: zip.stateDict)(image1, image2, options: options)
        for other in [f32, f16] {
            #expect(other.format == .safetensors)
            let flow = try RAFT(stateDict: other.stateDict)(image1, image2, options: options)
            // The checkpoint holds float16 values, so F16 storage is lossless and all three are the same numbers.
            #expect(flow.flow == reference.flow)
            #expect(flow.lowResolutionFlow == reference.lowResolutionFlow)
        }
    }
}
