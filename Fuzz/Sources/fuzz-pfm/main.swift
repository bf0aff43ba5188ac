import Foundation
import FuzzSupport
import RAFTKit

// PFM bytes → FlowField. Contract: decodes or throws FlowFileError; a decoded flow survives a round trip
// through the PFM writer unchanged.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPFM(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let data = Data(bytes: start, count: count)
    if let flow = try? FlowField.decode(data, format: .pfm, source: "fuzz.pfm", limits: Fuzz.limits) {
        let again = try! FlowField.decode(try! flow.encoded(as: .pfm), format: .pfm, limits: Fuzz.limits)
        precondition(again.uv == flow.uv, "PFM round trip changed the flow")
    }
    return 0
}
