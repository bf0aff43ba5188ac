import Foundation
import FuzzSupport
import RAFTKit

// KITTI 16-bit flow PNG bytes (chunk CRCs repaired) → FlowField. Contract: decodes or throws FlowFileError, and a
// Data slice decodes as a Data of its own does.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzKITTI(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let (whole, slice) = Fuzz.dataViews(Fuzz.repairingPNGChunkCRCs(Fuzz.bytes(start, count)))
    let flow = try? FlowField.decode(whole, format: .kittiPNG, source: "fuzz.png", limits: Fuzz.limits)
    precondition(flow == (try? FlowField.decode(slice, format: .kittiPNG, source: "fuzz.png", limits: Fuzz.limits)))
    if let flow { precondition(flow.uv.count == flow.width * flow.height * 2) }
    return 0
}
