import Foundation
import FuzzSupport
import RAFTKit

// KITTI 16-bit flow PNG bytes (chunk CRCs repaired) → FlowField. Contract: decodes or throws FlowFileError.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzKITTI(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let data = Data(Fuzz.repairingPNGChunkCRCs(Fuzz.bytes(start, count)))
    if let flow = try? FlowField.decode(data, format: .kittiPNG, source: "fuzz.png", limits: Fuzz.limits) {
        precondition(flow.uv.count == flow.width * flow.height * 2)
    }
    return 0
}
